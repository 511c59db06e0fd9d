"""Hostile submissions: whatever the student's code does, the grader ends with a fair verdict.

Each file in tests/hostile/ is a submission for exercise 1 that attacks the grader: it
hangs, floods, forks, escapes, exits, kills, forges or tampers. Each must end in exit
status 1 and a non-pass JSON verdict, with at most one hang reported (the start methods
run side by side; the checks after a hang are skipped, not timed out again), no process
of its left running and no course file changed. No assertion here reads the clock: how
long a verdict takes is measured in bench/, and must not decide a test on a loaded machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
from conftest import ROOT

from grader import confinement

TIMEOUT = 4.0  # long enough for a spawn child to start at load 16; a hang costs it once per run
HOSTILE = ROOT / "tests" / "hostile"
GUARDED = ["course.yaml", "grader/hidden/test_exercise1_process.py", "solutions/exercise1_process.py"]

# file -> a category that must be among the failures
EXPECTED = {
    "hang_at_import": "timeout",
    "busy_loop": "timeout",
    "ignores_sigterm": "timeout",
    "orphan_fork": "lifecycle",
    "setsid_double_fork": "lifecycle",
    "nondaemon_left_running": "lifecycle",
    "forged_pass": "crash",
    "sys_exit_at_import": "crash",
    # With Landlock's signal scope the kill is refused (PermissionError); without, the parent is a nanny.
    "kills_parent": "crash" if confinement.landlock_abi()[0] >= 6 else "wrong_result",
    "kills_own_group": "crash",
    "floods_output": "resource",
    "forks_200_sleepers": "resource",
    "memory_hog": "resource",
    "closes_stdout": "wrong_result",
    "syntax_error": "crash",
    "tampers_files": "crash",
    "empty_file": "not_implemented",  # an empty file is not done yet: never a crash in a hidden frame
}


def _digest(paths, root=ROOT):
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in paths}


def _course_copy(tmp_path) -> Path:
    """A copy of the course, for the submission that overwrites course files: never the real one."""
    copy = tmp_path / "course"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".grade", "__pycache__", "*.egg-info"))
    return copy


def _marked_processes(mark: str) -> list[psutil.Process]:
    found = []
    for p in psutil.process_iter():
        try:
            if mark in (p.environ() or {}).get("HOSTILE_MARK", ""):
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


def test_every_hostile_file_has_an_expectation():
    assert {p.stem for p in HOSTILE.glob("*.py")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_submission_fails_cleanly(name, tmp_path):
    mark = uuid.uuid4().hex
    root = _course_copy(tmp_path) if name == "tampers_files" else ROOT
    before = _digest(GUARDED, root)
    env = dict(os.environ, HOSTILE_MARK=mark, HOSTILE_TARGET=str(root))
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(HOSTILE / f"{name}.py"),
         "--format", "json", "--timeout", str(TIMEOUT), "--course", str(root)],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    verdict = json.loads(proc.stdout)  # exactly one JSON document, whatever the code printed
    assert verdict["status"] == "fail"
    assert verdict["score"] < verdict["max_score"]
    failed = {c["category"] for c in verdict["checks"] if c["status"] != "pass"}
    assert EXPECTED[name] in failed, verdict["checks"]
    assert not [c for c in verdict["checks"] if c["status"] == "error"], "the grader's own fault, never"
    hangs = [c for c in verdict["checks"] if c["status"] == "fail" and c["category"] == "timeout"]
    assert len({c["name"] for c in hangs}) <= 1, "one hang per run, not one per check"
    assert len(hangs) <= len({c["start_method"] for c in verdict["checks"]}), "at most one per start method"
    time.sleep(0.1)
    assert _marked_processes(mark) == [], "processes of the submission are still running"
    assert _digest(GUARDED, root) == before, "a course file was changed"


def test_a_syntax_error_names_the_students_line():
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(HOSTILE / "syntax_error.py"),
         "--format", "json", "--course", str(ROOT)], capture_output=True, text=True, timeout=60)
    verdict = json.loads(proc.stdout)
    failures = [c for c in verdict["checks"] if c["status"] == "fail"]
    assert len(failures) == 1, "an import failure is reported once, not once per check and start method"
    assert failures[0]["location"] == "syntax_error.py:4", "named as the student named the file"
    assert "SyntaxError" in failures[0]["message"]
    assert all(c["status"] == "skipped" for c in verdict["checks"] if c is not failures[0])


def test_a_hang_at_import_is_reported_once():
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(HOSTILE / "hang_at_import.py"),
         "--format", "json", "--timeout", str(TIMEOUT), "--course", str(ROOT)],
        capture_output=True, text=True, timeout=300)
    verdict = json.loads(proc.stdout)
    failures = [c for c in verdict["checks"] if c["status"] == "fail"]
    assert [c["category"] for c in failures] == ["timeout"], "one failure for the import, not one per check"
    assert "hang_at_import.py:5" in failures[0]["message"], "named as the student named the file"
    assert f"within {TIMEOUT:g} s" in failures[0]["message"], "the limit, not the time it took"
    skipped = [c for c in verdict["checks"] if c is not failures[0]]
    assert skipped and all(c["status"] == "skipped" for c in skipped)


def test_an_empty_file_defines_no_function_and_is_not_implemented():
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(HOSTILE / "empty_file.py"),
         "--format", "json", "--start-method", "fork", "--course", str(ROOT)], capture_output=True, text=True,
        timeout=300)
    verdict = json.loads(proc.stdout)
    assert proc.returncode == 1 and verdict["score"] == 0
    assert {c["category"] for c in verdict["checks"]} == {"not_implemented"}
    assert "empty_file.py defines no start_named()" in verdict["checks"][0]["message"]
    assert "test_exercise1" not in json.dumps(verdict), "no frame of the hidden checks is shown"


@pytest.mark.parametrize("confine", ["1", "0"])
def test_tampered_files_are_restored_and_reported(tmp_path, confine):
    """Confined, the writes are refused and named; unconfined (the fallback), they are undone and named."""
    root = _course_copy(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(HOSTILE / "tampers_files.py"),
         "--format", "json", "--start-method", "fork", "--course", str(root)],
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, HOSTILE_TARGET=str(root), GRADE_CONFINE=confine))
    verdict = json.loads(proc.stdout)
    tamper = [c for c in verdict["checks"] if c["name"] == "your code leaves the course's files alone"]
    assert tamper and tamper[0]["status"] == "fail"
    assert "course.yaml" in tamper[0]["message"]
    assert (root / "course.yaml").read_text() == (ROOT / "course.yaml").read_text()
    if confine == "0" or not confinement.landlock_abi()[0]:
        assert (root / ".grade" / "replaced").is_dir(), "the replaced version is kept"
    else:
        assert not (root / ".grade" / "replaced").exists(), "nothing was changed, so nothing was replaced"
