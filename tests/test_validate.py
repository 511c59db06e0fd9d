"""`grade check` (grader/validate.py): the instructor's proof that hidden checks catch the known bugs.

Every test works on a copy of the course in tmp_path. Grading costs seconds per file, so
most tests use a small course: exercise 1 alone (or with exercise 2), with only its first
known bug or two and the rules relaxed to match; one test checks the real exercise 1 whole.
"""

from __future__ import annotations

import shutil

import psutil
import yaml
from conftest import ROOT

from grader import validate
from grader.cli import main
from grader.course import load_course
from grader.validate import check_course, static_findings, uncaught_checks
from grader.verdict import Category, CheckResult, ExerciseVerdict, Status

RELAXED = {"min_known_bugs": 1, "min_correct_variants": 0, "every_check_failed_by_a_bug": False}


def small_course(tmp_path, ids=("exercise1",), bugs=1, variants=0, rules=RELAXED):
    """A copy holding only these exercises, each with its first `bugs` known bugs and
    `variants` correct variants; course.yaml rewritten (comments are not needed here)."""
    manifest = yaml.safe_load((ROOT / "course.yaml").read_text())
    kept = []
    for entry in manifest["exercises"]:
        if entry["id"] not in ids:
            continue
        entry["known_bugs"] = entry.get("known_bugs", [])[:bugs]
        entry["correct_variants"] = entry.get("correct_variants", [])[:variants]
        for rel in [entry["file"], entry["solution"], entry["tests"], *(b["path"] for b in entry["known_bugs"]),
                    *entry["correct_variants"]]:
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / rel, tmp_path / rel)
        kept.append(entry)
    manifest["exercises"] = kept
    manifest["rules"] = dict(rules)
    (tmp_path / "course.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return tmp_path


def check(course, *args):
    """None of exercise 1's known bugs hangs: its own time limit costs nothing, and a shorter one
    could be reached by a loaded machine."""
    return main(["check", "--course", str(course), "--repeat", "1", *args])


def edit(path, old, new):
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


# -- the whole proof on the real exercise 1 ------------------------------------------------


def test_exercise1_as_it_stands_checks_out_step_by_step(tmp_path, capsys):
    for name in ("course.yaml", "exercises", "solutions", "tests/variants", "grader/hidden"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        copy(ROOT / name, tmp_path / name)
    course = load_course(tmp_path)
    assert check(tmp_path, "exercise1") == 0
    lines = capsys.readouterr().out.splitlines()
    exercise = course.find("exercise1")
    steps = [line.split(":", 1)[0] for line in lines if line.startswith("✓ exercise1")]
    assert steps == (["✓ exercise1 · manifest", "✓ exercise1 · stub", "✓ exercise1 · solution"]
                     + ["✓ exercise1 · known bug"] * len(exercise.known_bugs)
                     + ["✓ exercise1 · correct variant"] * len(exercise.correct_variants)
                     + ["✓ exercise1 · coverage"])
    assert not [line for line in lines if line.startswith("✗")]
    assert lines[-1].startswith("Everything looks fine!")


# -- what a check must catch ----------------------------------------------------------------


def test_a_known_bug_that_is_not_caught_as_claimed_is_a_problem(tmp_path, capsys):
    course = small_course(tmp_path)
    edit(course / "course.yaml", "category: lifecycle", "category: timeout")
    assert check(course) == 2
    out = capsys.readouterr().out
    assert "✗ exercise1 · known bug: tests/variants/exercise1/forgets_join.py should fail as timeout; " \
           "it fails as lifecycle" in out
    assert "1 problem(s) found" in out and "Everything looks fine!" not in out


def test_a_broken_solution_is_named_with_the_check_it_fails(tmp_path, capsys):
    course = small_course(tmp_path)
    edit(course / "solutions" / "exercise1_process.py", 'args=(results, "hello")', 'args=(results, "hi")')
    assert check(course) == 2
    problems = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✗")]
    assert problems and all(line.startswith("✗ exercise1 · solution: solutions/exercise1_process.py should pass")
                            for line in problems)
    assert "'args and kwargs reach the child'" in problems[0]


def test_a_weakened_check_that_lets_a_known_bug_pass_is_named(tmp_path, capsys):
    course = small_course(tmp_path, bugs=7, rules={"min_correct_variants": 0})  # is_alive_without_call: the 7th
    edit(course / "grader" / "hidden" / "test_exercise1_process.py",
         "expect(obs.value == expected,", "expect(True or obs.value == expected,")
    assert check(course) == 2
    out = capsys.readouterr().out
    assert ("✗ exercise1 · known bug: tests/variants/exercise1/is_alive_without_call.py should fail as "
            "wrong_result; it passes every check: a check is too weak to catch it") in out
    assert ("✗ exercise1 · coverage: no known bug fails the check 'is_alive(): False before start, True while "
            "running, False after terminate and join'") in out


def test_every_solution_run_is_a_line_and_two_exercises_are_checked_at_once(tmp_path, capsys, monkeypatch):
    course = small_course(tmp_path, ids=("exercise1", "exercise2"), rules={**RELAXED, "every_check_failed_by_a_bug": False})
    monkeypatch.setattr(validate, "HEARTBEAT_S", 0)  # a progress line whenever a second passes without news
    assert main(["check", "--course", str(course), "--repeat", "2", "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "… still grading: exercise" in out
    for exercise in ("exercise1", "exercise2"):
        assert out.count(f"✓ {exercise} · solution:") == 2
        assert "(run 2/2, " in out
        assert out.count(f"✓ {exercise} · known bug:") == 1
    assert "coverage" not in out  # the rule is off
    assert "Everything looks fine!" in out


def test_uncaught_checks_are_those_no_known_bug_fails_other_than_as_not_implemented():
    def verdict(*checks):
        results = tuple(CheckResult(name, status, category) for name, status, category in checks)
        return ExerciseVerdict("e", "e", "E", Status.FAIL, 0, 10, 0.0, results, 0)

    bugs = [verdict(("a", Status.FAIL, Category.WRONG_RESULT), ("b", Status.PASS, Category.PASS)),
            verdict(("b", Status.FAIL, Category.NOT_IMPLEMENTED), ("c", Status.SKIPPED, Category.TIMEOUT))]
    assert uncaught_checks(["a", "b", "c", "a"], bugs) == ["b", "c"]


# -- the manifest and the files: no grading needed ---------------------------------------------


def static_problems(course_root):
    course = load_course(course_root)
    return [f.text for f in static_findings(course, course.exercises) if not f.ok]


def test_a_sound_small_course_has_no_static_problem(tmp_path):
    assert static_problems(small_course(tmp_path)) == []


def test_a_stub_without_todo_is_reported(tmp_path):
    course = small_course(tmp_path)
    stub = course / "exercises" / "exercise1_process.py"
    stub.write_text(stub.read_text().replace("TODO", "to do"))
    assert static_problems(course) == ["exercises/exercise1_process.py: the stub has no TODO marker"]


def test_the_rules_come_from_course_yaml(tmp_path):
    course = small_course(tmp_path, rules={"min_checks": 8, "min_known_bugs": 2, "min_correct_variants": 1})
    assert static_problems(course) == [
        "1 known bug(s); the rules want at least 2: add variants under known_bugs",
        "0 correct variant(s); the rules want at least 1: add right-but-different solutions under correct_variants",
        "grader/hidden/test_exercise1_process.py: 7 check(s); the rules want at least 8 (rules.min_checks)",
    ]


def test_missing_files_are_named_by_their_line_and_stray_files_are_found(tmp_path):
    course = small_course(tmp_path)
    (course / "tests" / "variants" / "exercise1" / "forgets_join.py").unlink()
    (course / "solutions" / "old_copy.py").write_text("")
    problems = static_problems(course)
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{course / 'course.yaml'}:")
    assert "exercises[0].known_bugs[0].path: 'tests/variants/exercise1/forgets_join.py' does not exist." in problems[0]
    assert problems[1].startswith("solutions/old_copy.py is not named by course.yaml")


def test_check_course_yields_the_static_findings_first(tmp_path):
    course = load_course(small_course(tmp_path))
    (course.root / "exercises" / "stray.py").write_text("")
    first = next(check_course(course, list(course.exercises), repeat=1))
    assert (first.step, first.ok) == ("manifest", True)


def test_a_check_stopped_half_way_leaves_no_worker_running(tmp_path):
    course = load_course(small_course(tmp_path, ids=("exercise1", "exercise2")))
    findings = check_course(course, list(course.exercises), repeat=1, jobs=2)
    assert next(f for f in findings if f.step == "stub").ok
    findings.close()  # as when the command is interrupted: the workers are stopped
    assert [p for p in psutil.Process().children(recursive=True) if _live_worker(p)] == []


def _live_worker(p: psutil.Process) -> bool:
    """A check worker still running (one that has just died, a zombie or gone, is not)."""
    try:
        return p.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(p.cmdline())
    except psutil.Error:
        return False
