"""A run of several exercises shows each exercise's line the moment it is graded."""

from __future__ import annotations

import os
import sys

import pexpect
import pytest
import yaml
from conftest import copy_course

from grader.commands import grade as grade_command
from grader.course import load_course
from grader.runner import Options, grade
from grader.verdict import Status


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    """The course cut to its first three exercises, exercise 2 solved."""
    root = copy_course(tmp_path_factory.mktemp("stream") / "course")
    manifest = yaml.safe_load((root / "course.yaml").read_text())
    manifest["exercises"] = manifest["exercises"][:3]
    (root / "course.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    (root / "exercises" / "exercise2_lock.py").write_bytes((root / "solutions" / "exercise2_lock.py").read_bytes())
    return root


def test_the_callback_sees_each_exercise_start_and_end_in_order(small_course):
    course = load_course(small_course)
    calls = []
    run = grade(course, list(course.exercises), None, Options(start_methods=("fork",)),
                on_exercise=lambda i, n, ex, v: calls.append((i, n, ex.id, None if v is None else v.status)))
    assert calls == [(0, 3, "exercise1", None), (0, 3, "exercise1", Status.FAIL),
                     (1, 3, "exercise2", None), (1, 3, "exercise2", Status.PASS),
                     (2, 3, "exercise3", None), (2, 3, "exercise3", Status.FAIL)]
    assert [v.status for v in run.exercises] == [Status.FAIL, Status.PASS, Status.FAIL]
    assert run.final_message  # the whole (small) course was graded


def test_all_on_a_terminal_streams_lines_with_a_live_progress_line(small_course):
    env = {**os.environ, "NO_COLOR": "1"}
    child = pexpect.spawn(sys.executable, ["-m", "grader", "--all", "--start-method", "fork"],
                          cwd=str(small_course), env=env, encoding="utf-8", timeout=300, dimensions=(50, 160))
    child.expect_exact(grade_command.GRADING_LINE.format(id="exercise1", n=1, total=3))
    child.expect_exact("✗ exercise1 · Process basics · 0/10")
    child.expect_exact(grade_command.GRADING_LINE.format(id="exercise2", n=2, total=3))
    child.expect_exact("✓ exercise2 · ")
    child.expect_exact(grade_command.GRADING_LINE.format(id="exercise3", n=3, total=3))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    tail = child.before
    assert "Total 10/30 · 1 of 3 exercises pass" in tail
    assert tail.count("exercise1 · Process basics · exercises/exercise1_process.py") == 1  # explained once


def test_all_through_a_pipe_prints_plain_lines_without_the_live_line(small_course):
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "grader", "--all", "--start-method", "fork"], cwd=small_course,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert "\r" not in proc.stdout and "grading exercise" not in proc.stdout
    firsts = [i for i, line in enumerate(lines) if line.startswith(("✗ exercise", "✓ exercise"))]
    assert [lines[i].split()[1] for i in firsts[:3]] == ["exercise1", "exercise2", "exercise3"]
