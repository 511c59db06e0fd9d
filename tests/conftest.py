"""Shared fixtures of the project's own tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.course import load_course

ROOT = Path(__file__).resolve().parents[1]
# Hanging variants cost one timeout each: the suite shortens it (students keep the default).
BUG_TIMEOUT = float(os.environ.get("GRADER_TEST_TIMEOUT", "4"))


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT)
