"""Hidden checks for exercise 13: Pool lifecycle (close, terminate, join).

The order of the student's calls comes from the probe's log (pool.close, pool.join,
pool.terminate, pool.exit, result.get). What a call *does* to the work is made
deterministic with gates, not with sleeps racing each other:

- run_and_wait() and results_inside_with(): the LAST item's task waits (at most
  GATE_WAIT_S) for a file that the driver creates when the parent first waits for the
  work (AsyncResult.wait, which get() calls, or Pool.join). Code that terminates the pool
  before waiting for it (terminate() instead of close(), get() after the `with` block)
  has thrown that task away before it could finish: its get() then waits forever, every
  time, which is what the mistake really does. Those hangs are reported as timeouts.
- cancel(): every task is stuck for STUCK_S (long enough that nobody could mistake it for
  quick work). Only terminate() ends them early; close() and join() let them run to the
  end, which the probe records as finished tasks (pool.task events are only written when
  a task returns, never for a worker terminated mid-task).

Why gates here and not schedules (grader/schedule.py): each check needs one situation
(a task unfinished when the pool is terminated; work still queued at cancel()), and a
gate opened by an event creates it every time; a seeded delay only makes it likely.
"""

import contextlib
import os
import shutil
import tempfile
import time

from grader import pools
from grader.checks import N_, _, check, driver, expect, fail, first_at, judge_error, student_calls

GATE_WAIT_S = 5.0  # longest a gated task waits: only wrong code ever waits this long
STUCK_S = 2.5  # how long a task of cancel() runs unless it is terminated
ITEMS = [4, 1, 5, 9, 2, 6]
CANCEL_ITEMS = [1, 2]

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
LOST_AFTER_TERMINATE = {call: N_("close() stops new work but lets the queued tasks finish; join() then waits "
                                 "for the workers. (The grader holds the last task back until your code starts "
                                 "waiting for the work, so this mistake shows every time.)")
                        for call in ("AsyncResult.get()", "AsyncResult.wait()", "Pool.join()")}
GET_AFTER_WITH = {"AsyncResult.get()": N_("Call get() inside the `with` block. (The grader holds the last task "
                                           "back until your code starts waiting for a result, so this mistake "
                                           "shows every time.)")}

# ----------------------------------------------------------------------------- the tasks


def triple(item):
    """The task of run_and_wait() and results_inside_with(): 3 * x, a gated item first waits for its gate."""
    x, gate = item
    if gate:
        deadline = time.monotonic() + GATE_WAIT_S
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.002)
    return 3 * x


def stuck(x):
    """The task of cancel(): blocks on something that never happens (for STUCK_S at most)."""
    deadline = time.monotonic() + STUCK_S
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return x


def refused(x):
    """The task lifecycle_errors() tries to submit after close()."""
    return x


class _Gate:
    """A file a gated task waits for."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gate-", dir=os.getcwd())
        self.path = os.path.join(self.dir, "open")

    def open(self, *_):
        if not os.path.exists(self.path):
            with open(self.path, "w"):
                pass

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def _gate_opens_on_waiting(gate):
    """Open the gate when the parent first waits for the work: AsyncResult.wait() or Pool.join()."""
    from multiprocessing import pool

    saved = [(cls, name, cls.__dict__[name]) for cls, name in ((pool.ApplyResult, "wait"), (pool.Pool, "join"))]

    def opening(original):
        def wrapper(self, *args, **kwargs):
            gate.open()
            return original(self, *args, **kwargs)

        return wrapper

    try:
        for cls, name, original in saved:
            setattr(cls, name, opening(original))
        yield
    finally:
        for cls, name, original in saved:
            setattr(cls, name, original)


def _gated_items(gate):
    return [(x, None) for x in ITEMS[:-1]] + [(ITEMS[-1], gate.path)]


def _plain(value):
    return value if isinstance(value, (list, tuple, dict, int, str, type(None))) else repr(value)[:200]


# ----------------------------------------------------------------------------- drivers


@driver
def run_and_wait(student):
    gate = _Gate()
    try:
        with _gate_opens_on_waiting(gate):
            returned = student.run_and_wait(triple, _gated_items(gate))
        return {"returned": _plain(returned)}
    finally:
        gate.remove()
        pools.end_open()


@driver
def lifecycle_errors(student):
    try:
        return _plain(student.lifecycle_errors(refused))
    finally:
        pools.end_open()


@driver
def cancel(student):
    try:
        return _plain(student.cancel(stuck, list(CANCEL_ITEMS)))
    finally:
        pools.end_open()


@driver
def inside_with(student):
    gate = _Gate()
    try:
        with _gate_opens_on_waiting(gate):
            returned = student.results_inside_with(triple, _gated_items(gate))
        return {"returned": _plain(returned)}
    finally:
        gate.remove()
        pools.end_open()


# ----------------------------------------------------------------------------- helpers


def _first(events):
    return events[0] if events else None


def _pool_ends(obs):
    """The student's calls that end a pool's work: close, terminate, or leaving a with-block."""
    return student_calls(obs, "pool.close", "pool.terminate", "pool.exit")


# ----------------------------------------------------------------------------- checks: run_and_wait


@check("run_and_wait() returns the results, in the order of the items", uses=run_and_wait,
       on_timeout=LOST_AFTER_TERMINATE)
def test_run_and_wait_results(obs):
    expected = [3 * x for x in ITEMS]
    got = obs.value["returned"]
    expect(isinstance(got, (list, tuple)) and list(got) == expected, "wrong_result",
           _("run_and_wait() returned {got!r}; expected {expected}: func applied to each item, in order "
             "(result.get() of the map_async).").format(got=got, expected=expected))


@check("close() comes before join()", uses=run_and_wait, category="ordering", expects_error=True,
       on_timeout=LOST_AFTER_TERMINATE)
def test_close_before_join(obs):
    error = obs.error
    joins = student_calls(obs, "pool.join")
    if error is not None and error.type == "ValueError" and "still running" in error.message:
        fail("ordering",
             _("pool.join() raised ValueError('Pool is still running'): join() waits for the workers to exit, "
               "and they only exit once the pool is closed. Call pool.close() first, then pool.join()."),
             where=first_at(joins) or (f"{obs.student_file}:{error.line}" if error.line else None))
    if error is not None:
        judge_error(obs)
    ends = _pool_ends(obs)
    early = [j for j in joins if not ends or j.get("called", j.t) < ends[0].t]
    expect(not early, "ordering",
           _("pool.join() was called before pool.close(): call close() first (no more work), then join() "
             "(wait for the workers to exit)."), where=first_at(early))


@check("every worker has exited when run_and_wait() returns", uses=run_and_wait, category="lifecycle",
       on_timeout=LOST_AFTER_TERMINATE)
def test_workers_gone(obs):
    closes = student_calls(obs, "pool.close")
    joins = student_calls(obs, "pool.join")
    stops = student_calls(obs, "pool.terminate", "pool.exit")
    if stops or (closes and any(j.t > closes[0].t for j in joins)):
        return
    created = first_at(student_calls(obs, "pool.create"))
    if closes:
        fail("lifecycle",
             _("run_and_wait() closed the pool but never joined it: close() only stops new work, and the "
               "workers may still be running when your function returns. Call pool.join() after pool.close()."),
             where=first_at(closes))
    fail("lifecycle",
         _("run_and_wait() never shut its pool down (neither close() and join(), nor terminate()): its "
           "worker processes stay behind. The source post's example does the same; end with pool.close() "
           "then pool.join()."), where=created)


# ----------------------------------------------------------------------------- checks: lifecycle_errors


@check("join() on a running pool raises ValueError('Pool is still running')", uses=lifecycle_errors)
def test_join_while_running(obs):
    got = obs.value.get("join_while_running") if isinstance(obs.value, dict) else None
    expect(isinstance(obs.value, dict), "wrong_result",
           _("lifecycle_errors() should return a dict of two messages; it returned {value!r}.").format(value=obs.value))
    expect(got == "Pool is still running", "wrong_result",
           _("Calling pool.join() before close() should raise ValueError('Pool is still running'); "
             "lifecycle_errors() reported {got!r}. Call join() on the running pool inside try/except "
             "ValueError and keep str(error).").format(got=got))


@check("apply_async() after close() raises ValueError('Pool not running')", uses=lifecycle_errors)
def test_submit_after_close(obs):
    got = obs.value.get("submit_after_close") if isinstance(obs.value, dict) else None
    expect(got == "Pool not running", "wrong_result",
           _("A closed pool refuses new work: apply_async() after close() should raise ValueError('Pool not "
             "running'); lifecycle_errors() reported {got!r}.").format(got=got))
    closes, submits = student_calls(obs, "pool.close"), student_calls(obs, "pool.apply_async")
    expect(closes and submits and submits[-1].t > closes[0].t, "ordering",
           _("The apply_async() whose error you report must come after pool.close()."), where=first_at(submits))


@check("lifecycle_errors() ends with the pool joined", uses=lifecycle_errors, category="lifecycle")
def test_errors_pool_joined(obs):
    closes = student_calls(obs, "pool.close", "pool.terminate")
    joins = [j for j in student_calls(obs, "pool.join") if closes and j.t > closes[0].t]
    expect(joins, "lifecycle",
           _("After close(), call pool.join() so that the workers have exited when lifecycle_errors() "
             "returns."),
           where=first_at(closes))


# ----------------------------------------------------------------------------- checks: cancel


@check("cancel() stops the workers at once, with terminate()", uses=cancel, category="lifecycle")
def test_cancel_terminates(obs):
    stops = student_calls(obs, "pool.terminate", "pool.exit")
    closes = student_calls(obs, "pool.close")
    if stops:
        return
    if closes:
        fail("lifecycle",
             _("cancel() closed the pool instead of terminating it: close() lets the queued tasks run to the "
               "end (join() then waits for all of them), which is no cancel at all. pool.terminate() stops the "
               "workers at once."), where=first_at(closes))
    fail("lifecycle", _("cancel() never stopped its pool: call pool.terminate(), then pool.join()."),
         where=first_at(student_calls(obs, "pool.create")))


@check("no cancelled task runs to its end", uses=cancel, category="lifecycle")
def test_cancelled_tasks_never_finish(obs):
    finished = [e for e in obs.events if e.kind == "pool.task" and e.get("func") == "stuck"]
    expect(not finished, "lifecycle",
           _("{n_finished} of the {n_CANCEL_ITEMS} tasks that cancel() should have cancelled ran to their "
             "end. terminate() stops them at once; close() and join() wait for them.").format(n_finished=len(finished), n_CANCEL_ITEMS=len(CANCEL_ITEMS)),
           where=first_at(student_calls(obs, "pool.close", "pool.join")))


@check("join() after terminate() returns once the workers are gone", uses=cancel, category="ordering",
       expects_error=True)
def test_join_after_terminate(obs):
    stops = student_calls(obs, "pool.terminate", "pool.exit", "pool.close")
    joins = student_calls(obs, "pool.join")
    error = obs.error
    if error is not None and error.type == "ValueError" and "still running" in error.message:
        fail("ordering",
             _("pool.join() raised ValueError('Pool is still running'): join() waits for the workers to exit, "
               "and they only exit once the pool is terminated (or closed). Call pool.terminate() first, then "
               "pool.join()."), where=first_at(joins) or (f"{obs.student_file}:{error.line}" if error.line else None))
    if error is not None:
        judge_error(obs)
    early = [j for j in joins if not stops or j.get("called", j.t) < stops[0].t]
    expect(not early, "ordering",
           _("pool.join() was called before pool.terminate(): join() waits until the workers exit, which "
             "they only do once the pool is closed or terminated. terminate() first, then join()."),
           where=first_at(early))


# ----------------------------------------------------------------------------- checks: results_inside_with


@check("results_inside_with() returns the results, in the order of the items", uses=inside_with,
       on_timeout=GET_AFTER_WITH)
def test_inside_with_results(obs):
    expected = [3 * x for x in ITEMS]
    got = obs.value["returned"]
    expect(isinstance(got, (list, tuple)) and list(got) == expected, "wrong_result",
           _("results_inside_with() returned {got!r}; expected {expected} (the get() of each apply_async, in "
             "the order of the items).").format(got=got, expected=expected))


@check("every get() is called inside the with-block", uses=inside_with, category="ordering",
       on_timeout=GET_AFTER_WITH)
def test_get_inside_with(obs):
    exits = student_calls(obs, "pool.exit", "pool.terminate")
    gets = student_calls(obs, "result.get")
    expect(exits, "lifecycle", _("results_inside_with() should use `with Pool(processes=2) as pool:`."),
           where=first_at(student_calls(obs, "pool.create")))
    closes = student_calls(obs, "pool.close")
    joined = [j for j in student_calls(obs, "pool.join") if closes and closes[0].t < j.t < exits[0].t]
    late = [g for g in gets if g.t > exits[0].t and not joined]  # after close() and join(), every result is in
    expect(not late, "ordering",
           _("get() was called after the with-block had ended (the pool was terminated at {where}). Call "
             "get() inside the block.").format(where=exits[0].where), where=first_at(late))
