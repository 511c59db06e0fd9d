"""What several commands share: finding the course, the common options, writing output."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

from ..course import CourseError
from ..i18n import _

EXIT_PASS, EXIT_FAIL, EXIT_ERROR = 0, 1, 2


class Interrupted(KeyboardInterrupt):
    """A signal that tells grade to stop (Ctrl-C, SIGTERM, SIGHUP), as grade's own handler raises
    it. A subclass, because CPython remembers a plain KeyboardInterrupt that passes through code
    it compiled from a string (a dataclass being defined while pytest is imported) and, at exit,
    kills the process with SIGINT although grade caught it, wrote the format's document and
    returned 130."""

    last: int | None = None  # the signal, for code that sees only a plain KeyboardInterrupt

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum


def raise_interrupted(signum, frame):
    Interrupted.last = signum
    raise Interrupted(signum)


def stop_status(error: KeyboardInterrupt) -> tuple[int, str]:
    """The exit status (128 + the signal, as a shell reports it) and the message of an interruption."""
    signum = getattr(error, "signum", None) or Interrupted.last or signal.SIGINT
    name = signal.Signals(signum).name
    return 128 + signum, _("interrupted") if signum == signal.SIGINT else _("stopped by {signal}").format(signal=name)


@contextlib.contextmanager
def stopped_by_signals():
    """While it lasts, SIGINT, SIGTERM and SIGHUP raise Interrupted in the main thread, so that a
    grading being stopped still ends its sandboxes, removes their folders and writes its document.
    A signal that was ignored when grade started (nohup, a background job) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL,
                signal.SIGHUP: signal.SIG_DFL}
    saved = {}
    for signum, default in defaults.items():
        if signal.getsignal(signum) is default:
            saved[signum] = signal.signal(signum, raise_interrupted)
    Interrupted.last = None
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)



def add_course_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--course", type=Path, default=None, metavar="PATH",
                        help=_("the course root or its course.yaml (default: found from the current folder)"))


def find_course(given: Path | None) -> Path:
    if given is not None:
        return given
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / "course.yaml").is_file():
            return folder
    raise CourseError(Path("course.yaml"), _("no course.yaml in this folder or any folder above it."),
                      fix=_("run grade from inside the course folder, or pass --course PATH."))


def emit(text: str, output: Path | None = None) -> None:
    if output is None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")


def write_step_summary(run) -> None:
    """With --format github inside a GitHub Actions job: the Markdown summary, appended where the job reads it."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    from ..report import github
    with open(path, "a", encoding="utf-8") as summary:
        summary.write(github.summary(run) + "\n")


def is_tty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def use_color(args) -> bool:
    return (not getattr(args, "no_color", False) and getattr(args, "output", None) is None and is_tty()
            and not os.environ.get("NO_COLOR"))


def terminal_width() -> int | None:
    """Columns to wrap the text report to: the terminal's (or $COLUMNS); None when not known."""
    import shutil

    columns = shutil.get_terminal_size((0, 0)).columns
    return columns if columns > 0 else None


def ascii_only(stream=None) -> bool:
    """True when the stream's encoding cannot show the report's marks (✓ ✗ · —)."""
    encoding = getattr(stream or sys.stdout, "encoding", None) or "ascii"
    try:
        "✓✗–·—…".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def manners(args) -> dict:
    """The text reporter's terminal options for this call: colour, width, ASCII."""
    to_terminal = getattr(args, "output", None) is None
    return {"color": use_color(args), "width": terminal_width() if to_terminal else None,
            "ascii_only": to_terminal and ascii_only()}


def say(text: str, args=None) -> None:
    """Print a plain message with the terminal's manners (wrapped, ASCII when needed)."""
    from ..report.text import finish

    print(finish(text, terminal_width(), ascii_only()), flush=True)
