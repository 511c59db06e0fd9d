"""What the student has passed so far: `.grade/state.json` in the course root.

Written atomically (a temporary file, then a rename) after grading the student's own
files; a missing or damaged state file only means "nothing passed yet". The state is a
convenience for `grade list`: a verdict never depends on it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .course import Course
from .verdict import RunVerdict, Status

STATE_FILE = Path(".grade") / "state.json"


def load(course: Course) -> dict[str, str]:
    try:
        data = json.loads((course.root / STATE_FILE).read_text())
        return {str(k): str(v) for k, v in data.get("exercises", {}).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def record(course: Course, run: RunVerdict) -> None:
    state = load(course)
    for verdict in run.exercises:
        if verdict.status is not Status.ERROR:
            state[verdict.exercise] = verdict.status.value
    path = course.root / STATE_FILE
    try:
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-")
        with os.fdopen(fd, "w") as f:
            json.dump({"exercises": state}, f, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass  # progress is a convenience: never fail a grading run over it


def listing(course: Course) -> str:
    state = load(course)
    done = sum(1 for ex in course.exercises if state.get(ex.id) == "pass")
    total = len(course.exercises)
    width = 30
    filled = round(width * done / total) if total else 0
    lines = [course.title, f"Progress: [{'#' * filled}{'-' * (width - filled)}] {done}/{total}", ""]
    for ex in course.exercises:
        mark = {"pass": "✓", "fail": "✗"}.get(state.get(ex.id, ""), " ")
        lines.append(f"  {mark} {ex.id:<11} {ex.slug:<15} {ex.title}")
    nxt = next((ex for ex in course.exercises if state.get(ex.id) != "pass"), None)
    lines.append("")
    lines.append(f"Next: grade {nxt.id}   (file: {nxt.file.relative_to(course.root)})" if nxt else course.final_message)
    return "\n".join(lines)
