"""What a sandbox run observed: plain, frozen data that the hidden checks judge.

The sandbox produces these; checks read them. Nothing here runs student code or
formats a report. A student's process can only influence these records through the
values its functions return and the calls it makes: printing or exiting cannot forge
an outcome.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# How a run ended.
RETURNED = "returned"  # the driver returned a value
RAISED = "raised"  # the driver (the student's code) raised an exception
TIMEOUT = "timeout"  # the deadline passed: stacks were dumped, the tree killed
DIED = "died"  # the student's process ended without an answer (os._exit, a signal, a closed channel)
RESOURCE = "resource"  # a process-count cap was exceeded and the tree killed
NOT_RUN = "not_run"  # not attempted: the module failed to import, or an earlier run hung


@dataclass(frozen=True)
class Event:
    """One call the probe saw: when, in which process, what, and from which student line."""

    t: float  # time.monotonic() in the calling process; comparable across processes on Linux
    pid: int
    kind: str  # e.g. "process.start", "pool.close", "queue.get", "lock.acquire"
    internal: bool  # made by multiprocessing itself, not by the student's code
    where: str | None  # "exercise1_process.py:23": the nearest student frame
    data: dict = field(default_factory=dict)  # kind-specific: child pid, name, exitcode, ...

    def get(self, key, default=None):
        return self.data.get(key, default)


@dataclass(frozen=True)
class Frame:
    file: str
    line: int
    function: str

    @property
    def short(self) -> str:
        return f"{os.path.basename(self.file)}:{self.line}"


@dataclass(frozen=True)
class ProcessStack:
    """The Python stack of one process at the moment it was asked (innermost frame last)."""

    pid: int
    name: str  # the multiprocessing name ("MainProcess", "Process-2", "consumer"), or the OS name
    daemon: bool | None
    threads: tuple[tuple[Frame, ...], ...]  # each thread's frames, outermost first; main thread first


@dataclass(frozen=True)
class Leftover:
    """A process the student's code left running after the run ended."""

    pid: int
    name: str
    daemon: bool | None
    stack: ProcessStack | None


@dataclass(frozen=True)
class ErrorInfo:
    """An exception raised by the student's code, as text."""

    type: str
    message: str
    traceback: str  # trimmed to the student's frames and the line that raised
    line: int | None  # the innermost student line, if any
    function: str | None
    code: str | None  # the source text of that line
    from_student: bool  # the traceback passes through the student's file
    raised_in_student_file: bool
    remote_traceback: str = ""  # a Pool worker's traceback, trimmed
    exit_code: int | None = None  # for SystemExit

    @classmethod
    def from_dict(cls, data: dict) -> ErrorInfo:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Observation:
    """Everything one driver run produced."""

    driver: str
    start_method: str
    outcome: str  # one of RETURNED, RAISED, TIMEOUT, DIED, RESOURCE, NOT_RUN
    value: object = None  # plain data (see grader.plain), when outcome is RETURNED
    error: ErrorInfo | None = None  # when RAISED (or when the import failed)
    duration_s: float = 0.0
    output: str = ""  # what the student's processes printed (first output_kb KiB)
    output_bytes: int = 0  # how much they printed in all
    output_limit: int = 0  # bytes allowed
    events: tuple[Event, ...] = ()
    stacks: tuple[ProcessStack, ...] = ()  # at a timeout
    leftovers: tuple[Leftover, ...] = ()
    daemons_stopped: tuple[str, ...] = ()  # daemonic children stopped at the end, as a program's exit would
    detail: str = ""  # for DIED / RESOURCE / NOT_RUN: what happened, in words
    limit_s: float = 0.0  # the time limit the run had (a hang's message says this, not how long it took)
    student_file: str = ""  # the file name the student knows, e.g. "exercise1_process.py"
    student_source: tuple[str, ...] = ()  # its lines, to quote them in messages
    seed: int | None = None  # the schedule this run was explored under (grader/schedule.py), if any

    @property
    def output_exceeded(self) -> bool:
        return self.output_bytes > self.output_limit > 0

    def events_of(self, *kinds: str, student_only: bool = True) -> list[Event]:
        """Events of the given kinds (prefixes allowed: "pool." matches every pool call)."""
        return [
            e
            for e in self.events
            if (not student_only or not e.internal)
            and any(e.kind == k or (k.endswith(".") and e.kind.startswith(k)) for k in kinds)
        ]

    def source_line(self, line: int | None) -> str:
        if line is None or not 1 <= line <= len(self.student_source):
            return ""
        return self.student_source[line - 1].strip()
