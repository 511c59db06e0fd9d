"""Hidden checks for exercise 12: Pool imap and imap_unordered.

Streaming is judged by the order of events, never by how long anything took. In each
call one task is held at a *gate*: it waits (at most GATE_WAIT_S) for a file that the
driver creates at a chosen moment, then notes when it ended:

- deliver_as_completed(): the FIRST item is gated, and the gate opens when on_result()
  receives its first result. So with imap_unordered the first delivery always comes
  before the gated task ends; code that waits for every result before delivering any can
  only deliver after it. To save such code the full wait, the gate also opens as soon as
  the parent is seen waiting for everything at once (ApplyResult.wait: pool.map, get();
  or Pool.join), reading a second result without having delivered the first
  (collecting, sorting), or holding finished results back to keep the input order (imap).
- results_in_order(): the LAST item is gated, and the gate opens when the parent first
  waits for a result (the iterator's next(), ApplyResult.wait, or Pool.join). Code that
  leaves `with Pool()` before reading has its pool terminated before the gate opens, so
  a result is always lost and reading it waits forever: a hang, deterministically, which
  is what that mistake really does. That driver is therefore the last one.

Why gates here and not schedules (grader/schedule.py): both checks are about one
situation each (a slow first task while another result is ready; a task still running
when the pool ends), and a gate creates it every time, whatever the machine's load. A
seeded delay falls where it falls. The order in which the other tasks finish
(imap_unordered where the order is promised) is the engine's: in_order is a
`@driver(first_task_last=True)`, so the first chunk's result always comes after another
one's, and unordered results are out of order in every run, without exploring schedules.

The drivers wrap those multiprocessing methods only for the duration of the student's
call. (A side effect: the AsyncResult.wait() that get() makes inside multiprocessing is
logged by the probe as a result.wait of the student's; no check here reads result.wait.)
"""

import contextlib
import os
import shutil
import tempfile
import time

from grader import pools
from grader.checks import N_, _, check, driver, expect, fail, first_at, student_calls

GATE_WAIT_S = 5.0  # longest a gated task waits: only wrong code ever waits this long
ITEMS = [7, 2, 9, 4, 1, 8, 3, 6]  # results_in_order(): the last one is gated
CHUNKSIZE = 3
STREAM_ITEMS = [5, 3, 8, 1, 6, 2]  # deliver_as_completed(): the first one is gated
TASK = "gated_square"

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
LOST_ADVICE = {"IMapIterator.next()": N_("Read every result inside the `with` block (for example `return "
                                            "list(pool.imap(...))` from inside it). (The grader holds the last "
                                            "task back until your code starts reading, so this mistake shows "
                                            "every time.)")}

# ----------------------------------------------------------------------------- the task


def gated_square(item):
    """The task the drivers give to the student's pool: x * x. A gated item first waits for its gate."""
    x, gate = item
    if gate:
        deadline = time.monotonic() + GATE_WAIT_S
        while not os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.002)
        try:
            with open(gate + ".end", "w") as note:
                note.write(repr(time.monotonic()))
        except OSError:
            pass
    return x * x


class _Gate:
    """A file that a gated task waits for; `why` records what opened it first."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="gate-", dir=os.getcwd())
        self.path = os.path.join(self.dir, "open")
        self.why = None

    def open(self, why):
        if self.why is None:
            self.why = why
            with open(self.path, "w"):
                pass

    def ended(self):
        """When the gated task ended (time.monotonic()), or None if it never did."""
        try:
            with open(self.path + ".end") as note:
                return float(note.read())
        except (OSError, ValueError):
            return None

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def _patched(patches):
    """Replace (class, name) attributes by wrappers for the duration of a call."""
    saved = [(cls, name, cls.__dict__[name]) for cls, name, _ in patches]
    try:
        for cls, name, make in patches:
            setattr(cls, name, make(cls.__dict__[name]))
        yield
    finally:
        for cls, name, original in saved:
            setattr(cls, name, original)


def _before(action):
    """A wrapper maker: run action(self) before the original method."""

    def make(original):
        def wrapper(self, *args, **kwargs):
            action(self)
            return original(self, *args, **kwargs)

        return wrapper

    return make


def _plain(value):
    return value if isinstance(value, (list, tuple, int, type(None))) else repr(value)[:200]


# ----------------------------------------------------------------------------- drivers


@driver
def as_completed(student):
    from multiprocessing import pool

    gate = _Gate()
    deliveries = []
    reads = {"returned": 0}

    def on_result(value):
        deliveries.append((time.monotonic(), value))
        gate.open("delivered")

    def counting_next(original):
        def next(self, timeout=None):  # noqa: A001 - the iterator's own name
            if reads["returned"] and not deliveries:
                gate.open("collected")  # a second read before any delivery: collecting first
            value = original(self, timeout)
            reads["returned"] += 1
            return value

        return next

    def set_and_look(original):
        def _set(self, i, obj):
            original(self, i, obj)
            if self._unsorted:
                gate.open("held_back")  # imap keeps finished results back to keep the input order

        return _set

    items = [(STREAM_ITEMS[0], gate.path)] + [(x, None) for x in STREAM_ITEMS[1:]]
    patches = [
        (pool.ApplyResult, "wait", _before(lambda self: gate.open("waited_all"))),
        (pool.Pool, "join", _before(lambda self: gate.open("waited_all"))),
        (pool.IMapIterator, "next", counting_next),
        (pool.IMapIterator, "__next__", counting_next),
        (pool.IMapIterator, "_set", set_and_look),
    ]
    try:
        with _patched(patches):
            returned = student.deliver_as_completed(gated_square, items, on_result)
        return {"returned": _plain(returned), "delivered": [v for _, v in deliveries],
                "first_delivery": deliveries[0][0] if deliveries else None,
                "gate_end": gate.ended(), "gate_why": gate.why, "parent": os.getpid()}
    finally:
        gate.remove()
        pools.end_open()


@driver(first_task_last=True)  # unordered results come back out of order every time
def in_order(student):
    from multiprocessing import pool

    gate = _Gate()
    items = [(x, None) for x in ITEMS[:-1]] + [(ITEMS[-1], gate.path)]
    patches = [
        (pool.ApplyResult, "wait", _before(lambda self: gate.open("read"))),
        (pool.Pool, "join", _before(lambda self: gate.open("read"))),
        (pool.IMapIterator, "next", _before(lambda self: gate.open("read"))),
        (pool.IMapIterator, "__next__", _before(lambda self: gate.open("read"))),
    ]
    try:
        with _patched(patches):
            returned = student.results_in_order(gated_square, items, chunksize=CHUNKSIZE)
        return {"returned": _plain(returned), "gate_why": gate.why, "parent": os.getpid()}
    finally:
        gate.remove()
        pools.end_open()


# ----------------------------------------------------------------------------- helpers


def _tasks(obs):
    return [e for e in obs.events if e.kind == "pool.task" and e.get("func") == TASK]


def _cut_short(obs):
    """The pool was terminated before its tasks had all finished (the read-before-terminate check owns this)."""
    done = sum(e.get("items") or 0 for e in _tasks(obs))
    return bool(student_calls(obs, "pool.terminate", "pool.exit")) and done < len(ITEMS)


SUBMITS = ("pool.map", "pool.map_async", "pool.imap", "pool.imap_unordered", "pool.apply", "pool.apply_async",
           "pool.starmap", "pool.starmap_async")


def _calls_described(obs):
    calls = [e.kind.removeprefix("pool.") for e in student_calls(obs, *SUBMITS)]
    return ", ".join(f"pool.{c}()" for c in dict.fromkeys(calls)) or _("no Pool method")


# ----------------------------------------------------------------------------- checks: deliver_as_completed


@check("deliver_as_completed() hands every result to on_result() once and returns the count", uses=as_completed)
def test_every_result_delivered(obs):
    expected = sorted(x * x for x in STREAM_ITEMS)
    delivered = obs.value["delivered"]
    expect(sorted(delivered, key=repr) == sorted(expected, key=repr), "wrong_result",
           _("deliver_as_completed() was given {n_STREAM_ITEMS} items; on_result() received {delivered}, "
             "expected each of {expected} once (in any order). Call on_result(result) once for every result "
             "the iterator yields.").format(n_STREAM_ITEMS=len(STREAM_ITEMS), delivered=delivered, expected=expected))
    expect(obs.value["returned"] == len(expected), "wrong_result",
           _("deliver_as_completed() should return how many results it delivered ({n_expected}); it returned "
             "{returned!r}.").format(n_expected=len(expected), returned=obs.value['returned']))


@check("deliver_as_completed() uses pool.imap_unordered()", uses=as_completed)
def test_uses_imap_unordered(obs):
    calls = student_calls(obs, "pool.imap_unordered")
    others = [e for e in student_calls(obs, *SUBMITS) if e.kind != "pool.imap_unordered"]
    hint = ""
    if any(e.kind == "pool.imap" for e in others):
        hint = _(" imap yields in the order of the items, so one slow first item holds back every other result.")
    elif others:
        hint = _(" map (and get()) give nothing back until every task is done.")
    expect(calls, "wrong_result",
           _("deliver_as_completed() called {calls_described}, not pool.imap_unordered().{hint} "
             "imap_unordered yields each result as soon as its task is done.").format(calls_described=_calls_described(obs), hint=hint),
           where=first_at(others))


@check("each result is delivered as soon as it is ready, in the order the tasks finish", uses=as_completed,
       category="ordering")
def test_delivered_as_completed(obs):
    first, gate_end, why = obs.value["first_delivery"], obs.value["gate_end"], obs.value["gate_why"]
    expect(first is not None, "wrong_result", _("on_result() was never called."))
    if gate_end is None or first < gate_end:
        return
    slow = STREAM_ITEMS[0]
    reasons = {
        "waited_all": N_("your code waited for all the results at once (pool.map(), or get()) and only then "
                         "delivered them"),
        "collected": N_("your code read results from the iterator without handing them to on_result() at once "
                        "(collecting them in a list, or sorting them, waits for the slowest task)"),
        "held_back": N_("finished results were held back to keep the order of the items: that is what imap() "
                        "does, while imap_unordered() yields each result as soon as it is ready"),
        None: N_("no result reached on_result() while the slow task was still running (only one worker? the "
                 "pool should have 2 processes)"),
    }
    fail("ordering",
         _("The grader held the task of the first item ({slow}) until on_result() had received some other "
           "result, so with imap_unordered the first delivery always comes before that task ends. Here it "
           "came after: {get}. Loop over pool.imap_unordered(...) and call on_result(result) inside the "
           "loop.").format(slow=slow, get=_(reasons[why if why in reasons else None])),
         where=first_at(student_calls(obs, *SUBMITS)))


# ----------------------------------------------------------------------------- checks: results_in_order


@check("results_in_order() returns every result, in the order of the items", uses=in_order,
       on_timeout=LOST_ADVICE)
def test_results_in_order(obs):
    expected = [x * x for x in ITEMS]
    got = obs.value["returned"]
    if isinstance(got, (list, tuple)) and sorted(got, key=repr) == sorted(expected, key=repr) and list(got) != expected:
        order = _(" (they are sorted by value)") if list(got) == sorted(expected) else ""
        fail("wrong_result",
             _("results_in_order() returned the right results in the wrong order{order}: {list}, expected "
               "{expected}, the order of the items. imap() yields results in the order of the items; "
               "imap_unordered() in the order the tasks finish, and sorting them orders the values, not the "
               "items.").format(order=order, list=list(got), expected=expected))
    if isinstance(got, str) and ("generator" in got or "Iterator" in got):
        fail("wrong_result",
             _("results_in_order() returned an iterator ({got}), not a list. Build the list inside the `with "
               "Pool()` block: leaving the block terminates the pool, and an iterator read after it waits "
               "forever for the results it lost. `return list(pool.imap(...))` from inside the block.").format(got=got))
    expect(isinstance(got, (list, tuple)) and list(got) == expected, "wrong_result",
           _("results_in_order() returned {got!r}; expected {expected} (func applied to each item, in order).").format(got=got, expected=expected))


@check("the work runs in the pool's worker processes", uses=in_order, category="not_parallel")
def test_work_in_workers(obs):
    tasks = _tasks(obs)
    if _cut_short(obs) and not tasks:
        return
    expect(tasks, "not_parallel",
           _("No task ran in a Pool worker: pass func and the items to pool.imap(func, items, chunksize=...) "
             "rather than calling func yourself."))
    in_parent = [e for e in tasks if e.pid == obs.value["parent"]]
    expect(not in_parent, "not_parallel",
           _("The tasks ran in your own process, not in worker processes: use multiprocessing.Pool (not "
             "multiprocessing.dummy or a ThreadPool)."))


@check("the items go to the workers `chunksize` at a time", uses=in_order)
def test_chunksize_honoured(obs):
    if _cut_short(obs):
        return
    sizes = sorted((e.get("items") for e in _tasks(obs)), reverse=True)
    full, rest = divmod(len(ITEMS), CHUNKSIZE)
    expected = [CHUNKSIZE] * full + ([rest] if rest else [])
    expect(sizes == expected, "wrong_result",
           _("results_in_order(func, items, chunksize={CHUNKSIZE}) was given {n_ITEMS} items: the pool "
             "should run tasks of {expected} items, but ran tasks of {sizes}. Pass chunksize on: "
             "pool.imap(func, items, chunksize=chunksize).").format(CHUNKSIZE=CHUNKSIZE, n_ITEMS=len(ITEMS), expected=expected, sizes=sizes),
           where=first_at(student_calls(obs, *SUBMITS)))


@check("results are read inside the with-block, before the pool is terminated", uses=in_order, category="ordering",
       on_timeout=LOST_ADVICE)
def test_read_before_terminate(obs):
    ends = student_calls(obs, "pool.terminate", "pool.exit")
    if not ends:
        return
    late = [e for e in _tasks(obs) if e.t > ends[0].t]
    expect(not late and not _cut_short(obs), "ordering",
           _("The pool was terminated (at {where}) before every task had finished: the results of the "
             "unfinished tasks are lost. Leaving `with Pool() as pool:` calls terminate(): read every result "
             "inside the block, and return a list, not the iterator.").format(where=ends[0].where), where=ends[0].where)
