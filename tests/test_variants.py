"""Every hidden check proven twice: solutions and correct variants pass, stubs and known bugs fail.

Driven by course.yaml: each exercise's solution must pass under every start method with
nothing left running; its stub must fail every check as not_implemented; each known bug
must fail with its category (and no check may end in the grader's own `error`); each
correct variant must pass.
"""

from __future__ import annotations

import pytest
from conftest import BUG_TIMEOUT, ROOT

from grader.course import load_course
from grader.runner import Options, grade
from grader.validate import uncaught_checks
from grader.verdict import Category, Status

COURSE = load_course(ROOT)
# One xdist group per exercise: its tests run in one worker, so the coverage test can reuse
# the verdicts of that exercise's known bugs instead of grading them again.
EXERCISES = [pytest.param(ex, id=ex.id, marks=pytest.mark.xdist_group(ex.id)) for ex in COURSE.exercises]
BUGS = [pytest.param(ex, bug.path, bug.category, id=f"{ex.id}-{bug.path.stem}", marks=pytest.mark.xdist_group(ex.id))
        for ex in COURSE.exercises for bug in ex.known_bugs]
CORRECT = [pytest.param(ex, path, id=f"{ex.id}-{path.stem}", marks=pytest.mark.xdist_group(ex.id))
           for ex in COURSE.exercises for path in ex.correct_variants]


_VERDICTS = {}  # (exercise id, path) -> verdict: the coverage test below reuses the known bugs' runs


def _grade(exercise, path, timeout=None):
    run = grade(COURSE, [exercise], path, Options(timeout=timeout))
    (verdict,) = run.exercises
    _VERDICTS[(exercise.id, path)] = verdict
    return verdict


def _explain(verdict) -> str:
    return "\n".join(f"{c.name} [{c.start_method}] {c.status.value}/{c.category.value}: {c.message[:400]}"
                     for c in verdict.checks if c.status is not Status.PASS)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_solution_passes_under_every_start_method(exercise):
    verdict = _grade(exercise, exercise.solution)
    assert verdict.status is Status.PASS, _explain(verdict)
    assert verdict.score == verdict.max_score == exercise.points
    assert {c.start_method for c in verdict.checks} == set(exercise.start_methods)
    assert len({c.name for c in verdict.checks}) >= COURSE.rules.min_checks, "too few hidden checks (rules)"
    assert verdict.leftover_processes == 0


@pytest.mark.parametrize("exercise", EXERCISES)
def test_the_stub_fails_every_check_as_not_implemented(exercise):
    verdict = _grade(exercise, exercise.file, BUG_TIMEOUT)
    assert verdict.status is Status.FAIL
    assert verdict.score == 0
    assert {c.category for c in verdict.checks} == {Category.NOT_IMPLEMENTED}, _explain(verdict)


@pytest.mark.parametrize(("exercise", "path", "category"), BUGS)
def test_a_known_bug_fails_with_its_category(exercise, path, category):
    verdict = _grade(exercise, path, BUG_TIMEOUT)
    failed = {c.category.value for c in verdict.checks if c.status in (Status.FAIL, Status.SKIPPED)}
    assert verdict.status is Status.FAIL, _explain(verdict)
    assert category in failed, f"expected a {category} failure, got {failed}:\n{_explain(verdict)}"
    assert all(c.message for c in verdict.failures), "every failure must say what went wrong"
    # Processes left running are always explained: as a lifecycle failure, or as the consequence
    # of a crash or a hang that stopped the parent before it could join them.
    assert verdict.leftover_processes == 0 or failed & {"lifecycle", "crash", "timeout"}


@pytest.mark.parametrize(("exercise", "path"), CORRECT)
def test_a_correct_variant_passes(exercise, path):
    verdict = _grade(exercise, path)
    assert verdict.status is Status.PASS, _explain(verdict)


def test_every_exercise_has_known_bugs_and_a_correct_variant():
    rules = COURSE.rules
    for exercise in COURSE.exercises:
        assert len(exercise.known_bugs) >= rules.min_known_bugs, f"{exercise.id} needs more known bugs (rules)"
        assert len(exercise.correct_variants) >= rules.min_correct_variants, f"{exercise.id}: correct variants"


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_check_is_failed_by_some_known_bug(exercise):
    """Each hidden check proven twice: the solution passes it (above), and a buggy variant fails it."""
    bugs = [_VERDICTS.get((exercise.id, bug.path)) or _grade(exercise, bug.path, BUG_TIMEOUT)
            for bug in exercise.known_bugs]
    solution = _VERDICTS.get((exercise.id, exercise.solution)) or _grade(exercise, exercise.solution)
    never = uncaught_checks([c.name for c in solution.checks], bugs)  # what `grade check` reports too
    assert not never, f"no known bug of {exercise.id} fails these checks: {never}"
