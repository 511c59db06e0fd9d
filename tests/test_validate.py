"""`grade check`: the instructor's proof that hidden checks catch the known bugs."""

from __future__ import annotations

import shutil

from conftest import ROOT

from grader.cli import main


def _one_exercise_course(tmp_path, bug_category: str):
    """A course of exercise 1 alone, copied, with its first known bug expected as `bug_category`."""
    for rel in ("exercises/exercise1_process.py", "solutions/exercise1_process.py",
                "grader/hidden/test_exercise1_process.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    shutil.copytree(ROOT / "tests" / "variants" / "exercise1", tmp_path / "tests" / "variants" / "exercise1")
    text = (ROOT / "course.yaml").read_text()
    head, rest = text.split("  - id: exercise1\n", 1)
    block = "  - id: exercise1\n" + rest.split("  - id: exercise2\n", 1)[0]
    block = block.replace("forgets_join.py, category: lifecycle", f"forgets_join.py, category: {bug_category}")
    (tmp_path / "course.yaml").write_text(head + block)
    return tmp_path


def test_a_sound_exercise_checks_out(tmp_path, capsys):
    course = _one_exercise_course(tmp_path, "lifecycle")
    assert main(["check", "--course", str(course), "--timeout", "3"]) == 0
    assert "Everything looks fine!" in capsys.readouterr().out


def test_a_known_bug_that_is_not_caught_as_claimed_is_a_problem(tmp_path, capsys):
    course = _one_exercise_course(tmp_path, "timeout")
    assert main(["check", "--course", str(course), "--timeout", "3"]) == 2
    out = capsys.readouterr().out
    assert "forgets_join.py should fail as timeout" in out and "lifecycle" in out
    assert "1 problem(s) found." in out


def test_a_stub_without_todo_is_reported(tmp_path, capsys):
    course = _one_exercise_course(tmp_path, "lifecycle")
    stub = course / "exercises" / "exercise1_process.py"
    stub.write_text(stub.read_text().replace("TODO", "to do"))
    assert main(["check", "--course", str(course), "--timeout", "3"]) == 2
    assert "the stub has no TODO marker" in capsys.readouterr().out
