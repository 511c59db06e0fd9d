"""The Exercism report: test-runner `results.json`, version 3.

One test per check name, in the order the checks ran, grouped across start methods. The
top-level status is "error" when the grader could not judge an exercise (then `message`
says why), else "fail" or "pass". A test's `output` is what the student's code printed,
cut to 500 characters as Exercism requires.
"""

from __future__ import annotations

import json

from grader.i18n import _
from grader.report._common import grader_error_message, group_checks, problem_summary
from grader.verdict import RunVerdict, Status

VERSION = 3  # the version of the interface: 3 lets tests carry a task_id (we give none)
OUTPUT_LIMIT = 500
TRUNCATION_NOTICE = "Output was truncated. Please limit to 500 chars"

_STATUS = {Status.PASS: "pass", Status.FAIL: "fail", Status.SKIPPED: "fail", Status.ERROR: "error"}


def render(run: RunVerdict, indent: int | None = 2) -> str:
    """results.json for an Exercism test runner."""
    prefix = len(run.exercises) > 1  # name tests "exercise1 · ..." only when they could clash
    tests = []
    for ex in run.exercises:
        label = f"{ex.exercise} · " if prefix else ""
        groups = group_checks(ex.checks)
        if not groups and ex.status is not Status.ERROR:
            tests.append({"name": f"{label}checks", "status": "fail", "test_code": "",
                          "message": ex.message or _("No checks ran.")})
        for group in groups:
            test = {"name": label + group.name, "status": _STATUS[group.status], "test_code": ""}
            if group.status is not Status.PASS:
                test["message"] = problem_summary(group)
            printed = next((r.output for r in group.problems + group.results if r.output), "")
            if printed:
                test["output"] = truncate(printed)
            tests.append(test)
    results: dict = {"version": VERSION, "status": run.status.value}
    errors = [ex for ex in run.exercises if ex.status is Status.ERROR]
    if errors:
        results["status"] = "error"
        results["message"] = "\n".join(f"{ex.exercise}: " + _("grader error: {message}").format(
            message=grader_error_message(ex)) for ex in errors)
    results["tests"] = tests
    return json.dumps(results, ensure_ascii=False, indent=indent)


def error(message: str, indent: int | None = 2) -> str:
    """results.json when nothing could be graded: status "error" and why, no tests."""
    return json.dumps({"version": VERSION, "status": "error", "message": message, "tests": []},
                      ensure_ascii=False, indent=indent)


def truncate(output: str) -> str:
    """`output` if it fits in 500 characters, else its start and the notice, 500 in all."""
    if len(output) <= OUTPUT_LIMIT:
        return output
    notice = "\n" + TRUNCATION_NOTICE
    return output[: OUTPUT_LIMIT - len(notice)] + notice
