"""Schedule exploration: seeded delays at the probe's synchronisation points.

The probe calls `point(kind)` just before the synchronisation calls it records (a
process starting or beginning, join, Queue put/get, Pipe send/recv, Lock/Semaphore
acquire/release, a Pool submit, a Pool task in its worker, AsyncResult.get,
task_done/join). With no schedule set, `point` returns at once. With one, the process
may sleep there, and the seed alone decides when and how long, so a schedule replays:

- "random" (rr's chaos mode, adapted): each point is delayed with probability P_DELAY,
  by a power of two between 1 ms and 2**MAX_DELAY_EXP ms, drawn on a log scale.
- "pct" (after PCT, ASPLOS'10): each process gets a priority from the seed and its
  *name* (not its pid, which differs between a run and its replay); a process of lower
  priority sleeps PCT_STEP_MS per level below the top at each of its points, so that
  higher ones run ahead, and at PCT_CHANGES change points (event counts drawn from the
  seed) it drops to the lowest priority with one long sleep, as a preemption would.
  This approximates PCT with delays: nothing stops a high-priority process that blocks,
  and the "runnable" test is replaced by time, so PCT's probability bound is not
  guaranteed here and is never claimed in a verdict.

The strategy is a function of the seed (odd seeds "pct", even ones "random", 0 none),
so `--seed S` needs nothing else. Every decision is a hash of (seed, process name,
number of the point in that process): the same seed gives the same delays. A Pool task's
delay is the task's own (the run's n-th job as its name, its index in the job as the number
of its point), not its worker's:
which worker takes which task is itself a race, and a replay must slow the same task.

Total delay is bounded per run: every sleep first appends its milliseconds, as bytes,
to a budget file shared by all processes of the run, and a sleep that would take the
file past the budget is skipped. Processes racing at the check can overshoot by at most
one sleep each.

One more control is not random at all: a driver marked `@driver(first_task_last=True)` runs
with every Pool job's first task held back until another task of that job has sent its
result (a job of one task, or a pool of one worker, is never held; HOLD_CAP_S bounds the
wait). A pool may always finish its first task last, and this makes it do so under every
start method: results that are allowed to come back out of order (imap_unordered, results
collected by callbacks) come back out of order every time, while map() and imap() keep the
order whatever happens. The marks are files of the probe's folder: the workers write one
when they send a result, the parent one for a job that holds nothing.

The current schedule lives in a file of the probe's folder (not only the environment):
forkserver children are forked from a server started before later schedules were set,
and read the file again in the probe's at-fork hook. Standard library only, and cheap:
it is imported by every process of the sandbox.
"""

from __future__ import annotations

import json
import os
import time

P_DELAY = 0.1  # chance that a point is delayed ("random")
MAX_DELAY_EXP = 6  # delays of 1, 2, 4, ... 64 ms
PCT_LEVELS = 4  # priority levels; level 0 never waits
PCT_STEP_MS = 2  # sleep per level below the top, at each point
PCT_CHANGE_MS = 48  # the sleep at a priority change point
PCT_CHANGES = 2  # d - 1 change points: bugs of depth 3
PCT_HORIZON = 40  # change points are drawn among a process's first this many points
BUDGET_SHARE = 0.2  # at most this share of a run's timeout is spent sleeping
BUDGET_CAP_MS = 250  # and never more than this, whatever the timeout
FILE_NAME = "schedule.json"
HOLD_CAP_S = 3.0  # longest a held first task waits for another task's result (first_task_last)
HOLD_POLL_S = 0.002

POINTS = frozenset({
    "process.start", "process.begin", "process.join", "queue.put", "queue.put_nowait", "queue.get",
    "queue.get_nowait", "queue.task_done", "queue.join", "simplequeue.put", "simplequeue.get", "pipe.send",
    "pipe.recv", "lock.acquire", "lock.release", "pool.apply", "pool.apply_async", "pool.map", "pool.map_async",
    "pool.imap", "pool.imap_unordered", "pool.starmap", "pool.starmap_async", "pool.task", "result.get",
})

_state: dict = {"seed": 0, "budget_ms": 0, "file": None, "fd": None, "pid": None, "counts": {}, "job_base": 0,
                "hold_dir": None}


def strategy_of(seed: int) -> str:
    return "none" if not seed else "pct" if seed % 2 else "random"


def budget_ms(timeout_s: float) -> int:
    return int(min(BUDGET_CAP_MS, timeout_s * 1000 * BUDGET_SHARE))


def seeds(exercise_id: str, count: int) -> list[int]:
    """The schedules of one exercise: an unperturbed run first, then alternately random and pct.

    Fixed for an exercise, so a verdict depends on the submission alone, not on luck.
    """
    import hashlib

    found = [0]
    for i in range(1, count):
        base = int.from_bytes(hashlib.blake2b(f"{exercise_id}:{i}".encode(), digest_size=4).digest(), "big")
        found.append(2 * (1000 + base % 49000) + (i % 2))  # five digits; odd = pct
    return found[:count]


def _unit(*key) -> float:
    """A number in [0, 1) that depends on key alone."""
    import hashlib

    digest = hashlib.blake2b(":".join(map(str, key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


# --------------------------------------------------------------------------- what a seed decides


def delay_ms(seed: int, who: str, k: int) -> int:
    """How long process `who` sleeps at its k-th point (0 = not at all)."""
    if not seed:
        return 0
    if seed % 2 == 0:
        if _unit(seed, who, k, "p") >= P_DELAY:
            return 0
        return 2 ** int(_unit(seed, who, k, "d") * (MAX_DELAY_EXP + 1))
    changes = change_points(seed)
    if k in changes:
        return PCT_CHANGE_MS
    level = PCT_LEVELS - 1 if any(c < k for c in changes) else priority_level(seed, who)
    return level * PCT_STEP_MS


def priority_level(seed: int, who: str) -> int:
    return int(_unit(seed, who, "priority") * PCT_LEVELS)


def change_points(seed: int) -> tuple[int, ...]:
    return tuple(int(_unit(seed, "change", i) * PCT_HORIZON) for i in range(PCT_CHANGES))


# --------------------------------------------------------------------------- in the sandbox


def begin(probe_dir: str, seed: int, budget: int, run: int, first_task_last: bool = False) -> None:
    """Set the schedule of the next driver run (called by the sandbox's process)."""
    path = os.path.join(probe_dir, FILE_NAME)
    budget_file = os.path.join(probe_dir, f"schedule-{run}.budget")
    hold_dir = None
    if first_task_last:
        hold_dir = os.path.join(probe_dir, f"held-{run}")
        os.makedirs(hold_dir, exist_ok=True)
    with open(path + ".new", "w") as f:
        json.dump({"seed": seed, "budget_ms": budget, "budget_file": budget_file, "job_base": _next_job(),
                   "hold_dir": hold_dir}, f)
    os.replace(path + ".new", path)
    _reset_process_names()
    reload(probe_dir)


def reload(probe_dir: str | None) -> None:
    """Read the current schedule (at start-up and after every fork). Never raises."""
    _state.update(seed=0, budget_ms=0, file=None, counts={}, pid=os.getpid(), job_base=0, hold_dir=None)
    _close()
    if not probe_dir:
        return
    try:
        with open(os.path.join(probe_dir, FILE_NAME)) as f:
            current = json.load(f)
        _state.update(seed=int(current["seed"]), budget_ms=int(current["budget_ms"]), file=current["budget_file"],
                      job_base=int(current.get("job_base", 0)), hold_dir=current.get("hold_dir"))
    except (OSError, ValueError, KeyError, TypeError):
        pass


def _close() -> None:
    fd = _state["fd"]
    _state["fd"] = None
    if fd is not None:
        try:
            os.close(fd)
        except OSError:
            pass


def _reset_process_names() -> None:
    """Number the processes of each run from 1 again, so that a replay's names are the same."""
    import itertools
    import sys

    process = sys.modules.get("multiprocessing.process")
    if process is not None:
        process._process_counter = itertools.count(1)


def _next_job() -> int:
    """The number the run's first Pool job will get (the pool module numbers jobs per process)."""
    import sys

    pool = sys.modules.get("multiprocessing.pool")
    return next(pool.job_counter) + 1 if pool is not None else 0


def task_point(job: int, index: int) -> tuple[str, int]:
    """Who and which point a Pool task is, for its delay: the run's n-th job, and the task's index
    in it as the point's number, whichever worker runs it (the same in a replay, where the worker
    that takes it may differ). A job's tasks thus share a PCT priority and its change points."""
    return f"job-{job - _state.get('job_base', 0)}", index


def _name() -> str:
    import sys

    process = sys.modules.get("multiprocessing.process")
    return process.current_process().name if process is not None else "MainProcess"


def point(kind: str, who: str | None = None, k: int | None = None) -> int:
    """A synchronisation point: sleep as the schedule says. Returns the milliseconds slept.

    `who` and `k` default to this process's name and the number of its points so far."""
    seed = _state["seed"]
    if not seed or kind not in POINTS:
        return 0
    if _state["pid"] != os.getpid():  # a fork the at-fork hook did not see
        _state.update(counts={}, pid=os.getpid())
        _close()
    who = who or _name()
    if k is None:
        k = _state["counts"].get(who, 0)
        _state["counts"][who] = k + 1
    ms = delay_ms(seed, who, k)
    if ms and _spend(ms):
        time.sleep(ms / 1000)
        return ms
    return 0


def _spend(ms: int) -> bool:
    """Take ms from the run's budget; False when it would go past it."""
    if _state["fd"] is None and _state["file"]:
        try:
            _state["fd"] = os.open(_state["file"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError:
            return False
    fd = _state["fd"]
    if fd is None:
        return False
    try:
        if os.fstat(fd).st_size + ms > _state["budget_ms"]:
            return False
        os.write(fd, b"." * ms)
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- first task last


def holding() -> bool:
    return _state["hold_dir"] is not None


def hold_first(job: int, index: int) -> str | None:
    """In a Pool worker, before a task: the first task of a job waits for a mark that another
    task of its job sent its result, or that the job holds nothing (at most HOLD_CAP_S).

    Returns None when it did not wait, else what ended the wait: "mark" or "cap"."""
    if index or not _state["hold_dir"]:
        return None
    mark = os.path.join(_state["hold_dir"], str(job))
    if os.path.exists(mark):
        return None
    deadline = time.monotonic() + HOLD_CAP_S
    while time.monotonic() < deadline:
        time.sleep(HOLD_POLL_S)
        if os.path.exists(mark):
            return "mark"
    return "cap"


def release(job: int) -> None:
    """The job's first task may go: another task's result was sent, or there is none to wait for."""
    if not _state["hold_dir"]:
        return
    try:
        os.close(os.open(os.path.join(_state["hold_dir"], str(job)), os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        pass


def spent_ms(probe_dir: str, run: int) -> int:
    """The milliseconds slept in a run, by every process together."""
    try:
        return os.path.getsize(os.path.join(probe_dir, f"schedule-{run}.budget"))
    except OSError:
        return 0
