"""The GitHub Actions report: annotations at the student's lines, and a job summary in Markdown.

`render(run)` is what the job's log shows: one workflow command
`::error file=PATH,line=N,title=TITLE::MESSAGE` per failing check (GitHub draws it on that
line of the student's file in the commit and pull-request views), then one plain line per
exercise. `summary(run)` is the Markdown for `$GITHUB_STEP_SUMMARY`: a table of the
exercises, then a table of the checks of each. A check is one row however many start
methods it ran under, as in the other reports. The caller writes `summary` where
GITHUB_STEP_SUMMARY points; this module does no I/O.

Imports `grader.verdict` (and `_common`) only.
"""

from __future__ import annotations

from grader.report._common import (
    CheckGroup,
    clean,
    grader_error_message,
    group_checks,
    methods,
    number,
    problem_summary,
    shorten,
)
from grader.verdict import ExerciseVerdict, RunVerdict, Status

MARK = {Status.PASS: "✅", Status.FAIL: "❌", Status.ERROR: "⚠️", Status.SKIPPED: "➖"}
MESSAGE_LIMIT = 4000  # characters of one annotation's message; GitHub shows a few lines of it anyway


def render(run: RunVerdict) -> str:
    """Workflow commands for the failing checks, then a line per exercise."""
    lines = []
    for ex in run.exercises:
        if ex.status is Status.ERROR:
            lines.append(_command("error", f"{ex.exercise} · grader error", grader_error_message(ex), ex.file))
            continue
        for group in group_checks(ex.checks):
            if group.status is not Status.PASS:
                path, line = _where(ex, group)
                lines.append(_command("error", f"{ex.exercise} · {group.name}", problem_summary(group), path, line))
    for ex in run.exercises:
        groups = group_checks(ex.checks)
        passed = sum(g.status is Status.PASS for g in groups)
        lines.append(f"{ex.exercise} ({ex.slug}): {ex.status.value} · {number(ex.score)}/{number(ex.max_score)}"
                     f" · {passed} of {len(groups)} checks pass")
    if len(run.exercises) > 1:
        lines.append(f"Total {number(run.score)}/{number(run.max_score)}: {run.status.value}")
    return "\n".join(lines)


def error(message: str) -> str:
    """When nothing could be graded: one annotation that says why."""
    return _command("error", "grade could not grade", message)


def summary(run: RunVerdict) -> str:
    """The job summary: exercises, then each exercise's checks, as Markdown tables."""
    title = run.title or "Grading"
    out = [f"## {_cell(title)}: {number(run.score)}/{number(run.max_score)} {MARK[run.status]}", "",
           "| | Exercise | Score | Checks passed |", "|---|---|---|---|"]
    for ex in run.exercises:
        groups = group_checks(ex.checks)
        passed = sum(g.status is Status.PASS for g in groups)
        out.append(f"| {MARK[ex.status]} | `{ex.exercise}` {_cell(ex.title)} | {number(ex.score)}/"
                   f"{number(ex.max_score)} | {passed}/{len(groups)} |")
    for ex in run.exercises:
        out += ["", f"### {MARK[ex.status]} `{ex.exercise}` {_cell(ex.title)}", ""]
        if ex.status is Status.ERROR:
            out.append(f"Grader error: {_cell(grader_error_message(ex))}. This is not your code's fault.")
            continue
        out += ["| | Check | Start methods | What happened |", "|---|---|---|---|"]
        for group in group_checks(ex.checks):
            what = "" if group.status is Status.PASS else _first_line(group)
            out.append(f"| {MARK[group.status]} | {_cell(group.name)} | {methods(group.results)} | {_cell(what)} |")
    return "\n".join(out)


def _first_line(group: CheckGroup) -> str:
    problem = group.problems[0]
    text = shorten(problem.message, 160) if problem.message.strip() else problem.category.value
    where = f" ({problem.location})" if problem.location else ""
    return f"{problem.category.value}: {text}{where}"


def _where(ex: ExerciseVerdict, group: CheckGroup) -> tuple[str, int | None]:
    """The student's file as the repository names it, and the line the failure points at."""
    location = next((r.location for r in group.problems if r.location), None)
    if not location:
        return ex.file, None
    name, _, line = location.rpartition(":")
    if not line.isdigit():
        return ex.file, None
    # The location names the student's module as the sandbox imported it; the verdict's `file`
    # is the same file as the repository names it.
    return ex.file or name, int(line)


def _command(kind: str, title: str, message: str, path: str = "", line: int | None = None) -> str:
    properties = []
    if path:
        properties.append(f"file={_property(path)}")
        if line is not None:
            properties.append(f"line={line}")
    properties.append(f"title={_property(title)}")
    return f"::{kind} {','.join(properties)}::{_data(clean(message)[:MESSAGE_LIMIT])}"


def _data(text: str) -> str:
    """A workflow command's message: %, CR and LF escaped as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return " ".join(clean(text).split()).replace("|", "\\|")
