"""`grade list`: the exercises, the student's progress, and what is next."""

from __future__ import annotations

from .. import progress
from ..course import load_course
from ._common import EXIT_PASS, add_course_option, find_course

HELP = "the exercises, which ones you have passed, and what is next"


def configure(parser) -> None:
    add_course_option(parser)


def run(args) -> int:
    course = load_course(find_course(args.course))
    print(progress.listing(course))
    return EXIT_PASS
