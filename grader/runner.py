"""Grading: the course and the submissions in, a verdict out.

`grade()` runs the hidden checks of the chosen exercises in this process with
grader/checkrun.py (student code runs only in the sandboxes of grader/runs.py), then turns
the checks' records into a `RunVerdict`. It also keeps the
course's own files safe: a snapshot taken before the run is compared after it, and any
file the student's code changed is put back and reported.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import confinement, schedule
from . import sandbox as sandbox_module
from .checkrun import CheckRecord, CheckRunner
from .confinement import weakest
from .course import Course, Exercise
from .i18n import N_, _
from .runs import Job, Runs
from .snapshot import Snapshot
from .verdict import Category, CheckResult, ExerciseVerdict, RunVerdict, Status, exercise_status

MISSING = N_("no {file} in the submission")  # a folder that lacks one exercise's file: that exercise is not done
OnExercise = Callable[[int, int, Exercise, "ExerciseVerdict | None"], None]
OnCheck = Callable[[str, str, CheckResult], None]


class GradingError(Exception):
    """The grader could not grade (never the student's fault): exit status 2."""


@dataclass(frozen=True)
class Options:
    start_methods: tuple[str, ...] | None = None  # restrict every exercise's matrix to these
    timeout: float | None = None  # override every exercise's timeout (tests use it to go faster)
    schedules: int | None = None  # --schedules: explore every driver under this many schedules
    seed: int | None = None  # --seed: replay this one schedule
    timeline: bool = False  # carry a bounded timeline of the runs in the verdict (grader/timeline.py)


def submission_for(exercise: Exercise, submission: Path | None) -> Path:
    """The student's file: the course's stub, a file given as is, or a same-named file in a folder.

    A folder may hold the file at its top or, as an upload of the whole course often does,
    in an `exercises/` folder inside it.
    """
    if submission is None:
        return exercise.file
    submission = Path(submission)
    if not submission.is_dir():
        return submission
    top = submission / exercise.file.name
    nested = submission / exercise.file.parent.name / exercise.file.name
    return nested if not top.is_file() and nested.is_file() else top


def missing_message(course: Course, exercise: Exercise) -> str:
    """What a check says when a submission folder lacks this exercise's file."""
    try:
        shown = exercise.file.relative_to(course.root)
    except ValueError:
        shown = Path(exercise.file.name)
    return _(MISSING).format(file=shown.as_posix())


def grade(course: Course, exercises: list[Exercise], submission: Path | None = None,
          options: Options = Options(), on_exercise: OnExercise | None = None,
          on_check: OnCheck | None = None) -> RunVerdict:
    """on_exercise(index, total, exercise, verdict) is called before each exercise (verdict None)
    and once it is graded: a long run then grades one exercise at a time, so that
    each exercise's result can be shown the moment it is known. on_check(exercise id, file
    shown, result) is called with each check's result the moment it is judged (one per start
    method), before the exercise's verdict exists."""
    if on_exercise is not None:
        return _grade_each(course, exercises, submission, options, on_exercise, on_check)
    sandbox_module.warm_up()
    jobs = [_job(course, ex, submission_for(ex, submission), options) for ex in exercises]
    in_folder = submission is not None and Path(submission).is_dir()
    for ex, job in zip(exercises, jobs, strict=True):
        if job.submission.is_file():
            continue
        if submission is not None and not in_folder:  # a file named on the command line
            raise GradingError(f"{job.submission}: no such file to grade")
        # One file missing from a folder is one exercise not done, not a run that cannot be graded.
        job.missing = missing_message(course, ex)
    empty = [ex.id for ex, job in zip(exercises, jobs, strict=True) if not job.start_methods]
    if empty:
        raise GradingError(f"no start method left to grade {', '.join(empty)} under: check --start-method")
    # Where the kernel keeps every sandbox out of the course's files there is nothing to undo:
    # no snapshot (a sandbox that Landlock did not confine after all runs nothing; see sandbox_child).
    snapshot = None if confinement.guards_files() else Snapshot.take(course.root)
    sandbox_module.reset_cancel()
    started = time.monotonic()
    runs = Runs()
    shown = {job.exercise_id: _shown_path(job.submission) for job in jobs}
    checks = CheckRunner(jobs, runs, None if on_check is None else
                         lambda record: on_check(record.exercise_id, shown[record.exercise_id], _check_result(record)))
    interrupted: KeyboardInterrupt | None = None
    try:
        if snapshot is None:
            # The first exercise's sandboxes run while the hidden modules load. Only where the
            # kernel keeps the course's files safe: elsewhere the student's import could rewrite a
            # hidden module before it is read, so the sandboxes wait for the modules.
            runs.start(jobs[0])
        checks.load()
        with contextlib.redirect_stdout(sys.stderr):  # nothing a check prints may reach a JSON stdout
            checks.run()
        for job in jobs:
            if runs.asked(job):  # each check waited for its own driver: count what every run saw
                runs.wait(job)
    except KeyboardInterrupt as stop:  # the sandboxes are stopped; the course's files are still checked
        interrupted = stop
    finally:
        runs.close()
    # Where the kernel kept every sandbox from writing, a changed course file is not the
    # student's doing (an instructor editing while a class is graded): nothing is undone or blamed.
    reports = [report for job in jobs for report in job.confinement.values()]
    confined = bool(reports) and all(report.get("fs") for report in reports)
    written = set().union(*(job.written_paths for job in jobs))
    changed = [] if confined or snapshot is None else snapshot.restore_changes(written)
    if snapshot is not None and not confined:
        # A .pyc planted for the next grading never runs. Named when the probe saw the student's
        # code write it: the grader's own (a hidden module's, compiled as it loaded) are deleted too, unnamed.
        changed += [f"{os.path.relpath(path, course.root)} (added; removed)" for path in snapshot.drop_new_bytecode()
                    if path in written]
    _forget_hidden_modules(jobs)
    if interrupted is not None:
        raise interrupted
    elapsed = time.monotonic() - started
    verdicts = tuple(_verdict(ex, job, checks, elapsed if len(jobs) == 1 else job.seconds, changed, options.timeline)
                     for ex, job in zip(exercises, jobs, strict=True))
    return RunVerdict(exercises=verdicts, title=course.title,
                      final_message=course.final_message if len(exercises) == len(course.exercises) else "")


def _grade_each(course: Course, exercises: list[Exercise], submission: Path | None, options: Options,
                on_exercise: OnExercise, on_check: OnCheck | None) -> RunVerdict:
    verdicts: list[ExerciseVerdict] = []
    for index, exercise in enumerate(exercises):
        on_exercise(index, len(exercises), exercise, None)
        (verdict,) = grade(course, [exercise], submission, options, on_check=on_check).exercises
        verdicts.append(verdict)
        on_exercise(index, len(exercises), exercise, verdict)
    return RunVerdict(exercises=tuple(verdicts), title=course.title,
                      final_message=course.final_message if len(exercises) == len(course.exercises) else "")


def _forget_hidden_modules(jobs: list[Job]) -> None:
    """A hidden module stays in sys.modules under its name once loaded: the
    next grading in this process (another copy of the course, an edited hidden module under
    `grade check`) must import the hidden modules afresh."""
    files = {job.tests.resolve() for job in jobs}
    names = {file.name for file in files}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and os.path.basename(file) in names and Path(file).resolve() in files:
            del sys.modules[name]


def _job(course: Course, exercise: Exercise, submission: Path, options: Options) -> Job:
    methods = exercise.start_methods
    if options.start_methods:
        methods = tuple(m for m in methods if m in options.start_methods)
    return Job(exercise_id=exercise.id, tests=exercise.tests, submission=submission.resolve(),
               module_name=exercise.file.stem, start_methods=methods,
               timeout=options.timeout or exercise.timeout, limits=exercise.limits,
               schedules=options.schedules or exercise.schedules, schedules_forced=options.schedules is not None,
               seed=options.seed)


def _verdict(exercise: Exercise, job: Job, checks_run: CheckRunner, seconds: float,
             changed: list[str], timeline: bool = False) -> ExerciseVerdict:
    records = [r for r in checks_run.records if r.exercise_id == exercise.id]
    checks = [_check_result(r) for r in records]
    if len(job.start_methods) > 1:
        checks = _start_method_advice(job, checks_run, records, checks)
    message = ""
    if exercise.id in checks_run.load_errors:
        message = (_("The hidden checks of this exercise could not be loaded:") + "\n"
                   + checks_run.load_errors[exercise.id])
        checks.append(CheckResult(name=_("the hidden checks load"), status=Status.ERROR, category=Category.ERROR,
                                  message=message))
    elif not checks:
        message = _("The hidden checks of this exercise define no checks.")
    escape = escape_message(changed, job.escapes)
    if escape:
        checks.append(CheckResult(
            name=_("your code leaves the course's files alone"), status=Status.FAIL, category=Category.CRASH,
            message=escape))
    checks_t = tuple(checks)
    status = Status.ERROR if message else exercise_status(checks_t)
    return ExerciseVerdict(
        exercise=exercise.id, slug=exercise.slug, title=exercise.title, status=status,
        score=_score(checks_t, exercise.points), max_score=_number(exercise.points), duration_s=seconds,
        checks=checks_t, leftover_processes=job.leftovers, hint=exercise.hint,
        file=_shown_path(job.submission), message=message, schedules=_schedules(exercise, job, checks_t),
        confinement=weakest(job.confinement.values()),
        timelines=_timelines(job, checks_run, records) if timeline else (),
    )


def _start_method_advice(job: Job, checks_run: CheckRunner, records: list[CheckRecord], checks: list) -> list:
    """Where a check's category differs between start methods, its failures say why (startmethods.py)."""
    from .startmethods import Outcome, annotate

    def outcome(record: CheckRecord) -> Outcome:
        runs = checks_run.runs_of(job.exercise_id, record.start_method)
        obs = runs and (runs.observations.get(record.driver) or runs.import_failure)
        error = f"{obs.error.type}: {obs.error.message} {obs.error.remote_traceback}" if obs and obs.error else ""
        return Outcome(record.start_method or "", record.category, error, obs.output if obs else "")

    def outcomes_of(name: str) -> list[Outcome]:
        return [outcome(r) for r in records if r.name == name and r.status != "skipped"]

    try:
        source = job.submission.read_text(errors="replace")
    except OSError:
        source = ""
    failing = [c if c.status is Status.FAIL else None for c in checks]
    annotated = annotate([c for c in checks if c.status is Status.FAIL], outcomes_of, source)
    it = iter(annotated)
    return [next(it) if f is not None else c for c, f in zip(checks, failing, strict=True)]


def _timelines(job: Job, checks_run: CheckRunner, records: list[CheckRecord]) -> tuple[dict, ...]:
    """Per start method, the timeline of the run the first failing check judged (else the first run)."""
    from . import timeline

    made = []
    for method in job.start_methods:
        runs = checks_run.runs_of(job.exercise_id, method)
        if runs is None:
            continue
        failed = next((r.driver for r in records if r.start_method == method and r.status != "pass" and r.driver
                       and r.driver in runs.observations), None)
        driver = failed or next(iter(runs.observations), None)
        if driver is not None:
            made.append(timeline.build(runs.observations[driver], label=f"{driver} [{method}]"))
    return tuple(made)


def _schedules(exercise: Exercise, job: Job, checks: tuple[CheckResult, ...]) -> dict | None:
    """What schedule exploration did for this exercise (None when every driver ran once, unperturbed)."""
    if job.explored < 2 and job.seed is None:
        return None
    failing = next((c.seed for c in checks if c.seed and c.status is Status.FAIL), None)
    seed = job.seed if job.seed is not None else failing
    return {
        "count": job.explored, "strategy": schedule.strategy_of(job.seed) if job.seed is not None else "random+pct",
        "replayed": job.seed is not None, "seed": seed,
        "replay": f"grade {exercise.id} --seed {seed}" if seed else None,
    }


def _check_result(record: CheckRecord) -> CheckResult:
    return CheckResult(name=record.name, status=Status(record.status), category=Category(record.category),
                       message=record.message, start_method=record.start_method, duration_s=record.duration_s,
                       location=record.location, output=record.output, seed=record.seed)


def _score(checks: tuple[CheckResult, ...], points: float) -> float:
    """An equal share per distinct check, earned when it passed under every start method."""
    names: dict[str, bool] = {}
    for c in checks:
        names[c.name] = names.get(c.name, True) and c.status is Status.PASS
    if not names:
        return 0
    return _number(round(points * sum(names.values()) / len(names), 2))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


_REFUSED = {  # what the probe saw refused -> how the student is told (msgids)
    "write": N_("write to {target} ({where})"), "rename": N_("rename {target} ({where})"),
    "remove": N_("remove {target} ({where})"), "truncate": N_("truncate {target} ({where})"),
    "link": N_("link {target} ({where})"), "create": N_("create the folder {target} ({where})"),
    "signal": N_("send a signal to process {target}, which is not one of its own ({where})"),
    "connect": N_("connect to {target} over TCP ({where})"), "bind": N_("listen on {target} over TCP ({where})"),
}
_BYPASS = {"shell": N_("ran the shell command `{target}` ({where})"),
           "ctypes": N_("called the C library's {target}() through ctypes ({where})")}
RESTORED = N_("Your code changed files outside its own copy; the grader put them back: {files}.")
REFUSED = N_("Your code tried to {attempts}. The sandbox refused: code under test may write only in its own "
             "folder, signal only its own processes, and use no network.")
BYPASSED = N_("Your code {attempts}. Going around Python's own file and process functions is not allowed in a "
              "graded submission: use multiprocessing and open().")
SHOWN_ATTEMPTS = 8


def escape_message(changed: list[str], escapes: list) -> str:
    """What the student's code did outside its sandbox, for the student; "" when nothing."""
    parts = [_(RESTORED).format(files=", ".join(changed))] if changed else []
    found: dict[str, list[str]] = {"sandbox.refused": [], "sandbox.bypass": []}
    for e in escapes:
        table = _REFUSED if e.kind == "sandbox.refused" else _BYPASS
        template = table.get(e.get("what"))
        if template is None:
            continue
        line = _(template).format(target=e.get("target"), where=e.where or "?")
        if line not in found[e.kind]:
            found[e.kind].append(line)
    for kind, sentence in (("sandbox.refused", REFUSED), ("sandbox.bypass", BYPASSED)):
        if found[kind]:
            parts.append(_(sentence).format(attempts="; ".join(found[kind][:SHOWN_ATTEMPTS])))
    return " ".join(parts)
