"""The terminal's manners: wrapping to its width without cutting a word, colour only on a
terminal and never under NO_COLOR, ASCII marks where ✓/✗ cannot be shown, and the Windows
message."""

from __future__ import annotations

import os
import subprocess
import sys

import pexpect
import pytest
from conftest import ROOT, copy_course

from grader.cli import WINDOWS_MESSAGE, main
from grader.report import text
from grader.verdict import Category, CheckResult, ExerciseVerdict, RunVerdict, Status

MESSAGE = ("Each child must be started exactly once and joined exactly once; yours was started twice, "
           "so the second start() raised an AssertionError before any child could report its name.")


def failing_run() -> RunVerdict:
    check = CheckResult("every child is started exactly once and joined exactly once", Status.FAIL,
                        Category.ORDERING, MESSAGE, start_method="fork", location="exercise1_process.py:12")
    ex = ExerciseVerdict(exercise="exercise1", slug="process", title="Process basics", status=Status.FAIL,
                         score=0, max_score=10, duration_s=0.5, checks=(check,),
                         file="exercises/exercise1_process.py")
    return RunVerdict(exercises=(ex,))


def words(s: str) -> list[str]:
    return s.split()


@pytest.mark.parametrize("width", [40, 60, 80])
def test_wrapping_keeps_every_word_whole_and_every_line_within_the_width(width):
    plain = text.render(failing_run())
    wrapped = text.render(failing_run(), width=width)
    assert all(text.columns(line) <= width for line in wrapped.splitlines())
    assert words(wrapped) == words(plain)  # no word cut, none lost, none added
    assert "exactly once" in " ".join(wrapped.split())
    assert wrapped != plain


def test_colour_codes_take_no_columns():
    wrapped = text.render(failing_run(), color=True, width=60)
    assert "\x1b[" in wrapped
    assert all(text.columns(line) <= 60 for line in wrapped.splitlines())


def test_a_word_longer_than_the_line_is_left_whole():
    long_word = "x" * 90
    assert text.wrap(f"  see {long_word} here", 40).split() == ["see", long_word, "here"]


def test_wide_characters_count_two_columns_and_break_between_them():
    line = "  " + "进程必须先启动再等待结束" * 4
    wrapped = text.wrap(line, 20)
    assert all(text.columns(part) <= 20 for part in wrapped.splitlines())
    assert "".join(wrapped.split()) == line.strip()


def test_ascii_only_leaves_no_mark_a_plain_terminal_cannot_show():
    shown = text.render(failing_run(), ascii_only=True)
    shown.encode("ascii")
    assert shown.splitlines()[1].lstrip().startswith("x ")


def run_grade(*args, cwd, env):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300, env={**os.environ, **env})


@pytest.fixture(scope="module")
def course_dir(tmp_path_factory):
    return copy_course(tmp_path_factory.mktemp("manners") / "course")


def test_the_report_fits_a_60_column_terminal(course_dir):
    proc = run_grade("exercise1", "--start-method", "fork", cwd=course_dir, env={"COLUMNS": "60"})
    assert proc.returncode == 1, proc.stderr
    assert all(text.columns(line) <= 60 for line in proc.stdout.splitlines()
               if " " in line.strip())  # a single word longer than the line stays whole
    assert "\x1b[" not in proc.stdout  # not a terminal: no colour


def test_an_ascii_terminal_gets_ascii_marks(course_dir):
    proc = run_grade("exercise1", "--start-method", "fork", cwd=course_dir,
                     env={"PYTHONIOENCODING": "ascii", "COLUMNS": "100"})
    assert proc.returncode == 1, proc.stderr
    assert "✗" not in proc.stdout and "x " in proc.stdout and "Traceback" not in proc.stderr


@pytest.mark.parametrize("no_color", ["", "1"])
def test_colour_on_a_terminal_unless_no_color(course_dir, no_color):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    if no_color:
        env["NO_COLOR"] = no_color
    child = pexpect.spawn(sys.executable, ["-m", "grader", "list"], cwd=str(course_dir), env=env,
                          encoding="utf-8", timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    assert "Progress:" in child.before
    listing = child.before
    child = pexpect.spawn(sys.executable, ["-m", "grader", "exercise1", "--start-method", "fork"],
                          cwd=str(course_dir), env=env, encoding="utf-8", timeout=300)
    child.expect(pexpect.EOF)
    child.close()
    assert ("\x1b[" in child.before) is (not no_color)
    assert "\x1b[" not in listing or not no_color


def test_native_windows_is_told_at_once_to_use_wsl(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "win32")
    assert main(["exercise1", "--course", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == WINDOWS_MESSAGE and "WSL" in err
    monkeypatch.setattr(sys, "platform", "linux")
