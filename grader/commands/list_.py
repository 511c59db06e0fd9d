"""`grade list [--pending | --done]`: the exercises, the student's progress, and what is next."""

from __future__ import annotations

from .. import progress
from ..course import load_course
from ..i18n import N_, _
from ..progress import State
from ._common import EXIT_PASS, add_course_option, find_course, say
from .overview import NEXT_COMMAND, PROGRESS, rows

HELP = N_("the exercises, which ones you have passed, and what is next")

NONE_PENDING = N_("Nothing pending: every exercise is done.")
NONE_DONE = N_("None done yet.")


def configure(parser) -> None:
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--pending", action="store_true", help=_("only the exercises not done yet"))
    which.add_argument("--done", action="store_true", help=_("only the exercises done"))
    add_course_option(parser)


def run(args) -> int:
    course = load_course(find_course(args.course))
    progress.keep_originals(course)
    entries = progress.entries(course)
    done = sum(e.state is State.DONE for e in entries)
    shown = [e for e in entries if not args.pending or e.state is not State.DONE]
    shown = [e for e in shown if not args.done or e.state is State.DONE]
    lines = [course.title, _(PROGRESS).format(bar=progress.bar(done, len(entries))), ""]
    lines += rows(entries, shown) or [_(NONE_PENDING) if args.pending else _(NONE_DONE)]
    upcoming = next((e.exercise for e in entries if e.state is not State.DONE), None)
    lines += ["", _(NEXT_COMMAND).format(id=upcoming.id).strip()] if upcoming else []
    say("\n".join(lines))
    return EXIT_PASS
