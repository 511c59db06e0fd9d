"""What several reporters share: checks grouped by name, numbers and text made safe to show.

A hidden check runs once per start method, so one check name yields several `CheckResult`s.
Students think in checks, not in (check, start method) pairs: the text, Gradescope and
Exercism reporters show one line or test per name, built from the `CheckGroup`s here.
Imports `grader.verdict` only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grader.i18n import _
from grader.verdict import CheckResult, ExerciseVerdict, Status

# C0 and C1 control characters except tab and newline: student output may hold ANSI escapes,
# carriage returns or NULs that would repaint a terminal or break an XML parser.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# "Not run:" in English and in Chinese (未运行：), the prefix of every NotRun message.
_NOT_RUN_PREFIX = re.compile(r"^(not run|skipped|未运行)\s*[:,：-]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class CheckGroup:
    """Every result of one check name, in the order they ran."""

    name: str
    results: tuple[CheckResult, ...]

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.FAIL)

    @property
    def errored(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.ERROR)

    @property
    def skipped(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.status is Status.SKIPPED)

    @property
    def problems(self) -> tuple[CheckResult, ...]:
        """The results that kept this check from passing, in the order they ran."""
        return tuple(r for r in self.results if r.status is not Status.PASS)

    @property
    def status(self) -> Status:
        """PASS only if it passed under every start method; a student's failure outranks ours."""
        if self.failed:
            return Status.FAIL
        if self.errored:
            return Status.ERROR
        if self.skipped or not self.results:
            return Status.SKIPPED
        return Status.PASS


def group_checks(checks: tuple[CheckResult, ...]) -> tuple[CheckGroup, ...]:
    """One group per distinct check name, in first-seen order."""
    by_name: dict[str, list[CheckResult]] = {}
    for check in checks:
        by_name.setdefault(check.name, []).append(check)
    return tuple(CheckGroup(name, tuple(results)) for name, results in by_name.items())


def methods(results: tuple[CheckResult, ...]) -> str:
    """"fork, spawn": the start methods of these results, each once, in order."""
    seen = dict.fromkeys(r.start_method for r in results if r.start_method)
    return ", ".join(seen)


def number(value: float) -> str:
    """4 -> "4", 6.666 -> "6.67": points as a person writes them."""
    value = round(float(value), 2)
    if value.is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def clean(text: str) -> str:
    """Control characters shown as \\xNN, so nothing the student printed acts on the screen."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def shorten(text: str, width: int = 60) -> str:
    """The first line of `text`, cut to `width` characters with an ellipsis."""
    lines = text.strip().splitlines()
    line = lines[0].strip() if lines else ""
    # "Not run: an earlier check hung" reads twice as "N checks not run (not run: ...)".
    line = _NOT_RUN_PREFIX.sub("", line).rstrip(".。")
    if len(line) > width:
        line = line[: width - 1].rstrip() + "…"
    return line


def output_excerpt(output: str, max_lines: int) -> list[str]:
    """The first `max_lines` lines of what the student printed, then how many were left out."""
    lines = [clean(line) for line in output.rstrip("\n").splitlines()]
    if len(lines) <= max_lines:
        return lines
    return lines[:max_lines] + [_("… ({count} more lines)").format(count=len(lines) - max_lines)]


def grader_error_message(exercise: ExerciseVerdict) -> str:
    """Why an exercise with status error could not be graded."""
    if exercise.message:
        return exercise.message
    for check in exercise.checks:
        if check.status is Status.ERROR and check.message:
            return check.message
    return _("the grader stopped without saying why.")


def problem_summary(group: CheckGroup) -> str:
    """The messages of a check's failures, naming the start methods; equal messages merged."""
    merged: dict[tuple, list[CheckResult]] = {}
    for result in group.problems:
        merged.setdefault((result.status, result.category, result.message, result.location), []).append(result)
    parts = []
    for (status, category, message, location), results in merged.items():
        where = methods(tuple(results))
        if status is Status.SKIPPED:
            head = _("Not run under {methods}").format(methods=where) if where else _("Not run")
            reason = _NOT_RUN_PREFIX.sub("", message.strip())
            parts.append(_("{head}: {reason}").format(head=head, reason=reason) if reason else head + _("."))
            continue
        if status is Status.ERROR:
            head = _("Grader error under {methods}").format(methods=where) if where else _("Grader error")
        else:
            head = _("Failed under {methods}").format(methods=where) if where else _("Failed")
        head += _(" ({category})").format(category=category.value)
        lines = [head + _(":") if message else head + _(".")]
        if message:
            lines.append(message.rstrip())
        if location:
            lines.append(_("at {location}").format(location=location))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
