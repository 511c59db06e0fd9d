"""`grade release` (grader/edition.py, grader/commands/release.py): the students' edition.

The edition is written from the real course into tmp_path, then copied somewhere else and
used there with its own copy of the grader (`python -m grader` run in that folder), as a
student would after unpacking it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT

from grader.cli import main
from grader.course import load_course
from grader.edition import INSTRUCTOR_KEYS, student_course_yaml

COURSE = load_course(ROOT)
MINIMAL = ROOT / "tests" / "courses" / "minimal"


def released(tmp_path, *options):
    out = tmp_path / "release"
    assert main(["release", str(out), "--course", str(ROOT), *options]) == 0
    elsewhere = tmp_path / "student"
    shutil.copytree(out, elsewhere)
    return elsewhere


def grade_there(folder, *args):
    """`python -m grader ARGS` in the folder: its own grader package is the one imported."""
    return subprocess.run([sys.executable, "-m", "grader", *args], cwd=folder, capture_output=True, text=True,
                          timeout=600)


def answers():
    """The text of every solution and variant of the course."""
    paths = [p for ex in COURSE.exercises
             for p in (ex.solution, *(b.path for b in ex.known_bugs), *ex.correct_variants)]
    return {p.read_text() for p in paths}


def test_the_edition_holds_stubs_and_grader_but_no_answers_and_no_checks(tmp_path):
    edition = released(tmp_path)
    files = [p for p in edition.rglob("*") if p.is_file()]
    texts = {p.read_text(errors="replace") for p in files}
    assert not texts & answers(), "a solution or a variant is in the students' edition"
    assert not [p for p in files if p.name.startswith("test_")], "a hidden module is in the edition"
    assert not (edition / "solutions").exists() and not (edition / "tests").exists()
    for exercise in COURSE.exercises:
        rel = exercise.file.relative_to(ROOT)
        assert (edition / rel).read_text() == exercise.file.read_text()
    assert (edition / "grader" / "cli.py").is_file() and (edition / "pyproject.toml").is_file()

    course = load_course(edition)
    assert course.ids == COURSE.ids
    assert all(ex.solution is None and not ex.known_bugs and not ex.correct_variants for ex in course.exercises)
    text = (edition / "course.yaml").read_text()
    assert text.startswith("# The course manifest")  # comments and layout kept
    assert not any(f"{key}:" in text for key in INSTRUCTOR_KEYS)
    readme = (edition / "README.md").read_text()
    assert "no hidden checks" in readme and "You can read them" not in readme


def test_without_checks_list_and_hint_work_and_grading_says_why_it_cannot(tmp_path):
    edition = released(tmp_path)
    listing = grade_there(edition, "list")
    assert listing.returncode == 0, listing.stderr
    assert all(ex.id in listing.stdout for ex in COURSE.exercises)
    hint = grade_there(edition, "hint", "lock")
    assert hint.returncode == 0 and COURSE.find("lock").hint.splitlines()[0] in hint.stdout
    graded = grade_there(edition, "exercise1")
    assert graded.returncode == 2
    assert "exercises[0].tests" in graded.stderr and "--with-checks" in graded.stderr


def test_with_checks_the_stubs_grade_as_not_implemented_and_the_readme_says_students_can_read_them(tmp_path):
    edition = released(tmp_path, "--with-checks")
    assert "You can read them" in (edition / "README.md").read_text()
    assert {p.name for p in (edition / "grader" / "hidden").glob("test_*.py")} == \
        {ex.tests.name for ex in COURSE.exercises}
    assert not {p.read_text() for p in edition.rglob("*.py")} & answers()
    graded = grade_there(edition, "--all", "--start-method", "fork", "--timeout", "3", "--format", "json")
    assert graded.returncode == 1, graded.stderr[-2000:]
    verdict = json.loads(graded.stdout)
    assert [e["exercise"] for e in verdict["exercises"]] == list(COURSE.ids)
    assert {c["category"] for e in verdict["exercises"] for c in e["checks"]} == {"not_implemented"}
    assert grade_there(edition, "list").returncode == 0


def test_a_folder_that_is_not_empty_is_refused_and_left_alone(tmp_path, capsys):
    out = tmp_path / "release"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["release", str(out), "--course", str(ROOT)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["release"]  # no staging folder left behind


@pytest.mark.parametrize("course", [ROOT, MINIMAL], ids=["course", "minimal"])
def test_the_students_course_yaml_is_the_instructors_less_the_answer_lines(course):
    original = (course / "course.yaml").read_text().splitlines()
    stripped = student_course_yaml(load_course(course)).splitlines()
    kept = iter(original)
    assert all(line in kept for line in stripped)  # the same lines, in order, none rewritten
    gone = [line.strip() for line in original if line not in stripped]
    assert gone and all(line.startswith(("solution:", "known_bugs:", "correct_variants:", "- ", "# "))
                        for line in gone)  # comments inside a known_bugs list go with it


def test_hidden_modules_outside_the_package_come_only_with_checks(tmp_path):
    """The minimal course keeps its checks in hidden/ (named check_*.py), outside the grader."""
    course = tmp_path / "course"
    shutil.copytree(MINIMAL, course)
    assert main(["release", str(tmp_path / "plain"), "--course", str(course)]) == 0
    assert main(["release", str(tmp_path / "checks"), "--course", str(course), "--with-checks"]) == 0
    plain = {p.relative_to(tmp_path / "plain").as_posix() for p in (tmp_path / "plain").rglob("*") if p.is_file()}
    checks = {p.relative_to(tmp_path / "checks").as_posix() for p in (tmp_path / "checks").rglob("*") if p.is_file()}
    assert checks - plain == {"hidden/check_exercise1.py", "hidden/check_exercise2.py"}
    assert not [p for p in plain if p.startswith(("solutions/", "variants/", "hidden/"))]
    assert {"exercises/exercise1.py", "exercises/exercise2.py", "course.yaml", "README.md"} <= plain


def test_a_stub_deleted_from_the_edition_is_a_state_of_its_exercise_not_an_error(tmp_path):
    edition = released(tmp_path, "--with-checks")
    (edition / COURSE.find("exercise1").file.relative_to(ROOT)).unlink()
    listing = grade_there(edition, "list")
    assert listing.returncode == 0, listing.stderr
    assert "file missing" in next(line for line in listing.stdout.splitlines() if "exercise1" in line)
    assert grade_there(edition, "hint", "exercise1").returncode == 0
    graded = grade_there(edition, "exercise1", "--start-method", "fork", "--format", "json")
    assert graded.returncode == 1, graded.stderr[-2000:]
    verdict = json.loads(graded.stdout)
    assert verdict["status"] == "fail" and {c["category"] for c in verdict["checks"]} == {"not_implemented"}
