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
import re
import sys
import traceback
from pathlib import Path

from . import __version__, bytecode, i18n
from .commands import COMMANDS, load
from .commands._common import EXIT_ERROR, EXIT_PASS, stop_status, stopped_by_signals
from .course import CourseError
from .i18n import N_, _

USAGE_EXAMPLES = N_("""\
examples:
  grade                           where you stand, and what to do next
  grade exercise1                 grade your exercises/ file for exercise 1 (or: grade process)
  grade --all                     grade every exercise, in course order
  grade list                      the exercises, and which ones you have passed
  grade hint exercise1            a hint for exercise 1
  grade watch                     grade the current exercise each time you save it
  grade reset exercise1           put the original stub back (your file is kept in .grade/backups/)
  grade --lang zh exercise1       the same, in Chinese (--lang en|zh; default: the course's, then LANG)
  grade check                     (instructors) stubs fail, solutions pass, known bugs are caught
  grade exercise1 --submission solutions/exercise1_process.py --format json
""")


class UsageError(Exception):
    """A call the parser refused (argparse's `parser.error`): exit 2, and the format's document."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print and exit; the one exit point is main()
        raise UsageError(message)


class _GradeParser(_Parser):
    """`grade`'s own parser: its epilog lists every command's help line, so it is written only
    when help is shown (importing every command module costs a grading run a tenth of a second)."""

    def format_help(self):
        lines = "\n".join(f"  {name:<12} {_(load(name).HELP)}" for name in COMMANDS)
        epilog = _("commands (each with its own --help):\n{commands}").format(commands=lines)
        self.epilog = f"{epilog}\n\n{_(USAGE_EXAMPLES)}"
        return super().format_help()


# Options of the overview, and how many values each takes: `grade --course X` is the overview too.
OVERVIEW_OPTIONS = {"--course": 1, "--no-color": 0}
# Commands that run the student's code in the sandbox (the overview does when all is done).
# What pyproject.toml installs, by import name: a missing one is a set-up to repair, not a grader bug.
DEPENDENCIES = frozenset({"yaml", "jinja2", "psutil", "watchfiles", "babel"})
GRADING_COMMANDS = frozenset({"grade", "watch", "check", "overview"})
WINDOWS_MESSAGE = (N_("grade: the sandbox cannot protect a run on native Windows, so grade does not run here. "
                   "Use WSL (Windows Subsystem for Linux): install it, open the course folder in a WSL "
                   "terminal, and run grade there."))


def build_parser(command: str) -> argparse.ArgumentParser:
    module = load(command)
    if command == "grade":
        parser = _GradeParser(
            prog="grade", description=_("Grade multiprocessing exercises with hidden checks."),
            formatter_class=argparse.RawDescriptionHelpFormatter)
        parser.add_argument("--version", action="version", version=f"grade {__version__}",
                            help=_("show the grader's version and exit"))
    else:
        parser = _Parser(prog=f"grade {command}", description=_(module.HELP))
    module.configure(parser)
    # Already taken out of argv by main(); declared here so that --help shows it.
    parser.add_argument("--lang", choices=i18n.LANGUAGES, default=i18n.language(),
                        help=_("the language of every text (default: the course's, then the locale's)"))
    parser.set_defaults(parser=parser, command=command)
    return parser


def main(argv: list[str] | None = None) -> int:
    bytecode.refresh()  # before the rest of the grader is imported, here and by every sandbox
    argv = list(sys.argv[1:] if argv is None else argv)
    flag = _take_lang(argv)
    with stopped_by_signals(), i18n.using(i18n.choose(flag, None if flag else _course_language(argv))):
        return _main(argv)


def _main(argv: list[str]) -> int:
    command = argv.pop(0) if argv and argv[0] in COMMANDS else _shorthand(argv)
    if command in GRADING_COMMANDS and sys.platform == "win32":
        print(_(WINDOWS_MESSAGE), file=sys.stderr)
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
    except KeyboardInterrupt as error:
        status, message = stop_status(error)
        _error(args, message)  # a report reader still finds its one document
        return status
    except BrokenPipeError:  # `grade list | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PASS
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in DEPENDENCIES:
            return _error(args, _("{module} is not installed for {python}: set the course up as its README says "
                                  "(pip install -e .), then try again.").format(module=error.name, python=sys.executable))
        traceback.print_exc()
        return _error(args, _("the grader failed: {error}").format(error=f"{type(error).__name__}: {error}"))
    except Exception as error:
        if _grading_error(error):
            return _error(args, _("the grader could not grade: {error}").format(error=error))
        # A bug of the grader's own: its traceback for whoever fixes it, the format's document
        # for the platform, and 2 (never Python's 1, which would blame the student).
        traceback.print_exc()
        return _error(args, _("the grader failed: {error}").format(error=f"{type(error).__name__}: {error}"))


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


def _take_lang(argv: list[str]) -> str | None:
    """Remove every valid `--lang X` / `--lang=X` from argv (before any `--`); the last X wins.

    Taken out first so that it may stand anywhere (`grade --lang zh list`) and so that the
    parsers' own words are already in that language. A value we do not know stays in argv,
    for argparse to refuse with the list of choices.
    """
    chosen, i = None, 0
    while i < len(argv) and argv[i] != "--":
        arg = argv[i]
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in i18n.LANGUAGES:
            chosen = argv[i + 1]
            del argv[i:i + 2]
        elif arg.startswith("--lang=") and arg.partition("=")[2] in i18n.LANGUAGES:
            chosen = arg.partition("=")[2]
            del argv[i]
        else:
            i += 1
    return chosen


_LANGUAGE_LINE = re.compile(r"^language:[ \t]*[\"']?([A-Za-z]+)", re.MULTILINE)


def _course_language(argv: list[str]) -> str | None:
    """The course's `language:`, read before the parsers are built (their words depend on it).

    Only the one top-level line is looked at, not the whole manifest: loading course.yaml
    costs a third of a second here, and the command loads (and validates) it anyway.
    """
    given = None
    for i, arg in enumerate(argv):
        if arg == "--course" and i + 1 < len(argv):
            given = Path(argv[i + 1])
        elif arg.startswith("--course="):
            given = Path(arg.partition("=")[2])
    try:
        from .commands._common import find_course
        root = find_course(given)
        path = root / "course.yaml" if root.is_dir() else root
        found = _LANGUAGE_LINE.search(path.read_text(encoding="utf-8", errors="replace"))
    except (CourseError, OSError):
        return None
    return found.group(1) if found and found.group(1) in i18n.LANGUAGES else None


def _grading_error(error: Exception) -> bool:
    # Looked up, not imported: `grade list` and `grade hint` never import the runner (and psutil),
    # and an error raised while importing them must not raise again here.
    kinds = [getattr(sys.modules.get(f"{__package__}.{module}"), name, None)
             for module, name in (("runner", "GradingError"), ("sandbox", "SandboxError"))]
    return isinstance(error, tuple(kind for kind in kinds if kind is not None))


def _error(args, message: str) -> int:
    print(f"grade: {message}", file=sys.stderr)
    handler = getattr(load(args.command), "error_document", None)
    if handler is not None:
        handler(args, message)
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
