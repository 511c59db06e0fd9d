"""The JUnit XML report, for CI dashboards (GitHub Actions, GitLab, Jenkins).

One <testsuite> per exercise, one <testcase> per check result (so one per check and start
method). Student output and messages may hold characters XML 1.0 forbids (NUL, escapes);
they are shown as \\xNN so the file always parses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from grader.i18n import _
from grader.report._common import clean, grader_error_message
from grader.verdict import CheckResult, ExerciseVerdict, RunVerdict, Status

GRADING_CASE = "grading"  # the test case that stands for an exercise no check could judge


def render(run: RunVerdict) -> str:
    """A <testsuites> document with an XML declaration."""
    root = ET.Element("testsuites", name=run.title or "grade")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for ex in run.exercises:
        suite = _suite(ex)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{sum(ex.duration_s for ex in run.exercises):.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def error(message: str) -> str:
    """A document for a run that graded nothing: one suite, one test case in error, saying why."""
    root = ET.Element("testsuites", name="grade", tests="1", failures="0", errors="1", skipped="0", time="0.000")
    suite = ET.SubElement(root, "testsuite", name="grade", tests="1", failures="0", errors="1", skipped="0",
                          time="0.000")
    case = ET.SubElement(suite, "testcase", classname="grade", name=GRADING_CASE, time="0.000")
    _outcome(case, "error", "error", message)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _suite(ex: ExerciseVerdict) -> ET.Element:
    suite = ET.Element("testsuite", name=ex.exercise)
    cases = [_case(ex.exercise, check) for check in ex.checks]
    judged = any(c.status is Status.ERROR for c in ex.checks) if ex.status is Status.ERROR else bool(ex.checks)
    if not judged:
        # Nothing in the checks says why: one case carries the exercise's own message.
        case = ET.Element("testcase", classname=ex.exercise, name=GRADING_CASE, time=f"{ex.duration_s:.3f}")
        if ex.status is Status.ERROR:
            _outcome(case, "error", "error", grader_error_message(ex))
        elif ex.status is Status.FAIL:
            _outcome(case, "failure", "fail", ex.message or _("No checks ran."))
        cases.append(case)
    suite.extend(cases)
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        suite.set(key, str(sum(case.find(tag) is not None for case in cases)))
    suite.set("tests", str(len(cases)))
    suite.set("time", f"{ex.duration_s:.3f}")
    return suite


def _case(exercise: str, check: CheckResult) -> ET.Element:
    name = f"{check.name} [{check.start_method}]" if check.start_method else check.name
    case = ET.Element("testcase", classname=exercise, name=clean(name), time=f"{check.duration_s:.3f}")
    text = check.message.rstrip() + (f"\nat {check.location}" if check.location else "")
    if check.status is Status.FAIL:
        _outcome(case, "failure", check.category.value, text)
    elif check.status is Status.ERROR:
        _outcome(case, "error", check.category.value, text)
    elif check.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=clean(check.message.strip()))
    if check.output:
        ET.SubElement(case, "system-out").text = clean(check.output)
    return case


def _outcome(case: ET.Element, tag: str, category: str, text: str) -> None:
    element = ET.SubElement(case, tag, message=category, type=category)
    element.text = clean(text.strip())
