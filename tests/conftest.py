"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.course import load_course

ROOT = Path(__file__).resolve().parents[1]
# The tests read the grader's English unless they ask for Chinese (--lang zh): the locale of
# the machine that runs them must not change what `grade` says (tests/test_i18n.py).
for _variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"
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

# Test courses, variants and fixtures hold hidden-check modules named test_*.py for the grader
# to run, never for the project's own suite to collect.
collect_ignore_glob = ["courses/*", "variants/*", "hostile/*", "submissions/*", "fixtures/*"]
