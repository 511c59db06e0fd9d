"""Tests of grader/report: every reporter, on verdicts built here in code.

The golden files hold the text and Gradescope reports of `failing_exercise()`. After a
deliberate change of wording, regenerate them with:

    /tmp/venv/bin/python tests/test_report.py --regenerate

and read the diff before keeping it.
"""

from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader import report
from grader.report import exercism, gradescope, junit, text
from grader.report import json as json_report
from grader.verdict import Category, CheckResult, ExerciseVerdict, RunVerdict, Status

GOLDEN = Path(__file__).parent / "golden"
METHODS = ("fork", "forkserver", "spawn")
ANSI = re.compile(r"\x1b")


# ---------------------------------------------------------------- verdicts built in code


def passed(name: str, method: str, duration: float = 0.05) -> CheckResult:
    return CheckResult(name, Status.PASS, Category.PASS, start_method=method, duration_s=duration)


def passing_exercise() -> ExerciseVerdict:
    names = ("children report their own name and pid", "exitcode is read only after join()")
    return ExerciseVerdict(
        exercise="exercise1", slug="process", title="Process basics", status=Status.PASS,
        score=10, max_score=10, duration_s=0.62,
        checks=tuple(passed(n, m) for n in names for m in METHODS),
        file="exercises/exercise1_process.py",
    )


HANG_MESSAGE = (
    "The queue was never drained, so the worker blocked on put() and join() waited forever.\n"
    "worker (pid 4242) was at: q.put(item)"
)
WRONG_MESSAGE = "Expected the total 4950, got 0. Did each worker add its own share?"


def failing_exercise() -> ExerciseVerdict:
    """Fails under fork and spawn, hangs under spawn, then skips; prints 20 lines."""
    printed = "".join(f"worker {i} started\n" for i in range(20))
    checks = (
        passed("workers each get a share", "fork"),
        CheckResult("the total is right", Status.FAIL, Category.WRONG_RESULT, WRONG_MESSAGE,
                    start_method="fork", duration_s=0.1, location="exercise5_queue.py:23", output=printed),
        passed("workers each get a share", "spawn"),
        CheckResult("the total is right", Status.FAIL, Category.WRONG_RESULT, WRONG_MESSAGE,
                    start_method="spawn", duration_s=0.12, location="exercise5_queue.py:23"),
        CheckResult("the queue is drained before join()", Status.FAIL, Category.TIMEOUT, HANG_MESSAGE,
                    start_method="spawn", duration_s=10.0, location="exercise5_queue.py:31"),
        CheckResult("results come back in order", Status.SKIPPED, Category.TIMEOUT,
                    "Not run: an earlier check hung", start_method="spawn"),
        CheckResult("no worker is left running", Status.SKIPPED, Category.TIMEOUT,
                    "Not run: an earlier check hung", start_method="spawn"),
    )
    return ExerciseVerdict(
        exercise="exercise5", slug="queue", title="Queue: passing work around", status=Status.FAIL,
        score=2, max_score=10, duration_s=10.84, checks=checks, leftover_processes=2,
        hint="Drain the queue before you join.", file="exercises/exercise5_queue.py",
    )


def error_exercise() -> ExerciseVerdict:
    return ExerciseVerdict(
        exercise="exercise3", slug="semaphore", title="Semaphore", status=Status.ERROR,
        score=0, max_score=10, duration_s=0.01, checks=(),
        file="exercises/exercise3_semaphore.py",
        message="hidden checks grader/hidden/test_exercise3_semaphore.py could not be imported",
    )


def run_of(*exercises: ExerciseVerdict, final_message: str = "") -> RunVerdict:
    return RunVerdict(exercises=tuple(exercises), title="Python multiprocessing",
                      final_message=final_message)


# ---------------------------------------------------------------- dispatch


def test_render_dispatches_every_format_and_rejects_unknown_ones():
    run = run_of(failing_exercise())
    assert report.render(run, "text") == text.render(run)
    assert report.render(run, "json") == json_report.render(run)
    for fmt in report.FORMATS:
        assert report.render(run, fmt, color=False, verbose=True)  # options a format ignores are dropped
    with pytest.raises(ValueError, match="csv"):
        report.render(run, "csv")
    with pytest.raises(TypeError, match="colour"):
        report.render(run, "text", colour=True)


def test_the_options_render_knows_are_those_its_reporters_take():
    taken = set().union(*(report._accepted(report._MODULES[fmt]) for fmt in report.FORMATS))
    assert report.OPTIONS == taken


# ---------------------------------------------------------------- text


def test_text_groups_start_methods_into_one_line_per_check():
    out = text.render(run_of(failing_exercise()))
    check_lines = [line for line in out.splitlines() if line.startswith(("  ✓", "  ✗", "  –"))]
    assert check_lines[0] == "  ✓ workers each get a share"
    assert check_lines[1].startswith("  ✗ the total is right")
    assert check_lines[1].endswith("failed under fork, spawn")
    assert check_lines[2].endswith("failed under spawn")
    assert check_lines[3] == "  – 2 checks not run (an earlier check hung)"
    assert len(check_lines) == 4
    assert "Score 2/10 · 1 of 5 checks pass · 10.84 s" in out


def test_text_explains_only_the_first_failure_unless_verbose():
    run = run_of(failing_exercise())
    out = text.render(run)
    assert out.count(WRONG_MESSAGE) == 1  # same message under fork and spawn: explained once
    assert "\n✗ the total is right   [wrong_result · fork, spawn]\n" in out
    assert HANG_MESSAGE.splitlines()[0] not in out
    assert "\n1 other check failed too: fix this one first" in out
    verbose = text.render(run, verbose=True)
    assert verbose.count(WRONG_MESSAGE) == 1
    assert "✗ the queue is drained before join()   [timeout · spawn]" in verbose
    assert "    " + HANG_MESSAGE.splitlines()[1] in verbose  # every message line indented 4
    assert "other check failed too" not in verbose


def test_text_explanation_has_location_output_hint_and_leftovers():
    out = text.render(run_of(failing_exercise()))
    assert "    at exercises/exercise5_queue.py:23" in out  # the location as the student's path
    assert "    Your code printed:\n      worker 0 started" in out
    assert "      worker 14 started\n      … (5 more lines)" in out
    assert "worker 15 started" not in out
    assert "Hint: run `grade hint exercise5`." in out
    assert "2 processes your code started were still running afterwards; the grader stopped them." in out


def test_text_passing_exercise():
    out = text.render(run_of(passing_exercise()))
    lines = out.splitlines()
    assert lines[0] == "exercise1 · Process basics · exercises/exercise1_process.py  ✓ passed"
    assert lines[1:3] == ["  ✓ children report their own name and pid", "  ✓ exitcode is read only after join()"]
    assert lines[-1] == "Score 10/10 · 2 of 2 checks pass · 0.62 s"
    assert "✗" not in out and "Hint" not in out and "Total" not in out


def test_text_error_exercise_is_not_the_students_fault():
    out = text.render(run_of(error_exercise()))
    assert "grader error: hidden checks grader/hidden/test_exercise3_semaphore.py could not be imported" in out
    assert "not in your code" in out
    assert "Hint" not in out


def test_text_several_exercises_total_and_final_message():
    final = "Every exercise passes. Well done!"
    mixed = text.render(run_of(passing_exercise(), failing_exercise(), final_message=final))
    assert mixed.splitlines()[-1] == "Total 12/20 · 1 of 2 exercises pass"
    assert final not in mixed
    second = ExerciseVerdict.from_dict({**passing_exercise().to_dict(), "exercise": "exercise2"})
    all_pass = text.render(run_of(passing_exercise(), second, final_message=final))
    assert all_pass.splitlines()[-3:] == ["Total 20/20 · 2 of 2 exercises pass", "", final]


def test_text_color_only_when_asked_and_student_escapes_are_neutralised():
    sneaky = CheckResult("prints", Status.FAIL, Category.WRONG_RESULT, "bad\x1b[2J", start_method="fork",
                         output="\x1b[31mred\x1b[0m\r\x00\n")
    ex = ExerciseVerdict("exercise9", "x", "X", Status.FAIL, 0, 10, 0.1, (sneaky,))
    for run in (run_of(failing_exercise()), run_of(passing_exercise()), run_of(ex)):
        assert not ANSI.search(text.render(run, color=False, verbose=True))
    assert "\x1b[32m✓" in text.render(run_of(passing_exercise()), color=True)
    assert "\x1b[31m✗" in text.render(run_of(failing_exercise()), color=True)
    assert "\\x1b[31mred" in text.render(run_of(ex))


# ---------------------------------------------------------------- json


@pytest.mark.parametrize("exercises", [
    (failing_exercise(),),
    (passing_exercise(), failing_exercise(), error_exercise()),
])
def test_json_round_trips(exercises):
    run = run_of(*exercises)
    document = json.loads(json_report.render(run))
    assert RunVerdict.from_dict(document).exercises == run.exercises
    if len(exercises) == 1:
        assert document["exercise"] == "exercise5"  # a single exercise is the bare object
    else:
        assert document["status"] == "error" and len(document["exercises"]) == 3


def test_json_keeps_unicode_readable():
    check = CheckResult("naïve ✓", Status.PASS, Category.PASS, start_method="fork")
    ex = ExerciseVerdict("exercise9", "x", "Zähler", Status.PASS, 10, 10, 0.1, (check,))
    document = json_report.render(run_of(ex))
    assert '"naïve ✓"' in document and "Zähler" in document
    assert "\n" not in document  # one line: stdout holds exactly one document


# ---------------------------------------------------------------- junit


def test_junit_parses_and_counts_failures():
    run = run_of(passing_exercise(), failing_exercise(), error_exercise())
    root = ET.fromstring(junit.render(run))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["exercise1", "exercise5", "exercise3"]
    failing = suites[1]
    assert (failing.get("tests"), failing.get("failures"), failing.get("skipped")) == ("7", "3", "2")
    names = [c.get("name") for c in failing.findall("testcase")]
    assert "the total is right [spawn]" in names
    assert {c.get("classname") for c in failing.findall("testcase")} == {"exercise5"}
    first_failure = failing.find("testcase/failure")
    assert first_failure.get("message") == "wrong_result"
    assert WRONG_MESSAGE in first_failure.text
    assert suites[2].get("errors") == "1"  # the error exercise still shows up, as an error
    assert suites[2].find("testcase/error").text.startswith("hidden checks")
    assert root.get("failures") == "3" and root.get("errors") == "1" and root.get("tests") == "14"


def test_junit_survives_control_characters_in_student_output():
    check = CheckResult("prints", Status.FAIL, Category.CRASH, "boom\x00", start_method="fork",
                        output="\x1b[31m\x00\x07done")
    ex = ExerciseVerdict("exercise9", "x", "X", Status.FAIL, 0, 10, 0.1, (check,))
    root = ET.fromstring(junit.render(run_of(ex)))
    assert root.find("testsuite/testcase/system-out").text == "\\x1b[31m\\x00\\x07done"


# ---------------------------------------------------------------- gradescope


def test_gradescope_scores_sum_to_exercise_scores():
    run = run_of(passing_exercise(), failing_exercise(), error_exercise())
    results = json.loads(gradescope.render(run))
    assert {t["status"] for t in results["tests"]} == {"passed", "failed"}
    for ex in run.exercises:
        tests = [t for t in results["tests"] if t["name"].startswith(ex.exercise + " · ")]
        assert sum(t["max_score"] for t in tests) == pytest.approx(ex.max_score)
        assert sum(t["score"] for t in tests) == pytest.approx(ex.score)
    assert results["score"] == pytest.approx(run.score)
    assert results["stdout_visibility"] == "hidden"
    numbers = [t["number"] for t in results["tests"]]
    assert numbers == ["1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "3.1"]


def test_gradescope_failure_output_names_start_methods_and_error_is_one_test():
    results = json.loads(gradescope.render(run_of(failing_exercise(), error_exercise())))
    total = next(t for t in results["tests"] if t["name"] == "exercise5 · the total is right")
    assert total["status"] == "failed" and total["score"] == 0 and total["max_score"] == 2
    assert total["output"].startswith(f"Failed under fork, spawn (wrong_result):\n{WRONG_MESSAGE}")
    skipped = next(t for t in results["tests"] if t["name"] == "exercise5 · no worker is left running")
    assert skipped["status"] == "failed" and skipped["output"] == "Not run under spawn: an earlier check hung"
    errors = [t for t in results["tests"] if t["name"].startswith("exercise3")]
    assert len(errors) == 1 and errors[0]["status"] == "failed" and "could not be imported" in errors[0]["output"]


def test_gradescope_shares_add_up_exactly():
    assert gradescope.shares(10, 3) == [3.3333, 3.3334, 3.3333]
    assert sum(gradescope.shares(10, 3)) == pytest.approx(10, abs=1e-9)
    assert gradescope.shares(10, 4) == [2.5, 2.5, 2.5, 2.5]


# ---------------------------------------------------------------- exercism


def test_exercism_truncates_output_at_500_chars():
    long = CheckResult("prints a lot", Status.FAIL, Category.WRONG_RESULT, "too much", start_method="fork",
                       output="x" * 2000)
    short = CheckResult("prints a little", Status.PASS, Category.PASS, start_method="fork", output="y" * 500)
    ex = ExerciseVerdict("exercise9", "x", "X", Status.FAIL, 0, 10, 0.1, (long, short))
    tests = json.loads(exercism.render(run_of(ex)))["tests"]
    assert len(tests[0]["output"]) == 500
    assert tests[0]["output"].endswith("Output was truncated. Please limit to 500 chars")
    assert tests[0]["output"].startswith("x" * 400)
    assert tests[1]["output"] == "y" * 500  # exactly 500 is left alone


def test_exercism_groups_tests_in_order_with_statuses():
    results = json.loads(exercism.render(run_of(failing_exercise())))
    assert results["version"] == 3 and results["status"] == "fail"
    assert "message" not in results
    assert [t["name"] for t in results["tests"]] == [
        "workers each get a share", "the total is right", "the queue is drained before join()",
        "results come back in order", "no worker is left running"]
    assert [t["status"] for t in results["tests"]] == ["pass", "fail", "fail", "fail", "fail"]
    assert "message" not in results["tests"][0]
    assert "under fork, spawn" in results["tests"][1]["message"]
    assert all(t["test_code"] == "" for t in results["tests"])


def test_exercism_error_carries_message():
    results = json.loads(exercism.render(run_of(passing_exercise(), error_exercise())))
    assert results["status"] == "error"
    assert "could not be imported" in results["message"]
    assert json.loads(exercism.render(run_of(passing_exercise())))["status"] == "pass"


# ---------------------------------------------------------------- golden files


GOLDEN_RENDERERS = {
    "failing_exercise.txt": lambda: text.render(run_of(failing_exercise())),
    "failing_exercise.gradescope.json": lambda: gradescope.render(run_of(failing_exercise())),
}


@pytest.mark.parametrize("filename", sorted(GOLDEN_RENDERERS))
def test_golden(filename):
    """Regenerate: /tmp/venv/bin/python tests/test_report.py --regenerate"""
    expected = (GOLDEN / filename).read_text(encoding="utf-8")
    assert GOLDEN_RENDERERS[filename]() + "\n" == expected


if __name__ == "__main__" and sys.argv[1:] == ["--regenerate"]:
    for filename, make in GOLDEN_RENDERERS.items():
        (GOLDEN / filename).write_text(make() + "\n", encoding="utf-8")
        print(f"wrote {GOLDEN / filename}")


def test_several_failing_exercises_explain_the_first_and_summarize_the_rest():
    def failing(exercise_id):
        check = CheckResult(name="it works", status=Status.FAIL, category=Category.NOT_IMPLEMENTED,
                            message=f"{exercise_id} is not written yet", start_method="fork")
        return ExerciseVerdict(exercise=exercise_id, slug=exercise_id, title="T", status=Status.FAIL, score=0,
                               max_score=10, duration_s=0.1, checks=(check,))

    run = RunVerdict(exercises=(failing("ex1"), failing("ex2"), failing("ex3")))
    shown = text.render(run)
    assert "ex1 is not written yet" in shown and "ex2 is not written yet" not in shown
    assert "✗ ex2 · T · 0/10 · 1 of 1 checks fail (not_implemented)\n✗ ex3" in shown
    assert "ex3 is not written yet" in text.render(run, verbose=True)


def test_gradescope_shows_what_the_code_printed_once_not_under_every_check_not_run():
    hang = CheckResult("the first check", Status.FAIL, Category.TIMEOUT, "hung", start_method="spawn",
                       output="worker says hi\n")
    skipped = CheckResult("a later check", Status.SKIPPED, Category.TIMEOUT, "Not run: the same run failed.",
                          start_method="spawn", output="worker says hi\n")
    ex = ExerciseVerdict(exercise="exercise1", slug="process", title="Process basics", status=Status.FAIL,
                         score=0, max_score=10, duration_s=1.0, checks=(hang, skipped))
    tests = json.loads(gradescope.render(run_of(ex)))["tests"]
    assert ["worker says hi" in t["output"] for t in tests] == [True, False]
