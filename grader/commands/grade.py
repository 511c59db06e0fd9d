"""`grade EXERCISE... | --all`: the student's shorthand, and the one command that grades."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import progress
from ..course import START_METHODS, load_course
from ..i18n import N_, _
from ..report import FORMATS, render, render_error
from ..verdict import Status
from ._common import (
    EXIT_ERROR,
    EXIT_FAIL,
    EXIT_PASS,
    add_course_option,
    emit,
    find_course,
    is_tty,
    manners,
    write_step_summary,
)

NEXT_STEP = N_("Next: {id} — `grade {id}`")
ALL_DONE_STEP = N_("Every exercise passes: run `grade` to see the final word.")
GRADING_LINE = "grading {id} ({n}/{total})…"

HELP = N_("grade exercises by id or slug (the shorthand `grade EXERCISE...`), or --all")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="EXERCISE", help=_("exercise ids or slugs"))
    parser.add_argument("--all", action="store_true", help=_("grade every exercise of the course"))
    parser.add_argument("--submission", type=Path, metavar="PATH",
                        help=_("a file (one exercise) or a folder standing in for exercises/"))
    parser.add_argument("--format", choices=FORMATS, default="text", help=_("report format (default: text)"))
    parser.add_argument("--start-method", action="append", choices=START_METHODS, dest="start_methods",
                        metavar="METHOD", help=_("grade only under this start method (repeatable)"))
    add_course_option(parser)
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help=_("override every exercise's time limit per check"))
    parser.add_argument("--schedules", type=_count, default=None, metavar="N",
                        help=_("run every check's driver under N schedules (1 unperturbed, N-1 explored)"))
    parser.add_argument("--seed", type=_seed, default=None, metavar="S",
                        help=_("replay one explored schedule, as a failure's report names it"))
    parser.add_argument("--output", type=Path, default=None, metavar="FILE",
                        help=_("write the report to FILE instead of standard output"))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("explain every failure, not only the first"))
    parser.add_argument("--no-color", action="store_true", help=_("plain text, no colours"))
    parser.add_argument("--timeline", action="store_true",
                        help=_("after the report, draw each run's timeline: one row per process, time left to right"))
    parser.add_argument("--trace", type=Path, default=None, metavar="FILE",
                        help=_("write the runs as Chrome Trace Event JSON to FILE (open it in ui.perfetto.dev)"))


def run(args) -> int:
    from ..sandbox import warm_up

    warm_up()  # the warm sandbox imports while this process imports the runner
    from ..runner import Options, grade

    parser = args.parser
    course = load_course(find_course(args.course))
    if args.all and args.names:
        parser.error(_("give exercise names or --all, not both"))
    if not args.all and not args.names:
        parser.error(_("name an exercise to grade (e.g. `grade exercise1`), or use --all; `grade list` lists them"))
    exercises = list(course.exercises) if args.all else _unique(course.find(n) for n in args.names)
    course.require_checks(exercises)  # a student edition without hidden checks cannot grade here
    if args.submission is not None and args.submission.is_file() and len(exercises) > 1:
        parser.error(_("--submission FILE grades one exercise; for several, give a folder holding their files"))
    if args.submission is not None and not args.submission.exists():
        parser.error(_("--submission {path}: no such file or folder").format(path=args.submission))
    if args.seed is not None and args.schedules is not None:
        parser.error(_("--seed replays one schedule: it cannot be combined with --schedules"))
    options = Options(start_methods=tuple(args.start_methods) if args.start_methods else None, timeout=args.timeout,
                      schedules=args.schedules, seed=args.seed,
                      timeline=args.timeline or args.trace is not None or args.format == "html")
    first_time = args.submission is None and progress.first_run(course)
    if args.submission is None:
        progress.keep_originals(course)  # before anything else: `grade reset` puts these back
    text_out = args.format == "text"
    style = manners(args) if text_out else {}
    if first_time and text_out and args.output is None and course.welcome_message.strip():
        from ..report.text import finish  # once: the state file says so from now on

        print(finish(course.welcome_message.strip(), style["width"], style["ascii_only"]) + "\n", flush=True)
    stream = text_out and args.output is None and len(exercises) > 1
    run = grade(course, exercises, args.submission, options, on_exercise=streamer(style) if stream else None)
    if args.submission is None:
        progress.record(course, run)
    emit(render(run, args.format, verbose=args.verbose, streamed=stream, visibility=visibility(exercises),
                **style), args.output)
    if args.format == "github":
        write_step_summary(run)
    _timeline_outputs(args, run)
    if text_out and args.output is None and args.submission is None and run.status is Status.PASS:
        _next_step(course, exercises[-1], style)
    if run.status is Status.ERROR:
        return EXIT_ERROR
    return EXIT_PASS if run.status is Status.PASS else EXIT_FAIL


def _timeline_outputs(args, run) -> None:
    """--timeline draws on standard error when stdout holds a document; --trace writes its file."""
    if args.trace is not None:
        from ..report import trace

        try:
            args.trace.write_text(trace.render(run), encoding="utf-8")
        except OSError as error:
            print(_("grade: cannot write {path}: {reason}").format(path=args.trace, reason=error.strerror),
                  file=sys.stderr)
    if args.timeline:
        from ..report import timeline_text

        print(timeline_text.render(run), file=sys.stdout if args.format == "text" and args.output is None
              else sys.stderr)


def error_document(args, message: str) -> None:
    """On an error, the chosen format's own document still goes where the report would."""
    document = render_error(getattr(args, "format", "text"), message)
    if document is not None:
        try:
            emit(document, getattr(args, "output", None))
        except OSError as error:  # an --output that cannot be written: say so, never a traceback
            print(_("grade: cannot write {path}: {reason}").format(path=args.output, reason=error.strerror),
                  file=sys.stderr)


def visibility(exercises) -> dict[str, dict[str, str]]:
    """course.yaml's visibility per exercise ("*") and per check, for the formats that can hide results."""
    return {e.id: {"*": e.visibility, **dict(e.check_visibility)} for e in exercises}


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(_("expected a whole number from 1 to 1000, got {text!r}").format(text=text))
    return int(text)


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            _("expected a seed as a report gives it (a whole number), got {text!r}").format(text=text))
    return int(text)


def streamer(style: dict):
    """The per-exercise callback of a long run: each exercise's line the moment it is graded,
    and on a terminal a live line saying which exercise is being graded now."""
    from ..report.text import finish, line

    live = is_tty()

    def on_exercise(index: int, total: int, exercise, verdict) -> None:
        if verdict is None:
            if live:
                status = finish(GRADING_LINE.format(id=exercise.id, n=index + 1, total=total), None,
                                style.get("ascii_only", False))
                sys.stdout.write("\r\x1b[2K" + status)
                sys.stdout.flush()
            return
        if live:
            sys.stdout.write("\r\x1b[2K")
        print(line(verdict, **style), flush=True)

    return on_exercise


def _next_step(course, exercise, style: dict) -> None:
    from ..report.text import finish

    upcoming = progress.next_exercise(course, after=exercise)
    text = _(NEXT_STEP).format(id=upcoming.id) if upcoming else _(ALL_DONE_STEP)
    print("\n" + finish(text, style.get("width"), style.get("ascii_only", False)), flush=True)


def _unique(exercises):
    seen, result = set(), []
    for exercise in exercises:
        if exercise.id not in seen:
            seen.add(exercise.id)
            result.append(exercise)
    return result
