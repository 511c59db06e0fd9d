"""grader/bytecode.py: the grader's own .pyc files are brought up to date once per change."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from grader import bytecode


def _package(root: Path) -> Path:
    package = root / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("VALUE = 1\n")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "broken.py").write_text("def (:\n")  # a syntax error: left for the import to report
    return package


def test_missing_and_stale_bytecode_is_compiled_and_current_bytecode_left_alone(tmp_path, monkeypatch):
    monkeypatch.delenv(bytecode.SWITCH, raising=False)
    package = _package(tmp_path)
    first = bytecode.refresh(str(package))
    assert sorted(Path(p).relative_to(package).as_posix() for p in first) == ["__init__.py", "mod.py",
                                                                            "sub/__init__.py"]
    for source in first:
        assert os.path.isfile(importlib.util.cache_from_source(source))
    assert bytecode.refresh(str(package)) == []  # nothing changed: nothing compiled
    (package / "mod.py").write_text("VALUE = 22\n")  # a new size (and maybe the same second)
    assert bytecode.refresh(str(package)) == [str(package / "mod.py")]
    assert not list((package / "__pycache__").glob("*__pycache__*"))  # never a cache of the cache


def test_the_switch_turns_it_off(tmp_path, monkeypatch):
    package = _package(tmp_path)
    monkeypatch.setenv(bytecode.SWITCH, "0")
    assert bytecode.refresh(str(package)) == []
    assert not (package / "__pycache__").exists()


def test_after_a_refresh_every_module_of_the_grader_has_current_bytecode(monkeypatch):
    monkeypatch.delenv(bytecode.SWITCH, raising=False)
    bytecode.refresh()
    sources = [os.path.join(folder, name) for folder, dirs, files in os.walk(bytecode.PACKAGE)
               for name in files if name.endswith(".py") and "__pycache__" not in folder]
    assert len(sources) > 40
    assert [s for s in sources if not bytecode._current(s)] == []
