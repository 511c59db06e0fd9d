"""What hidden checks run inside the sandbox: the `@driver` mark and its helpers.

A driver is a function of a hidden-check module that takes the student's module and
returns plain data (numbers, strings, lists, dicts, tuples, sets). It runs in the
student's process, so it decides nothing: it calls the student's functions and reports
what came back. The checks judge that report in the grader's process.

This module is imported inside the sandbox: standard library only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

SCRIPT_EXIT_TIMEOUT_S = 5.0


def driver(func=None, *, first_task_last: bool = False):
    """Mark a function `func(student) -> plain data` as a driver of its hidden-check module.

    `@driver(first_task_last=True)`: in each of its runs, under every start method, the first
    task of every Pool job sends its result only after another task of that job has sent
    its own (grader/schedule.py), so code that lets results come back out of order gets
    them out of order every time, not when the workers happen to be slow."""

    def mark(func):
        func._grader_driver = True
        func._grader_first_task_last = first_task_last
        return func

    return mark(func) if func is not None else mark


def is_driver(obj) -> bool:
    return callable(obj) and getattr(obj, "_grader_driver", False) is True


def run_as_script(student, timeout: float = SCRIPT_EXIT_TIMEOUT_S, args: tuple[str, ...] = ()) -> dict:
    """Run the student's file as a program (`python exercise.py`), under this sandbox's start method.

    Returns {"exited": bool, "exitcode": int | None, "seconds": float}. A program that has
    not exited after `timeout` seconds is left running on purpose: the sandbox then finds
    its processes, records where each one was waiting, and stops them (they are reported
    as leftovers, which is what a program that cannot exit is).
    """
    import multiprocessing

    # Stay well inside the sandbox's own deadline, so a program that cannot exit is reported
    # as the processes that kept it alive (lifecycle), not as a hang of the whole check.
    budget = float(os.environ.get("GRADER_TIMEOUT", "0") or 0)
    if budget:
        timeout = max(0.5, min(timeout, budget * 0.5))
    method = multiprocessing.get_start_method()
    code = (
        "import multiprocessing, runpy, sys; "
        f"multiprocessing.set_start_method({method!r}, force=True); "
        f"sys.argv = [{student.__file__!r}] + {list(args)!r}; "
        f"runpy.run_path({student.__file__!r}, run_name='__main__')"
    )
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, cwd=os.getcwd())
    waited = CpuWait(proc.pid)
    # The program's time to exit counts only while it could run: on a loaded machine its processes
    # wait for a CPU (spawned children start slowly), and that wait is the machine's, not the file's.
    # Bounded: at most the limit again, as the sandbox's own deadline is.
    while True:
        try:
            exitcode = proc.wait(0.1)
        except subprocess.TimeoutExpired:
            if time.monotonic() - started > timeout + min(waited.seconds(), budget_total()):
                return {"exited": False, "exitcode": None, "seconds": time.monotonic() - started, "pid": proc.pid}
            continue
        return {"exited": True, "exitcode": exitcode, "seconds": time.monotonic() - started, "pid": proc.pid}


def budget_total() -> float:
    """The sandbox's limit for one run, as the grader gave it (GRADER_TIMEOUT), else the default."""
    return float(os.environ.get("GRADER_TIMEOUT", "0") or 0) or SCRIPT_EXIT_TIMEOUT_S


class CpuWait:
    """Seconds the processes of a tree have spent runnable but waiting for a CPU (the kernel's
    /proc/PID/schedstat), summed over every process seen in it, those that have ended included."""

    def __init__(self, root: int):
        self.root = root
        self._seen: dict[int, int] = {}

    def seconds(self) -> float:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        todo = [self.root]
        while todo:
            pid = todo.pop()
            todo.extend(children.get(pid, ()))
            try:
                with open(f"/proc/{pid}/schedstat") as f:
                    self._seen[pid] = max(self._seen.get(pid, 0), int(f.read().split()[1]))
            except (OSError, ValueError, IndexError):
                continue
        return sum(self._seen.values()) / 1e9


_run = {"started": None}  # when the sandbox started the driver now running (sandbox_child sets it)


def mark_run_start() -> None:
    _run["started"] = time.monotonic()


def budget(fraction: float = 0.8, default: float = SCRIPT_EXIT_TIMEOUT_S) -> float:
    """Seconds a driver may still wait for the student's processes: what is left of a share of
    the sandbox's deadline for this run, so that a wait that comes to nothing is reported as
    what it is (a child that never reported, one left running), never as a hang; and so that
    a loaded machine, slow to start children, gets the whole of that share, not a fixed second."""
    limit = float(os.environ.get("GRADER_TIMEOUT", "0") or 0)
    if not limit:
        return default
    spent = time.monotonic() - _run["started"] if _run["started"] is not None else 0.0
    return max(0.2, limit * fraction - spent)


def collect_reports(results, count: int, wait: float | None = None) -> list:
    """Up to `count` items that the student's children put on the queue `results`.

    Waits by event, not by a fixed delay: while any child of this process could still put
    an item, keep waiting (within `wait`, a share of the sandbox's deadline); once every
    child has ended, what is not in the queue never will be (a child's queue flushes before
    the child exits). Then waits, in the same bound, for the children to end, so that a
    child started but not joined is judged by the calls the student made, not by how fast
    it happened to exit, and so that the queue outlives every child still unpickling it.
    """
    import multiprocessing
    import queue as queue_module

    deadline = time.monotonic() + (budget() if wait is None else wait)
    items: list = []
    while len(items) < count:
        alive = multiprocessing.active_children()  # before the get: a child that ends after it put
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            items.append(results.get(timeout=min(0.05, remaining)))
        except queue_module.Empty:
            if not alive:
                break
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    return items


def raised(call, *args, **kwargs) -> tuple:
    """Call and report the outcome as data: ("returned", value) or ("raised", type name, message)."""
    try:
        return ("returned", call(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 - the outcome is the data
        return ("raised", type(error).__name__, str(error))
