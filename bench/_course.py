"""A throw-away copy of the course for the benchmarks (they never touch the real one)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_course() -> Path:
    destination = Path(tempfile.mkdtemp(prefix="grade-bench-")) / "course"
    shutil.copytree(ROOT, destination, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".grade", "__pycache__", "*.egg-info", ".pytest_cache", "bench"))
    return destination
