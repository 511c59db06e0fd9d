"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from grader.course import load_course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def short_tmp():
    """An empty folder with a short path, to stand for the system's temporary folder (TMPDIR):
    pytest's tmp_path is too long for that (see grader.sandbox.scratch_root)."""
    path = Path(tempfile.mkdtemp(prefix="t-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)

# The tests read the grader's English unless they ask for Chinese (--lang zh): the locale of
# the machine that runs them must not change what `grade` says (tests/test_i18n.py).
for _variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"
# SIGINT and SIGHUP as a terminal's program gets them, for every program a test starts: a suite
# started in the background (or under nohup) ignores them, its children would inherit that, and
# the grader rightly keeps ignoring them, so the tests of Ctrl-C and of a closed terminal would
# wait for a signal that does nothing. A handler (not SIG_IGN) becomes SIG_DFL in exec'd children.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, lambda signum, frame: os._exit(128 + signum))
# Hanging variants cost one timeout each: the suite shortens it (students keep the default).
BUG_TIMEOUT = float(os.environ.get("GRADER_TEST_TIMEOUT", "4"))


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT)


def copy_course(destination: Path) -> Path:
    """A copy of the course to aim a test's writes at (never the real one); returns its root."""
    import shutil

    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".grade", "__pycache__", "*.egg-info", ".pytest_cache"))
    return destination

# A drivers module for tests that drive a Sandbox directly: call any function of the student's module.
CALL_DRIVER = "def call(student, name, *args):\n    return getattr(student, name)(*args)\n"


def sandbox_files(folder: Path, student: str) -> Path:
    """`folder` with student.py (the given source) and drivers_mod.py (CALL_DRIVER) in it."""
    (folder / "student.py").write_text(student)
    (folder / "drivers_mod.py").write_text(CALL_DRIVER)
    return folder


# Test courses, variants and fixtures hold hidden-check modules named test_*.py for the grader
# to run, never for the project's own suite to collect.
collect_ignore_glob = ["courses/*", "variants/*", "hostile/*", "submissions/*", "fixtures/*"]
