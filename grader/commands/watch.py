"""`grade watch [EXERCISE]`: grade the current exercise each time its file is saved.

The loop of rustlings: the current exercise (default: the first not done) is graded at
start and on every save; the result is shown with the progress bar and the keys under
it. A save first gets a first look: the checks under the first start method alone, each
driver run once, shown as soon as they are judged (a fraction of the whole grading); the
whole verdict, every start method and explored schedule, replaces it when it is known. A
first look that hangs is the result (every start method would wait as long): r grades all. Keys are read one at a time (the terminal in cbreak mode, restored on every way
out: q, Ctrl-C, a signal); keys pressed while grading are thrown away. The process keeps
the grader warm — the course loaded, the runner imported once — so a
re-grade starts as soon as the save is reported (grader/filewatch.py).
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import time

from .. import progress
from ..course import START_METHODS, load_course
from ..i18n import N_, _
from ..report.text import finish
from ._common import (
    EXIT_PASS,
    add_course_option,
    ascii_only,
    find_course,
    terminal_width,
    use_color,
)
from .overview import PROGRESS

HELP = N_("grade the current exercise each time you save its file (keys: n h l r s q)")

KEYS = N_("n next · h hint · l list · r re-grade · s solution · q quit")
WATCHING = N_("Watching {file}: save it to grade it again.")
GRADING = N_("Grading {id}…")
FIRST_LOOK = N_("First look, under {method} only: grading under {others} too…")
FIRST_LOOK_HUNG = N_("Graded under {method} only: your code hangs there, and would under {others} too. "
                     "Press r to grade under every start method.")
PASSED_NEXT = N_("{id} passes! Press n for the next exercise ({next}).")
PASSED_LAST = N_("{id} passes, and so does every exercise. Press q to quit, then run `grade`.")
NOT_YET = N_("{id} does not pass yet: n moves on once it does.")
NO_NEXT = N_("There is no exercise left to move on to.")
SUGGEST_POLL = (N_("The file changed but no file event arrived: this folder may not send events. "
                "Try `grade watch --poll`."))
ALL_DONE = N_("Every exercise is done: nothing to watch. Run `grade` to see the final word.")
MISSING = N_("{file} is missing: `grade reset {id}` brings the stub back. Watching for it to appear.")
BYE = N_("Stopped watching.")
NO_EVENT_GRACE_S = 1.0  # a changed mtime with no event this long after it means events do not arrive
TICK_S = 0.05  # how often the loop looks at keys and saves


def configure(parser) -> None:
    parser.add_argument("exercise", nargs="?", metavar="EXERCISE",
                        help=_("exercise id or slug (default: the first not done)"))
    parser.add_argument("--poll", action="store_true",
                        help=_("poll the file instead of waiting for file events (for folders that send none)"))
    parser.add_argument("--start-method", action="append", choices=START_METHODS, dest="start_methods",
                        metavar="METHOD", help=_("grade only under this start method (repeatable)"))
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help=_("override the exercise's time limit per check"))
    parser.add_argument("--no-color", action="store_true", help=_("plain text, no colours"))
    add_course_option(parser)


def run(args) -> int:
    from ..filewatch import FileWatcher
    from ..sandbox import warm_up

    warm_up()  # one warm sandbox for the whole session: every re-grade forks it
    from ..runner import Options  # imported once, here: every re-grade finds the runner warm

    course = load_course(find_course(args.course))
    progress.keep_originals(course)
    exercise = course.find(args.exercise) if args.exercise else progress.next_exercise(course)
    if exercise is None:
        _say(_(ALL_DONE))
        return EXIT_PASS
    options = Options(start_methods=tuple(args.start_methods) if args.start_methods else None,
                      timeout=args.timeout)
    session = _Session(course, exercise, options, args)
    watcher = FileWatcher(exercise.file, poll=args.poll).start()
    try:
        with _keys() as keys:
            session.keys = keys
            session.grade()
            session.loop(watcher)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.close()
    _say(_(BYE))
    return EXIT_PASS


class _Session:
    """The current exercise, its last verdict, and what the keys do."""

    def __init__(self, course, exercise, options, args):
        self.course, self.exercise, self.options, self.args = course, exercise, options, args
        self.passed = False
        self.graded_hash: str | None = None
        self.suggested_poll = False
        self.note = ""  # a one-time remark shown under the next result
        self.keys: _KeyReader | None = None

    def loop(self, watcher) -> None:
        unreported_since: float | None = None  # when the mtime changed with no event yet
        while True:
            key = self.keys.read(TICK_S, watcher.fileno())
            if key == "q":
                return
            if key:
                self.on_key(key, watcher)
            if watcher.drain():
                unreported_since = None
                self.on_save()
            elif watcher.stat_changed() and unreported_since is None:
                unreported_since = time.monotonic()
            if unreported_since is not None and time.monotonic() - unreported_since > NO_EVENT_GRACE_S:
                unreported_since = None
                if not watcher.poll and not self.suggested_poll:
                    self.suggested_poll = True
                    self.note = _(SUGGEST_POLL)
                self.on_save()  # the save happened all the same: grade it

    def on_save(self) -> None:
        if progress.file_hash(self.exercise.file) == self.graded_hash:
            return  # touched, or a burst's second report: the same bytes were just graded
        self.grade()

    def on_key(self, key: str, watcher) -> None:
        if key == "r":
            self.grade(whole=True)
        elif key == "h":
            _say("\n" + _("Hint for {exercise} ({title}):").format(exercise=self.exercise.id, title=self.exercise.title)
                 + f"\n{self.exercise.hint}\n")
        elif key == "l":
            from .overview import rows

            entries = progress.entries(self.course)
            _say("\n" + "\n".join(rows(entries)) + "\n")
        elif key == "s":
            from .solution import reason, solution_text

            text = solution_text(self.course, self.exercise)
            _say("\n" + (text if text is not None else reason(self.course, self.exercise)))
        elif key == "n":
            if not self.passed:
                _say(_(NOT_YET).format(id=self.exercise.id))
                return
            upcoming = progress.next_exercise(self.course, after=self.exercise)
            if upcoming is None:
                _say(_(NO_NEXT))
                return
            self.exercise = upcoming
            watcher.retarget(upcoming.file)
            self.grade()

    def grade(self, whole: bool = False) -> None:
        """Grade the current exercise and show its result, after a first look (see the module's
        doc) unless `whole`: r asks for every start method at once."""
        from ..runner import Options, grade
        from ..verdict import Category, Status

        shown = progress.relative(self.course, self.exercise.file)
        tty = sys.stdout.isatty()
        if not self.exercise.file.is_file():
            self.graded_hash = None
            self.passed = False
            _say(("\x1b[H\x1b[2J" if tty else "\n") + _(MISSING).format(file=shown, id=self.exercise.id))
            return
        _say(("\x1b[H\x1b[2J" if tty else "\n") + _(GRADING).format(id=self.exercise.id))
        graded = progress.file_hash(self.exercise.file)
        methods = self._methods()
        if len(methods) > 1 and not whole:
            look = grade(self.course, [self.exercise], None,
                         Options(start_methods=methods[:1], timeout=self.options.timeout, schedules=1),
                         on_check=self._streamer())
            others = ", ".join(methods[1:])
            if not any(c.category is Category.TIMEOUT for e in look.exercises for c in e.checks):
                self._show(look, [_(FIRST_LOOK).format(method=methods[0], others=others)])
            else:
                progress.record(self.course, look)  # it fails: a hang is a failure under every method
                self.graded_hash, self.passed = graded, False
                self.note = _(FIRST_LOOK_HUNG).format(method=methods[0], others=others)
                self._show(look)
                return
        run = grade(self.course, [self.exercise], None, self.options)
        progress.record(self.course, run)
        self.graded_hash = graded
        self.passed = run.status is Status.PASS
        self._show(run)

    def _streamer(self):
        """Each check's line of the first look, the moment it is judged (the exercise's heading with
        the first one); the finished first look then replaces them on the screen."""
        from ..report import text

        color, out, shown = use_color(self.args), sys.stdout, []

        def show(exercise_id: str, file: str, result) -> None:
            line = text.check_line(result, color)
            if line is None:
                return
            lines = [] if shown else ["", text.heading(exercise_id, self.exercise.title, file, color)]
            shown.append(line)
            _say("\n".join([*lines, line]), out)  # the runner sends sys.stdout elsewhere meanwhile

        return show

    def _methods(self) -> tuple[str, ...]:
        """The start methods a whole grading of the current exercise uses."""
        chosen = self.options.start_methods
        return tuple(m for m in self.exercise.start_methods if not chosen or m in chosen)

    def _show(self, run, pending: list[str] | None = None) -> None:
        """The result, then the progress bar and what comes next: the keys, or what is still graded."""
        from ..report import text

        width, plain = terminal_width(), ascii_only()
        body = text.render(run, color=use_color(self.args), width=width, ascii_only=plain)
        entries = progress.entries(self.course)
        done = sum(e.state is progress.State.DONE for e in entries)
        footer = ["", _(PROGRESS).format(bar=progress.bar(done, len(entries)))]
        if pending:
            footer += pending
        else:
            if self.passed:
                upcoming = progress.next_exercise(self.course, after=self.exercise)
                footer.append(_(PASSED_NEXT).format(id=self.exercise.id, next=upcoming.id) if upcoming
                              else _(PASSED_LAST).format(id=self.exercise.id))
            note, self.note = self.note, ""
            footer += [note] if note else []
            footer += [_(WATCHING).format(file=progress.relative(self.course, self.exercise.file)), _(KEYS)]
        if sys.stdout.isatty():
            sys.stdout.write("\x1b[H\x1b[2J")
        print(body, flush=True)
        _say("\n".join(footer))
        if self.keys and not pending:
            self.keys.discard()  # keys pressed while grading are not meant for what is shown now


class _KeyReader:
    """One key at a time from a terminal in cbreak mode; nothing when stdin is not a terminal."""

    def __init__(self, fd: int | None):
        self.fd = fd

    def read(self, timeout: float, wake: int | None = None) -> str:
        """A key, or "" after `timeout` or as soon as `wake` (a file descriptor) is readable."""
        waiting = [fd for fd in (self.fd, wake) if fd is not None]
        if not waiting:
            time.sleep(timeout)
            return ""
        ready, _, _ = select.select(waiting, [], [], timeout)
        if self.fd is None or self.fd not in ready:
            return ""
        data = os.read(self.fd, 1)
        if not data:  # end of input: watch on, without keys
            self.fd = None
            return ""
        return data.decode(errors="replace").lower()

    def discard(self) -> None:
        if self.fd is None:
            return
        import termios

        with contextlib.suppress(termios.error):
            termios.tcflush(self.fd, termios.TCIFLUSH)


@contextlib.contextmanager
def _keys():
    """The terminal in cbreak mode (keys without Enter, Ctrl-C still a signal), always restored."""
    try:
        fd = sys.stdin.fileno()
        interactive = os.isatty(fd)
    except (AttributeError, ValueError, OSError):
        fd, interactive = None, False
    if not interactive:
        yield _KeyReader(None)
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        yield _KeyReader(fd)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _say(text: str, out=None) -> None:
    print(finish(text, terminal_width(), ascii_only()), file=out or sys.stdout, flush=True)

