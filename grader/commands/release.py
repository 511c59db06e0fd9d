"""`grade release OUT_DIR [--with-checks]`: write the students' edition of the course
(grader/edition.py): stubs, course.yaml, a README for students, the grader; no
solutions, no variants, and the hidden checks only with --with-checks."""

from __future__ import annotations

import sys
from pathlib import Path

from ..course import load_course
from ..i18n import N_
from ._common import EXIT_ERROR, EXIT_PASS, add_course_option, find_course

HELP = N_("(instructors) write the students' edition: stubs and grader, no solutions (checks: --with-checks)")


def configure(parser) -> None:
    parser.add_argument("out", type=Path, metavar="OUT_DIR", help="a new (or empty) folder to write it to")
    parser.add_argument("--with-checks", action="store_true",
                        help="include the hidden checks, so students can grade on their own machine "
                             "(they can then read the checks)")
    add_course_option(parser)


def run(args) -> int:
    from ..edition import EditionError, write_edition

    course = load_course(find_course(args.course))
    try:
        written = write_edition(course, args.out, with_checks=args.with_checks)
    except EditionError as error:
        print(f"grade release: {error}", file=sys.stderr)
        return EXIT_ERROR
    stubs = sum(1 for name in written if name.startswith(tuple(_folders(course))))
    print(f"Wrote the students' edition of {course.title} to {args.out}: {len(written)} files, "
          f"{stubs} stubs, no solutions, no variants, "
          + ("the hidden checks included (students can read them)." if args.with_checks
             else "no hidden checks (`grade list` and `grade hint` work; grading does not)."))
    return EXIT_PASS


def _folders(course) -> set[str]:
    return {ex.file.parent.relative_to(course.root).as_posix() + "/" for ex in course.exercises}
