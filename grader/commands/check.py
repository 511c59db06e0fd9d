"""`grade check [EXERCISE...]`: the instructor's proof that the hidden checks catch bugs."""

from __future__ import annotations

from ..course import load_course
from ._common import EXIT_ERROR, EXIT_PASS, add_course_option, find_course

HELP = "(instructors) stubs fail, solutions pass, every known bug is caught"


def configure(parser) -> None:
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercises to check (default: all)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit per check for stubs and known bugs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every finding, not only problems")
    add_course_option(parser)


def run(args) -> int:
    from ..validate import check_course

    course = load_course(find_course(args.course))
    exercises = [course.find(n) for n in args.exercises] or list(course.exercises)
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
