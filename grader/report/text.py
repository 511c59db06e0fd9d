"""The terminal report: what a student reads after `grade exercise1`.

One block per exercise: a header, one line per check (grouped across start methods), the
first failure explained in full, a hint, and the score. Wording stays kind and plain: say
what happened and what to do next. With `color=False` the result holds no escape codes, not
even ones the student's code printed (they are shown as \\x1b).

Manners of the terminal: `width` wraps every line at spaces to that many columns (a word
longer than the line is left whole, never cut; East Asian wide characters count two
columns and may break between them), continuation lines indented under their first; and
`ascii_only` turns the marks (✓ ✗ – · — …) into plain ASCII for a terminal whose encoding
cannot show them.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from grader.i18n import N_, _, ngettext
from grader.report._common import (
    CheckGroup,
    clean,
    grader_error_message,
    group_checks,
    methods,
    number,
    output_excerpt,
    shorten,
)
from grader.verdict import Category, CheckResult, ExerciseVerdict, RunVerdict, Status

PASS, FAIL, SKIP = "✓", "✗", "–"
MAX_OUTPUT_LINES = 15
NAME_COLUMN_MAX = 56  # wider names push the "failed under" column no further
NOT_YOUR_FAULT = N_("This is a problem in the grader or the course, not in your code. Please tell your instructor.")
# How a category is named to a reader; the verdict keeps the identifiers.
CATEGORY_WORDS = {
    "pass": N_("pass"), "not_implemented": N_("not_implemented"), "wrong_result": N_("wrong_result"),
    "timeout": N_("timeout"), "ordering": N_("ordering"), "lifecycle": N_("lifecycle"),
    "not_parallel": N_("not_parallel"), "crash": N_("crash"), "resource": N_("resource"), "error": N_("error"),
}

# For a terminal that cannot show the marks: the same meaning in ASCII.
ASCII_MARKS = str.maketrans({"✓": "+", "✗": "x", "–": "-", "·": "|", "—": "-", "…": "...", "→": "->",
                             "‘": "'", "’": "'", "“": '"', "”": '"'})
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
CONTINUATION_INDENT = 2  # a wrapped line's continuation starts this much deeper than its first line

_GREEN, _RED, _DIM, _BOLD, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[2m", "\x1b[1m", "\x1b[0m"


class _Paint:
    """ANSI styling that collapses to plain text when color is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.color and text else text

    def green(self, text: str) -> str:
        return self._wrap(_GREEN, text)

    def red(self, text: str) -> str:
        return self._wrap(_RED, text)

    def dim(self, text: str) -> str:
        return self._wrap(_DIM, text)

    def bold(self, text: str) -> str:
        return self._wrap(_BOLD, text)


def render(run: RunVerdict, color: bool = False, verbose: bool = False, width: int | None = None,
           ascii_only: bool = False, streamed: bool = False) -> str:
    """The whole run as terminal text (no trailing newline). verbose explains every failure.

    streamed: each exercise's line was already shown as it finished (`line()`), so only the
    failures explained in full and the total follow."""
    paint = _Paint(color)
    blocks: list[str] = []
    first_failure_seen = last_was_summary = False
    for ex in run.exercises:
        if streamed and (ex.status is Status.PASS or (first_failure_seen and not verbose)):
            continue
        # In a run of several exercises, the first that fails is shown in full; the ones after
        # it in one line each (a student fixes one thing at a time; --verbose shows everything).
        if first_failure_seen and ex.status is Status.FAIL and not verbose:
            line = _summary_line(ex, paint)
            if last_was_summary:
                blocks[-1] += "\n" + line
            else:
                blocks.append(line)
            last_was_summary = True
            continue
        last_was_summary = False
        blocks.append("\n".join(_exercise(ex, paint, verbose)))
        first_failure_seen = first_failure_seen or ex.status is Status.FAIL
    tail = []
    if len(run.exercises) > 1:
        passed = sum(ex.status is Status.PASS for ex in run.exercises)
        total = _("Total {score}/{max_score} · {passed} of {count} exercises pass").format(
            score=number(run.score), max_score=number(run.max_score), passed=passed, count=len(run.exercises))
        tail.append(paint.bold(total))
    if run.exercises and run.status is Status.PASS and run.final_message.strip():
        tail.append(paint.green(run.final_message.strip()))
    return finish("\n\n".join(blocks + tail), width, ascii_only)


def line(ex: ExerciseVerdict, color: bool = False, width: int | None = None, ascii_only: bool = False) -> str:
    """One exercise in one line, as a long run shows it the moment the exercise is graded."""
    paint = _Paint(color)
    if ex.status is Status.FAIL:
        text = _summary_line(ex, paint)
    elif ex.status is Status.PASS:
        text = f"{paint.green(PASS)} {ex.exercise} · {ex.title} · {number(ex.score)}/{number(ex.max_score)}"
    else:
        text = f"{paint.red(FAIL)} {ex.exercise} · {ex.title} · " + _("grader error")
    return finish(text, width, ascii_only)


def finish(text: str, width: int | None = None, ascii_only: bool = False) -> str:
    """The terminal's manners applied to finished text: ASCII marks if asked, then wrapping."""
    if ascii_only:
        text = text.translate(ASCII_MARKS)
    if width:
        text = wrap(text, width)
    return text


def columns(text: str) -> int:
    """How many terminal columns text takes: escapes take none, wide characters two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in _ANSI.sub("", text))


def wrap(text: str, width: int) -> str:
    """Every line of text wrapped at spaces to `width` columns; no word is ever cut."""
    return "\n".join(part for raw in text.split("\n") for part in _wrap_line(raw, max(width, 20)))


def _wrap_line(raw: str, width: int) -> list[str]:
    if columns(raw) <= width:
        return [raw]
    body = raw.lstrip(" ")
    indent = " " * min(len(raw) - len(body) + CONTINUATION_INDENT, width // 2)
    lines: list[str] = []
    current = raw[: len(raw) - len(body)]
    used = columns(current)
    fresh = True  # nothing but indentation on the current line yet
    for sep, word in _tokens(body):
        need = columns(word) + (0 if fresh else len(sep))
        if not fresh and used + need > width:
            lines.append(current.rstrip(" "))
            current, used, fresh = indent, len(indent), True
            need = columns(word)
        current += word if fresh else sep + word
        used += need
        fresh = False
    lines.append(current.rstrip(" "))
    return lines


def _tokens(text: str) -> list[tuple[str, str]]:
    """(separator, word) pairs: a line may break at a separator of spaces, or on either side of
    a wide character (Chinese and Japanese text has no spaces between words)."""
    tokens: list[tuple[str, str]] = []
    sep, word = "", ""
    i = 0
    while i < len(text):
        escape = _ANSI.match(text, i)
        if escape:  # an escape belongs to the word it colours
            word += escape.group()
            i = escape.end()
            continue
        c = text[i]
        if c == " ":
            if word:
                tokens.append((sep, word))
                sep, word = "", ""
            sep += c
        elif unicodedata.east_asian_width(c) in "WF":
            if word.strip() and not _ANSI.fullmatch(word):
                tokens.append((sep, word))
                sep, word = "", ""
            tokens.append((sep, word + c))
            sep, word = "", ""
        else:
            word += c
        i += 1
    if word or sep:
        tokens.append((sep, word))
    return tokens


def _summary_line(ex: ExerciseVerdict, paint: _Paint) -> str:
    groups = group_checks(ex.checks)
    failing = [g for g in groups if g.status is not Status.PASS]
    kinds = sorted({c.category.value for g in failing for c in g.results if c.status is not Status.PASS})
    fails = _("{failing} of {count} checks fail ({kinds})").format(
        failing=len(failing), count=len(groups), kinds=", ".join(map(_word, kinds)))
    return f"{paint.red(FAIL)} {ex.exercise} · {ex.title} · {number(ex.score)}/{number(ex.max_score)} · {fails}"


def _word(category: str) -> str:
    word = CATEGORY_WORDS.get(category)
    return _(word) if word else category


def heading(exercise: str, title: str, file: str, color: bool = False) -> str:
    """An exercise's first line: its id, title and the file graded."""
    return _heading(exercise, title, file, _Paint(color))


def check_line(result: CheckResult, color: bool = False) -> str | None:
    """One check's line as soon as it is judged, before its exercise's verdict exists (watch
    mode's first look); None for a check that was not run (the verdict counts those)."""
    if result.status is Status.SKIPPED:
        return None
    return _check_lines(group_checks((result,)), _Paint(color))[0]


def _heading(exercise: str, title: str, file: str, paint: _Paint) -> str:
    return paint.bold(" · ".join(part for part in (exercise, title, file) if part))


def _exercise(ex: ExerciseVerdict, paint: _Paint, verbose: bool) -> list[str]:
    groups = group_checks(ex.checks)
    header = _heading(ex.exercise, ex.title, ex.file, paint)
    if ex.status is Status.PASS:
        header += "  " + paint.green(f"{PASS} " + _("passed"))
    lines = [header, *_check_lines(groups, paint)]

    if ex.status is Status.ERROR:
        message = clean(grader_error_message(ex)).strip().splitlines() or [""]
        lines.append(paint.red("  " + _("grader error: {message}").format(message=message[0])))
        lines += [f"    {line}" for line in message[1:]]
        lines.append(f"  {_(NOT_YOUR_FAULT)}")
        lines += _leftovers(ex)
        return lines

    if not groups:
        lines.append("  " + _("No checks ran.") + (f" {clean(ex.message)}" if ex.message else ""))
    failures = _merged_failures(ex.checks)
    for failure in failures if verbose else failures[:1]:
        lines += ["", *_explain(failure, ex, paint)]
    if not verbose and failures:
        others = sum(1 for g in groups if g.status in (Status.FAIL, Status.ERROR) and g.name != failures[0][0].name)
        if others:
            lines.append(paint.dim(ngettext(
                "{count} other check failed too: fix this one first, or use --verbose to see them all.",
                "{count} other checks failed too: fix this one first, or use --verbose to see them all.",
                others).format(count=others)))
    lines += _leftovers(ex)
    lines += _schedules(ex, paint)
    if ex.status is not Status.PASS:
        lines.append(paint.dim(_("Hint: run `grade hint {exercise}`.").format(exercise=ex.exercise)))
    lines.append(_score_line(ex, groups))
    return lines


def _check_lines(groups: tuple[CheckGroup, ...], paint: _Paint) -> list[str]:
    failing = [g for g in groups if g.status in (Status.FAIL, Status.ERROR)]
    width = min(max((_columns(g.name) for g in failing), default=0), NAME_COLUMN_MAX)
    lines = []
    for group in groups:
        if group.status is Status.PASS:
            lines.append(f"  {paint.green(PASS)} {group.name}")
        elif group.status is Status.FAIL:
            label = _under(_("failed"), _("failed under {methods}"), group.failed)
            lines.append(f"  {paint.red(FAIL)} {_ljust(group.name, width)}  {paint.red(label)}")
        elif group.status is Status.ERROR:
            label = _under(_("grader error"), _("grader error under {methods}"), group.errored)
            lines.append(f"  {paint.red(FAIL)} {_ljust(group.name, width)}  {paint.red(label)}")
    not_run = [g for g in groups if g.status is Status.SKIPPED]
    if not_run:
        reason = shorten(not_run[0].skipped[0].message) if not_run[0].skipped else ""
        count = ngettext("{count} check not run", "{count} checks not run", len(not_run)).format(count=len(not_run))
        line = f"  {SKIP} {count}" + (f" ({clean(reason)})" if reason else "")
        lines.append(paint.dim(line))
    return lines


def _under(alone: str, under: str, results: tuple[CheckResult, ...]) -> str:
    where = methods(results)
    return under.format(methods=where) if where else alone


def _ljust(text: str, width: int) -> str:
    """Padded to `width` terminal columns: a Chinese character takes two."""
    return text + " " * max(0, width - _columns(text))


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _merged_failures(checks: tuple[CheckResult, ...]) -> list[tuple[CheckResult, ...]]:
    """Failures in the order they ran; one check failing alike under several start methods is one entry."""
    merged: dict[tuple, list[CheckResult]] = {}
    for c in checks:
        if c.status in (Status.FAIL, Status.ERROR):
            merged.setdefault((c.name, c.status, c.category, c.message, c.location), []).append(c)
    return [tuple(results) for results in merged.values()]


def _explain(results: tuple[CheckResult, ...], ex: ExerciseVerdict, paint: _Paint) -> list[str]:
    check = results[0]
    # Every start method under which this check failed alike, even where the message differed.
    alike = tuple(c for c in ex.checks if c.name == check.name and c.status is check.status
                  and c.category is check.category)
    tag = " · ".join(part for part in (_word(check.category.value), methods(alike or results)) if part)
    lines = [f"{paint.red(FAIL)} {paint.bold(check.name)}   [{tag}]"]
    message = clean(check.message).rstrip().splitlines()
    if check.category is Category.ERROR or check.status is Status.ERROR:
        message = [*message, _(NOT_YOUR_FAULT)]
    lines += [f"    {line}".rstrip() for line in message]
    if check.location:
        lines.append("    " + _("at {location}").format(location=_location(check.location, ex.file)))
    if check.seed:
        lines.append(f"    {_(SCHEDULE_FAILED).format(seed=check.seed, exercise=ex.exercise)}")
    printed = next((r.output for r in results if r.output.strip()), "")
    if printed:
        lines.append("    " + _("Your code printed:"))
        lines += [f"      {line}".rstrip() for line in output_excerpt(printed, MAX_OUTPUT_LINES)]
    return lines


def _location(location: str, file: str) -> str:
    """"exercise1_process.py:23" becomes "exercises/exercise1_process.py:23", the path the student knows."""
    path, sep, line = location.rpartition(":")
    if sep and line.isdigit() and file and "/" not in path and PurePosixPath(file).name == path:
        return f"{file}:{line}"
    return location


SCHEDULE_FAILED = N_("This failure showed under an explored schedule (seed {seed}): the grader delayed some "
                     "synchronisation calls. `grade {exercise} --seed {seed}` replays it.")
SCHEDULES_PASSED = N_("No failure in {count} schedules: every check held with its driver run once as is and "
                      "{explored} more times with seeded delays at the synchronisation calls (random and PCT-like).")
SCHEDULE_REPLAYED = N_("Replayed schedule seed {seed} ({strategy}).")


def _schedules(ex: ExerciseVerdict, paint: _Paint) -> list[str]:
    explored = ex.schedules
    if not explored:
        return []
    if explored.get("replayed"):
        return [paint.dim(_(SCHEDULE_REPLAYED).format(seed=explored.get("seed"), strategy=explored.get("strategy")))]
    if ex.status is Status.PASS and explored.get("count", 0) > 1:
        count = explored["count"]
        return [paint.dim(_(SCHEDULES_PASSED).format(count=count, explored=count - 1))]
    return []


def _leftovers(ex: ExerciseVerdict) -> list[str]:
    n = ex.leftover_processes
    if n <= 0:
        return []
    return [ngettext("{count} process your code started was still running afterwards; the grader stopped it.",
                     "{count} processes your code started were still running afterwards; the grader stopped them.",
                     n).format(count=n)]


def _score_line(ex: ExerciseVerdict, groups: tuple[CheckGroup, ...]) -> str:
    passed = sum(g.status is Status.PASS for g in groups)
    checks = ngettext("{passed} of {count} check passes", "{passed} of {count} checks pass",
                      len(groups)).format(passed=passed, count=len(groups))
    score = _("Score {score}/{max_score}").format(score=number(ex.score), max_score=number(ex.max_score))
    return f"{score} · {checks} · {ex.duration_s:.2f} s"
