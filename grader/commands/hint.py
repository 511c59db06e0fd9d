"""`grade hint EXERCISE`: the exercise's hint."""

from __future__ import annotations

from ..course import load_course
from ..i18n import N_, _
from ._common import EXIT_PASS, add_course_option, find_course

HELP = N_("a hint for one exercise")


def configure(parser) -> None:
    parser.add_argument("exercise", metavar="EXERCISE", help=_("exercise id or slug"))
    add_course_option(parser)


def run(args) -> int:
    course = load_course(find_course(args.course))
    exercise = course.find(args.exercise)
    print(_("Hint for {exercise} ({title}):").format(exercise=exercise.id, title=exercise.title)
          + f"\n\n{exercise.hint}")
    return EXIT_PASS
