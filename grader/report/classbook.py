"""A class's results: the gradebook CSV and the class report in HTML.

Where the other reporters turn one student's `RunVerdict` into a document, these take a
whole class: one row per student (`grade batch` makes them) with the verdict, or why
there is none. The gradebook has one column per exercise in course order and the total,
as points, so an LMS (Canvas, Moodle) imports it as a grade column each. The report says
what an instructor asks after a batch: which exercises and checks the class passes, the
most common kinds of failure and messages, the slowest submissions, and the students
whose code left processes running or touched what it should not.

Pure: rows in, text out. Imports `grader.verdict` (and `_common`) only; the HTML comes
from the jinja2 template `grader/templates/batch/report.html.j2`.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import jinja2

from grader.report._common import clean, group_checks, number, shorten
from grader.verdict import RunVerdict, Status

TOP = 10  # rows in the "most common" and "slowest" tables
TAMPER_CHECK = "your code leaves the course's files alone"  # the runner's check when files were put back


class StudentRow(Protocol):
    """What `grade batch` hands over per student (grader.batch.StudentResult)."""

    student: str
    run: RunVerdict | None  # None: not graded, see error
    document: dict  # the verdict as written, with fields RunVerdict does not keep
    error: str
    fault: str  # "student" or "grader", when error is set
    seconds: float


@dataclass(frozen=True)
class ExerciseColumn:
    id: str
    title: str
    points: float


# ----------------------------------------------------------------------------- gradebook


def gradebook_csv(exercises: Sequence[ExerciseColumn], rows: Sequence[StudentRow]) -> str:
    """One row per student: points per exercise in course order, the total, and a note.

    A student who could not be graded gets empty cells (an LMS then changes nothing) and
    the reason in `note`; an exercise the grader could not judge is named there too.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *(e.id for e in exercises), "total", "status", "note"])
    writer.writerow(["Points Possible", *(number(e.points) for e in exercises),
                     number(sum(e.points for e in exercises)), "", ""])
    for row in rows:
        if row.run is None:
            writer.writerow([row.student, *([""] * len(exercises)), "", "error", _one_line(row.error)])
            continue
        by_id = {ex.exercise: ex for ex in row.run.exercises}
        cells = [number(by_id[e.id].score) if e.id in by_id else "" for e in exercises]
        errors = [ex.exercise for ex in row.run.exercises if ex.status is Status.ERROR]
        note = f"grader error in {', '.join(errors)}" if errors else ""
        writer.writerow([row.student, *cells, number(row.run.score), row.run.status.value, note])
    return out.getvalue()


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ----------------------------------------------------------------------------- class report


def class_report_html(title: str, exercises: Sequence[ExerciseColumn], rows: Sequence[StudentRow],
                      generated: str = "") -> str:
    """The class report as one self-contained HTML page."""
    env = jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]),
                             trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("batch/report.html.j2")
    return template.render(title=title, generated=generated, **class_summary(exercises, rows))


def class_summary(exercises: Sequence[ExerciseColumn], rows: Sequence[StudentRow]) -> dict:
    """Everything the report shows, as plain data (the template only lays it out)."""
    graded = [r for r in rows if r.run is not None]
    totals = [r.run.score for r in graded]
    max_total = sum(e.points for e in exercises)
    return {
        "students": len(rows),
        "graded": len(graded),
        "all_pass": sum(r.run.status is Status.PASS for r in graded),
        "max_total": number(max_total),
        "mean": number(statistics.fmean(totals)) if totals else "–",
        "median": number(statistics.median(totals)) if totals else "–",
        "exercises": _per_exercise(exercises, graded),
        "categories": _categories(graded),
        "messages": _messages(graded),
        "slowest": _slowest(rows),
        "concerns": _concerns(graded),
        "errors": [{"student": r.student, "fault": r.fault, "error": r.error} for r in rows if r.run is None],
        "students_table": _students(exercises, rows),
    }


def _failures(row: StudentRow):
    """(exercise, check name, the failure) for every check this student's code failed.

    A check that was only skipped (its sandbox had already hung or crashed in the check
    before) is left out: the failure that stopped the sandbox is counted once, where it
    happened, so one hang does not read as seven.
    """
    for ex in row.run.exercises:
        for group in group_checks(ex.checks):
            judged = next((r for r in group.problems if r.status in (Status.FAIL, Status.ERROR)), None)
            if judged is not None:
                yield ex, group.name, judged


def _per_exercise(exercises: Sequence[ExerciseColumn], graded: Sequence[StudentRow]) -> list[dict]:
    result = []
    for column in exercises:
        verdicts = [ex for r in graded for ex in r.run.exercises if ex.exercise == column.id]
        checks: dict[str, list[bool]] = {}
        failing: dict[str, Counter] = {}
        for ex in verdicts:
            for group in group_checks(ex.checks):
                checks.setdefault(group.name, []).append(group.status is Status.PASS)
                if group.status is not Status.PASS and group.problems:
                    failing.setdefault(group.name, Counter())[group.problems[0].category.value] += 1
        passed = sum(ex.status is Status.PASS for ex in verdicts)
        result.append({
            "id": column.id, "title": column.title, "points": number(column.points),
            "graded": len(verdicts), "passed": passed, "rate": _rate(passed, len(verdicts)),
            "mean": number(statistics.fmean(ex.score for ex in verdicts)) if verdicts else "–",
            "checks": [{"name": name, "passed": sum(oks), "ran": len(oks), "rate": _rate(sum(oks), len(oks)),
                        "category": failing[name].most_common(1)[0][0] if name in failing else ""}
                       for name, oks in checks.items()],
        })
    return result


def _categories(graded: Sequence[StudentRow]) -> list[dict]:
    """Failed checks by category: one count per (student, exercise, check), skipped ones left out."""
    counter: Counter = Counter()
    students: dict[str, set] = {}
    for row in graded:
        for _, _, failure in _failures(row):
            category = failure.category.value
            counter[category] += 1
            students.setdefault(category, set()).add(row.student)
    return [{"category": c, "count": n, "students": len(students[c])} for c, n in counter.most_common()]


def _messages(graded: Sequence[StudentRow]) -> list[dict]:
    """The most common failure messages, by their first line, with who got them."""
    counter: Counter = Counter()
    who: dict[tuple, list[str]] = {}
    for row in graded:
        for ex, name, failure in _failures(row):
            if not failure.message.strip():
                continue
            key = (ex.exercise, name, failure.category.value, shorten(clean(failure.message), 140))
            counter[key] += 1
            who.setdefault(key, []).append(row.student)
    return [{"exercise": k[0], "check": k[1], "category": k[2], "message": k[3], "count": n,
             "students": ", ".join(who[k][:5]) + (" …" if len(who[k]) > 5 else "")}
            for k, n in counter.most_common(TOP)]


def _slowest(rows: Sequence[StudentRow]) -> list[dict]:
    ordered = sorted(rows, key=lambda r: r.seconds, reverse=True)[:TOP]
    return [{"student": r.student, "seconds": f"{r.seconds:.1f}",
             "timeouts": sum(f.category.value == "timeout" for _, _, f in _failures(r)) if r.run else 0,
             "status": r.run.status.value if r.run else "error"} for r in ordered]


def _concerns(graded: Sequence[StudentRow]) -> list[dict]:
    """Students whose code left processes running, changed course files, or met the confinement."""
    result = []
    for row in graded:
        leftovers = {ex.exercise: ex.leftover_processes for ex in row.run.exercises if ex.leftover_processes}
        tampered = [ex.exercise for ex in row.run.exercises
                    if any(c.name == TAMPER_CHECK and c.status is not Status.PASS for c in ex.checks)]
        findings = _confinement_findings(row.document)
        if leftovers or tampered or findings:
            result.append({
                "student": row.student,
                "leftovers": ", ".join(f"{k}: {v}" for k, v in leftovers.items()),
                "tampered": ", ".join(tampered),
                "confinement": "; ".join(findings),
            })
    return result


def _confinement_findings(document: dict) -> list[str]:
    """What the confinement stopped or could not apply, per exercise, as the verdict states it."""
    findings = []
    exercises = document.get("exercises", [document]) if isinstance(document, dict) else []
    for ex in exercises:
        confinement = ex.get("confinement") if isinstance(ex, dict) else None
        if not isinstance(confinement, dict):
            continue
        for key in ("findings", "denied", "blocked", "violations"):
            items = confinement.get(key)
            if items:
                shown = ", ".join(map(str, items)) if isinstance(items, list) else str(items)
                findings.append(f"{ex.get('exercise', '?')}: {key} {shown}")
    return findings


def _students(exercises: Sequence[ExerciseColumn], rows: Sequence[StudentRow]) -> list[dict]:
    table = []
    for row in rows:
        by_id = {ex.exercise: ex for ex in row.run.exercises} if row.run else {}
        cells = []
        for column in exercises:
            ex = by_id.get(column.id)
            cells.append({"score": number(ex.score), "status": ex.status.value} if ex else
                         {"score": "", "status": "none"})
        table.append({"student": row.student, "cells": cells, "seconds": f"{row.seconds:.1f}",
                      "total": number(row.run.score) if row.run else "", "status": row.run.status.value
                      if row.run else "error", "error": row.error})
    return table


def _rate(part: int, whole: int) -> dict:
    percent = round(100 * part / whole) if whole else 0
    return {"percent": percent, "text": f"{percent}%" if whole else "–"}
