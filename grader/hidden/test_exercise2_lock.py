"""Hidden checks for exercise 2: Lock (one shared lock around every read-modify-write).

The drivers hand the student's code a counter of their own (`ProbedCounter`): a number in
shared memory whose read() pauses, so that two processes updating it at the same time
without a lock read the same value and lose an update. It logs each read and write to
the probe, so that the checks can see, in each process, whether a lock was held around
every update (the probe logs lock.acquire / lock.release), and which lock: that verdict
is structural, whatever the timing. For lost updates that do not depend on when the
student's processes happen to start, the `race` driver runs deposit() and
deposit_manually() itself, in processes released together from a start gate.
The driver most likely to hang (a worker that fails between acquire() and release(),
leaving the lock taken) is the last one.
"""

import os
import time

from grader.checks import (
    N_,
    _,
    check,
    children,
    driver,
    expect,
    fail,
    first_at,
    judge_error,
    max_overlap,
    student_calls,
)
from grader.drivers import budget
from grader.probe import record

WORKERS, TIMES = 4, 20
RACERS = 4  # the race: half run deposit(), half deposit_manually(), all released together
FAIL_WORKERS, FAIL_TIMES, FAIL_AT = 2, 6, 3  # the write of 3 fails, once: the other worker still has >= 4 to make
PAUSE_S = 0.0003  # read() pauses this long: the window in which an unlocked update gets lost

# ----------------------------------------------------------------------------- the counter the drivers pass


class ProbedCounter:
    """Like the exercise's Counter (read() and write(value)), and every access is logged."""

    def __init__(self, fail_at=None):
        from multiprocessing import RawValue

        self._value = RawValue("i", 0)
        self._failed = RawValue("i", 0)
        self.fail_at = fail_at

    def read(self):
        value = self._value.value
        record("counter.read", value=value)
        time.sleep(PAUSE_S)
        return value

    def write(self, value):
        if self.fail_at is not None and value == self.fail_at and not self._failed.value:
            self._failed.value = 1
            record("counter.fail", value=value)
            raise RuntimeError(f"the update to {value} failed (the grader's counter fails once, on purpose: "
                               "the lock must still be released)")
        self._value.value = value
        record("counter.write", value=value)

    def peek(self):
        return self._value.value


# ----------------------------------------------------------------------------- drivers


def _run(student, target_name, counter, workers, times):
    import multiprocessing

    target = getattr(student, target_name)
    target(multiprocessing.Lock(), counter, 0)  # times=0 does nothing, unless it is still a stub
    kwargs = {} if target_name == "deposit" else {"target": target}
    returned = student.run_deposits(counter, workers, times, **kwargs)
    return {"parent": os.getpid(), "returned": returned, "final": counter.peek()}


@driver
def with_lock(student):
    return _run(student, "deposit", ProbedCounter(), WORKERS, TIMES)


def race_worker(ready, go, function, lock, counter, times):
    """Runs in the driver's own processes: wait at the start gate, then run the student's function."""
    ready._semlock.release()  # through _semlock: not logged as the student's
    go.wait(budget())  # a share of the deadline: spawn racers may be slow to start on a busy machine
    function(lock, counter, times)


@driver
def race(student):
    """RACERS processes, half running deposit() and half deposit_manually(), released together."""
    import multiprocessing

    counter, lock = ProbedCounter(), multiprocessing.Lock()
    student.deposit(lock, counter, 0)  # times=0 does nothing, unless it is still a stub
    student.deposit_manually(lock, counter, 0)
    ready, go = multiprocessing.Semaphore(0), multiprocessing.Event()
    functions = [student.deposit, student.deposit_manually] * (RACERS // 2)
    racers = [multiprocessing.Process(target=race_worker, args=(ready, go, f, lock, counter, TIMES),
                                      name=f"racer-{n}-{f.__name__}") for n, f in enumerate(functions)]
    for racer in racers:
        racer.start()
    for _racer in racers:
        ready._semlock.acquire(True, budget())
    go.set()
    for racer in racers:
        racer.join()
    return {"final": counter.peek(), "exitcodes": {r.name: r.exitcode for r in racers}}


@driver
def with_failure(student):
    return _run(student, "deposit", ProbedCounter(fail_at=FAIL_AT), FAIL_WORKERS, FAIL_TIMES)


@driver
def manual_failure(student):
    return _run(student, "deposit_manually", ProbedCounter(fail_at=FAIL_AT), FAIL_WORKERS, FAIL_TIMES)


# ----------------------------------------------------------------------------- reading the log


def _updates(obs):
    """Per worker pid: its counter accesses, each with the locks this process held at that moment.

    Returns {pid: [(event, {lock id: held count})]}; the lock ids are the probe's. The parent's
    own reads (the final counter.read()) are not updates.
    """
    workers = children(obs)
    held: dict[int, dict] = {}
    found: dict[int, list] = {}
    for e in obs.events:
        if e.kind == "lock.acquire" and e.get("acquired", True):
            mine = held.setdefault(e.pid, {})
            mine[e.get("lock")] = mine.get(e.get("lock"), 0) + 1
        elif e.kind == "lock.release":
            mine = held.setdefault(e.pid, {})
            if mine.get(e.get("lock")):
                mine[e.get("lock")] -= 1
                if not mine[e.get("lock")]:
                    del mine[e.get("lock")]
        elif e.kind in ("counter.read", "counter.write", "counter.fail") and e.pid in workers:
            found.setdefault(e.pid, []).append((e, dict(held.get(e.pid, {}))))
    return found


def _hold_intervals(obs):
    """Per lock id: the [acquire, release] intervals of every process that held it."""
    open_at: dict[tuple, list] = {}
    intervals: dict[object, list] = {}
    for e in obs.events:
        key = (e.pid, e.get("lock"))
        if e.kind == "lock.acquire" and e.get("acquired", True):
            open_at.setdefault(key, []).append(e.t)
        elif e.kind == "lock.release" and open_at.get(key):
            begin = open_at[key].pop()
            if not open_at[key]:  # count only the outermost hold of a re-entrant lock
                intervals.setdefault(e.get("lock"), []).append((begin, e.t))
    return intervals


def _unprotected(obs):
    """Why the log shows updates that a lock did not protect, whatever the timing, or None: an
    access made holding no lock, or workers that held different locks. (Whether an update was
    then actually lost depends on whether two workers happened to overlap.)"""
    used = set()
    for accesses in _updates(obs).values():
        for event, held in accesses:
            if not held:
                verb = _("read") if event.kind == "counter.read" else _("wrote")
                return _("a worker {verb} the counter while holding no lock (at {value}).").format(
                    verb=verb, value=event.where or "?"), event.where
            used.update(held)
    if len(used) > 1:
        return _("the workers held {n_used} different locks, so each one only kept out itself.").format(
            n_used=len(used)), first_at(student_calls(obs, "lock.acquire"))
    return None


def _expected_total(obs):
    """What the counter must read: one per successful write."""
    return sum(1 for e in obs.events if e.kind == "counter.write")


# ----------------------------------------------------------------------------- checks: the workers


@check("run_deposits() runs each worker in a process of its own and joins them all", uses=with_lock,
       category="lifecycle", expects_error=True)
def test_workers_are_processes(obs):
    error = obs.error
    if error is not None and error.type == "TypeError" and "not iterable" in error.message:
        fail("crash", _("Your code raised TypeError: {message}, at `{code}`. Process(args=...) must be a tuple: "
                        "`(lock)` is just the lock in parentheses (the source post's mistake); a tuple of one needs a "
                        "comma: `args=(lock,)`.\n").format(message=error.message, code=error.code)
                      + error.traceback,
             where=f"{obs.student_file}:{error.line}" if error.line else None)
    if error is not None:
        judge_error(obs)
    started = children(obs)
    expect(len(started) == WORKERS, "wrong_result",
           _("run_deposits(counter, {WORKERS}, {TIMES}) should start {WORKERS} processes (one per worker); "
             "it started {n_started}.").format(WORKERS=WORKERS, TIMES=TIMES, n_started=len(started)), where=first_at(student_calls(obs, "process.start")))
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("These workers were started but never joined: {unjoined}. Join every worker before reading the "
             "counter: until then, some deposits may not have happened yet.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))
    failed = {info["name"]: info.get("exitcode") for info in started.values() if info.get("exitcode") != 0}
    expect(not failed, "crash",
           _("Some workers did not end normally (exit codes {failed}): their error is in the output above. "
             "Each worker must run target(lock, counter=counter, times=times).").format(failed=failed))


@check("the workers are all started, then all joined", uses=with_lock, category="not_parallel",
       leftovers_ok=True)
def test_workers_run_together(obs):
    starts = student_calls(obs, "process.start")
    joins = student_calls(obs, "process.join")
    expect(starts, "wrong_result", _("run_deposits() started no process."))
    late = [e for e in starts if joins and e.t > joins[0].t]
    expect(not late, "not_parallel",
           _("A worker was joined before the last one was started, so they ran one at a time and the lock "
             "was never put to the test. Start every worker first, then join them all in a second loop."),
           where=joins[0].where if joins else None)


@check("no deposit is lost: 4 workers x 20 deposits make 80", uses=with_lock,  # WORKERS, TIMES
       leftovers_ok=True)
def test_no_lost_update(obs):
    expected = WORKERS * TIMES
    final = obs.value["final"]
    hint = ""
    if final < expected:
        hint = _(" Updates were lost: two workers read the same value, each added 1, and the second write "
                "overwrote the first. Hold the lock around the whole read-and-write: "
                "`with lock: counter.write(counter.read() + 1)`.")
    expect(final == expected, "wrong_result",
           _("After {WORKERS} workers each made {TIMES} deposits, the counter holds {final}; expected "
             "{expected}.{hint}").format(WORKERS=WORKERS, TIMES=TIMES, final=final, expected=expected, hint=hint))
    unprotected = _unprotected(obs)
    if unprotected:  # the same verdict whether or not two workers happened to overlap in this run
        why, where = unprotected
        fail("wrong_result",
             _("All {expected} deposits arrived this time, but only because no two workers happened to update "
               "the counter at the same moment: {why} Two workers can then read the same value, and one of the "
               "two deposits is lost. Hold one shared lock around the whole read-and-write: "
               "`with lock: counter.write(counter.read() + 1)`.").format(expected=expected, why=why),
             where=where)
    expect(obs.value["returned"] == expected, "wrong_result",
           _("run_deposits() returned {returned!r}, while the counter holds {final}: return counter.read(), "
             "after joining every worker.").format(returned=obs.value['returned'], final=final))


def _judge_bracketing(obs, function):
    updates = _updates(obs)
    expect(updates, "wrong_result", _("No worker read or wrote the counter: does {function}() call counter.write(counter.read() + 1)?").format(function=function))
    for pid, accesses in updates.items():
        for event, held in accesses:
            verb = _("read") if event.kind == "counter.read" else _("wrote")
            expect(held, "wrong_result",
                   _("A worker {verb} the counter while holding no lock (at {value}). Another worker can read the "
                     "same value in between, and one of the two deposits is lost. Hold the lock around the read AND "
                     "the write of each deposit.").format(verb=verb, value=event.where or '?'),
                   where=event.where)
        # a read and its write must be in the same hold: no release in between
        reads = [(e, held) for e, held in accesses if e.kind == "counter.read"]
        releases = [e for e in obs.events if e.kind == "lock.release" and e.pid == pid]
        for e, _held in reads:
            after = [w for w, _held in accesses if w.kind in ("counter.write", "counter.fail") and w.t > e.t]
            if not after:
                continue
            write = after[0]
            between = [r for r in releases if e.t < r.t < write.t]
            expect(not between, "wrong_result",
                   _("A worker released the lock (at {value}) between reading the counter and writing it back: "
                     "another worker can read the old value in that gap, and a deposit is lost. Keep the read and "
                     "the write inside one `with lock:` block.").format(value=between[0].where if between else '?'),
                   where=between[0].where if between else None)


@check("every deposit reads and writes the counter while holding the lock", uses=with_lock, leftovers_ok=True)
def test_lock_held_around_update(obs):
    _judge_bracketing(obs, "deposit")


@check("all workers share one lock, and only one holds it at a time", uses=with_lock, leftovers_ok=True)
def test_one_shared_lock(obs):
    updates = _updates(obs)
    used = {}
    for pid, accesses in updates.items():
        for _event, held in accesses:
            for lock in held:
                used.setdefault(lock, set()).add(pid)
    expect(used, "wrong_result", _("No worker held a lock while updating the counter."))
    expect(len(used) == 1, "wrong_result",
           _("The workers held {n_used} different locks while updating the counter, so each one only kept "
             "out itself. Create ONE Lock in run_deposits(), before starting the workers, and pass that same "
             "lock to every worker (a Lock created in each worker, or at module level under spawn, is a "
             "different lock in every process).").format(n_used=len(used)),
           where=first_at(student_calls(obs, "lock.acquire")))
    _judge_one_holder(obs)


def _judge_one_holder(obs):
    for spans in _hold_intervals(obs).values():
        expect(max_overlap(spans) <= 1, "wrong_result",
               _("{max_overlap} workers held their lock at the same time, which one shared Lock never allows: "
                 "each had a lock of its own (under fork, locks made in different processes look alike to the "
                 "grader). Create ONE Lock in the parent and pass that object to every worker; do not create a "
                 "Lock inside the worker.").format(max_overlap=max_overlap(spans)), where=first_at(student_calls(obs, "lock.acquire")))


# ----------------------------------------------------------------------------- checks: acquire() and release()


@check("when 4 workers race (deposit() and deposit_manually(), one lock), no deposit is lost",  # RACERS
       uses=race, leftovers_ok=True)
def test_race(obs):
    expected = RACERS * TIMES
    failed = {name: code for name, code in obs.value["exitcodes"].items() if code != 0}
    expect(not failed, "crash", _("Some workers did not end normally (exit codes {failed}): see the output.").format(failed=failed))
    _judge_bracketing(obs, "deposit() or deposit_manually")
    updates = _updates(obs)
    used = {lock for accesses in updates.values() for _event, held in accesses for lock in held}
    expect(len(used) == 1, "wrong_result",
           _("The grader gave the same lock to {RACERS} workers, but they held {n_used} different locks "
             "while updating the counter: use the lock you are given, not a Lock of your own (one created at "
             "module level is a different lock in every process under spawn and forkserver).").format(RACERS=RACERS, n_used=len(used)),
           where=first_at(student_calls(obs, "lock.acquire")))
    _judge_one_holder(obs)
    expect(obs.value["final"] == expected, "wrong_result",
           _("{RACERS} workers started together ({RACERS2} running deposit(), {RACERS2} deposit_manually(), "
             "{TIMES} deposits each) left the counter at {final}; expected {expected}. Hold the lock around "
             "each whole read-and-write.").format(RACERS=RACERS, RACERS2=RACERS // 2, TIMES=TIMES, final=obs.value['final'], expected=expected))


# ----------------------------------------------------------------------------- checks: a failing update

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
STUCK = "acquire()"


def _judge_failure(obs, function, how):
    targets = sorted({str(info.get("target")) for info in children(obs).values()})
    expect(targets == [function], "wrong_result",
           _("run_deposits(counter, {FAIL_WORKERS}, {FAIL_TIMES}, target={function}) started processes "
             "running {targets}: each worker must run the `target` it is given.").format(FAIL_WORKERS=FAIL_WORKERS, FAIL_TIMES=FAIL_TIMES, function=function, targets=targets),
           where=first_at(student_calls(obs, "process.start")))
    failures = [e for e in obs.events if e.kind == "counter.fail"]
    # Updates a lock did not protect are judged by the checks above, by the log. Here the failure
    # itself needs the count to reach FAIL_AT, which such updates reach or not depending on whether
    # two workers happened to overlap: fail the same way every time instead.
    unprotected = _unprotected(obs)
    if unprotected is not None:
        fail("wrong_result",
             _("This check makes one worker fail while it holds the shared lock, and {why} Whether the "
               "failing worker releases the lock cannot be seen then: give every worker the one lock first "
               "(see the check about holding the lock).").format(why=unprotected[0]), where=unprotected[1])
    if not failures and obs.value["final"] < FAIL_AT:
        fail("wrong_result", _("{FAIL_WORKERS} workers made {FAIL_TIMES} deposits each, and the counter only reached {final}: "
                               "updates were lost. Hold one shared lock around each read-and-write.").format(FAIL_WORKERS=FAIL_WORKERS, FAIL_TIMES=FAIL_TIMES, final=obs.value['final']))
    expect(failures, "wrong_result", _("The grader's counter should have failed once at {FAIL_AT}, but the workers never wrote that "
                                       "value: did every worker run?").format(FAIL_AT=FAIL_AT))
    failed_pid = failures[0].pid
    started = children(obs)
    others = {info["name"]: info.get("exitcode") for pid, info in started.items()
              if pid != failed_pid and info.get("exitcode") != 0}
    expect(not others, "wrong_result",
           _("One worker's counter.write() raised; the other workers should still finish normally, but these "
             "did not: {others}.").format(others=others))
    held = [h for e, h in _updates(obs).get(failed_pid, []) if e.kind == "counter.fail"]
    expect(held and held[0], "wrong_result",
           _("The worker whose counter.write() raised held no lock at that moment: {function}() must hold "
             "the lock around each read-and-write (see the check about holding the lock).").format(function=function),
           where=failures[0].where)
    releases = [e for e in obs.events if e.kind == "lock.release" and e.pid == failed_pid
                and e.t > failures[0].t]
    expect(releases, "wrong_result",
           _("The worker whose counter.write() raised never released the lock ({how}). Here the others could "
             "still finish only because they did not need it again.").format(how=_(how)))
    expected = _expected_total(obs)
    expect(obs.value["final"] == expected, "wrong_result",
           _("The counter ended at {final}, but {expected} writes succeeded: updates were lost.").format(final=obs.value['final'], expected=expected))


@check("a worker that fails inside `with lock:` releases the lock, and the others finish", uses=with_failure,
       on_timeout={STUCK: N_("Use `with lock:` in deposit(): it releases the lock however the block ends.")},
       leftovers_ok=False)
def test_with_releases_on_error(obs):
    _judge_failure(obs, "deposit", N_("`with lock:` releases it even when the block raises"))


@check("a worker that fails between acquire() and release() still releases the lock (try/finally)",
       uses=manual_failure,
       on_timeout={STUCK: N_("In deposit_manually(), put lock.release() in a `finally:` block, right after the "
                          "`try:` that follows lock.acquire().")})
def test_finally_releases_on_error(obs):
    _judge_failure(obs, "deposit_manually", N_("put lock.release() in a `finally:` block"))
