"""`grade` with no arguments: where the student stands, and what to do next.

The first time, the course's welcome message; then every exercise with its state, a
progress bar with the count, and the next exercise with its file and the command to run.
It reads `.grade/state.json` (grader/progress.py) and never grades, nor imports pytest,
to draw it — except once, when every exercise is shown done: then it grades them all
together, to be sure, before it shows the course's final message.
"""

from __future__ import annotations

from .. import progress
from ..course import Course, load_course
from ..i18n import N_, _
from ..progress import State
from ..report.text import columns, finish
from ._common import (
    EXIT_ERROR,
    EXIT_FAIL,
    EXIT_PASS,
    add_course_option,
    ascii_only,
    find_course,
    terminal_width,
)

HELP = N_("where you stand: every exercise, your progress, and what to do next (also: `grade` alone)")

# Student-facing words, in one place.
MARKS = {State.DONE: "✓", State.FAILING: "✗", State.EDITED: "•", State.NOT_STARTED: " ", State.MISSING: "!"}
STATE_WORDS = {State.DONE: N_("done"), State.FAILING: N_("failing"), State.EDITED: N_("edited, not graded yet"),
               State.NOT_STARTED: N_("not started"), State.MISSING: N_("file missing")}
PROGRESS = N_("Progress: {bar}")
NEXT = N_("Next: {id} · {title}")
NEXT_FILE = N_("  file:    {file}")
NEXT_COMMAND = N_("  command: grade {id}      (or `grade watch` to grade on every save)")
NEXT_MISSING = N_("  The file is missing: `grade reset {id}` puts the original stub back.")
CONFIRMING = N_("Every exercise is marked done: grading them all once more, together…")
CONFIRMED_FAIL = N_("Not everything passes after all; see above.")


def configure(parser) -> None:
    add_course_option(parser)
    parser.add_argument("--no-color", action="store_true", help=_("plain text, no colours"))


def run(args) -> int:
    course = load_course(find_course(args.course))
    progress.keep_originals(course)
    out = []
    if progress.first_run(course):
        if course.welcome_message.strip():
            out.append(course.welcome_message.strip() + "\n")
        progress.mark_welcomed(course)
    entries = progress.entries(course)
    if all(e.state is State.DONE for e in entries) and not progress.all_done_confirmed(course):
        _show("\n".join(out + [_(CONFIRMING)]))
        return _confirm(course, args)
    _show("\n".join(out + [render(course, entries)]))
    if all(e.state is State.DONE for e in entries) and course.final_message.strip():
        _show("\n" + course.final_message.strip())
    return EXIT_PASS


def render(course: Course, entries: list[progress.Entry]) -> str:
    """The overview as plain text (marks in Unicode; `finish` makes them ASCII if need be)."""
    done = sum(e.state is State.DONE for e in entries)
    lines = [course.title, _(PROGRESS).format(bar=progress.bar(done, len(entries))), "", *rows(entries)]
    upcoming = next((e for e in entries if e.state is not State.DONE), None)
    if upcoming is not None:
        ex = upcoming.exercise
        lines += ["", _(NEXT).format(id=ex.id, title=ex.title),
                  _(NEXT_FILE).format(file=progress.relative(course, ex.file))]
        lines.append(_(NEXT_MISSING).format(id=ex.id) if upcoming.state is State.MISSING
                     else _(NEXT_COMMAND).format(id=ex.id))
    return "\n".join(lines)


def rows(entries: list[progress.Entry], shown: list[progress.Entry] | None = None) -> list[str]:
    """One line per exercise of `shown` (default: all), aligned over all of `entries`."""
    id_width = max(len(e.exercise.id) for e in entries)
    title_width = min(max(columns(e.exercise.title) for e in entries), 48)  # a Chinese character takes two
    shown = entries if shown is None else shown
    states = {e.exercise.id: _(STATE_WORDS[e.state]) + (
        f"  {_num(e.score)}/{_num(e.max_score)}" if e.state is State.FAILING and e.max_score else "")
        for e in shown}
    width = terminal_width()
    if width:  # a row never wraps: on a narrow terminal long titles are shortened, never the state
        room = width - (2 + 1 + 1 + id_width + 2 + 2) - max(columns(s) for s in states.values())
        title_width = max(12, min(title_width, room))
    lines = []
    for e in shown:
        title = _fit(e.exercise.title, title_width)
        title += " " * max(0, title_width - columns(title))
        lines.append(f"  {MARKS[e.state]} {e.exercise.id:<{id_width}}  {title}  {states[e.exercise.id]}".rstrip())
    return lines


def _fit(title: str, width: int) -> str:
    """The title, shortened with an ellipsis to at most `width` columns."""
    if columns(title) <= width:
        return title
    while title and columns(title) > width - 1:
        title = title[:-1]
    return title.rstrip() + "…"


def _confirm(course: Course, args) -> int:
    """Every exercise looks done: grade them all (the one time the overview grades)."""
    from ..report import text
    from ..runner import grade
    from ..verdict import Status
    from ._common import manners
    from .grade import streamer

    style = manners(args)
    exercises = list(course.exercises)
    streamed = len(exercises) > 1  # a whole course takes minutes: show each exercise as it is graded
    run = grade(course, exercises, on_exercise=streamer(style) if streamed else None)
    progress.record(course, run)
    if run.status is Status.PASS:
        progress.confirm_all_done(course)
    print(text.render(run, streamed=streamed, **style), flush=True)
    if run.status is Status.ERROR:
        return EXIT_ERROR
    if run.status is not Status.PASS:
        _show("\n" + _(CONFIRMED_FAIL) + "\n\n" + render(course, progress.entries(course)))
        return EXIT_FAIL
    return EXIT_PASS


def _show(text: str) -> None:
    print(finish(text, terminal_width(), ascii_only()), flush=True)


def _num(value) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
