"""`grade check`: an instructor's proof that the course's hidden checks really catch bugs.

In the order a person checks: the manifest (every file it names exists, every exercise
meets the course's `rules:`, every stub has a TODO, a docstring and raises
NotImplementedError, nothing is still the example `grade new` wrote); no file in
exercises/ or solutions/ that the manifest does not name; then, exercise by exercise and
several exercises at once, every stub fails every check as not_implemented, every
solution passes under every start method `repeat` times, every known bug fails with its
category, every correct variant passes, and every check is failed by some known bug.
Stubs, solutions and variants go through the very same grading path as a student's file.

Nothing here prints: `check_course` yields a `Finding` per step as it is done (passed
steps too, so the caller can show progress), for the command to show.
"""

from __future__ import annotations

import ast
import contextlib
import multiprocessing
import os
import queue as queue_module
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .course import Course, Exercise, load_course
from .verdict import Category, ExerciseVerdict, Status

# Every file `grade new` writes holds this text until the instructor makes it their own.
SCAFFOLD_MARK = "grade new: example"
STOP_GRACE_S = 5  # seconds an interrupted worker has to clean up its sandboxes
HEARTBEAT_S = 20  # with nothing to report for this long, say what is still being graded
STEPS = ("manifest", "files", "translations", "stub", "solution", "known bug", "correct variant", "coverage", "grading", "progress")


@dataclass(frozen=True)
class Finding:
    exercise: str  # id, or "" for the course as a whole
    step: str  # one of STEPS
    ok: bool  # False: a problem the instructor must fix
    text: str  # one line: what was checked and what was found


# -- the manifest and the files: cheap, first, in this process ---------------------------


def static_findings(course: Course, exercises: Iterable[Exercise]) -> Iterator[Finding]:
    exercises = list(exercises)
    for exercise in exercises:
        yield from _manifest(course, exercise)
    yield from _stray_files(course)
    yield from translation_findings(course, exercises)


def translation_findings(course: Course, exercises: list[Exercise]) -> Iterator[Finding]:
    """In every language the course offers (a course.<lang>.yaml beside course.yaml, or its
    `language:`), every text: the course's own (grader/translations.py) and its hidden checks'
    names and messages (the grader's catalogue, grader/catalog.py). Nothing when it offers none."""
    from . import catalog, i18n, translations

    for lang in i18n.LANGUAGES:
        if lang == i18n.DEFAULT or not (translations.path_of(course, lang).is_file() or course.language == lang):
            continue
        problems = translations.missing(course, lang, exercises)
        hidden = [ex.tests for ex in exercises if ex.has_checks and ex.tests is not None]
        problems += [p for path in hidden for p in catalog.untranslatable(path)]
        problems += catalog.problems(lang, catalog.extract_files(hidden)) if hidden else []
        for problem in problems:
            yield Finding("", "translations", False, f"{problem}: add it, or `grade` shows the English")
        if not problems:
            yield Finding("", "translations", True, f"every text of the course and of its hidden checks in {lang}")



def _manifest(course: Course, exercise: Exercise) -> Iterator[Finding]:
    def problem(text: str) -> Finding:
        return Finding(exercise.id, "manifest", False, text)

    found = 0
    for name in exercise.where:
        error = course.missing(exercise, name)
        if error is not None:
            found += 1
            yield problem(str(error))
    if exercise.solution is None:
        found += 1
        yield problem(f"{_rel(course, course.path)}: {exercise.id} names no solution: add `solution: solutions/…`")
    rules = course.rules
    for count, want, what, fix in (
        (len(exercise.known_bugs), rules.min_known_bugs, "known bug", "add variants under known_bugs"),
        (len(exercise.correct_variants), rules.min_correct_variants, "correct variant",
         "add right-but-different solutions under correct_variants"),
    ):
        if count < want:
            found += 1
            yield problem(f"{count} {what}(s); the rules want at least {want}: {fix}")
    if not exercise.file_missing:
        found += yield from _stub(course, exercise, problem)
    if exercise.has_checks:
        found += yield from _hidden(course, exercise, problem)
    for path in (exercise.file, exercise.solution, exercise.tests, *(b.path for b in exercise.known_bugs)):
        if path is not None and path.is_file():
            line = _marked_line(path)
            if line:
                found += 1
                yield problem(f"{_rel(course, path)}:{line}: still the example `grade new` wrote: write yours, "
                              f"then delete the line marked '{SCAFFOLD_MARK}'")
    if SCAFFOLD_MARK in exercise.hint:
        found += 1
        yield problem(f"{_rel(course, course.path)}: the hint of {exercise.id} is still the example: write yours")
    if not found:
        yield Finding(exercise.id, "manifest", True, "files, rules, stub and hidden module look right")


def _stub(course: Course, exercise: Exercise, problem) -> Iterator[Finding]:
    name, count = _rel(course, exercise.file), 0
    text = exercise.file.read_text(errors="replace")
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        yield problem(f"{name}:{error.lineno}: the stub does not parse: {error.msg}")
        return 1
    if "TODO" not in text:
        count += 1
        yield problem(f"{name}: the stub has no TODO marker")
    if not any(isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(tree)):
        count += 1
        yield problem(f"{name}: no function raises NotImplementedError")
    if not ast.get_docstring(tree):
        count += 1
        yield problem(f"{name}: the stub has no docstring teaching the topic")
    return count


def _hidden(course: Course, exercise: Exercise, problem) -> Iterator[Finding]:
    name = _rel(course, exercise.tests)
    try:
        tree = ast.parse(exercise.tests.read_text(errors="replace"))
    except SyntaxError as error:
        yield problem(f"{name}:{error.lineno}: the hidden module does not parse: {error.msg}")
        return 1
    decorators = [ast.unparse(d) for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) for d in n.decorator_list]
    checks = sum(1 for d in decorators if d.startswith("check("))
    drivers = sum(1 for d in decorators if d == "driver")
    count = 0
    for have, want, what, key in ((checks, course.rules.min_checks, "check", "min_checks"),
                                  (drivers, course.rules.min_drivers, "driver", "min_drivers")):
        if have < want:
            count += 1
            yield problem(f"{name}: {have} {what}(s); the rules want at least {want} (rules.{key})")
    return count


def _marked_line(path: Path) -> int:
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if SCAFFOLD_MARK in line:
            return number
    return 0


def _stray_files(course: Course) -> Iterator[Finding]:
    """exercises/ and solutions/ hold only what the manifest names (a stray file is a stale
    copy, or an exercise someone forgot to list)."""
    named = {p.resolve() for ex in course.exercises for p in (ex.file, ex.solution) if p is not None}
    folders = {p.parent for ex in course.exercises for p in (ex.file, ex.solution) if p is not None}
    stray = 0
    for folder in sorted(folders):
        for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
            if path.resolve() not in named and path.name != "__init__.py":
                stray += 1
                yield Finding("", "files", False, f"{_rel(course, path)} is not named by course.yaml: "
                                                  "list it under an exercise, or remove it")
    if not stray:
        yield Finding("", "files", True, f"no stray files in {', '.join(_rel(course, f) for f in sorted(folders))}")


# -- grading: per exercise, several exercises at once ----------------------------------


def exercise_findings(course: Course, exercise: Exercise, repeat: int = 3,
                      timeout: float | None = None) -> Iterator[Finding]:
    """The graded steps of one exercise, each yielded as soon as it is done."""
    if not exercise.has_checks:
        return  # the manifest step said so
    if not exercise.file_missing:
        yield _expect_stub(course, exercise, timeout)
    solution = None
    if exercise.solution is not None and exercise.solution.is_file():
        for run in range(1, repeat + 1):
            verdict = _grade(course, exercise, exercise.solution, None)
            finding = _expect_pass(course, exercise, exercise.solution, "solution", verdict,
                                   f"run {run}/{repeat}, ")
            yield finding
            solution = solution or verdict
            if not finding.ok:
                break  # a flake is found: more runs say nothing new
    bugs = []
    for bug in exercise.known_bugs:
        if bug.path.is_file():
            verdict = _grade(course, exercise, bug.path, timeout)
            bugs.append((bug.path, verdict))
            yield _expect_bug(course, exercise, bug.path, bug.category, verdict, timeout)
    for path in exercise.correct_variants:
        if path.is_file():
            yield _expect_pass(course, exercise, path, "correct variant", _grade(course, exercise, path, None))
    if solution is not None and course.rules.every_check_failed_by_a_bug:
        names = [c.name for c in solution.checks]
        never = uncaught_checks(names, [v for _, v in bugs])
        for name in never:
            yield Finding(exercise.id, "coverage", False,
                          f"no known bug fails the check '{name}': add a variant it catches, or it may test nothing")
        if not never:
            yield Finding(exercise.id, "coverage", True,
                          f"each of its {len(dict.fromkeys(names))} checks is failed by some known bug")


def uncaught_checks(check_names: Iterable[str], bug_verdicts: Iterable[ExerciseVerdict]) -> list[str]:
    """The checks (by name, in order) that no known bug failed, other than as not_implemented."""
    caught = {c.name for v in bug_verdicts for c in v.checks
              if c.status is Status.FAIL and c.category is not Category.NOT_IMPLEMENTED}
    return [name for name in dict.fromkeys(check_names) if name not in caught]


def _grade(course: Course, exercise: Exercise, path: Path, timeout: float | None) -> ExerciseVerdict:
    from .runner import Options, grade  # the runner is imported only when something is graded

    if _QUEUE is not None:  # in a worker: tell the parent what is being graded, for its progress lines
        _QUEUE.put((exercise.id, _rel(course, path)))
    (verdict,) = grade(course, [exercise], path, Options(timeout=timeout)).exercises
    return verdict


def _expect_stub(course: Course, exercise: Exercise, timeout: float | None) -> Finding:
    verdict = _grade(course, exercise, exercise.file, timeout)
    others = sorted({c.category.value for c in verdict.checks} - {Category.NOT_IMPLEMENTED.value})
    if verdict.status is Status.FAIL and not others:
        return Finding(exercise.id, "stub", True, f"the stub fails every check as not_implemented "
                                                  f"({verdict.duration_s:.1f} s)")
    return Finding(exercise.id, "stub", False,
                   f"{_rel(course, exercise.file)} should fail every check as not_implemented; got "
                   f"{verdict.status.value} with {', '.join(others) or 'no failures'}{_first_failure(verdict)}")


def _expect_pass(course: Course, exercise: Exercise, path: Path, step: str, verdict: ExerciseVerdict,
                 run: str = "") -> Finding:
    name, methods = _rel(course, path), ", ".join(exercise.start_methods)
    missing = set(exercise.start_methods) - {c.start_method for c in verdict.checks}
    if verdict.status is Status.PASS and verdict.leftover_processes == 0 and not missing:
        return Finding(exercise.id, step, True, f"{name} passes under {methods} ({run}{verdict.duration_s:.1f} s)")
    if verdict.status is Status.PASS and missing:
        why = f"no check ran under {', '.join(sorted(missing))}"
    elif verdict.status is Status.PASS:
        why = f"{verdict.leftover_processes} process(es) left running"
    else:
        why = (_first_failure(verdict) or f": {verdict.message.splitlines()[0] if verdict.message else ''}")[2:]
    return Finding(exercise.id, step, False, f"{name} should pass ({run.rstrip(', ') or 'one run'}); {why}")


def _expect_bug(course: Course, exercise: Exercise, path: Path, category: str, verdict: ExerciseVerdict,
                timeout: float | None) -> Finding:
    failed = sorted({c.category.value for c in verdict.checks if c.status in (Status.FAIL, Status.SKIPPED)})
    errors = [c for c in verdict.checks if c.status is Status.ERROR]
    name = _rel(course, path)
    if verdict.status is Status.FAIL and category in failed and not errors:
        return Finding(exercise.id, "known bug", True, f"{name} fails as {category} ({verdict.duration_s:.1f} s)")
    if errors or verdict.status is Status.ERROR:
        why = f"the grader failed on it: {(errors[0].message if errors else verdict.message).splitlines()[0][:200]}"
    elif verdict.status is Status.PASS:
        why = "it passes every check: a check is too weak to catch it"
    else:
        why = f"it fails as {', '.join(failed)}"
        if "timeout" in failed and timeout is not None:
            why += f" (within --timeout {timeout:g} s: a loaded machine may need longer)"
    return Finding(exercise.id, "known bug", False, f"{name} should fail as {category}; {why}")


def _first_failure(verdict: ExerciseVerdict) -> str:
    first = next((c for c in verdict.checks if c.status is not Status.PASS), None)
    if first is None:
        return ""
    message = first.message.splitlines()[0][:200] if first.message else first.category.value
    return f"; first: '{first.name}' [{first.start_method}]: {message}"


# -- the whole run ----------------------------------------------------------------------


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def check_course(course: Course, exercises: list[Exercise], repeat: int = 3, timeout: float | None = None,
                 jobs: int | None = None) -> Iterator[Finding]:
    """Every finding, static ones first; graded ones as each step ends, `jobs` exercises at once."""
    yield from static_findings(course, exercises)
    jobs = max(1, min(jobs or default_jobs(), len(exercises)))
    if jobs == 1:
        for exercise in exercises:
            try:
                yield from exercise_findings(course, exercise, repeat, timeout)
            except Exception as error:  # one exercise the grader cannot grade does not hide the others
                yield _grader_failed(exercise.id, error)
        return
    yield from _in_parallel(course, exercises, repeat, timeout, jobs)


_QUEUE = None  # in a worker: where its findings go, as they are made


def _init_worker(findings) -> None:
    global _QUEUE
    _QUEUE = findings
    findings.put(os.getpid())  # the parent stops its workers by pid if it is interrupted


def _check_in_worker(root: str, exercise_id: str, repeat: int, timeout: float | None) -> None:
    course = load_course(root)
    try:
        for finding in exercise_findings(course, course.find(exercise_id), repeat, timeout):
            _QUEUE.put(finding)
    finally:
        _QUEUE.put(exercise_id)  # the last word: this exercise is done


def _in_parallel(course: Course, exercises: list[Exercise], repeat: int, timeout: float | None,
                 jobs: int) -> Iterator[Finding]:
    # Workers are spawned: a fresh interpreter each, with none of this process's state
    # (threads, signal handlers, pytest's) that grading in a forked copy could trip on.
    context = multiprocessing.get_context("spawn")
    findings = context.Queue()
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(findings,))
    workers: set[int] = set()
    finished = False
    try:
        pending = {ex.id: pool.submit(_check_in_worker, str(course.path), ex.id, repeat, timeout)
                   for ex in exercises}
        grading: dict[str, tuple[str, float]] = {}  # exercise id -> (file being graded, since when)
        said = time.monotonic()
        while pending:
            try:
                item = findings.get(timeout=1.0)
            except queue_module.Empty:
                item = None
            if isinstance(item, Finding):
                said = time.monotonic()
                yield item
            elif isinstance(item, int):
                workers.add(item)
            elif isinstance(item, tuple):
                grading[item[0]] = (item[1], time.monotonic())
            elif item is None and time.monotonic() - said > HEARTBEAT_S:
                said = now = time.monotonic()
                busy = ", ".join(f"{ex} {path} ({now - since:.0f} s)" for ex, (path, since) in grading.items()
                                 if ex in pending)
                yield Finding("", "progress", True, f"still grading: {busy or 'starting the workers'}")
            elif isinstance(item, str):
                error = pending.pop(item).exception()
                if error is not None:
                    yield _grader_failed(item, error)
            else:  # a worker that died never says it is done
                for exercise_id, future in list(pending.items()):
                    if future.done() and future.exception() is not None:
                        del pending[exercise_id]
                        yield _grader_failed(exercise_id, future.exception())
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:  # interrupted (Ctrl-C, or the caller stopped reading): stop the workers too
            _stop_workers(pool, workers)
        findings.close()


def _stop_workers(pool: ProcessPoolExecutor, pids: set[int]) -> None:
    """SIGINT first: a worker's grading then ends as an interrupted `grade` does, its sandboxes
    killed and cleaned up; no new exercise starts; what is still there after a grace period
    is terminated."""
    import signal

    import psutil

    workers = []
    for pid in pids:
        try:
            workers.append(psutil.Process(pid))
            os.kill(pid, signal.SIGINT)
        except (ProcessLookupError, psutil.Error):
            pass
    pool.shutdown(wait=False, cancel_futures=True)
    _, alive = psutil.wait_procs(workers, timeout=STOP_GRACE_S)
    for worker in alive:
        with contextlib.suppress(psutil.Error):
            worker.terminate()
    psutil.wait_procs(alive, timeout=STOP_GRACE_S)


def _grader_failed(exercise_id: str, error: BaseException) -> Finding:
    text = str(error).splitlines()[0][:300] if str(error) else ""
    return Finding(exercise_id, "grading", False, f"the grader failed: {type(error).__name__}: {text}")


def _rel(course: Course, path: Path) -> str:
    try:
        return str(path.relative_to(course.root))
    except ValueError:
        return str(path)
