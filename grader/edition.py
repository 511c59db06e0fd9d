"""The students' edition of a course: what `grade release` writes (and what a platform
export may build on).

An edition holds the stubs, a course.yaml without `solution`, `known_bugs` and
`correct_variants` (removed line by line, so its comments and layout stay), a README for
students (from grader/templates/release/), the grader package, and its pyproject.toml
so that `pip install -e .` works. It holds no solution and no variant; the hidden checks
only when asked (`with_checks`), since students can then read them. The edition is built
in a temporary folder beside the target and renamed into place once it loads.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import jinja2
import yaml

import grader

from .course import Course, CourseError, load_course

INSTRUCTOR_KEYS = ("solution", "known_bugs", "correct_variants")  # per exercise: never in an edition
TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates/release"),
                               keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
# Left out of the package copy. Hidden modules must be named test_*.py (the runner collects
# only those), so none of them, this course's or another's, travels with the grader.
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".grade", "test_*.py")


class EditionError(Exception):
    """The edition cannot be written (nothing was)."""


def student_course_yaml(course: Course) -> str:
    """course.yaml as it is, less every exercise's INSTRUCTOR_KEYS lines."""
    text = course.path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    document = yaml.compose(text, Loader=yaml.SafeLoader)
    exercises = next(v for k, v in document.value if k.value == "exercises")
    drop: set[int] = set()
    for item in exercises.value:
        for key, value in item.value:
            if key.value not in INSTRUCTOR_KEYS:
                continue
            first = key.start_mark.line
            if lines[first][:key.start_mark.column].strip():  # `- solution: …` opens the entry
                raise EditionError(f"{course.path}:{first + 1}: put `{key.value}` after `id` in its exercise, "
                                   "so that its lines can be left out of the students' edition.")
            end = value.end_mark
            last = end.line if lines_before(text, end.index).strip() == "" else end.line + 1
            drop.update(range(first, max(last, first + 1)))
    return "".join(line for number, line in enumerate(lines) if number not in drop)


def lines_before(text: str, index: int) -> str:
    """The text of the line holding `index`, up to it."""
    return text[text.rfind("\n", 0, index) + 1:index]


def write_edition(course: Course, out: Path, with_checks: bool = False) -> list[str]:
    """Write the students' edition of `course` to `out` (absent or empty). Returns the files
    written, relative to `out`."""
    out = Path(out).resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EditionError(f"{out} already exists and is not empty: name a new folder.")
    if out.is_relative_to(course.root) and out.parts[len(course.root.parts)] in ("exercises", "grader"):
        raise EditionError(f"{out} is inside the course's own folders: name a folder elsewhere.")
    missing = [ex for ex in course.exercises if ex.file_missing]
    if missing:
        raise EditionError(f"the stub of {missing[0].id} is missing ({_rel(course, missing[0].file)}): "
                           "students need every stub.")
    if with_checks and not all(ex.has_checks for ex in course.exercises):
        raise EditionError("--with-checks: some hidden modules are missing: run `grade check` first.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _fill(course, staging, with_checks)
        load_course(staging)  # the edition must load on its own
        written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except (CourseError, OSError) as error:
        raise EditionError(f"the edition did not come out right, nothing was written: {error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _fill(course: Course, staging: Path, with_checks: bool) -> None:
    package = Path(grader.__file__).resolve().parent
    instructor_only = {p.resolve() for ex in course.exercises for p in (ex.tests, *_answers(ex))}

    def ignore(folder: str, names: list[str]) -> set[str]:
        left_out = set(SKIPPED(folder, names))
        return left_out | {n for n in names if (Path(folder) / n).resolve() in instructor_only}

    shutil.copytree(package, staging / "grader", ignore=ignore)
    project = package.parent / "pyproject.toml"
    if project.is_file():
        shutil.copy(project, staging / "pyproject.toml")
    for exercise in course.exercises:
        _copy(exercise.file, staging / _rel(course, exercise.file))
        if with_checks:
            _copy(exercise.tests, staging / _rel(course, exercise.tests))
    (staging / "course.yaml").write_text(student_course_yaml(course), encoding="utf-8")
    folders = sorted({str(Path(_rel(course, ex.tests)).parent) for ex in course.exercises})
    readme = TEMPLATES.get_template("README.md.j2").render(
        title=course.title, welcome=course.welcome_message.strip(), with_checks=with_checks,
        first=course.exercises[0], checks_folder=", ".join(f"{f}/" for f in folders),
        exercises=[{"id": e.id, "slug": e.slug, "title": e.title, "file": _rel(course, e.file)}
                   for e in course.exercises])
    (staging / "README.md").write_text(readme, encoding="utf-8")
    (staging / ".gitignore").write_text(".grade/\n__pycache__/\n", encoding="utf-8")


def _answers(exercise) -> list[Path]:
    return [p for p in (exercise.solution, *(b.path for b in exercise.known_bugs), *exercise.correct_variants)
            if p is not None]


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def _rel(course: Course, path: Path) -> str:
    return path.relative_to(course.root).as_posix()
