"""`grade batch SUBMISSIONS --out DIR`: grade a class, write the gradebook and the class report.

The command part: options, the progress line, and where the files go. Grading is
grader/batch.py; the gradebook and the report are grader/report/classbook.py.

Exit status: 0 every submission was graded (whatever the students scored); 1 some
submission could not be graded through the student's doing (a corrupt or unsafe zip);
2 the call, the course or the grader is at fault (for the batch, or for some student).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ..course import load_course
from ..i18n import N_
from ._common import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, add_course_option, find_course

HELP = N_("(instructors) grade a folder of submissions: verdicts, a gradebook CSV, a class report")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS",
                        help="a folder holding one folder or one .zip per student, each standing in for exercises/")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="where verdicts (students/), gradebook.csv and report.html go; "
                             "run again with the same DIR to resume")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                        help="students graded at once (default: twice the number of CPU cores)")
    parser.add_argument("--exercises", action="append", default=None, metavar="ID[,ID...]",
                        help="grade only these exercises (ids or slugs; repeatable or comma-separated)")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="override every exercise's time limit per check")
    parser.add_argument("--start-method", action="append", dest="start_methods", default=None, metavar="METHOD",
                        choices=("fork", "forkserver", "spawn"), help="grade only under this start method")
    add_course_option(parser)


def run(args) -> int:
    from ..batch import Batch, BatchOptions, find_submissions
    from ..report.classbook import ExerciseColumn, class_report_html, gradebook_csv

    parser = args.parser
    course = load_course(find_course(args.course))
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions}: not a folder (give the folder that holds one folder or zip per student)")
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be 1 or more")
    names = [n.strip() for item in (args.exercises or []) for n in item.split(",") if n.strip()]
    wanted = {course.find(n).id for n in names}
    exercises = [e for e in course.exercises if not wanted or e.id in wanted]
    course.require_checks(exercises)  # a students' edition cannot grade: say so once, not once per student
    submissions, ignored = find_submissions(args.submissions, out=args.out)
    for line in ignored:
        print(f"grade batch: ignored {line}", file=sys.stderr)
    if not submissions:
        parser.error(f"{args.submissions}: no student folder or .zip in it")
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    jobs = args.jobs or GRADINGS_PER_CORE * _cores()
    options = BatchOptions(course=course, exercises=tuple(e.id for e in exercises), out=out, jobs=jobs,
                           timeout=args.timeout, start_methods=tuple(args.start_methods or ()))
    progress = Progress(len(submissions), jobs)
    print(f"Grading {len(submissions)} submissions, {len(exercises)} exercises each, {jobs} at a time "
          f"→ {out}", file=sys.stderr, flush=True)
    results = Batch(options).run(submissions, progress.update)
    progress.finish()

    columns = [ExerciseColumn(e.id, e.title, e.points) for e in exercises]
    (out / "gradebook.csv").write_text(gradebook_csv(columns, results))
    stamp = time.strftime("%Y-%m-%d %H:%M %Z")
    (out / "report.html").write_text(class_report_html(course.title, columns, results, generated=stamp))
    print(f"Wrote {out / 'gradebook.csv'}, {out / 'report.html'} and {len(results)} verdicts in "
          f"{out / 'students'}", file=sys.stderr)
    if any(r.run is None and r.fault == "grader" for r in results):
        return EXIT_ERROR
    if any(r.run is not None and r.run.status.value == "error" for r in results):
        return EXIT_ERROR
    return EXIT_FAIL if any(r.run is None for r in results) else EXIT_PASS


class Progress:
    """students done, failing, not graded, and time left, on one line (a line per student off a terminal)."""

    def __init__(self, total: int, jobs: int):
        self.total, self.jobs = total, jobs
        self.done = self.failing = self.errors = self.graded_now = 0
        self.spent = 0.0  # seconds of grading done in this run (resumed students cost none)
        self.started = time.monotonic()
        self.tty = is_tty_stderr()

    def update(self, result) -> None:
        self.done += 1
        if result.run is None or result.run.status.value == "error":
            self.errors += 1
        elif result.run.status.value == "fail":
            self.failing += 1
        if not result.resumed:
            self.graded_now += 1
        line = self.line()
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
        else:
            score = "not graded" if result.run is None else f"{_n(result.run.score)}/{_n(result.run.max_score)}"
            what = "resumed" if result.resumed else f"{result.seconds:.1f} s"
            sys.stderr.write(f"{line} · {result.student}: {score} ({what})\n")
        sys.stderr.flush()

    def line(self) -> str:
        width = 24
        filled = width * self.done // max(1, self.total)
        bar = "#" * filled + (">" if filled < width else "") + "-" * max(0, width - filled - 1)
        return (f"[{bar}] {self.done}/{self.total} students · {self.failing} failing · {self.errors} not graded"
                f" · {self.eta()}")

    def eta(self) -> str:
        left = self.total - self.done
        if left == 0:
            return f"done in {_duration(time.monotonic() - self.started)}"
        if self.graded_now == 0:
            return "time left: estimating"
        per_student = (time.monotonic() - self.started) / self.graded_now  # wall time, jobs already in it
        return f"about {_duration(per_student * left)} left"

    def finish(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def is_tty_stderr() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _n(value: float) -> str:
    return f"{value:g}"


# A student's grading keeps about half a core busy: its sandboxes also wait (an explored schedule's
# delays, a hang's timeout, spawn children starting up). 40 students on 2 cores, idle machine:
# --jobs 2 kept each core 62-69 % busy (38 students/min), --jobs 4 91-92 % (53.6/min).
GRADINGS_PER_CORE = 2


def _cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
