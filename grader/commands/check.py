"""`grade check [EXERCISE...]`: the instructor's proof that the hidden checks catch bugs.

One line per step as it ends (✓ done, ✗ a problem), so a long check is never silent;
the problems again at the end, then "Everything looks fine!" or exit status 2 (the
course is at fault).
"""

from __future__ import annotations

import time

from ..course import load_course
from ..i18n import N_
from ._common import EXIT_ERROR, EXIT_PASS, add_course_option, find_course

HELP = N_("(instructors) stubs fail, solutions pass, every known bug is caught")


def configure(parser) -> None:
    parser.add_argument("exercises", nargs="*", metavar="EXERCISE", help="exercises to check (default: all)")
    parser.add_argument("--repeat", type=_at_least_one, default=3, metavar="N",
                        help="grade each solution N times under every start method, to catch flaky checks "
                             "(default: 3)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="time limit per check for stubs and known bugs (default: the exercise's)")
    parser.add_argument("--jobs", type=_at_least_one, default=None, metavar="N",
                        help="exercises checked at once (default: the number of cores)")
    parser.add_argument("-q", "--quiet", action="store_true", help="show only problems, not every step")
    add_course_option(parser)


def run(args) -> int:
    from ..validate import check_course

    started = time.monotonic()
    course = load_course(find_course(args.course))
    exercises = list(dict.fromkeys(course.find(n) for n in args.exercises)) or list(course.exercises)
    print(f"Checking {len(exercises)} exercise(s) of {course.title}: the manifest, then each exercise "
          f"(solutions {args.repeat}×)…", flush=True)
    problems = []
    for finding in check_course(course, exercises, repeat=args.repeat, timeout=args.timeout, jobs=args.jobs):
        if finding.step == "progress":  # nothing ended for a while: what is still being graded
            line = f"… {finding.text}"
        else:
            line = f"{'✓' if finding.ok else '✗'} {finding.exercise + ' · ' if finding.exercise else ''}" \
                   f"{finding.step}: {finding.text}"
        if not finding.ok:
            problems.append(line)
        if not finding.ok or not args.quiet:
            print(line, flush=True)
    seconds = time.monotonic() - started
    if problems:
        print(f"\n{len(problems)} problem(s) found in {seconds:.0f} s:", *problems, sep="\n")
        return EXIT_ERROR
    print(f"\nEverything looks fine! ({len(exercises)} exercise(s) checked in {seconds:.0f} s)")
    return EXIT_PASS


def _at_least_one(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value
