"""The verdict: plain data that says how an exercise was judged.

This module owns the shape of the JSON verdict fixed in DESIGN.md. It holds only types
and their conversion to and from builtins: no formatting, no I/O, no grading logic.
Reporters import this module and nothing else of the engine.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

SCHEMA_VERSION = 1


class Category(str, enum.Enum):
    """Why a check ended as it did (DESIGN.md, "category of a check")."""

    PASS = "pass"
    NOT_IMPLEMENTED = "not_implemented"
    WRONG_RESULT = "wrong_result"
    TIMEOUT = "timeout"
    ORDERING = "ordering"
    LIFECYCLE = "lifecycle"
    NOT_PARALLEL = "not_parallel"
    CRASH = "crash"
    RESOURCE = "resource"
    ERROR = "error"


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"  # the student's code fell short
    ERROR = "error"  # the grader or the course is at fault
    SKIPPED = "skipped"  # checks only: not run (an earlier hang, a failed import)


@dataclass(frozen=True)
class CheckResult:
    """One hidden check, run under one start method."""

    name: str  # student-facing: what was checked
    status: Status
    category: Category
    message: str = ""  # what was expected, what happened, where; "" on a pass
    start_method: str | None = None
    duration_s: float = 0.0
    location: str | None = None  # "exercise5_queue.py:23", when known
    output: str = ""  # what the student's code printed during this check (trimmed)
    seed: int | None = None  # the explored schedule it failed under (`grade EX --seed N` replays it)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status.value,
            "category": self.category.value,
            "message": self.message,
            "start_method": self.start_method,
            "duration_s": round(self.duration_s, 3),
            "location": self.location,
            "output": self.output,
            **({"seed": self.seed} if self.seed else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> CheckResult:
        return cls(
            name=data["name"],
            status=Status(data["status"]),
            category=Category(data["category"]),
            message=data.get("message", ""),
            start_method=data.get("start_method"),
            duration_s=float(data.get("duration_s", 0.0)),
            location=data.get("location"),
            output=data.get("output", ""),
            seed=data.get("seed"),
        )


@dataclass(frozen=True)
class ExerciseVerdict:
    """Every check of one exercise, and what they add up to."""

    exercise: str  # the id, e.g. "exercise1"
    slug: str
    title: str
    status: Status
    score: float
    max_score: float
    duration_s: float
    checks: tuple[CheckResult, ...]
    leftover_processes: int = 0
    hint: str = ""
    file: str = ""  # the graded file, as the student named it
    message: str = ""  # set when status is "error": what went wrong in the grader or course
    # Schedule exploration, when any: {"count": runs of the most explored driver, "strategy",
    # "replayed": bool, "seed": the failing (or replayed) seed or None, "replay": the command or None}
    schedules: dict | None = None
    confinement: dict | None = None  # what protected the runs: Landlock ABI, fs/signals/net, uid, process_cap
    # Only when asked (--timeline, --trace, --format html): one bounded timeline per start method,
    # plain data made by grader/timeline.py (see docs/contract-changes.md, issue 11)
    timelines: tuple[dict, ...] = ()

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status in (Status.FAIL, Status.ERROR))

    def to_dict(self) -> dict:
        return {
            "exercise": self.exercise,
            "slug": self.slug,
            "title": self.title,
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "duration_s": round(self.duration_s, 3),
            "checks": [c.to_dict() for c in self.checks],
            "leftover_processes": self.leftover_processes,
            "hint": self.hint,
            "file": self.file,
            "message": self.message,
            **({"schedules": dict(self.schedules)} if self.schedules else {}),
            **({"confinement": dict(self.confinement)} if self.confinement else {}),
            **({"timelines": list(self.timelines)} if self.timelines else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ExerciseVerdict:
        return cls(
            exercise=data["exercise"],
            slug=data.get("slug", data["exercise"]),
            title=data.get("title", ""),
            status=Status(data["status"]),
            score=data["score"],
            max_score=data["max_score"],
            duration_s=float(data.get("duration_s", 0.0)),
            checks=tuple(CheckResult.from_dict(c) for c in data.get("checks", [])),
            leftover_processes=int(data.get("leftover_processes", 0)),
            hint=data.get("hint", ""),
            file=data.get("file", ""),
            message=data.get("message", ""),
            schedules=data.get("schedules"),
            confinement=data.get("confinement"),
            timelines=tuple(data.get("timelines", ())),
        )


@dataclass(frozen=True)
class RunVerdict:
    """Several exercises graded in one call."""

    exercises: tuple[ExerciseVerdict, ...]
    title: str = ""
    final_message: str = ""
    schema_version: int = SCHEMA_VERSION

    @property
    def status(self) -> Status:
        statuses = {e.status for e in self.exercises}
        if Status.ERROR in statuses:
            return Status.ERROR
        if Status.FAIL in statuses or not self.exercises:
            return Status.FAIL
        return Status.PASS

    @property
    def score(self) -> float:
        return sum(e.score for e in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(e.max_score for e in self.exercises)

    def to_dict(self) -> dict:
        if len(self.exercises) == 1:
            return self.exercises[0].to_dict()
        return {
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "exercises": [e.to_dict() for e in self.exercises],
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunVerdict:
        if "exercises" in data:
            return cls(exercises=tuple(ExerciseVerdict.from_dict(e) for e in data["exercises"]))
        return cls(exercises=(ExerciseVerdict.from_dict(data),))


def exercise_status(checks: tuple[CheckResult, ...]) -> Status:
    """An exercise passes only if it ran checks and none of them failed or was skipped."""
    if any(c.status is Status.ERROR for c in checks):
        return Status.ERROR
    if not checks or any(c.status in (Status.FAIL, Status.SKIPPED) for c in checks):
        return Status.FAIL
    return Status.PASS
