"""`grade solution EXERCISE`: the reference solution, for comparison, once the exercise passes.

"Passes" means: the student's file, as it is now, passed when last graded (the state of
grader/progress.py). Otherwise it says why not and what to run. A course edition that
ships no solutions says so.
"""

from __future__ import annotations

import sys

from .. import progress
from ..course import load_course
from ..i18n import N_, _
from ..progress import State
from ._common import EXIT_FAIL, EXIT_PASS, add_course_option, find_course, say

HELP = N_("the reference solution of an exercise you have passed, for comparison")

HEADER = N_("Reference solution of {id} ({file}), for comparison with yours:\n")
NO_SOLUTIONS = N_("This edition of the course ships no solutions: ask your instructor for {id}'s.")
WHY_NOT = {
    State.FAILING: N_("{id} does not pass yet: the solution is shown once it does. Run `grade {id}`."),
    State.EDITED: N_("{file} changed since it was last graded: run `grade {id}` first; "
                     "the solution is shown once it passes."),
    State.NOT_STARTED: N_("{id} has not been graded yet: the solution is shown once it passes. Run `grade {id}`."),
    State.MISSING: N_("{file} is missing (`grade reset {id}` brings the stub back); "
                      "the solution is shown once the exercise passes."),
}


def configure(parser) -> None:
    parser.add_argument("exercise", metavar="EXERCISE", help=_("exercise id or slug"))
    add_course_option(parser)


def run(args) -> int:
    course = load_course(find_course(args.course))
    exercise = course.find(args.exercise)
    text = solution_text(course, exercise)
    if text is None:
        say(reason(course, exercise), args)
        return EXIT_FAIL
    sys.stdout.write(text)
    sys.stdout.flush()
    return EXIT_PASS


def solution_text(course, exercise) -> str | None:
    """The solution with its header, or None when it may not (or cannot) be shown."""
    solution = getattr(exercise, "solution", None)  # None in an edition without solutions
    if solution is None or not solution.is_file() or not progress.passed(course, exercise):
        return None
    body = solution.read_text(encoding="utf-8", errors="replace")
    return _(HEADER).format(id=exercise.id, file=progress.relative(course, solution)) + body


def reason(course, exercise) -> str:
    """Why the solution is not shown."""
    solution = getattr(exercise, "solution", None)
    if solution is None or not solution.is_file():
        return _(NO_SOLUTIONS).format(id=exercise.id)
    state = next(e.state for e in progress.entries(course) if e.exercise.id == exercise.id)
    return _(WHY_NOT[state]).format(id=exercise.id, file=progress.relative(course, exercise.file))
