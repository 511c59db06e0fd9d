"""`grade reset`: the original stub back, the student's work kept byte for byte first."""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect
import pytest
from conftest import copy_course

from grader import progress
from grader.cli import main
from grader.commands import reset
from grader.course import load_course

WORK = "def start_named(names):\n    return 'my work, with bytes: \u00e9\u4e2d'\n".encode() + b"\xff\x00\r\n"


@pytest.fixture
def course_dir(tmp_path):
    return copy_course(tmp_path / "course")


def backups(root):
    return sorted(p for p in (root / progress.BACKUPS_DIR).rglob("*") if p.is_file())


def test_reset_keeps_a_byte_identical_backup_and_restores_the_stub(course_dir, capsys):
    stub = course_dir / "exercises" / "exercise1_process.py"
    original = stub.read_bytes()
    assert main(["list", "--course", str(course_dir)]) == 0  # the first run keeps the originals
    stub.write_bytes(WORK)
    assert main(["reset", "exercise1", "--yes", "--course", str(course_dir)]) == 0
    out = capsys.readouterr().out
    assert stub.read_bytes() == original
    (backup,) = backups(course_dir)
    assert backup.read_bytes() == WORK
    assert backup.name == stub.name and str(backup.relative_to(course_dir)) in out.replace("\n", " ")


def test_two_resets_keep_two_backups(course_dir):
    stub = course_dir / "exercises" / "exercise1_process.py"
    assert main(["list", "--course", str(course_dir)]) == 0
    for attempt in (b"first try\n", b"second try\n"):
        stub.write_bytes(attempt)
        assert main(["reset", "exercise1", "--yes", "--course", str(course_dir)]) == 0
    assert sorted(p.read_bytes() for p in backups(course_dir)) == [b"first try\n", b"second try\n"]


def test_without_yes_and_without_a_terminal_nothing_changes(course_dir):
    stub = course_dir / "exercises" / "exercise1_process.py"
    assert main(["list", "--course", str(course_dir)]) == 0
    stub.write_bytes(WORK)
    proc = subprocess.run([sys.executable, "-m", "grader", "reset", "exercise1"], cwd=course_dir,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert stub.read_bytes() == WORK and not backups(course_dir)


def test_it_asks_and_a_no_keeps_the_file(course_dir):
    stub = course_dir / "exercises" / "exercise1_process.py"
    original = stub.read_bytes()
    assert main(["list", "--course", str(course_dir)]) == 0
    stub.write_bytes(WORK)
    for answer, expected in (("n", WORK), ("y", original)):
        child = pexpect.spawn(sys.executable, ["-m", "grader", "reset", "exercise1"], cwd=str(course_dir),
                              encoding="utf-8", timeout=60)
        child.expect(r"\[y/N\]")
        child.sendline(answer)
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        assert stub.read_bytes() == expected
    assert [p.read_bytes() for p in backups(course_dir)] == [WORK]


def test_reset_of_a_deleted_file_restores_it(course_dir, capsys):
    course = load_course(course_dir)
    exercise = course.exercises[0]
    original = exercise.file.read_bytes()
    progress.keep_originals(course)
    exercise.file.unlink()
    assert reset.reset(course, exercise, yes=False) == 0  # nothing to lose: no question
    assert exercise.file.read_bytes() == original
    assert "was missing" in capsys.readouterr().out and not backups(course_dir)


def test_the_original_comes_from_git_when_the_stub_was_edited_before_grade_ever_ran(course_dir):
    git = ["git", "-C", str(course_dir), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "course"], check=True)
    stub = course_dir / "exercises" / "exercise1_process.py"
    original = stub.read_bytes()
    stub.write_bytes(WORK)  # edited before `grade` first ran: the file is not the original
    assert main(["reset", "exercise1", "--yes", "--course", str(course_dir)]) == 0
    assert stub.read_bytes() == original
    assert [p.read_bytes() for p in backups(course_dir)] == [WORK]


def test_an_unchanged_stub_needs_no_reset(course_dir, capsys):
    assert main(["reset", "exercise1", "--yes", "--course", str(course_dir)]) == 0
    assert "already the original" in capsys.readouterr().out and not backups(course_dir)


def test_solution_only_once_passed(course_dir, capsys):
    from grader.commands import solution
    from grader.verdict import ExerciseVerdict, RunVerdict, Status

    course = load_course(course_dir)
    exercise = course.exercises[0]
    assert main(["solution", "exercise1", "--course", str(course_dir)]) == 1
    assert "has not been graded yet" in capsys.readouterr().out
    run = RunVerdict(exercises=(ExerciseVerdict(exercise="exercise1", slug="process", title="t",
                                                status=Status.PASS, score=10, max_score=10, duration_s=0,
                                                checks=()),))
    progress.record(course, run)
    assert main(["solution", "exercise1", "--course", str(course_dir)]) == 0
    assert exercise.solution.read_text() in capsys.readouterr().out
    exercise.file.write_text(exercise.file.read_text() + "# changed\n")
    assert main(["solution", "exercise1", "--course", str(course_dir)]) == 1
    assert "changed since it was last graded" in capsys.readouterr().out
    exercise.file.write_bytes(exercise.file.read_bytes()[: -len("# changed\n")])
    os.unlink(exercise.solution)  # an edition that ships no solutions
    assert solution.solution_text(course, exercise) is None
    assert "ships no solutions" in solution.reason(course, exercise)


def test_the_command_restores_a_deleted_file(course_dir):
    stub = course_dir / "exercises" / "exercise1_process.py"
    original = stub.read_bytes()
    assert main(["list", "--course", str(course_dir)]) == 0
    stub.unlink()
    proc = subprocess.run([sys.executable, "-m", "grader", "reset", "exercise1"], cwd=course_dir,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert stub.read_bytes() == original and not backups(course_dir)
