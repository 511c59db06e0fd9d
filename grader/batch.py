"""Grading a class: one `grade` subprocess per student, side by side, resumable.

This module owns what `grade batch` does with a folder of submissions: finding them (one
folder or one zip per student, as LMS downloads come), unpacking zips safely (no path
leaving the folder, no links, caps on size and count), finding inside each the folder
that stands in for `exercises/`, hashing it, and grading each student in a `grade ...
--format json` subprocess of its own. A subprocess per student is the isolation: one
student's hang, crash or flood costs that student's own timeouts and nothing else, and a
backstop deadline kills the whole tree if grading itself never ends. Each result is kept
on disk as it arrives (`students/NAME.json`, the verdict, and `NAME.meta.json`, what it was
graded from), so an interrupted batch resumes where it stopped.

It renders nothing: the gradebook and the class report are `grader/report/classbook.py`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import psutil

from . import __version__
from .course import Course
from .verdict import RunVerdict, Status

# Caps on one student's zip: an LMS download is a few files of source code.
MAX_MEMBERS = 500
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 20 * 1024 * 1024
# Folders an archiver adds that are never the student's work.
JUNK = ("__MACOSX", "__pycache__", ".git")
GRACE_S = 15  # after the backstop's SIGINT, how long grade may take to stop its sandboxes
STDERR_KEPT = 4000  # characters of a failed grade's stderr carried into the student's row

CORRUPT_ZIP = "the zip could not be read ({why}); ask the student to upload it again."
UNSAFE_ZIP = "the zip holds {what}; nothing was unpacked from it."
BACKSTOP = ("grading did not finish within {seconds:.0f} s (the batch's backstop, beyond every check's "
            "own timeout) and was stopped; this is the grader's failure, please report it.")


class SubmissionError(Exception):
    """The student's upload cannot be graded at all (a corrupt or unsafe zip): their row says why."""


@dataclass(frozen=True)
class Submission:
    student: str  # the folder's name or the zip's stem: the gradebook's row label
    path: Path  # the folder or the zip, as found in SUBMISSIONS

    @property
    def is_zip(self) -> bool:
        return self.path.is_file()


@dataclass(frozen=True)
class BatchOptions:
    course: Course
    exercises: tuple[str, ...]  # ids in course order; the ones graded
    out: Path  # where verdicts, the gradebook and the report go
    jobs: int  # students graded at once
    timeout: float | None = None  # per check, as `grade --timeout`
    start_methods: tuple[str, ...] = ()  # as `grade --start-method`, () for the course's
    python: str = sys.executable  # the interpreter that runs `-m grader`

    def fingerprint(self) -> str:
        """What else the verdict depends on: the grader, the course's checks, the options."""
        digest = hashlib.sha256(f"{__version__}|{self.exercises}|{self.timeout}|{self.start_methods}".encode())
        digest.update(self.course.path.read_bytes())
        for exercise in self.course.exercises:
            if exercise.id in self.exercises and exercise.tests.is_file():
                digest.update(exercise.tests.read_bytes())
        return digest.hexdigest()

    def backstop_s(self) -> float:
        """A deadline no honest run reaches: every check's timeout is enforced inside grade."""
        chosen = [e for e in self.course.exercises if e.id in self.exercises]
        return 60 + sum((4 * (self.timeout or e.timeout) + 20) * max(1, e.schedules) for e in chosen)


@dataclass(frozen=True)
class StudentResult:
    """One row of the class: a verdict, or why there is none."""

    student: str
    run: RunVerdict | None  # None when the submission could not be graded
    document: dict = field(default_factory=dict)  # the verdict as grade wrote it (fields RunVerdict drops too)
    error: str = ""  # why there is no verdict; "" when graded
    fault: str = ""  # "student" (their upload) or "grader" (ours), when error is set
    seconds: float = 0.0  # wall time of the student's grading
    resumed: bool = False  # taken from an earlier batch, not graded again

    @property
    def status(self) -> str:
        if self.run is None:
            return "error"
        return self.run.status.value


# ----------------------------------------------------------------------------- finding submissions


def find_submissions(folder: Path, out: Path | None = None) -> tuple[list[Submission], list[str]]:
    """The students in `folder`, sorted by name, and the entries ignored (with why).
    `out`, the batch's own output folder, is never a student even when it sits in `folder`."""
    found: dict[str, Submission] = {}
    ignored: list[str] = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name in JUNK:
            continue
        if out is not None and entry.resolve() == out.resolve():
            continue
        if entry.is_dir():
            name = entry.name
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            name = entry.stem
        else:
            ignored.append(f"{entry.name}: neither a folder nor a .zip")
            continue
        if name in found:  # alice/ and alice.zip: keep both, tell them apart
            name = entry.name
        found[name] = Submission(name, entry)
    return list(found.values()), ignored


def submission_hash(path: Path) -> str:
    """sha256 of a zip's bytes, or of a folder's files (names and contents, in order)."""
    digest = hashlib.sha256()
    if path.is_file():
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and not (set(p.parts) & set(JUNK))):
        digest.update(str(file.relative_to(path)).encode() + b"\0")
        digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()


def extract(archive: Path, dest: Path) -> None:
    """Unpack a student's zip into dest, refusing anything that could escape it or fill the disk."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not (set(PurePosixPath(m.filename).parts) & set(JUNK))]
            if len(members) > MAX_MEMBERS:
                raise SubmissionError(UNSAFE_ZIP.format(what=f"{len(members)} files (at most {MAX_MEMBERS})"))
            for member in members:
                _check_member(member)
            total = 0
            for member in members:
                target = dest.joinpath(*PurePosixPath(member.filename.replace("\\", "/")).parts)
                if member.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                total += _copy_capped(zf, member, target, MAX_TOTAL_BYTES - total)
    except SubmissionError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
            RuntimeError, ValueError, OSError) as error:  # RuntimeError: encrypted member
        raise SubmissionError(CORRUPT_ZIP.format(why=str(error) or type(error).__name__)) from error


def _check_member(member: zipfile.ZipInfo) -> None:
    name = member.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or ".." in parts or (parts and ":" in parts[0]):
        raise SubmissionError(UNSAFE_ZIP.format(what=f"a path that leads outside its folder ({member.filename!r})"))
    if stat.S_ISLNK(member.external_attr >> 16):
        raise SubmissionError(UNSAFE_ZIP.format(what=f"a symbolic link ({member.filename!r})"))
    if member.file_size > MAX_FILE_BYTES:
        raise SubmissionError(UNSAFE_ZIP.format(what=f"a file of {member.file_size} bytes ({member.filename!r}; "
                                                     f"at most {MAX_FILE_BYTES})"))


def _copy_capped(zf: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, room: int) -> int:
    """Copy one member, counting what really comes out (the header's size may lie)."""
    written = 0
    with zf.open(member) as source, target.open("wb") as sink:
        while chunk := source.read(1 << 16):
            written += len(chunk)
            if written > min(room, MAX_FILE_BYTES):
                raise SubmissionError(UNSAFE_ZIP.format(what=f"more data than it declares or than the caps allow "
                                                             f"({member.filename!r})"))
            sink.write(chunk)
    return written


def exercises_folder(root: Path, file_names: set[str]) -> Path:
    """The folder under root holding most of the course's exercise files (an upload may nest them
    in exercises/ or in a folder named after the repository); root when none holds any."""
    best, best_count, best_depth = root, 0, 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in JUNK and not d.startswith("."))
        depth = len(Path(folder).relative_to(root).parts)
        if depth > 4:
            dirs[:] = []
            continue
        count = len(file_names & set(files))
        if count > best_count or (count == best_count and count and depth < best_depth):
            best, best_count, best_depth = Path(folder), count, depth
    return best


# ----------------------------------------------------------------------------- grading


class Batch:
    """Grades every submission once, keeping each result on disk as it comes."""

    def __init__(self, options: BatchOptions):
        self.options = options
        self.students_dir = options.out / "students"
        self.fingerprint = options.fingerprint()
        self.file_names = {e.file.name for e in options.course.exercises if e.id in options.exercises}
        self._running: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def run(self, submissions: list[Submission],
            on_result: Callable[[StudentResult], None] = lambda r: None) -> list[StudentResult]:
        """Every student's result, in the order of `submissions`; on_result sees each as it arrives."""
        self.students_dir.mkdir(parents=True, exist_ok=True)
        results: dict[str, StudentResult] = {}
        todo = []
        for submission in submissions:
            earlier = self._resumed(submission)
            if earlier is not None:
                results[submission.student] = earlier
                on_result(earlier)
            else:
                todo.append(submission)
        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            pending = {pool.submit(self._grade_one, s) for s in todo}
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        result = future.result()
                        results[result.student] = result
                        on_result(result)
            except BaseException:  # Ctrl-C: stop every running student; finished ones are on disk
                self._stopping.set()
                for future in pending:
                    future.cancel()
                self._stop_all()
                raise
        return [results[s.student] for s in submissions]

    # -- one student ---------------------------------------------------------------------

    def _grade_one(self, submission: Submission) -> StudentResult:
        started = time.monotonic()
        try:
            return self._grade_one_unguarded(submission, started)
        except Exception as error:  # never the batch's end: this student's row says what broke
            return StudentResult(submission.student, None, error=f"the batch could not grade this submission: "
                                 f"{type(error).__name__}: {error}", fault="grader",
                                 seconds=time.monotonic() - started)

    def _grade_one_unguarded(self, submission: Submission, started: float) -> StudentResult:
        digest = submission_hash(submission.path)
        scratch = None
        try:
            if submission.is_zip:
                scratch = Path(tempfile.mkdtemp(prefix=".unzip-", dir=self.options.out))
                extract(submission.path, scratch)
                root = scratch
            else:
                root = submission.path
            result = self._run_grade(submission.student, exercises_folder(root, self.file_names), started)
        except SubmissionError as error:
            result = StudentResult(submission.student, None, error=str(error), fault="student",
                                   seconds=time.monotonic() - started)
        finally:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
        if not self._stopping.is_set():
            self._save(result, digest)
        return result

    def _command(self, folder: Path, output: Path) -> list[str]:
        options = self.options
        command = [options.python, "-m", "grader", *options.exercises, "--submission", str(folder),
                   "--course", str(options.course.root), "--format", "json", "--output", str(output)]
        if options.timeout is not None:
            command += ["--timeout", f"{options.timeout:g}"]
        for method in options.start_methods:
            command += ["--start-method", method]
        return command

    def _run_grade(self, student: str, folder: Path, started: float) -> StudentResult:
        output = self.students_dir / f"{student}.json.partial"
        log = self.students_dir / f"{student}.stderr.txt"
        output.unlink(missing_ok=True)
        deadline = self.options.backstop_s()
        with log.open("w") as stderr:
            process = subprocess.Popen(self._command(folder, output), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr, cwd=self.options.course.root,
                                       start_new_session=True, env=_child_env())
            with self._lock:
                self._running[student] = process
            try:
                code = process.wait(timeout=deadline)
                stopped = False
            except subprocess.TimeoutExpired:
                _stop(process)
                code, stopped = process.returncode, True
            finally:
                with self._lock:
                    self._running.pop(student, None)
        seconds = time.monotonic() - started
        text = log.read_text(errors="replace")[-STDERR_KEPT:].strip()
        if not text:
            log.unlink(missing_ok=True)
        document = _read_json(output)
        output.unlink(missing_ok=True)
        if stopped:
            return StudentResult(student, None, error=BACKSTOP.format(seconds=deadline), fault="grader",
                                 seconds=seconds)
        # Exit 2 with a verdict: some exercise could not be judged (its rows say which); keep the rest.
        graded = document is not None and ("exercises" in document or "exercise" in document)
        if code in (0, 1, 2) and graded:
            try:
                run = RunVerdict.from_dict(document)
            except (KeyError, TypeError, ValueError) as error:
                return StudentResult(student, None, error=f"grade wrote a verdict this batch cannot read: {error}",
                                     fault="grader", seconds=seconds)
            return StudentResult(student, run, document, seconds=seconds)
        why = (document or {}).get("message") or text or f"grade exited with status {code}"
        return StudentResult(student, None, document or {}, error=why, fault="grader", seconds=seconds)

    # -- resuming --------------------------------------------------------------------------

    def _paths(self, student: str) -> tuple[Path, Path]:
        return self.students_dir / f"{student}.json", self.students_dir / f"{student}.meta.json"

    def _save(self, result: StudentResult, digest: str) -> None:
        verdict_path, meta_path = self._paths(result.student)
        if result.run is not None:
            _write_atomic(verdict_path, json.dumps(result.document, ensure_ascii=False, indent=1))
        else:
            verdict_path.unlink(missing_ok=True)
        meta = {"student": result.student, "submission_sha256": digest, "graded_with": self.fingerprint,
                "seconds": round(result.seconds, 2), "error": result.error, "fault": result.fault}
        _write_atomic(meta_path, json.dumps(meta, ensure_ascii=False, indent=1))

    def _resumed(self, submission: Submission) -> StudentResult | None:
        """The earlier result of this very submission, graded the same way; None to grade it."""
        verdict_path, meta_path = self._paths(submission.student)
        meta = _read_json(meta_path)
        if meta is None or meta.get("graded_with") != self.fingerprint:
            return None
        if meta.get("submission_sha256") != submission_hash(submission.path):
            return None
        seconds = float(meta.get("seconds", 0.0))
        if meta.get("error"):
            if meta.get("fault") != "student":
                return None  # our own failure: worth another try
            return StudentResult(submission.student, None, error=meta["error"], fault="student",
                                 seconds=seconds, resumed=True)
        document = _read_json(verdict_path)
        if document is None or document.get("status") == "error":
            return None  # missing, or some exercise the grader could not judge: worth another try
        try:
            run = RunVerdict.from_dict(document)
        except (KeyError, TypeError, ValueError):
            return None
        return StudentResult(submission.student, run, document, seconds=seconds, resumed=True)

    def _stop_all(self) -> None:
        with self._lock:
            running = list(self._running.values())
        for process in running:
            _stop(process)


# ----------------------------------------------------------------------------- helpers


def _stop(process: subprocess.Popen) -> None:
    """SIGINT first: grade then stops its sandboxes itself. Then kill whatever is left of the tree."""
    try:
        tree = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        tree = []
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=GRACE_S)
    except (ProcessLookupError, PermissionError):
        pass
    except subprocess.TimeoutExpired:
        pass
    for proc in [psutil.Process(process.pid) if process.poll() is None else None, *tree]:
        if proc is None:
            continue
        try:
            proc.kill()
        except psutil.Error:
            pass
    process.wait()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONOPTIMIZE", None)  # asserts are part of multiprocessing's own checks
    env["NO_COLOR"] = "1"
    return env


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n")
    os.replace(partial, path)


def counts(results: list[StudentResult]) -> Iterator[tuple[str, int]]:
    """(label, how many) for the progress line: graded students failing, and errors."""
    yield "failing", sum(r.run is not None and r.run.status is Status.FAIL for r in results)
    yield "errors", sum(r.run is None or r.run.status is Status.ERROR for r in results)
