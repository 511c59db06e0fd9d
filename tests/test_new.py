"""`grade new` (grader/commands/new.py): an instructor scaffolds an exercise, `grade check`
lists what is left, the instructor fills it in (from tests/fixtures/new_exercise/), and
`grade check` finds nothing more. Always on a copy of the course in tmp_path.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import ROOT

from grader.cli import main
from grader.course import load_course

FIXTURE = ROOT / "tests" / "fixtures" / "new_exercise"
NEW = ["new", "event", "--title", "Event: a start signal", "--topic", "Event"]


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "course"
    for name in ("exercises", "solutions", "grader/hidden", "tests/variants"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy(ROOT / "course.yaml", root / "course.yaml")
    return root


def files_of(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))


def problems(out: str) -> list[str]:
    """The ✗ lines as they were shown while checking (before the summary repeats them)."""
    shown = out.split("\n\n")[0]
    return [line for line in shown.splitlines() if line.startswith("✗")]


def test_scaffold_then_fill_in_until_everything_looks_fine(course, capsys):
    before = (course / "course.yaml").read_text()
    assert main([*NEW, "--course", str(course)]) == 0
    after = (course / "course.yaml").read_text()
    assert after.startswith(before)  # appended: comments and layout untouched
    assert "  - id: exercise15\n    slug: event\n" in after[len(before):]
    loaded = load_course(course)
    exercise = loaded.find("event")
    assert (exercise.id, exercise.title, loaded.ids[-2]) == ("exercise15", "Event: a start signal", "exercise14")
    for path in (exercise.file, exercise.solution, exercise.tests, exercise.known_bugs[0].path):
        assert path.is_file()
    capsys.readouterr()

    # Right after: what is left to do, one line each.
    assert main(["check", "event", "--course", str(course), "--repeat", "1", "--timeout", "5"]) == 2
    todo = problems(capsys.readouterr().out)
    mark = "still the example `grade new` wrote"
    assert todo == [
        "✗ exercise15 · manifest: 1 known bug(s); the rules want at least 3: add variants under known_bugs",
        "✗ exercise15 · manifest: 0 correct variant(s); the rules want at least 1: add right-but-different "
        "solutions under correct_variants",
        "✗ exercise15 · manifest: grader/hidden/test_exercise15_event.py: 1 check(s); the rules want at least 4 "
        "(rules.min_checks)",
        f"✗ exercise15 · manifest: exercises/exercise15_event.py:3: {mark}: write yours, then delete the line "
        "marked 'grade new: example'",
        f"✗ exercise15 · manifest: solutions/exercise15_event.py:3: {mark}: write yours, then delete the line "
        "marked 'grade new: example'",
        f"✗ exercise15 · manifest: grader/hidden/test_exercise15_event.py:7: {mark}: write yours, then delete "
        "the line marked 'grade new: example'",
        f"✗ exercise15 · manifest: tests/variants/exercise15/runs_in_parent.py:3: {mark}: write yours, then "
        "delete the line marked 'grade new: example'",
        "✗ exercise15 · manifest: course.yaml: the hint of exercise15 is still the example: write yours",
    ]

    # The instructor writes the exercise (the fixture), replacing the example.
    shutil.copy(FIXTURE / "stub.py", exercise.file)
    shutil.copy(FIXTURE / "solution.py", exercise.solution)
    shutil.copy(FIXTURE / "hidden.py", exercise.tests)
    exercise.known_bugs[0].path.unlink()
    for variant in (FIXTURE / "variants").iterdir():
        shutil.copy(variant, course / "tests" / "variants" / "exercise15" / variant.name)
    text = (course / "course.yaml").read_text()
    head = text[:text.index("    hint: |\n      grade new: example")]
    (course / "course.yaml").write_text(head + (FIXTURE / "entry.yaml").read_text())

    assert main(["check", "event", "--course", str(course), "--repeat", "1", "--timeout", "5"]) == 0
    out = capsys.readouterr().out
    assert problems(out) == []
    assert out.count("✓ exercise15 · known bug:") == 4
    assert "✓ exercise15 · coverage: each of its 4 checks is failed by some known bug" in out
    assert out.rstrip().splitlines()[-1].startswith("Everything looks fine!")


@pytest.mark.parametrize(("slug", "says"), [
    ("lock", "'lock' is already an exercise's id or slug"),
    ("check", "'check' is a sub-command of grade"),
    ("Bad Name", "is not a valid slug"),
])
def test_a_slug_that_cannot_be_used_writes_nothing(course, capsys, slug, says):
    before, listing = (course / "course.yaml").read_bytes(), files_of(course)
    assert main(["new", slug, "--title", "T", "--topic", "T", "--course", str(course)]) == 2
    assert says in capsys.readouterr().err
    assert (course / "course.yaml").read_bytes() == before and files_of(course) == listing


def test_an_entry_that_cannot_be_appended_is_rolled_back(course, capsys):
    text = (course / "course.yaml").read_text()
    text += "rules: {min_checks: 4}\n"  # `exercises:` is no longer the last key
    (course / "course.yaml").write_text(text)
    before, listing = (course / "course.yaml").read_bytes(), files_of(course)
    assert main([*NEW, "--course", str(course)]) == 2
    assert "nothing was written" in capsys.readouterr().err
    assert (course / "course.yaml").read_bytes() == before and files_of(course) == listing
