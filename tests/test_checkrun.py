"""The check runner (grader/checkrun.py): hidden modules loaded and run without a pytest session."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, copy_course

from grader.checkrun import HiddenModuleError, load_checks

HIDDEN = "grader/hidden/test_exercise1_process.py"
SOLUTION = "solutions/exercise1_process.py"


def _module(tmp_path: Path, body: str) -> Path:
    """A hidden module with one driver, `run`, and `body` after it."""
    path = tmp_path / "test_hidden_module.py"
    path.write_text("from grader.checks import check, driver, expect\n\n\n@driver\ndef run(student):\n    return 1\n"
                    + textwrap.dedent(body))
    return path


def _grade(course: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "grader", "exercise1", "--course", str(course), "--submission",
                           str(course / SOLUTION), "--format", "json", *args],
                          capture_output=True, text=True, cwd=course, timeout=300)


def test_checks_are_listed_in_the_order_they_are_defined(tmp_path):
    path = _module(tmp_path, """
        @check("second in the alphabet, first in the file", uses=run)
        def test_b(obs):
            pass

        def helper():  # not a check: its name does not start with test
            pass

        @check("first in the alphabet, second in the file", uses=run, category="lifecycle")
        def test_a(obs, start_method):
            pass
    """)
    checks = load_checks(path)
    assert [c.function.__name__ for c in checks] == ["test_b", "test_a"]
    assert [c.parameters for c in checks] == [("obs",), ("obs", "start_method")]
    assert checks[1].spec.category == "lifecycle"


def test_a_function_named_like_a_check_without_the_mark_is_named(tmp_path):
    path = _module(tmp_path, """
        def test_forgotten(obs):
            pass
    """)
    with pytest.raises(HiddenModuleError, match=r"test_forgotten\(\) is named like a check but is not marked @check"):
        load_checks(path)


def test_a_check_that_asks_for_something_it_is_not_given_is_named(tmp_path):
    path = _module(tmp_path, """
        @check("wants a fixture", uses=run)
        def test_wants(obs, tmp_path):
            pass
    """)
    with pytest.raises(HiddenModuleError, match=r"test_wants\(\) asks for tmp_path; a check is given only obs and "
                                                r"start_method"):
        load_checks(path)


def test_a_hidden_module_that_fails_to_load_is_a_grader_error_not_an_interruption(tmp_path):
    """pytest ended its session as 'interrupted' on a collection error: grade said `interrupted`
    and exited 130, as if the student had pressed Ctrl-C."""
    course = copy_course(tmp_path / "course")
    hidden = course / HIDDEN
    hidden.write_text(hidden.read_text() + "\n\nraise RuntimeError('the author broke this module')\n")
    line = len(hidden.read_text().splitlines())
    proc = _grade(course, "--start-method", "fork")
    assert proc.returncode == 2, proc.stderr
    verdict = json.loads(proc.stdout)
    assert verdict["status"] == "error"
    assert verdict["message"].startswith("The hidden checks of this exercise could not be loaded:")
    assert f'test_exercise1_process.py", line {line}, in <module>' in verdict["message"]
    assert "RuntimeError: the author broke this module" in verdict["message"]
    assert "checkrun.py" not in verdict["message"] and "<frozen" not in verdict["message"]


def test_checks_run_in_order_under_each_start_method_and_are_given_it(tmp_path):
    course = copy_course(tmp_path / "course")
    hidden = course / HIDDEN
    hidden.write_text(hidden.read_text() + textwrap.dedent("""

        @check("the check is told its start method", uses=named_children, leftovers_ok=True)
        def test_told_the_start_method(obs, start_method):
            expect(start_method == obs.start_method == "fork", "wrong_result", f"ran under {start_method}")


        @check("a check that breaks is the grader's error", uses=exit_codes)
        def test_broken(obs):
            raise ValueError("the author's mistake")
    """))
    proc = _grade(course, "--start-method", "fork", "--start-method", "spawn", "--schedules", "1")
    verdict = json.loads(proc.stdout)
    names = [c.spec.name for c in load_checks(hidden)]
    got = [(c["name"], c["start_method"]) for c in verdict["checks"]]
    assert got == [(name, method) for name in names for method in ("fork", "spawn")]
    told = {c["start_method"]: c for c in verdict["checks"] if c["name"] == "the check is told its start method"}
    assert told["fork"]["status"] == "pass"
    assert told["spawn"]["status"] == "fail"
    assert told["spawn"]["message"].startswith("ran under spawn\nThis check passes under fork but not under spawn")
    broken = [c for c in verdict["checks"] if c["name"] == "a check that breaks is the grader's error"]
    assert {c["status"] for c in broken} == {"error"}
    assert broken[0]["message"] == "The hidden check itself failed: ValueError: the author's mistake"
    assert all(c["status"] == "pass" for c in verdict["checks"] if c["name"] in names[:-2])


def test_grading_never_imports_pytest():
    """pytest's import and session were a third of a grading's time (0.5 s of 1.4 s for exercise 1)."""
    probe = ("import sys; from grader.cli import main; code = main(sys.argv[1:]); "
             "print('pytest' in sys.modules, file=sys.stderr); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", probe, "exercise1", "--submission", str(ROOT / SOLUTION),
                           "--start-method", "fork", "--schedules", "1", "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "False"


def test_a_check_stops_waiting_for_a_driver_after_its_patience():
    """The backstop against a grader's own bug (pytest-timeout's, before): a sandbox that never
    reports its driver is given up on with an error, not waited for for ever."""
    from concurrent.futures import Future

    from grader.runs import MethodRuns

    with pytest.raises(TimeoutError, match="gave no result for stuck within 0.05 s"):
        MethodRuns().wait_for("stuck", Future(), patience=0.05)
