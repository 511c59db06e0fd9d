"""The GitHub Actions reporter and the class book (gradebook CSV, class report), on verdicts built in code."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from test_report import error_exercise, failing_exercise, passing_exercise, run_of

from grader.report import classbook, github
from grader.verdict import RunVerdict

# ----------------------------------------------------------------------------- github


def test_one_annotation_per_failing_check_at_the_students_line():
    lines = github.render(run_of(failing_exercise())).splitlines()
    annotations = [line for line in lines if line.startswith("::error ")]
    assert len(annotations) == 4  # two failed checks, two only skipped (not run after the hang)
    first = annotations[0]
    assert first.startswith("::error file=exercises/exercise5_queue.py,line=23,title=exercise5 · the total is right::")
    assert "\n" not in first and "%0A" in first, "a multi-line message stays one workflow command"
    assert "Expected the total 4950, got 0" in first
    assert annotations[1].startswith("::error file=exercises/exercise5_queue.py,line=31,")
    assert lines[-1].startswith("exercise5 (queue): fail · 2/10")


def test_workflow_command_escapes():
    assert github._data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert github._property("a: b, c") == "a%3A b%2C c"


def test_a_passing_run_has_no_annotation_and_a_summary_of_checks():
    run = run_of(passing_exercise())
    assert "::error" not in github.render(run)
    summary = github.summary(run)
    assert "| ✅ | `exercise1` Process basics | 10/10 | 2/2 |" in summary
    assert "| ✅ | children report their own name and pid | fork, forkserver, spawn |  |" in summary


def test_summary_cells_never_break_the_table():
    summary = github.summary(run_of(failing_exercise(), error_exercise()))
    for line in summary.splitlines():
        if line.startswith("| ") and "could not" not in line:
            assert line.count(" | ") + 2 == line.count("|") - line.count("\\|"), line
    assert "Grader error: hidden checks grader/hidden/test_exercise3_semaphore.py could not be imported" in summary


def test_a_grader_error_is_annotated_on_the_file():
    line = github.render(run_of(error_exercise())).splitlines()[0]
    assert line.startswith("::error file=exercises/exercise3_semaphore.py,title=exercise3 · grader error::")


# ----------------------------------------------------------------------------- class book


@dataclass(frozen=True)
class Row:
    student: str
    run: RunVerdict | None
    document: dict = field(default_factory=dict)
    error: str = ""
    fault: str = ""
    seconds: float = 0.0


COLUMNS = [classbook.ExerciseColumn("exercise1", "Process basics", 10),
           classbook.ExerciseColumn("exercise5", "Queue", 10)]


def rows() -> list[Row]:
    return [Row("ann", run_of(passing_exercise(), failing_exercise()), seconds=12.5),
            Row("bob", None, error="the zip could not be read (bad)", fault="student"),
            Row("cy", run_of(passing_exercise()), seconds=3.0)]


def test_gradebook_columns_points_and_error_rows():
    table = list(csv.reader(io.StringIO(classbook.gradebook_csv(COLUMNS, rows()))))
    assert table[0] == ["student", "exercise1", "exercise5", "total", "status", "note"]
    assert table[1] == ["Points Possible", "10", "10", "20", "", ""]
    assert table[2] == ["ann", "10", "2", "12", "fail", ""]
    assert table[3] == ["bob", "", "", "", "error", "the zip could not be read (bad)"]
    assert table[4] == ["cy", "10", "", "10", "pass", ""], "an exercise not in the verdict is an empty cell"


def test_class_summary_counts_a_hang_once_not_per_skipped_check():
    summary = classbook.class_summary(COLUMNS, rows())
    assert summary["students"] == 3 and summary["graded"] == 2 and summary["all_pass"] == 1
    categories = {c["category"]: c["count"] for c in summary["categories"]}
    assert categories == {"wrong_result": 1, "timeout": 1}
    ex5 = next(e for e in summary["exercises"] if e["id"] == "exercise5")
    assert ex5["graded"] == 1 and ex5["passed"] == 0
    checks = {c["name"]: c for c in ex5["checks"]}
    assert checks["workers each get a share"]["rate"]["percent"] == 100
    assert checks["results come back in order"]["passed"] == 0, "a skipped check is not a pass"
    assert summary["slowest"][0]["student"] == "ann" and summary["slowest"][0]["timeouts"] == 1
    assert [c["student"] for c in summary["concerns"]] == ["ann"]  # two processes left running in exercise5
    assert summary["errors"] == [{"student": "bob", "fault": "student", "error": "the zip could not be read (bad)"}]


def test_class_report_html_escapes_what_students_wrote():
    evil = Row("<script>alert(1)</script>", run_of(passing_exercise()))
    html = classbook.class_report_html("Course", COLUMNS, [evil])
    assert "<script>alert" not in html and "&lt;script&gt;" in html
