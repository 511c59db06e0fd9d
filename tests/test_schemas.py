"""Every published format keeps its contract, on success and on every error path.

The schemas in tests/schemas/ were written from each format's own documentation
(Gradescope's autograder specification, Exercism's test-runner interface version 3, our
DESIGN.md for the JSON verdict). Here every reporter's document is validated against
them: on verdicts built in code, on a real grading run, on a partial submission, and on
the documents written when nothing could be graded (a usage error included).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from test_report import error_exercise, failing_exercise, passing_exercise, run_of

from grader import report
from grader.cli import main
from grader.runner import Options, grade

SCHEMAS = Path(__file__).parent / "schemas"
SCHEMA_OF = {
    "json": "grade-verdict.schema.json",
    "gradescope": "gradescope-results.schema.json",
    "exercism": "exercism-results-v3.schema.json",
}
SOLUTION = ROOT / "solutions" / "exercise1_process.py"


def validate(fmt: str, document: str) -> dict:
    data = json.loads(document)  # exactly one JSON document: json.loads refuses trailing text
    schema = json.loads((SCHEMAS / SCHEMA_OF[fmt]).read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    return data


def junit_errors(document: str) -> list[ET.Element]:
    root = ET.fromstring(document)
    assert root.tag == "testsuites"
    return [case for case in root.iter("testcase") if case.find("error") is not None]


@pytest.mark.parametrize("name", sorted(SCHEMA_OF.values()))
def test_each_schema_is_a_valid_schema(name):
    jsonschema.Draft202012Validator.check_schema(json.loads((SCHEMAS / name).read_text()))


@pytest.mark.parametrize("fmt", sorted(SCHEMA_OF))
def test_the_schemas_refuse_what_the_formats_forbid(fmt):
    bad = {"json": {"exercise": "exercise1", "status": "maybe"},
           "gradescope": {"score": 1, "tests": [{"status": "skipped"}]},
           "exercism": {"version": 2, "status": "pass", "tests": []}}[fmt]
    with pytest.raises(jsonschema.ValidationError):
        validate(fmt, json.dumps(bad))


@pytest.mark.parametrize("fmt", sorted(SCHEMA_OF))
@pytest.mark.parametrize("exercises", [(passing_exercise(),), (failing_exercise(),),
                                       (passing_exercise(), failing_exercise()),
                                       (passing_exercise(), error_exercise())], ids=["pass", "fail", "two", "error"])
def test_every_reporter_writes_a_valid_document(fmt, exercises):
    validate(fmt, report.render(run_of(*exercises), fmt))


def test_exercism_is_version_3_and_an_error_says_why():
    data = validate("exercism", report.render(run_of(passing_exercise(), error_exercise()), "exercism"))
    assert data["version"] == 3 and data["status"] == "error" and data["message"]


@pytest.mark.parametrize("fmt", sorted(SCHEMA_OF))
def test_the_error_document_of_each_format_is_valid(fmt):
    data = validate(fmt, report.render_error(fmt, "course.yaml: no such file."))
    assert "course.yaml: no such file." in json.dumps(data)


def test_junit_on_an_error_has_one_error_testcase():
    errors = junit_errors(report.render_error("junit", "course.yaml: no such file."))
    assert len(errors) == 1 and "no such file" in errors[0].find("error").text


@pytest.mark.parametrize("fmt", [*sorted(SCHEMA_OF), "junit"])
def test_a_usage_error_still_writes_one_document_on_stdout(fmt):
    proc = subprocess.run([sys.executable, "-m", "grader", "exercise1", "--submission", "/no/such/file.py",
                           "--format", fmt, "--course", str(ROOT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no such file or folder" in proc.stderr
    if fmt == "junit":
        assert len(junit_errors(proc.stdout)) == 1
    else:
        assert validate(fmt, proc.stdout)


@pytest.mark.parametrize("argv", [["--format", "json", "--bogus"], ["--format=json", "--start-method", "thread"],
                                  ["exercise1", "--all", "--format", "json"]], ids=["unknown", "choice", "both"])
def test_an_argparse_error_goes_to_the_output_file_too(argv, tmp_path, capsys):
    out = tmp_path / "report.json"
    assert main([*argv, "--output", str(out), "--course", str(ROOT)]) == 2
    data = validate("json", out.read_text())
    assert data["status"] == "error" and data["message"]
    assert capsys.readouterr().out == "", "the document went to --output, nothing to stdout"


# ---------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def one_file_run(course, tmp_path_factory):
    """--all over a folder holding only exercise 1's file: what a one-exercise submission gets."""
    folder = tmp_path_factory.mktemp("submission")
    shutil.copy(SOLUTION, folder / SOLUTION.name)
    return grade(course, list(course.exercises), folder, Options(start_methods=("fork",)))


@pytest.mark.parametrize("fmt", sorted(SCHEMA_OF))
def test_a_real_run_is_valid_in_every_format(one_file_run, fmt):
    validate(fmt, report.render(one_file_run, fmt))
    junit_errors(report.render(one_file_run, "junit"))  # parses


def test_a_partial_submission_grades_what_is_there(one_file_run, course):
    first, *rest = one_file_run.exercises
    assert first.exercise == "exercise1" and first.status.value == "pass" and first.score == first.max_score
    for ex in rest:
        assert ex.status.value == "fail" and ex.score == 0 and ex.checks
        assert {c.category.value for c in ex.checks} == {"not_implemented"}, ex.exercise
    lock = next(ex for ex in rest if ex.exercise == "exercise2")
    assert "no exercises/exercise2_lock.py in the submission" in lock.checks[0].message


def test_gradescope_gives_a_one_exercise_submission_its_points(one_file_run):
    data = validate("gradescope", report.render(one_file_run, "gradescope"))
    points = sum(t["score"] for t in data["tests"] if t["name"].startswith("exercise1 · "))
    assert points == pytest.approx(10) and data["score"] == pytest.approx(10)


@pytest.mark.parametrize("layout", ["empty", "other", "nested"])
def test_a_folder_with_no_file_or_another_exercises_file_exits_1(layout, tmp_path, capsys):
    folder = tmp_path / "submission"
    folder.mkdir()
    if layout == "other":
        (folder / "exercise99_unknown.py").write_text("x = 1\n")
    if layout == "nested":  # the whole course folder uploaded: files under exercises/
        (folder / "exercises").mkdir()
        shutil.copy(SOLUTION, folder / "exercises" / SOLUTION.name)
    code = main(["exercise1", "exercise2", "--submission", str(folder), "--format", "json", "--start-method",
                 "fork", "--course", str(ROOT)])
    data = validate("json", capsys.readouterr().out)
    assert code == 1 and data["status"] == "fail"
    statuses = {ex["exercise"]: ex["status"] for ex in data["exercises"]}
    assert statuses == {"exercise1": "pass" if layout == "nested" else "fail", "exercise2": "fail"}
