"""The `grade` command line: a table of sub-commands, and the one place that turns
exceptions into messages and exit statuses. No grading logic.

`grade NAME ...` runs the sub-command NAME when NAME is one (see `commands/`); anything
else is the student's shorthand `grade EXERCISE...` (the `grade` command module).

Exit status: 0 every graded exercise passed; 1 a check failed (the student's code is
at fault); 2 the call, the course or the grader is at fault.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .commands import COMMANDS, load
from .commands._common import EXIT_ERROR, EXIT_PASS
from .course import CourseError

USAGE_EXAMPLES = """\
examples:
  grade                           where you stand, and what to do next
  grade exercise1                 grade your exercises/ file for exercise 1 (or: grade process)
  grade --all                     grade every exercise, in course order
  grade list                      the exercises, and which ones you have passed
  grade hint exercise1            a hint for exercise 1
  grade watch                     grade the current exercise each time you save it
  grade reset exercise1           put the original stub back (your file is kept in .grade/backups/)
  grade check                     (instructors) stubs fail, solutions pass, known bugs are caught
  grade exercise1 --submission solutions/exercise1_process.py --format json
"""


class UsageError(Exception):
    """A call the parser refused (argparse's `parser.error`): exit 2, and the format's document."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print and exit; the one exit point is main()
        raise UsageError(message)


# Options of the overview, and how many values each takes: `grade --course X` is the overview too.
OVERVIEW_OPTIONS = {"--course": 1, "--no-color": 0}
# Commands that run the student's code in the sandbox (the overview does when all is done).
GRADING_COMMANDS = frozenset({"grade", "watch", "check", "overview"})
WINDOWS_MESSAGE = ("grade: the sandbox cannot protect a run on native Windows, so grade does not run here. "
                   "Use WSL (Windows Subsystem for Linux): install it, open the course folder in a WSL "
                   "terminal, and run grade there.")


def build_parser(command: str) -> argparse.ArgumentParser:
    module = load(command)
    if command == "grade":
        lines = "\n".join(f"  {name:<12} {load(name).HELP}" for name in COMMANDS)
        parser = _Parser(
            prog="grade", description="Grade multiprocessing exercises with hidden checks.",
            epilog=f"commands (each with its own --help):\n{lines}\n\n{USAGE_EXAMPLES}",
            formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--version", action="version", version=f"grade {__version__}")
    else:
        parser = _Parser(prog=f"grade {command}", description=module.HELP)
    module.configure(parser)
    parser.set_defaults(parser=parser, command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else _shorthand(argv)
    if command in GRADING_COMMANDS and sys.platform == "win32":
        print(WINDOWS_MESSAGE, file=sys.stderr)
        return EXIT_ERROR
    parser = build_parser(command)
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        return _error(_format_of(argv, command), str(error))
    try:
        return load(command).run(args)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        return _error(args, str(error))
    except CourseError as error:
        return _error(args, str(error))
    except KeyboardInterrupt:
        print("grade: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `grade list | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PASS
    except Exception as error:
        if _grading_error(error):
            return _error(args, f"the grader could not grade: {error}")
        raise


def _format_of(argv: list[str], command: str) -> argparse.Namespace:
    """--format and --output of a call the parser refused, so that its error still has a document."""
    found = {"format": "text", "output": None}
    for index, word in enumerate(argv):
        for key in found:
            if word == f"--{key}" and index + 1 < len(argv):
                found[key] = argv[index + 1]
            elif word.startswith(f"--{key}="):
                found[key] = word.split("=", 1)[1]
    output = Path(found["output"]) if found["output"] else None
    return argparse.Namespace(command=command, format=found["format"], output=output)


def _shorthand(argv: list[str]) -> str:
    """`grade` alone (or with only the overview's own options) is the overview; else it grades."""
    rest = list(argv)
    while rest:
        if rest[0].startswith("--course="):
            del rest[0]
        elif rest[0] in OVERVIEW_OPTIONS:
            del rest[: OVERVIEW_OPTIONS[rest[0]] + 1]
        else:
            break
    return "grade" if rest else "overview"


def _grading_error(error: Exception) -> bool:
    # Imported here: `grade list` and `grade hint` never import the runner (and pytest).
    from .runner import GradingError
    from .sandbox import SandboxError
    return isinstance(error, (GradingError, SandboxError))


def _error(args, message: str) -> int:
    print(f"grade: {message}", file=sys.stderr)
    handler = getattr(load(args.command), "error_document", None)
    if handler is not None:
        handler(args, message)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
