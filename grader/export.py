"""Exports of a course for the platforms that grade it elsewhere: Gradescope and GitHub Actions.

Gradescope: a zip with `setup.sh` and `run_autograder` at its root (from the jinja2
templates in `grader/templates/gradescope/`) and the course as the autograder grades it:
course.yaml less its answer lines, the grader, the stubs and the hidden checks of the chosen exercises, and
nothing of what students must not see in a repository they could download (solutions,
variants, the project's tests). GitHub Actions: a workflow for a student's repository
(`grader/templates/github/grade.yml.j2`).

This module decides what goes in and writes it; the command line is `commands/export.py`.
"""

from __future__ import annotations

import ast
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import jinja2

import grader

from .course import Course, CourseError, Exercise
from .edition import EditionError, student_course_yaml

# Gradescope's defaults (RESEARCH.md): the whole run must end within this, or every result is lost.
GRADESCOPE_LIMIT_S = 600
DEADLINE_MARGIN_S = 60  # kept back from the limit so run_autograder can still write results.json
# Never in an export, wherever they sit: byte code, editors' and tools' droppings.
SKIPPED_PARTS = {"__pycache__", ".git", ".venv", ".grade", ".pytest_cache", ".ruff_cache"}
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE")  # what `pip install` of the grader needs


class ExportError(Exception):
    """The course cannot be exported as asked (the course's fault: exit 2)."""


@dataclass(frozen=True)
class Entry:
    """One file of the zip: where it goes, what it holds, whether it may be executed."""

    arcname: str
    data: bytes
    executable: bool = False


def templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates"), keep_trailing_newline=True,
                              undefined=jinja2.StrictUndefined, autoescape=False)  # shell and YAML, not HTML


# ----------------------------------------------------------------------------- Gradescope


def gradescope_entries(course: Course, exercises: Sequence[Exercise], timeout: float | None = None) -> list[Entry]:
    """Every file of the Gradescope zip, in the order they are written."""
    check_visibility_names(course, exercises)
    chosen = {e.id for e in exercises}
    package = Path(grader.__file__).resolve().parent
    project = package.parent
    missing = [name for name in PROJECT_FILES[:1] if not (project / name).is_file()]
    if missing:
        raise ExportError(f"the grader's source tree ({project}) has no {', '.join(missing)}: export from a "
                          "checkout of the grader (pip install -e .), not from an installed wheel.")
    hidden = {e.tests.resolve() for e in course.exercises}
    keep_hidden = {e.tests.resolve() for e in course.exercises if e.id in chosen}
    entries: dict[str, Entry] = {}

    def add(arcname: str, data: bytes, executable: bool = False) -> None:
        entries[arcname] = Entry(arcname, data, executable)

    env = templates()
    names = [] if len(exercises) == len(course.exercises) else [e.id for e in exercises]
    deadline = GRADESCOPE_LIMIT_S - DEADLINE_MARGIN_S
    for template, executable in (("setup.sh", True), ("run_autograder", True)):
        text = env.get_template(f"gradescope/{template}.j2").render(
            exercises=names, timeout=f"{timeout:g}" if timeout else "", deadline=deadline, title=course.title)
        add(template, text.encode(), executable)
    for name in PROJECT_FILES:
        if (project / name).is_file():
            add(name, (project / name).read_bytes())
    for path in _files(package):
        resolved = path.resolve()
        if resolved in hidden and resolved not in keep_hidden:
            continue  # the checks of exercises not exported stay home
        add(str(PurePosixPath("grader") / path.relative_to(package).as_posix()), path.read_bytes())
    try:  # the students' course.yaml (grader/edition.py): no solution, known bug or variant lines
        add("course.yaml", student_course_yaml(course).encode())
    except EditionError as error:
        raise ExportError(str(error)) from error
    for exercise in exercises:
        for path in (exercise.file, exercise.tests):
            if path.is_file():
                add(_inside(course, path), path.read_bytes())
    return list(entries.values())


def write_zip(entries: Sequence[Entry], out: Path) -> None:
    """The zip, written whole to memory first so a failed export never leaves half a file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in entries:
            info = zipfile.ZipInfo(entry.arcname, date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if entry.executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, entry.data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())


def check_visibility_names(course: Course, exercises: Sequence[Exercise]) -> None:
    """Every check named under `check_visibility` in course.yaml is a check of that exercise."""
    for exercise in exercises:
        named = dict(getattr(exercise, "check_visibility", ()))
        if not named:
            continue
        known = check_names(exercise.tests)
        for name in named:
            if name not in known:
                listing = "; ".join(f"'{n}'" for n in known) or "none found"
                raise CourseError(course.path, f"no check named '{name}' in {_inside(course, exercise.tests)}.",
                                  field=f"{exercise.id}.check_visibility",
                                  fix=f"use a name as @check(...) writes it: {listing}.")


def check_names(hidden_module: Path) -> list[str]:
    """The names of the `@check("...")` functions of a hidden module, read without importing it."""
    try:
        tree = ast.parse(hidden_module.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "check"
                        and decorator.args and isinstance(decorator.args[0], ast.Constant)
                        and isinstance(decorator.args[0].value, str)):
                    names.append(decorator.args[0].value)
    return names


# ----------------------------------------------------------------------------- GitHub Actions


def github_workflow(course: Course, exercises: Sequence[Exercise], install: str = ".", python: str = "3.12",
                    timeout: float | None = None) -> str:
    """The workflow for a student's repository: install, grade, annotate, summarise, keep the verdicts."""
    names = [] if len(exercises) == len(course.exercises) else [e.id for e in exercises]
    longest = sum(4 * (timeout or e.timeout) + 20 for e in exercises) + 60
    return templates().get_template("github/grade.yml.j2").render(
        exercises=" ".join(names) or "--all", install=install, python=python, title=course.title,
        timeout=f"{timeout:g}" if timeout else "", minutes=max(10, int(longest // 60) + 5))


# ----------------------------------------------------------------------------- helpers


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not (set(path.relative_to(folder).parts) & SKIPPED_PARTS) and path.suffix != ".pyc":
            yield path


def _inside(course: Course, path: Path) -> str:
    return path.resolve().relative_to(course.root).as_posix()
