"""`grade check`: an instructor's proof that the course's hidden checks really catch bugs.

In the order a person would check: the cheap static checks first (every stub has a TODO
and raises NotImplementedError, every hidden module has checks and drivers, no stray
exercise files); then every stub still fails, as not_implemented; then every solution
passes under every start method; then every known bug fails with its category, and every
correct variant passes. Stubs, solutions and variants go through the very same grading
path as a student's file. Nothing here prints: it yields findings for the CLI to show.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .course import Course, Exercise
from .runner import Options, grade
from .verdict import Category, ExerciseVerdict, Status


@dataclass(frozen=True)
class Finding:
    exercise: str  # id, or "" for the course as a whole
    step: str  # "static", "stub", "solution", "known bug", "correct variant"
    ok: bool
    text: str


def check_course(course: Course, exercises: list[Exercise], bug_timeout: float | None = None) -> Iterator[Finding]:
    for exercise in exercises:
        yield from _static(course, exercise)
    yield from _stray_files(course)
    for exercise in exercises:
        yield _expect_stub(course, exercise, bug_timeout)
    for exercise in exercises:
        yield _expect_pass(course, exercise, exercise.solution, "solution")
    for exercise in exercises:
        for bug in exercise.known_bugs:
            yield _expect_bug(course, exercise, bug.path, bug.category, bug_timeout)
        for path in exercise.correct_variants:
            yield _expect_pass(course, exercise, path, "correct variant")


def _static(course: Course, exercise: Exercise) -> Iterator[Finding]:
    stub = exercise.file.read_text(errors="replace")
    name = _rel(course, exercise.file)
    try:
        tree = ast.parse(stub)
    except SyntaxError as error:
        yield Finding(exercise.id, "static", False, f"{name}:{error.lineno}: the stub does not parse: {error.msg}")
        return
    if "TODO" not in stub:
        yield Finding(exercise.id, "static", False, f"{name}: the stub has no TODO marker")
    raises = any(isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(tree))
    if not raises:
        yield Finding(exercise.id, "static", False, f"{name}: no function raises NotImplementedError")
    if not ast.get_docstring(tree):
        yield Finding(exercise.id, "static", False, f"{name}: the stub has no docstring teaching the topic")
    hidden = ast.parse(exercise.tests.read_text(errors="replace"))
    decorators = [ast.unparse(d) for n in ast.walk(hidden) if isinstance(n, ast.FunctionDef) for d in n.decorator_list]
    checks = sum(1 for d in decorators if d.startswith("check("))
    drivers = sum(1 for d in decorators if d == "driver")
    if checks < 4 or drivers < 1:
        yield Finding(exercise.id, "static", False,
                      f"{_rel(course, exercise.tests)}: {checks} checks and {drivers} drivers; want at least 4 and 1")
    if not exercise.known_bugs:
        yield Finding(exercise.id, "static", False, "no known_bugs: nothing proves the checks catch a bug")


def _stray_files(course: Course) -> Iterator[Finding]:
    named = {ex.file.resolve() for ex in course.exercises}
    folder = course.root / "exercises"
    for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
        if path.resolve() not in named and path.name != "__init__.py":
            yield Finding("", "static", False, f"{_rel(course, path)} is not named by course.yaml")


def _grade(course: Course, exercise: Exercise, path: Path, timeout: float | None) -> ExerciseVerdict:
    (verdict,) = grade(course, [exercise], path, Options(timeout=timeout)).exercises
    return verdict


def _expect_stub(course: Course, exercise: Exercise, timeout: float | None) -> Finding:
    verdict = _grade(course, exercise, exercise.file, timeout)
    others = sorted({c.category.value for c in verdict.checks} - {Category.NOT_IMPLEMENTED.value})
    if verdict.status is Status.FAIL and not others:
        return Finding(exercise.id, "stub", True, "the stub fails every check as not_implemented")
    return Finding(exercise.id, "stub", False,
                   f"the stub should fail every check as not_implemented; got {verdict.status.value} "
                   f"with {others or 'no failures'}")


def _expect_pass(course: Course, exercise: Exercise, path: Path, step: str) -> Finding:
    verdict = _grade(course, exercise, path, None)
    if verdict.status is Status.PASS and verdict.leftover_processes == 0:
        return Finding(exercise.id, step, True, f"{_rel(course, path)} passes ({verdict.duration_s:.2f} s)")
    first = verdict.failures[0] if verdict.failures else None
    why = f"{first.name} [{first.start_method}]: {first.message.splitlines()[0] if first.message else ''}" \
        if first else verdict.message
    return Finding(exercise.id, step, False, f"{_rel(course, path)} should pass; {why}")


def _expect_bug(course: Course, exercise: Exercise, path: Path, category: str, timeout: float | None) -> Finding:
    verdict = _grade(course, exercise, path, timeout)
    failed = {c.category.value for c in verdict.checks if c.status is not Status.PASS}
    name = _rel(course, path)
    if verdict.status is Status.FAIL and category in failed:
        return Finding(exercise.id, "known bug", True, f"{name} fails as {category}")
    return Finding(exercise.id, "known bug", False,
                   f"{name} should fail as {category}; got {verdict.status.value} with {sorted(failed) or 'no failures'}")


def _rel(course: Course, path: Path) -> str:
    try:
        return str(path.relative_to(course.root))
    except ValueError:
        return str(path)
