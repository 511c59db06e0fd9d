"""`grade reset EXERCISE`: put the original stub back, keeping the student's file first.

Never loses work: the file as it is (bytes for bytes) is first copied to
`.grade/backups/<timestamp>/<its path>`, and only then is the original written over it
(atomically). The original is the copy `grade` kept in `.grade/originals/` the first time
it saw the exercise (grader/progress.py says where that copy comes from). A deleted file
is restored the same way, with nothing to back up.
"""

from __future__ import annotations

import sys
import time

from .. import progress
from ..course import load_course
from ..i18n import N_, _
from ._common import EXIT_ERROR, EXIT_PASS, add_course_option, find_course, say

HELP = N_("put an exercise's original stub back (your file is kept in .grade/backups/ first)")

ASK = N_("Reset {file} to the original stub? Your current file is kept as a backup. [y/N] ")
NOT_ASKED = N_("grade reset: not resetting {file} without confirmation; run `grade reset {id} --yes` to go ahead.")
CANCELLED = N_("Not reset: {file} is unchanged.")
NO_ORIGINAL = (N_("grade reset: no original of {file} was kept (`grade` keeps one the first time it runs in "
               "the course), and git has none either: get it again from the course's own copy."))
ALREADY = N_("{file} is already the original stub: nothing to do.")
RESTORED = N_("{file} was missing: the original stub is back.")
DONE = N_("{file} is the original stub again. Your version is kept in {backup}")


def configure(parser) -> None:
    parser.add_argument("exercise", metavar="EXERCISE", help=_("exercise id or slug"))
    parser.add_argument("-y", "--yes", action="store_true", help=_("do not ask for confirmation"))
    add_course_option(parser)


def run(args) -> int:
    course = load_course(find_course(args.course))
    return reset(course, course.find(args.exercise), args.yes)


def reset(course, exercise, yes: bool) -> int:
    """Back up the exercise's file, then put the original stub in its place."""
    progress.keep_originals(course)
    shown = progress.relative(course, exercise.file)
    original_path = progress.original_path(course, exercise)
    try:
        original = original_path.read_bytes()
    except OSError:
        print(_(NO_ORIGINAL).format(file=shown), file=sys.stderr)
        return EXIT_ERROR
    try:
        current = exercise.file.read_bytes()
    except FileNotFoundError:
        current = None
    if current == original:
        say(_(ALREADY).format(file=shown))
        return EXIT_PASS
    if current is not None and not yes:
        if not sys.stdin.isatty():
            print(_(NOT_ASKED).format(file=shown, id=exercise.id), file=sys.stderr)
            return EXIT_ERROR
        answer = input(_(ASK).format(file=shown)).strip().lower()
        if answer not in ("y", "yes"):
            say(_(CANCELLED).format(file=shown))
            return EXIT_PASS
    backup = None
    if current is not None:
        backup = _backup_path(course, shown)
        progress.atomic_write(backup, current)
        if backup.read_bytes() != current:  # never overwrite work whose copy is not certain
            print(_("grade reset: the backup {backup} does not match; {file} is unchanged.").format(
                backup=backup, file=shown), file=sys.stderr)
            return EXIT_ERROR
    progress.atomic_write(exercise.file, original)
    if backup is None:
        say(_(RESTORED).format(file=shown))
    else:
        say(_(DONE).format(file=shown, backup=progress.relative(course, backup)))
    return EXIT_PASS


def _backup_path(course, shown: str):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder = course.root / progress.BACKUPS_DIR / stamp
    n = 1
    while (folder / shown).exists():  # two resets within a second keep both
        n += 1
        folder = course.root / progress.BACKUPS_DIR / f"{stamp}-{n}"
    return folder / shown
