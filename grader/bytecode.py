"""The grader's own bytecode, kept current: compiled once per change, not by every interpreter.

A grading starts a dozen Python interpreters (the grader, the warm sandbox, every spawn and
forkserver child of the student's code), and each imports part of this package. Where
PYTHONDONTWRITEBYTECODE is set (CI machines, containers: this one too) and the package is
an editable install, no .pyc file is ever written, so each of them compiled the probe and
its neighbours from source again: about a fifth of a grading's CPU time. Python still
reads a valid .pyc in __pycache__ with that setting; it only never writes one. So the
grader process, before it imports the rest of itself, brings the package's .pyc files up
to date, as `pip install` does for an installed package: only the grader's own modules
(the hidden checks included), in their standard __pycache__ folders, never a student's
file. A folder it may not write is left as it is. GRADE_BYTECODE=0 turns this off.
"""

from __future__ import annotations

import importlib.util
import os
import py_compile

PACKAGE = os.path.dirname(os.path.abspath(__file__))
SWITCH = "GRADE_BYTECODE"


def refresh(package: str = PACKAGE) -> list[str]:
    """Compile every module of the package whose .pyc is missing or stale; the paths compiled."""
    if os.environ.get(SWITCH, "1") == "0" or importlib.util.cache_from_source(__file__) is None:
        return []
    compiled = []
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = [name for name in subfolders if name != "__pycache__" and not name.startswith(".")]
        for name in files:
            if name.endswith(".py"):
                source = os.path.join(folder, name)
                if not _current(source) and _compile(source):
                    compiled.append(source)
    return compiled


def _current(source: str) -> bool:
    """The .pyc beside `source` matches it (the mtime and size that its header records), or is one
    Python validates by the source's hash on import."""
    try:
        st = os.stat(source)
        with open(importlib.util.cache_from_source(source), "rb") as f:
            header = f.read(16)
    except OSError:
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little"):  # hash-based (pip may install those): Python checks it itself
        return True
    mtime, size = int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little")
    return mtime == (int(st.st_mtime) & 0xFFFFFFFF) and size == (st.st_size & 0xFFFFFFFF)


def _compile(source: str) -> bool:
    try:
        py_compile.compile(source, doraise=True, invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    except (OSError, py_compile.PyCompileError, ValueError):
        return False  # a folder it may not write, or a module with a syntax error: imported as before
    return True
