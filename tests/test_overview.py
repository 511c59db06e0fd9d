"""`grade` alone: the overview drawn from `.grade/state.json` (grader/progress.py), never by grading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT, copy_course

from grader import progress
from grader.cli import main
from grader.commands import overview
from grader.course import load_course
from grader.verdict import ExerciseVerdict, RunVerdict, Status


def run_grade(*args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, **(env or {})})


@pytest.fixture
def course_dir(tmp_path):
    return copy_course(tmp_path / "course")


def verdict(exercise, status=Status.PASS) -> RunVerdict:
    score = 10 if status is Status.PASS else 0
    return RunVerdict(exercises=(ExerciseVerdict(exercise=exercise.id, slug=exercise.slug, title=exercise.title,
                                                 status=status, score=score, max_score=10, duration_s=0.1,
                                                 checks=()),))


def test_first_run_welcomes_then_shows_count_and_next_command(course_dir):
    first = run_grade(cwd=course_dir)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("Welcome!")
    assert "[------------------------------] 0/14" in first.stdout
    assert "Next: exercise1 · Process basics" in first.stdout
    assert "exercises/exercise1_process.py" in first.stdout and "command: grade exercise1" in first.stdout
    second = run_grade(cwd=course_dir)
    assert not second.stdout.startswith("Welcome!") and "0/14" in second.stdout


def test_the_overview_never_imports_pytest_nor_grades(course_dir):
    code = ("import sys; from grader.cli import main; code = main(['--course', sys.argv[1]]); "
            "assert 'pytest' not in sys.modules and 'grader.runner' not in sys.modules, 'imported'; "
            "sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", code, str(course_dir)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "0/14" in proc.stdout


def test_a_pass_counts_until_the_file_is_edited(course_dir, capsys):
    course = load_course(course_dir)
    ex1, ex2 = course.exercises[:2]
    progress.record(course, verdict(ex1))
    progress.record(course, verdict(ex2, Status.FAIL))
    assert main(["--course", str(course_dir)]) == 0
    out = capsys.readouterr().out
    assert "] 1/14" in out
    assert any(line.split()[:2] == ["✓", "exercise1"] and line.endswith("done") for line in out.splitlines())
    assert any(line.split()[:2] == ["✗", "exercise2"] and "failing" in line for line in out.splitlines())
    assert "Next: exercise2" in out

    ex1.file.write_text(ex1.file.read_text() + "\n# one more thought\n")
    assert main(["--course", str(course_dir)]) == 0
    out = capsys.readouterr().out
    assert "] 0/14" in out and "Next: exercise1" in out
    assert any("exercise1" in line and "edited, not graded yet" in line for line in out.splitlines())


def test_a_deleted_file_is_shown_missing_with_the_way_back(course_dir):
    course = load_course(course_dir)
    course.exercises[0].file.unlink()
    entries = progress.entries(course)
    assert entries[0].state is progress.State.MISSING
    out = overview.render(course, entries)
    assert any("exercise1" in line and "file missing" in line for line in out.splitlines())
    assert "grade reset exercise1" in out


def test_grading_records_the_state_and_says_what_is_next(course_dir):
    (course_dir / "exercises" / "exercise1_process.py").write_bytes(
        (ROOT / "solutions" / "exercise1_process.py").read_bytes())
    graded = run_grade("exercise1", "--start-method", "fork", cwd=course_dir)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert "Next: exercise2 — `grade exercise2`" in graded.stdout
    state = json.loads((course_dir / ".grade" / "state.json").read_text())
    assert state["exercises"]["exercise1"]["status"] == "pass"
    assert state["exercises"]["exercise1"]["sha256"] == progress.file_hash(course_dir / "exercises" /
                                                                           "exercise1_process.py")
    shown = run_grade(cwd=course_dir)
    assert "] 1/14" in shown.stdout and "command: grade exercise2" in shown.stdout


def test_list_filters_pending_and_done(course_dir, capsys):
    course = load_course(course_dir)
    progress.record(course, verdict(course.exercises[0]))
    assert main(["list", "--done", "--course", str(course_dir)]) == 0
    assert listed(capsys.readouterr().out) == {"exercise1"}
    assert main(["list", "--pending", "--course", str(course_dir)]) == 0
    assert listed(capsys.readouterr().out) == {ex.id for ex in course.exercises[1:]}


def listed(out: str) -> set[str]:
    """The exercise ids of the table's rows (indented lines), not of the hint under it."""
    return {word for line in out.splitlines() if line.startswith("  ") for word in line.split()[:2]
            if word.startswith("exercise")}


def test_when_all_is_done_it_grades_once_then_shows_the_final_message(tmp_path):
    root = copy_course(tmp_path / "course")
    manifest = yaml.safe_load((root / "course.yaml").read_text())
    manifest["exercises"] = manifest["exercises"][:2]
    (root / "course.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True))
    course = load_course(root)
    for exercise in course.exercises:
        exercise.file.write_bytes(exercise.solution.read_bytes())
        progress.record(course, verdict(exercise))  # claimed done: the overview must see for itself once
    first = run_grade(cwd=root)
    assert first.returncode == 0, first.stdout + first.stderr
    assert overview.CONFIRMING in first.stdout
    streamed = [line.split()[1] for line in first.stdout.splitlines() if line.startswith("✓ exercise")]
    assert streamed == ["exercise1", "exercise2"]  # each exercise's line as it was graded
    assert "Every exercise passes" in first.stdout  # the course's final_message
    second = run_grade(cwd=root)
    assert overview.CONFIRMING not in second.stdout and "Every exercise passes" in second.stdout
    assert "] 2/2" in second.stdout


def test_a_claimed_pass_that_does_not_hold_is_shown_failing(tmp_path):
    root = copy_course(tmp_path / "course")
    manifest = yaml.safe_load((root / "course.yaml").read_text())
    manifest["exercises"] = manifest["exercises"][:1]
    (root / "course.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    course = load_course(root)
    progress.record(course, verdict(course.exercises[0]))  # a stale claim about the stub
    proc = run_grade(cwd=root)
    assert proc.returncode == 1
    assert overview.CONFIRMED_FAIL in proc.stdout and "failing" in proc.stdout


WRITER = """
import sys, random
from grader import progress
from grader.course import load_course
course = load_course(sys.argv[1])
big = "x" * 200_000
print("ready", flush=True)
n = 0
while True:
    n += 1
    progress.save_state(course, {"exercises": {}, "n": n, "padding": big[: random.randrange(len(big))]})
"""


def test_the_state_file_survives_a_kill_at_any_moment(course_dir):
    state = course_dir / ".grade" / "state.json"
    for attempt in range(8):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(course_dir)], stdout=subprocess.PIPE,
                                  text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(0.05 + attempt * 0.037)  # a different moment of the write each time
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        if state.exists():
            data = json.loads(state.read_text())  # whole: the old state or the new one, never half
            assert data["version"] == progress.STATE_VERSION
    assert state.exists(), "the writer never completed a single write"
    assert len(progress.entries(load_course(course_dir))) == 14


def test_the_command_shows_a_deleted_file_as_missing(course_dir):
    (course_dir / "exercises" / "exercise3_semaphore.py").unlink()
    proc = run_grade(cwd=course_dir)
    assert proc.returncode == 0, proc.stderr
    assert any("exercise3" in line and "file missing" in line for line in proc.stdout.splitlines())


@pytest.mark.parametrize("width", [60, 80])
def test_on_a_narrow_terminal_a_row_never_wraps_and_keeps_its_state(course_dir, capsys, monkeypatch, width):
    monkeypatch.setenv("COLUMNS", str(width))
    course = load_course(course_dir)
    ex1 = course.exercises[0]
    progress.record(course, verdict(ex1))
    ex1.file.write_text(ex1.file.read_text() + "\n# one more thought\n")
    assert main(["--course", str(course_dir)]) == 0
    ids = {e.id for e in course.exercises}
    rows = [line for line in capsys.readouterr().out.splitlines()
            if line.startswith("  ") and ids & set(line.split()[:2])]
    assert len(rows) == len(course.exercises), "one line per exercise: none wrapped onto a second"
    assert all(len(line) <= width for line in rows)
    assert rows[0].endswith("edited, not graded yet")
