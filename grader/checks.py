"""The language of hidden checks: `@check`, `fail`, `expect`, and the standard judgements.

A hidden-check module (grader/hidden/test_<exercise>.py) holds drivers (see
grader/drivers.py), which run in the sandbox, and checks, which run here in the grader
and judge what a driver observed:

    @check("each child reports its own name and pid", uses=start_named)
    def test_names(obs):
        expect(obs.value == [...], "wrong_result", "expected ..., got ...")

Before a check's body runs, `judge_outcome` turns the common outcomes into verdicts the
same way for every exercise: a stub still raising NotImplementedError, a hang (with the
stack of every process), a crash, a resource cap, processes left running. A check body
only judges the answer. Messages speak to the student: what was checked, what was
expected, what happened, where in their file. Checks never know about output formats.

Imported inside the sandbox too (hidden modules import it): standard library only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from .drivers import driver, raised, run_as_script  # noqa: F401 - re-exported for hidden modules
from .i18n import N_, _, ngettext  # noqa: F401 - re-exported for hidden modules
from .observations import DIED, NOT_RUN, RAISED, RESOURCE, TIMEOUT, Event, Observation, ProcessStack

MULTIPROCESSING_MARK = os.sep + "multiprocessing" + os.sep
GRADER_MARK = os.path.dirname(os.path.abspath(__file__)) + os.sep

# Messages that tests import rather than retype: English msgids, translated where used (`_(HANG)`).
NOT_IMPLEMENTED = N_("{function}() still raises NotImplementedError: fill in the TODO in {file}.")
HANG = N_("Your code did not finish within {timeout} (it hung: a deadlock or an endless wait).")
LEFTOVER = N_("When your code returned, {count} process(es) it started were still running:")
OUTPUT_CAP = N_("Your code printed {printed} bytes; at most {limit} are kept. Remove debugging prints "
                "(or print less in loops).")
NOT_DEFINED = N_("{file} defines no {function}(): write it as the exercise's stub describes.")
DURING_CHECK = N_("during this check")  # where a crash happened; an import says "while being imported"


class CheckFailure(Exception):
    """A check found the student's code wanting: a category, a message, maybe a location."""

    def __init__(self, category: str, message: str, where: str | None = None):
        super().__init__(message)
        self.category = category
        self.message = message
        self.where = where


class NotRun(Exception):
    """The check could not be run (an earlier hang, a failed import): reported as skipped."""

    def __init__(self, category: str, message: str):
        super().__init__(message)
        self.category = category
        self.message = message


@dataclass(frozen=True)
class CheckSpec:
    name: str  # student-facing: what is checked, as a statement that should hold
    uses: object  # the driver function whose observation the check judges
    category: str = "wrong_result"  # the category of a plain `assert` that fails
    leftovers_ok: bool = False  # judge leftovers in the body instead of failing as lifecycle
    expects_error: bool = False  # the body inspects obs.error itself (a raise is not a crash)
    # advice added to a hang's message: {blocked call: text}, shown only when a stack is in that call
    # (a plain text is shown only when the diagnosis found no reason); see advice_for
    on_timeout: str | dict = ""
    schedules: int = 0  # schedules its driver must be explored under at least (0: the exercise's number)


def check(name: str, uses, *, category: str = "wrong_result", leftovers_ok: bool = False,
          expects_error: bool = False, on_timeout: str | dict = "", schedules: int = 0):
    """Mark a test function as a hidden check that judges the observation of `uses`."""

    def mark(func):
        func._grader_check = CheckSpec(name, uses, category, leftovers_ok, expects_error, on_timeout, schedules)
        return func

    return mark


def fail(category: str, message: str, where: str | None = None):
    raise CheckFailure(category, message, where)


def expect(condition, category: str, message: str, where: str | None = None) -> None:
    if not condition:
        raise CheckFailure(category, message, where)


# --------------------------------------------------------------------------- standard judgements


def judge_outcome(obs: Observation, spec: CheckSpec) -> None:
    """Fail (or skip) the check for the outcomes every exercise treats alike."""
    if obs.outcome == NOT_RUN:
        # obs.detail is one of the sandbox's constant reasons (English msgids): matched, then translated.
        category = "timeout" if "hung" in obs.detail else "resource" if "limit" in obs.detail else "crash"
        raise NotRun(category, _("Not run: {reason}.").format(reason=_(obs.detail)))
    if obs.outcome == TIMEOUT:
        # The advice is the diagnosis, read from this run's stacks and log; a check's own
        # on_timeout text is shown only for the call it was written about (see advice_for).
        text, where = describe_hang(obs)
        from .diagnosis import diagnose  # the judge's alone: not imported by every spawn child

        advice = advice_for(spec.on_timeout, diagnose(obs))
        fail("timeout", text + (f"\n{advice}" if advice else ""), where)
    when = getattr(spec, "when", DURING_CHECK)  # a msgid: the import's spec says "while being imported"
    when = _(when)
    if obs.outcome == DIED:
        fail("crash", _("Your code ended the Python process {when}: {detail}. Return from your function "
                        "instead of calling sys.exit() or os._exit().").format(when=when, detail=obs.detail))
    if obs.outcome == RESOURCE:
        fail("resource", _("{detail}. The check was stopped.").format(detail=obs.detail))
    if obs.outcome == RAISED and not spec.expects_error:
        judge_error(obs, when)
    if obs.output_exceeded:
        fail("resource", _(OUTPUT_CAP).format(printed=obs.output_bytes, limit=obs.output_limit))
    if obs.leftovers and not spec.leftovers_ok:
        fail("lifecycle", describe_leftovers(obs), _leftover_where(obs))


def judge_error(obs: Observation, when: str | None = None) -> None:
    error = obs.error
    where = f"{obs.student_file}:{error.line}" if error.line else None
    if error.type == "NotImplementedError" and error.raised_in_student_file:
        fail("not_implemented", _(NOT_IMPLEMENTED).format(function=error.function, file=obs.student_file), where)
    module = obs.student_file.removesuffix(".py")
    missing = re.fullmatch(rf"module '{re.escape(module)}' has no attribute '(\w+)'", error.message or "")
    if error.type == "AttributeError" and missing and not error.raised_in_student_file:
        # An empty file, or one without this function: not done yet, not a crash in the hidden check.
        fail("not_implemented", _(NOT_DEFINED).format(file=obs.student_file, function=missing.group(1)))
    if error.type == "MemoryError":
        fail("resource", _("Your code ran out of memory (the limit is per process). Are you building a "
                           "very large list, or starting work in an endless loop?"), where)
    if error.type == "SystemExit":
        code = error.exit_code if error.exit_code is not None else ""
        fail("crash", _("Your code called sys.exit({code}) {when}. Return a value instead of exiting.").format(
            code=code, when=when or _(DURING_CHECK)), where)
    detail = error.traceback
    if error.remote_traceback:
        detail += "\n" + _("In the worker process:") + "\n" + error.remote_traceback
    fail("crash", _("Your code raised {type}: {message}").format(type=error.type, message=error.message)
         + f"\n{detail}", where)


# --------------------------------------------------------------------------- describing processes


def innermost_student_frame(stack: ProcessStack, student_file: str):
    """(thread frames, index of the innermost frame in the student's file), main thread first."""
    for frames in stack.threads:
        for index in range(len(frames) - 1, -1, -1):
            if os.path.basename(frames[index].file) == student_file:
                return frames, index
    return None, None


def _grouped(items: list[tuple[str, str]]) -> list[str]:
    """(who, what) pairs as lines, processes that were doing the same thing on one line."""
    order: dict[str, list[str]] = {}
    for who, what in items:
        order.setdefault(what, []).append(who)
    return ["  - " + _sentence(", ".join(whos), what, len(whos)) for what, whos in order.items()]


def _sentence(who: str, what: str, count: int) -> str:
    return ngettext("{who} was {what}", "{who} were {what}", count).format(who=who, what=what)


def describe_process(obs: Observation, stack: ProcessStack) -> tuple[str, str | None]:
    """One line: which process, where in the student's file, in which multiprocessing call."""
    who, what, where = _describe_parts(obs, stack)
    return _sentence(who, what, 1), where


def _describe_parts(obs: Observation, stack: ProcessStack) -> tuple[str, str, str | None]:
    """(who, what it was doing, where): `what` completes "{who} was {what}"."""
    # No pid: the same hang under fork and spawn should read the same (the report merges them).
    from .diagnosis import read_stack

    return _line_parts(read_stack(obs, stack))


def _line_parts(b) -> tuple[str, str, str | None]:
    """(who, what, where) of one process as the diagnosis read its stack."""
    if b.where is None:
        return b.who, b.doing, None
    what = _("at {where} in {function}()").format(where=b.where, function=b.function)
    if b.code:
        what += _(": `{code}`").format(code=b.code)
    if b.call:
        what += _(", waiting in {call}").format(call=_(b.call))  # a call's name is a msgid
    return b.who, what, b.where


def describe_hang(obs: Observation) -> tuple[str, str | None]:
    """Where each process was (its own stack), then why it could not go on (the wait-for chain)."""
    limit = obs.limit_s or obs.duration_s  # the limit, never the measured time ("within 11 s" for 10 s)
    timeout = f"{limit:g} s"
    lines = [_(HANG).format(timeout=timeout)]
    if not obs.stacks:
        lines.append(_("No process could report where it was."))
    from .diagnosis import diagnose

    diagnosis = diagnose(obs)
    parts, first_where = [], None
    for b in diagnosis.processes:
        who, what, where = _line_parts(b)
        first_where = first_where or where
        parts.append((who, what))
    lines += _grouped(parts)
    if diagnosis.reasons:
        lines.append(_("Why: ") + " ".join(diagnosis.reasons))
    return "\n".join(lines), first_where


def advice_for(on_timeout, diagnosis) -> str:
    """A check's canned hang advice, kept only where it cannot contradict the stacks.

    `on_timeout` is either text (shown only when no process's stack explains the hang) or a
    mapping from a blocked call ("Connection.recv()") to the advice about it, shown only
    when some process was blocked in that call.
    """
    if not on_timeout:
        return ""
    if isinstance(on_timeout, dict):
        return " ".join(_(text) for call, text in on_timeout.items() if call in diagnosis.calls)
    return "" if diagnosis.reasons else _(on_timeout)


def describe_child_errors(obs: Observation) -> str:
    """Each child's uncaught exception, as that child's: its name, the student's frames, the error."""
    blocks = []
    for e in obs.events:
        if e.kind != "process.error" or len(blocks) >= 3:
            continue
        lines = [_("{name} raised {error} (its traceback, trimmed to your file):").format(
            name=e.get("name"), error=e.get("error"))]
        for line, function, code in e.get("frames") or []:
            lines.append(f'  File "{obs.student_file}", line {line}, in {function}')
            if code:
                lines.append(f"    {code}")
        if e.get("raised_at"):
            lines.append("  " + _("(raised inside {call})").format(call=e.get("raised_at")))
        lines.append(f"{e.get('error')}: {e.get('message')}")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def describe_leftovers(obs: Observation) -> str:
    lines = [_(LEFTOVER).format(count=len(obs.leftovers))]
    parts = []
    for leftover in obs.leftovers:
        if leftover.stack is not None:
            who, what, _where = _describe_parts(obs, leftover.stack)
        else:
            kind = _("daemon") if leftover.daemon else _("non-daemon") if leftover.daemon is False else _("process")
            who, what = f"{leftover.name} ({kind})", _("running")
        parts.append((who, what))
    lines += _grouped(parts)
    lines.append(_("The grader stopped them. Join every process you start (and shut down every Pool "
                   "and Manager) before your function returns; a non-daemon process still running "
                   "keeps a program from exiting."))
    return "\n".join(lines)


def _leftover_where(obs: Observation) -> str | None:
    for leftover in obs.leftovers:
        if leftover.stack is not None:
            _who, where = describe_process(obs, leftover.stack)
            if where:
                return where
    return None


# --------------------------------------------------------------------------- reading the event log


def student_calls(obs: Observation, *kinds: str) -> list[Event]:
    """The student's own calls of these kinds, in time order."""
    return obs.events_of(*kinds, student_only=True)


def first_at(events: list[Event]) -> str | None:
    return events[0].where if events else None


def children(obs: Observation) -> dict[int, dict]:
    """Each child process the student started: its name, daemon flag, begin/end times, exitcode.

    Two passes: a short child can begin and end before its parent's start() returns (and
    logs process.start), so begin/end events may come first in the log.
    """
    found: dict[int, dict] = {}
    for e in obs.events:
        if e.kind == "process.start" and not e.internal and e.get("child"):
            found.setdefault(e.get("child"), {}).update(
                name=e.get("name"), daemon=e.get("daemon"), started=e.t, where=e.where, target=e.get("target"))
    for e in obs.events:
        if e.kind == "process.begin" and e.pid in found:
            found[e.pid]["begin"] = e.t
        elif e.kind == "process.end" and e.pid in found:
            found[e.pid].update(end=e.t, exitcode=e.get("exitcode"), cpu=e.get("cpu"))
        elif e.kind == "process.join" and not e.internal and e.get("child") in found:
            found[e.get("child")].setdefault("joins", []).append(e)
    return found


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant."""
    points = sorted([(b, 1) for b, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    best = current = 0
    for _at, step in points:
        current += step
        best = max(best, current)
    return best
