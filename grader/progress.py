"""What the student has done so far: `.grade/state.json` and `.grade/originals/` in the course root.

The state keeps, per exercise, the last verdict of the student's own file together with
the SHA-256 of the bytes that were graded. A state is only believed while the file still
has that hash: an edited file is never shown as done (nor as failing: "edited, not graded
yet"). The file is written atomically (a temporary file in the same folder, fsync, then a
rename), so a kill at any moment leaves either the old state or the new one; a missing or
damaged state file only means "nothing graded yet". A verdict never depends on the state.

The originals: `grade reset` must put back the stub the course shipped, but the student
edits the stubs in place. The first time `grade` sees an exercise it keeps a copy of its
stub in `.grade/originals/` — taken from git HEAD when the course is a git checkout whose
copy differs (the student edited before ever running `grade`), else the file as found.

Nothing here grades or imports pytest: the overview reads this in a few milliseconds.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .course import Course, Exercise

STATE_DIR = Path(".grade")
STATE_FILE = STATE_DIR / "state.json"
ORIGINALS_DIR = STATE_DIR / "originals"
BACKUPS_DIR = STATE_DIR / "backups"
STATE_VERSION = 2
STALE_TEMPORARY_S = 60


class State(str, enum.Enum):
    """Where the student stands on one exercise, as the overview shows it."""

    DONE = "done"  # its file, as it is now, passed
    FAILING = "failing"  # its file, as it is now, failed
    EDITED = "edited"  # graded before, but the file changed since: not graded yet
    NOT_STARTED = "not started"  # never graded
    MISSING = "file missing"  # the file is not there (deleted, or a course edition without it)


@dataclass(frozen=True)
class Entry:
    exercise: Exercise
    state: State
    score: float | None = None  # of the last grading of this very file, when there is one
    max_score: float | None = None


# -- hashing -------------------------------------------------------------------------------


def file_hash(path: Path) -> str | None:
    """The SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


# -- the state file ------------------------------------------------------------------------


def load_state(course: Course) -> dict:
    """The whole state document; {} when there is none or it is damaged."""
    try:
        data = json.loads((course.root / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("exercises", {}), dict):
        return {}
    return data


def save_state(course: Course, data: dict) -> None:
    """Write the state atomically; a failure to write is ignored (the state is a convenience)."""
    data = {**data, "version": STATE_VERSION}
    path = course.root / STATE_FILE
    try:
        atomic_write(path, json.dumps(data, indent=1, sort_keys=True).encode())
    except OSError:
        return
    _remove_stale_temporaries(path)


def _remove_stale_temporaries(path: Path) -> None:
    """A process killed between writing its temporary file and the rename leaves it behind;
    one older than a minute belongs to no write still going on."""
    for tmp in path.parent.glob(f".{path.name}-*"):
        with contextlib.suppress(OSError):
            if time.time() - tmp.stat().st_mtime > STALE_TEMPORARY_S:
                tmp.unlink()


def atomic_write(path: Path, content: bytes) -> None:
    """Replace path with content so that a reader (or a kill) never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def first_run(course: Course) -> bool:
    """True until the welcome message has been shown once."""
    return not load_state(course).get("welcomed", False)


def mark_welcomed(course: Course) -> None:
    data = load_state(course)
    if not data.get("welcomed"):
        save_state(course, {**data, "welcomed": True})


def record(course: Course, run) -> None:
    """Keep the verdicts of a grading of the student's own files (a `RunVerdict`).

    The hash is taken now, after grading: if the student saved again meanwhile, the entry
    names bytes that were not graded and is simply not believed (shown as edited)."""
    data = load_state(course)
    exercises = dict(data.get("exercises", {}))
    by_id = {ex.id: ex for ex in course.exercises}
    for verdict in run.exercises:
        exercise = by_id.get(verdict.exercise)
        if exercise is None or verdict.status.value == "error":
            continue
        exercises[verdict.exercise] = {"status": verdict.status.value, "sha256": file_hash(exercise.file),
                                       "score": verdict.score, "max_score": verdict.max_score}
    save_state(course, {**data, "exercises": exercises, "welcomed": True})


def entries(course: Course) -> list[Entry]:
    """Every exercise of the course, in order, with the student's state on it."""
    known = load_state(course).get("exercises", {})
    result = []
    for exercise in course.exercises:
        record_ = known.get(exercise.id)
        current = file_hash(exercise.file)
        if current is None:
            result.append(Entry(exercise, State.MISSING))
        elif not isinstance(record_, dict):
            result.append(Entry(exercise, State.NOT_STARTED))
        elif record_.get("sha256") != current:
            result.append(Entry(exercise, State.EDITED))
        else:
            state = State.DONE if record_.get("status") == "pass" else State.FAILING
            result.append(Entry(exercise, state, record_.get("score"), record_.get("max_score")))
    return result


def passed(course: Course, exercise: Exercise) -> bool:
    """Whether the exercise's file, as it is now, passed when last graded."""
    return next(e.state for e in entries(course) if e.exercise.id == exercise.id) is State.DONE


def next_exercise(course: Course, after: Exercise | None = None) -> Exercise | None:
    """The first exercise not done (after `after` when given, wrapping round), or None."""
    pending = [e.exercise for e in entries(course) if e.state is not State.DONE]
    if after is not None:
        ids = [ex.id for ex in course.exercises]
        position = ids.index(after.id)
        later = [ex for ex in pending if ids.index(ex.id) > position]
        pending = later + [ex for ex in pending if ex not in later]
    pending = [ex for ex in pending if after is None or ex.id != after.id]
    return pending[0] if pending else None


def all_done_confirmed(course: Course) -> bool:
    """True when every file was already re-graded together, as it is now, and all passed."""
    return load_state(course).get("final_confirmed") == _course_hash(course)


def confirm_all_done(course: Course) -> None:
    save_state(course, {**load_state(course), "final_confirmed": _course_hash(course)})


def _course_hash(course: Course) -> str:
    return hashlib.sha256("".join(str(file_hash(ex.file)) for ex in course.exercises).encode()).hexdigest()


# -- progress bar ---------------------------------------------------------------------------


def bar(done: int, total: int, width: int = 30) -> str:
    """`[######------] 6/14`."""
    filled = round(width * done / total) if total else 0
    return f"[{'#' * filled}{'-' * (width - filled)}] {done}/{total}"


def relative(course: Course, path: Path) -> str:
    try:
        return str(path.relative_to(course.root))
    except ValueError:
        return str(path)


# -- originals ------------------------------------------------------------------------------


def original_path(course: Course, exercise: Exercise) -> Path:
    return course.root / ORIGINALS_DIR / relative(course, exercise.file)


def keep_originals(course: Course) -> None:
    """Copy every stub not kept yet into `.grade/originals/` (cheap once they all are)."""
    missing = [ex for ex in course.exercises if not original_path(course, ex).is_file()]
    if not missing:
        return
    modified = _git_modified(course)
    for exercise in missing:
        content = None
        rel = relative(course, exercise.file)
        if modified is not None and (rel in modified or not exercise.file.is_file()):
            content = _git_head(course, rel)
        if content is None:
            try:
                content = exercise.file.read_bytes()
            except OSError:
                continue  # neither here nor in git: reset cannot help with this one
        try:
            atomic_write(original_path(course, exercise), content)
        except OSError:
            return


def _git_modified(course: Course) -> set[str] | None:
    """Paths (relative to the course root) that differ from git HEAD; None outside a git checkout."""
    import subprocess  # here: the overview, once the originals are kept, never needs it
    try:
        proc = subprocess.run(["git", "-C", str(course.root), "status", "--porcelain", "-z", "--", "."],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if proc.returncode != 0:
        return None
    prefix = _git_prefix(course)
    paths = set()
    for item in proc.stdout.decode(errors="replace").split("\0"):
        if len(item) > 3:
            path = item[3:]
            paths.add(path[len(prefix):] if prefix and path.startswith(prefix) else path)
    return paths


def _git_prefix(course: Course) -> str:
    import subprocess
    try:
        proc = subprocess.run(["git", "-C", str(course.root), "rev-parse", "--show-prefix"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _git_head(course: Course, rel: str) -> bytes | None:
    import subprocess
    try:
        proc = subprocess.run(["git", "-C", str(course.root), "show", f"HEAD:./{rel}"],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout if proc.returncode == 0 else None
