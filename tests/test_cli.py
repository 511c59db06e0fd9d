"""The `grade` command: exit statuses, clean JSON, clear messages for bad input, and speed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import ROOT

from grader.cli import main
from grader.course import load_course
from grader.runner import Options, grade

SOLUTION = ROOT / "solutions" / "exercise1_process.py"


def run_grade(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=180)


def test_the_solution_passes_with_one_clean_json_document():
    proc = run_grade("exercise1", "--submission", str(SOLUTION), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["status"] == "pass" and verdict["score"] == verdict["max_score"] == 10
    assert {c["start_method"] for c in verdict["checks"]} == {"fork", "forkserver", "spawn"}
    assert verdict["leftover_processes"] == 0
    assert set(verdict) >= {"exercise", "status", "score", "max_score", "duration_s", "checks", "leftover_processes"}


def test_the_stub_fails_with_a_readable_report():
    proc = run_grade("process", "--no-color")
    assert proc.returncode == 1
    assert "✗" in proc.stdout and "NotImplementedError" in proc.stdout
    assert "exercises/exercise1_process.py" in proc.stdout
    assert "grade hint exercise1" in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_an_unknown_exercise_lists_the_valid_ones(capsys):
    assert main(["exercize1", "--course", str(ROOT)]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'exercise1'?" in err and "exercise14" in err


def test_an_unknown_exercise_in_json_mode_still_prints_one_json_document(capsys):
    assert main(["nope", "--format", "json", "--course", str(ROOT)]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "error" and "nope" in document["message"]


def test_a_broken_course_yaml_names_file_line_and_field(tmp_path, capsys):
    for name in ("exercises", "solutions", "grader"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    text = (ROOT / "course.yaml").read_text().replace("  timeout: 10\n", "  timeout: ten\n", 1)
    (tmp_path / "course.yaml").write_text(text)
    line = text.splitlines().index("  timeout: ten") + 1
    assert main(["exercise1", "--course", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"course.yaml:{line}: defaults.timeout" in err


def test_usage_errors_exit_2(capsys):
    # Options of grading but nothing to grade (`grade` alone is the overview, not an error).
    assert main(["--start-method", "fork", "--course", str(ROOT)]) == 2
    assert "name an exercise" in capsys.readouterr().err
    assert main(["exercise1", "--submission", "/no/such/file.py", "--course", str(ROOT)]) == 2
    assert main(["exercise1", "--start-method", "thread", "--course", str(ROOT)]) == 2


def test_list_and_hint(capsys):
    assert main(["list", "--course", str(ROOT)]) == 0
    listing = capsys.readouterr().out
    assert "exercise14" in listing and "Progress:" in listing
    assert main(["hint", "process", "--course", str(ROOT)]) == 0
    assert "args is a tuple" in capsys.readouterr().out


def test_a_missing_dependency_is_a_set_up_message_with_its_document_not_a_traceback():
    # psutil made unimportable, as in a Python the course was never installed for
    code = ("import sys; sys.modules['psutil'] = None; from grader.cli import main; "
            f"sys.exit(main(['exercise1', '--submission', {str(SOLUTION)!r}, '--format', 'json']))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr, proc.stderr
    document = json.loads(proc.stdout)
    assert document["status"] == "error" and "psutil is not installed" in document["message"]
    assert "pip install -e ." in proc.stderr


def test_start_method_restricts_the_matrix():
    proc = run_grade("exercise1", "--submission", str(SOLUTION), "--format", "json", "--start-method", "spawn")
    assert {c["start_method"] for c in json.loads(proc.stdout)["checks"]} == {"spawn"}


def test_a_deadlock_is_reported_once_with_its_limit():
    course = load_course(ROOT)
    timeout = 3.0
    run = grade(course, [course.find("exercise1")], ROOT / "tests" / "submissions" / "exercise1_deadlocks.py",
                Options(timeout=timeout))
    (verdict,) = run.exercises
    hangs = [c for c in verdict.checks if c.category.value == "timeout" and c.status.value == "fail"]
    assert len({c.name for c in hangs}) == 1, "one hang, reported by the first check that met it"
    assert sorted(c.start_method for c in hangs) == ["fork", "forkserver", "spawn"]
    assert "alpha" in hangs[0].message and "exercise1_deadlocks.py:6" in hangs[0].message
    assert "results.put(Queue().get())" in hangs[0].message
    assert all(f"within {timeout:g} s" in c.message for c in hangs), "the limit, never the time it took"
    # One timeout per start method, not one per check: every other check is skipped, not timed out again.
    assert all(c.status.value == "skipped" for c in verdict.checks if c not in hangs)
    assert not any("leaked semaphore" in c.output for c in verdict.checks), "the library's noise is not the student's"
    assert verdict.leftover_processes == 0


def test_the_welcome_message_is_shown_once_and_progress_is_kept(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(".git", ".venv", ".grade", "__pycache__", "*.egg-info"))
    first = run_grade("exercise1", "--no-color", "--start-method", "fork", cwd=course)
    second = run_grade("exercise1", "--no-color", "--start-method", "fork", cwd=course)
    assert first.stdout.startswith("Welcome!") and not second.stdout.startswith("Welcome!")
    listing = run_grade("list", cwd=course).stdout
    assert "✗ exercise1" in listing and "Progress: [" in listing and "0/14" in listing


def _hanging_grader(tmp_path: Path | None = None) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """grade on a deadlocking submission (its temporary files in tmp_path), once its sandboxes hang.

    The hang's limit is far beyond the wait: on a loaded machine the sandboxes may take long to
    come up, and the signal must still find the grading hanging, not finished."""
    env = dict(os.environ, TMPDIR=str(tmp_path)) if tmp_path else None
    proc = subprocess.Popen([sys.executable, "-m", "grader", "exercise1", "--submission",
                             str(ROOT / "tests" / "submissions" / "exercise1_deadlocks.py"), "--course", str(ROOT),
                             "--format", "json", "--timeout", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    grader = psutil.Process(proc.pid)
    for _ in range(2400):  # until the sandboxes are up and hanging
        if len(grader.children(recursive=True)) >= 6:
            break
        time.sleep(0.05)
    return proc, grader.children(recursive=True)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminated_grading_writes_its_document_and_leaves_nothing(short_tmp, signum):
    """A CI job cancelled, a platform's time limit, a closed terminal: grade is told to stop."""
    tmp_path = short_tmp
    proc, tree = _hanging_grader(tmp_path)
    assert tree, "the sandboxes never started"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err[-1500:]
    assert json.loads(out)["status"] == "error", "the format's one document, even when stopped"
    assert signal.Signals(signum).name in err
    assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "left running"
    assert list(tmp_path.iterdir()) == [], "the sandboxes' folders are left"


def test_ctrl_c_stops_a_hanging_grading_at_once_and_leaves_nothing_running():
    proc, tree = _hanging_grader()
    assert tree, "the sandboxes never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    assert json.loads(out)["status"] == "error", "the format's one document, even when interrupted"
    assert not [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], "left running"


def test_a_long_temporary_folder_path_does_not_fail_a_managers_sockets(tmp_path):
    """A Manager's and the fork server's sockets live in the sandbox's TMPDIR, and an AF_UNIX
    address holds 107 bytes: with the system's TMPDIR this long, they did not fit (EOFError)."""
    long = tmp_path / ("long-temporary-folder-" * 3)
    long.mkdir()
    proc = subprocess.run([sys.executable, "-m", "grader", "exercise9", "--submission",
                           str(ROOT / "solutions" / "exercise9_manager.py"), "--course", str(ROOT), "--format", "json"],
                          capture_output=True, text=True, timeout=600, env=dict(os.environ, TMPDIR=str(long)))
    verdict = json.loads(proc.stdout)
    assert verdict["status"] == "pass", [c["message"] for c in verdict["checks"] if c["status"] != "pass"][:2]
    assert list(long.iterdir()) == []
