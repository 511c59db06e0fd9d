"""The Gradescope report: the `results.json` its autograder reads.

One test per check name of each exercise (grouped across start methods). An exercise's
points are split evenly across its check names, so the tests of an exercise add up to its
max_score; a check earns its share only if it passed under every start method. Gradescope
knows only "passed" and "failed", so a check not run, or one the grader could not judge,
is "failed" with a message that says which. The top-level `score` is the grader's own.

Visibility comes from the course (course.yaml `visibility` and `check_visibility`), handed
in as plain data: `{exercise id: {"*": the exercise's, check name: the check's}}`. The
summary in `output` names only exercises whose every test is visible, and the total only
when everything is, so it never gives away what a hidden test would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from grader.i18n import N_, _
from grader.report._common import (
    grader_error_message,
    group_checks,
    methods,
    number,
    output_excerpt,
    problem_summary,
)
from grader.verdict import ExerciseVerdict, RunVerdict, Status

MAX_OUTPUT_LINES = 15
NOT_YOUR_FAULT = N_("This is a problem in the grader or the course, not in your code. Please tell your instructor.")


def render(run: RunVerdict, indent: int | None = 2,
           visibility: Mapping[str, Mapping[str, str]] | None = None) -> str:
    """results.json as Gradescope documents it; student output stays hidden from stdout."""
    tests = []
    shown: set[str] = set()  # exercises whose every test is visible
    for index, ex in enumerate(run.exercises, start=1):
        rules = (visibility or {}).get(ex.exercise, {})
        exercise_tests = _tests(index, ex)
        for test, name in zip(exercise_tests, _check_names(ex), strict=True):
            test["visibility"] = rules.get(name or "*", rules.get("*", "visible"))
        if all(t["visibility"] == "visible" for t in exercise_tests):
            shown.add(ex.exercise)
        tests += exercise_tests
    results = {
        "score": round(run.score, 4),
        "execution_time": round(sum(ex.duration_s for ex in run.exercises), 2),
        "output": _summary(run, shown),
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    return json.dumps(results, ensure_ascii=False, indent=indent)


def error(message: str, indent: int | None = 2) -> str:
    """results.json when nothing could be graded: no points, and why, for the student to read."""
    results = {"score": 0, "execution_time": 0, "output": _("grader error: {message}").format(message=message) + "\n" + _(NOT_YOUR_FAULT),
               "stdout_visibility": "hidden", "tests": []}
    return json.dumps(results, ensure_ascii=False, indent=indent)


def shares(max_score: float, n: int) -> list[float]:
    """`max_score` split into n shares that add up to it exactly (to 4 decimals)."""
    cuts = [round(max_score * i / n, 4) for i in range(n + 1)]
    return [round(b - a, 4) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _tests(index: int, ex: ExerciseVerdict) -> list[dict]:
    groups = group_checks(ex.checks)
    if ex.status is Status.ERROR or not groups:
        if ex.status is Status.ERROR:
            why = _("grader error: {message}").format(message=grader_error_message(ex)) + "\n" + _(NOT_YOUR_FAULT)
        else:
            why = ex.message or _("No checks ran.")
        name = _("{exercise} · could not be graded").format(exercise=ex.exercise)
        return [_test(f"{index}.1", name, False, 0, ex.max_score, why)]
    tests = []
    for number_in_exercise, (group, share) in enumerate(zip(groups, shares(ex.max_score, len(groups)), strict=True), start=1):
        passed = group.status is Status.PASS
        if passed:
            where = methods(group.results)
            output = _("Passed under {methods}.").format(methods=where) if where else _("Passed.")
        else:
            output = problem_summary(group)
            # A check not run shares the output of the run that failed above: shown there, once.
            printed = next((r.output for r in group.problems if r.output.strip() and r.status is not Status.SKIPPED),
                           "")
            if printed:
                excerpt = "\n".join("  " + line for line in output_excerpt(printed, MAX_OUTPUT_LINES))
                output += "\n\n" + _("Your code printed:") + f"\n{excerpt}"
        name = f"{ex.exercise} · {group.name}"
        tests.append(_test(f"{index}.{number_in_exercise}", name, passed, share if passed else 0, share, output))
    return tests


def _check_names(ex: ExerciseVerdict) -> list[str | None]:
    """The check name behind each of `_tests(ex)`, in order (None for an exercise-wide test)."""
    groups = group_checks(ex.checks)
    if ex.status is Status.ERROR or not groups:
        return [None]
    return [group.name for group in groups]


def _test(num: str, name: str, passed: bool, score: float, max_score: float, output: str) -> dict:
    return {
        "name": name,
        "number": num,
        "status": "passed" if passed else "failed",
        "score": score,
        "max_score": max_score,
        "output": output,
        "visibility": "visible",
    }


def _summary(run: RunVerdict, shown: set[str] | None = None) -> str:
    lines = []
    for ex in run.exercises:
        if shown is not None and ex.exercise not in shown:
            continue
        if ex.status is Status.ERROR:
            state = _("could not be graded (grader error)")
        else:
            groups = group_checks(ex.checks)
            passed = sum(g.status is Status.PASS for g in groups)
            state = _("{passed} of {count} checks pass").format(passed=passed, count=len(groups))
        lines.append(f"{ex.exercise}: {number(ex.score)}/{number(ex.max_score)} · {state}")
    if len(run.exercises) > 1 and (shown is None or len(shown) == len(run.exercises)):
        passed = sum(ex.status is Status.PASS for ex in run.exercises)
        lines.append(_("Total {score}/{max_score} · {passed} of {count} exercises pass").format(
            score=number(run.score), max_score=number(run.max_score), passed=passed, count=len(run.exercises)))
    if run.exercises and run.status is Status.PASS and run.final_message.strip():
        lines.append(run.final_message.strip())
    return "\n".join(lines)
