"""Ending the pools a driver made or the student's code left running, without a hang of our own.

`Pool.terminate()` (and `_terminate()`, the finalizer a program's exit calls) kills the
workers with SIGTERM. A worker killed while it sends a result holds the lock of the pool's
result queue for ever; the pool's task handler then blocks on that lock as it says goodbye,
and `_terminate()` waits for the task handler: the driver hangs, and the hang looks like the
student's. Whether a worker is sending at that moment is up to the machine (a task the
student's code just released, a slow one), so the same file hung in some gradings only.

`end(pool)` closes the pool as `close()` does, gives its workers `PATIENCE_S` to finish what
they have and exit, and only then finalizes it. A worker is killed only if it is still busy
after that: a task of the student's that never ends (busy with it, not with sending). No
probe event is logged: the checks judge the student's own close/terminate/join calls.

Imported inside the sandbox: standard library only.
"""

from __future__ import annotations

import gc
import time

PATIENCE_S = 1.0  # longest wait for a pool's workers to finish their tasks and exit


def end(pool) -> None:
    """Close `pool`, let its workers finish and exit (bounded), then finalize it."""
    from multiprocessing import pool as pool_module

    if getattr(pool, "_state", None) == pool_module.RUN:
        pool._state = pool_module.CLOSE
        pool._worker_handler._state = pool_module.CLOSE
        pool._change_notifier.put(None)
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline and any(p.exitcode is None for p in list(pool._pool)):
        time.sleep(0.005)
    pool._state = pool_module.TERMINATE  # as terminate() does: no "unclosed pool" warning later
    pool._terminate()


def end_open() -> None:
    """End every pool still running in this process: what a program's exit does first.

    A pool left open (never closed, or kept alive by an exception's traceback) replaces the
    workers the sandbox stops, and the replacements would show up, or not, as leftovers of
    the next run: a verdict that would depend on timing.
    """
    from multiprocessing import pool as pool_module

    for obj in gc.get_objects():
        if isinstance(obj, pool_module.Pool) and getattr(obj, "_state", None) == pool_module.RUN:
            try:
                end(obj)
            except Exception:  # noqa: BLE001 - best effort: the sandbox stops whatever is left
                pass
