"""The `grade` command: arguments in, a report and an exit status out. No grading logic.

Exit status: 0 every graded exercise passed; 1 a check failed (the student's code is
at fault); 2 the call, the course or the grader is at fault. This is the one place that
turns exceptions into messages and statuses.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import __version__, progress
from .course import START_METHODS, CourseError, load_course
from .report import FORMATS, render
from .runner import GradingError, Options, grade
from .sandbox import SandboxError
from .validate import check_course
from .verdict import Status

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2

USAGE_EXAMPLES = """\
examples:
  grade exercise1                 grade your exercises/ file for exercise 1 (or: grade process)
  grade --all                     grade every exercise, in course order
  grade list                      the exercises, and which ones you have passed
  grade hint exercise1            a hint for exercise 1
  grade check                     (instructors) stubs fail, solutions pass, known bugs are caught
  grade exercise1 --submission solutions/exercise1_process.py --format json
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade", description="Grade multiprocessing exercises with hidden checks.",
        epilog=USAGE_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", metavar="EXERCISE",
                        help="exercise ids or slugs; or a command: list, hint EXERCISE, check [EXERCISE...]")
    parser.add_argument("--all", action="store_true", help="grade every exercise of the course")
    parser.add_argument("--submission", type=Path, metavar="PATH",
                        help="a file (one exercise) or a folder standing in for exercises/")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    parser.add_argument("--start-method", action="append", choices=START_METHODS, dest="start_methods",
                        metavar="METHOD", help="grade only under this start method (repeatable)")
    parser.add_argument("--course", type=Path, default=None, metavar="PATH",
                        help="the course root or its course.yaml (default: found from the current folder)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="override every exercise's time limit per check")
    parser.add_argument("--output", type=Path, default=None, metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("-v", "--verbose", action="store_true", help="explain every failure, not only the first")
    parser.add_argument("--no-color", action="store_true", help="plain text, no colours")
    parser.add_argument("--version", action="version", version=f"grade {__version__}")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(parser, args)
    except CourseError as error:
        return _error(args, str(error))
    except (GradingError, SandboxError) as error:
        return _error(args, f"the grader could not grade: {error}")
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `grade list | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PASS


def _run(parser: argparse.ArgumentParser, args) -> int:
    course = load_course(_find_course(args.course))
    if args.names and args.names[0] == "list":
        print(progress.listing(course))
        return EXIT_PASS
    if args.names and args.names[0] == "check":
        return _check(course, args)
    if args.names and args.names[0] == "hint":
        if len(args.names) != 2:
            parser.error("usage: grade hint EXERCISE")
        exercise = course.find(args.names[1])
        print(f"Hint for {exercise.id} ({exercise.title}):\n\n{exercise.hint}")
        return EXIT_PASS
    if args.all and args.names:
        parser.error("give exercise names or --all, not both")
    if not args.all and not args.names:
        parser.error("name an exercise to grade (e.g. `grade exercise1`), or use --all; `grade list` lists them")
    exercises = list(course.exercises) if args.all else _unique(course.find(n) for n in args.names)
    if args.submission is not None and args.submission.is_file() and len(exercises) > 1:
        parser.error("--submission FILE grades one exercise; for several, give a folder holding their files")
    if args.submission is not None and not args.submission.exists():
        parser.error(f"--submission {args.submission}: no such file or folder")
    options = Options(start_methods=tuple(args.start_methods) if args.start_methods else None, timeout=args.timeout)
    first_time = args.submission is None and not progress.load(course)
    run = grade(course, exercises, args.submission, options)
    if args.submission is None:
        progress.record(course, run)
    if first_time and args.format == "text" and args.output is None and course.welcome_message.strip():
        print(course.welcome_message.strip() + "\n")  # once: the progress file exists from now on
    color = args.format == "text" and args.output is None and not args.no_color and _tty() and not os.environ.get(
        "NO_COLOR")
    text = render(run, args.format, color=color, verbose=args.verbose)
    _emit(text, args.output)
    if run.status is Status.ERROR:
        return EXIT_ERROR
    return EXIT_PASS if run.status is Status.PASS else EXIT_FAIL


def _check(course, args) -> int:
    """`grade check [EXERCISE...]`: prove the course's checks catch its known bugs."""
    exercises = [course.find(n) for n in args.names[1:]] or list(course.exercises)
    problems = 0
    for finding in check_course(course, exercises, bug_timeout=args.timeout):
        problems += not finding.ok
        mark = "✓" if finding.ok else "✗"
        where = f"{finding.exercise} · " if finding.exercise else ""
        if not finding.ok or args.verbose:
            print(f"{mark} {where}{finding.step}: {finding.text}", flush=True)
    if problems:
        print(f"\n{problems} problem(s) found.")
        return EXIT_ERROR
    print(f"Everything looks fine! ({len(exercises)} exercises checked)")
    return EXIT_PASS


def _find_course(given: Path | None) -> Path:
    if given is not None:
        return given
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "course.yaml").is_file():
            return folder
    raise CourseError(Path("course.yaml"), "no course.yaml in this folder or any folder above it.",
                      fix="run grade from inside the course folder, or pass --course PATH.")


def _unique(exercises):
    seen, result = set(), []
    for exercise in exercises:
        if exercise.id not in seen:
            seen.add(exercise.id)
            result.append(exercise)
    return result


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")


def _error(args, message: str) -> int:
    print(f"grade: {message}", file=sys.stderr)
    if getattr(args, "format", "text") in ("json", "gradescope", "exercism"):
        document = {"status": "error", "message": message}
        if args.format == "exercism":
            document["version"] = 2
        if args.format == "gradescope":
            document = {"score": 0, "output": message, "tests": []}
        _emit(json.dumps(document), getattr(args, "output", None))
    return EXIT_ERROR


def _tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


if __name__ == "__main__":
    sys.exit(main())



