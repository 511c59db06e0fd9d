"""Hidden checks for exercise 8: shared memory (Value and Array; `+=` under get_lock()).

Lost increments are judged twice. The student's count_in_parallel() runs on a real Value
(the total must be exact). And the driver runs the student's add_many() itself, in
RACE_WORKERS processes released together from a start gate, on a counter of its own
(`ProbedCounter`): a real Value whose `.value` read pauses briefly and logs each read and
write to the probe. Without the lock, increments are then lost reliably, whatever the
machine's load; and the log shows, in each process, whether the Value's lock was held
around every read-and-write (the probe logs lock.acquire / lock.release).
"""

import os
import time

from grader.checks import _, check, children, driver, expect, first_at, student_calls
from grader.probe import record

PI = 3.1415927
WORKERS, TIMES = 4, 250  # count_in_parallel() on a real Value
RACE_WORKERS, RACE_TIMES = 4, 60  # add_many() on the probed counter
PAUSE_S = 0.0001  # a read of the probed counter pauses this long: an unlocked += loses increments

# ----------------------------------------------------------------------------- the counter of the race


class ProbedCounter:
    """A synchronized Value('i') (get_lock(), `with`, acquire/release) whose reads pause, and are logged."""

    def __init__(self):
        from multiprocessing import Value

        self._real = Value("i", 0)

    @property
    def value(self):
        value = self._real.get_obj().value
        record("counter.read", value=value)
        time.sleep(PAUSE_S)
        return value

    @value.setter
    def value(self, value):
        self._real.get_obj().value = value
        record("counter.write", value=value)

    def get_lock(self):
        return self._real.get_lock()

    def get_obj(self):
        return self._real.get_obj()

    def acquire(self, *args, **kwargs):
        return self._real.get_lock().acquire(*args, **kwargs)

    def release(self):
        return self._real.get_lock().release()

    def __enter__(self):
        return self._real.get_lock().__enter__()

    def __exit__(self, *args):
        return self._real.get_lock().__exit__(*args)

    def peek(self):
        return self._real.get_obj().value


def race_worker(ready, go, add_many, counter, times):
    """Runs in the driver's processes: wait at the start gate, then run the student's add_many()."""
    ready._semlock.release()  # through _semlock: not logged as the student's
    go.wait(10)
    add_many(counter, times)


# ----------------------------------------------------------------------------- drivers


def _describe(obj):
    """What make_shared() returned, as plain data: class, typecode, contents."""
    info = {"class": type(obj).__name__, "synchronized": hasattr(obj, "get_lock"), "typecode": None}
    raw = obj.get_obj() if hasattr(obj, "get_obj") else obj
    ctype = type(raw)
    if hasattr(ctype, "_length_"):  # a ctypes array
        info["typecode"] = getattr(ctype._type_, "_type_", None)
        info["items"] = list(raw)
    elif isinstance(getattr(ctype, "_type_", None), str):  # a ctypes simple type
        info["typecode"] = ctype._type_
        info["value"] = raw.value
    elif isinstance(obj, (int, float, str)):
        info["value"] = obj
    elif isinstance(obj, (list, tuple)):
        info["items"] = list(obj)
    return info


@driver
def shared_objects(student):
    made = student.make_shared()
    if not isinstance(made, tuple) or len(made) != 2:
        return {"returned": repr(made)[:200]}
    return {"num": _describe(made[0]), "arr": _describe(made[1])}


@driver
def child_update(student):
    got = student.run_update()
    if isinstance(got, (tuple, list)) and len(got) == 2:
        value, items = got
        try:
            items = list(items)
        except TypeError:
            pass
        return {"value": value, "value_type": type(value).__name__, "items": items}
    return {"returned": repr(got)[:200]}


@driver
def parallel_count(student):
    return {"parent": os.getpid(), "total": student.count_in_parallel(WORKERS, TIMES)}


@driver
def race(student):
    import multiprocessing

    counter = ProbedCounter()
    student.add_many(counter, 0)  # does nothing, unless it is still a stub
    ready, go = multiprocessing.Semaphore(0), multiprocessing.Event()
    workers = [multiprocessing.Process(target=race_worker, args=(ready, go, student.add_many, counter, RACE_TIMES),
                                       name=f"racer-{n}") for n in range(RACE_WORKERS)]
    for worker in workers:
        worker.start()
    for _worker in workers:
        ready._semlock.acquire(True, 10)
    go.set()
    for worker in workers:
        worker.join()
    return {"total": counter.peek(), "exitcodes": [w.exitcode for w in workers]}


# ----------------------------------------------------------------------------- checks: Value and Array


def _child_update(obs):
    got = obs.value
    expect("returned" not in got, "wrong_result",
           _("run_update() should return (num.value, a list of arr's elements); it returned {get}.").format(get=got.get('returned')))
    started = children(obs)
    expect(started, "wrong_result", _("run_update() started no process: update() must run in a child."))
    failed = [info.get("exitcode") for info in started.values() if info.get("exitcode") != 0]
    expect(not failed, "wrong_result",
           _("The child running update() failed (exit code {value}); its error is in the output. (A float "
             "such as PI written into a Value of typecode 'i' raises TypeError: use 'd'.)").format(value=failed[0] if failed else '?'))
    return got


@check("a child's write to the Value reaches the parent: it reads 3.1415927, a float", uses=child_update)
def test_value_written_by_child(obs):
    got = _child_update(obs)
    value = got["value"]
    if value == 0 or value is None:
        expect(False, "wrong_result",
               _("After the child ran update(), the parent reads {value!r}: the child's write did not reach it. "
                 "Is num a multiprocessing.Value (not a plain number), created before the child starts and "
                 "passed to it? If the child failed, its error is in the output: a float written into a Value of "
                 "typecode 'i' raises TypeError.").format(value=value))
    expect(got["value_type"] == "float" and value == PI, "wrong_result",
           _("The parent reads {value!r} ({value_type}); expected {PI} (a float). Use typecode 'd' for the "
             "Value, and set num.value = PI in update().").format(value=value, value_type=got['value_type'], PI=PI))


@check("a child's changes to the Array reach the parent: it reads 10, 11, ..., 19", uses=child_update)
def test_array_updated_in_place(obs):
    got = _child_update(obs)
    expected = [i + 10 for i in range(10)]
    items = got["items"]
    hint = ""
    if items == list(range(10)):
        hint = _(" The parent still sees the original elements: the child changed a copy of its own. Use a "
                "multiprocessing.Array, and change its elements in place: arr[i] += 10.")
    expect(items == expected, "wrong_result", _("The parent reads {items!r}; expected {expected}.{hint}").format(items=items, expected=expected, hint=hint))


# ----------------------------------------------------------------------------- checks: += under get_lock()


@check("count_in_parallel() runs its workers in processes of their own, all started, then all joined",
       uses=parallel_count, category="lifecycle")
def test_workers(obs):
    started = children(obs)
    expect(len(started) == WORKERS, "wrong_result",
           _("count_in_parallel({WORKERS}, {TIMES}) should start {WORKERS} processes; it started {n_started}.").format(WORKERS=WORKERS, TIMES=TIMES, n_started=len(started)),
           where=first_at(student_calls(obs, "process.start")))
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("These workers were started but never joined: {unjoined}. Join every worker before reading the "
             "counter.").format(unjoined=unjoined), where=first_at(student_calls(obs, "process.start")))
    failed = {info["name"]: info.get("exitcode") for info in started.values() if info.get("exitcode") != 0}
    raw = [e for e in student_calls(obs, "shared.") if e.get("lock") is False or e.kind.startswith("shared.Raw")]
    expect(not (failed and raw), "crash",
           _("The workers failed (exit codes {failed}; see the output), and the counter was made without a "
             "lock ({value}{value2}): such a Value has no get_lock(). Create it with "
             'multiprocessing.Value("i", 0).').format(failed=failed, value=raw[0].kind if raw else '', value2=', lock=False' if raw and raw[0].get('lock') is False else ''), where=first_at(raw))
    expect(not failed, "crash", _("Some workers did not end normally (exit codes {failed}): see the output.").format(failed=failed))
    starts, joins = student_calls(obs, "process.start"), student_calls(obs, "process.join")
    expect(not [e for e in starts if joins and e.t > joins[0].t], "not_parallel",
           _("A worker was joined before the last one was started, so they ran one at a time. Start every "
             "worker first, then join them all."), where=joins[0].where if joins else None)


@check("no increment is lost: 4 workers x 250 increments make 1000",  # WORKERS, TIMES
       uses=parallel_count)
def test_parallel_total(obs):
    expected = WORKERS * TIMES
    total = obs.value["total"]
    hint = ""
    if isinstance(total, int) and 0 < total < expected:
        hint = _(" Increments were lost: `counter.value += 1` reads, then writes, and another worker can "
                "write in between. Hold counter.get_lock() around each +=.")
    elif total == 0:
        hint = _(" Did the workers update the Value that count_in_parallel() returns (one Value, passed to each)?")
    expect(total == expected, "wrong_result",
           _("count_in_parallel({WORKERS}, {TIMES}) returned {total!r}; expected {expected}.{hint}").format(WORKERS=WORKERS, TIMES=TIMES, total=total, expected=expected, hint=hint))
    # Whether unlocked increments collide is up to the machine (under spawn the workers often start
    # too far apart to meet): the log decides, so that the same file gets the same verdict.
    workers = children(obs)
    unlocked = sorted(info["name"] for pid, info in workers.items()
                      if not any(e.pid == pid and e.kind == "lock.acquire" for e in obs.events))
    expect(not unlocked, "wrong_result",
           _("count_in_parallel({WORKERS}, {TIMES}) returned {expected} this time, but these workers never took a "
             "lock: {unlocked}. `counter.value += 1` reads, then writes, and another worker can write in between: "
             "increments are lost whenever two workers overlap, which this run they happened not to. Hold "
             "counter.get_lock() around each +=.").format(WORKERS=WORKERS, TIMES=TIMES, expected=expected,
                                                          unlocked=", ".join(unlocked)),
           where=first_at(student_calls(obs, "process.start")))
    made = [e.get("typecode") for e in student_calls(obs, "shared.Value")]
    expect(isinstance(total, int), "wrong_result",
           (_("count_in_parallel() returned {total!r}, a {name}: a counter of whole numbers is a Value of "
             "typecode 'i' (the Value was made with {made!r}).").format(total=total, name=type(total).__name__, made=made[0]) if made else _("count_in_parallel() returned {total!r}, a {name}: return the Value's .value, of typecode 'i'.").format(total=total, name=type(total).__name__)))


def _race_updates(obs):
    """Per racer pid: its counter reads and writes, each with the locks held at that moment."""
    racers = children(obs)
    held: dict[int, dict] = {}
    found: dict[int, list] = {}
    for e in obs.events:
        if e.pid not in racers:
            continue
        mine = held.setdefault(e.pid, {})
        lock = e.get("lock")
        if e.kind == "lock.acquire" and e.get("acquired", True):
            mine[lock] = mine.get(lock, 0) + 1
        elif e.kind == "lock.release" and mine.get(lock):
            mine[lock] -= 1
            if not mine[lock]:
                del mine[lock]
        elif e.kind in ("counter.read", "counter.write"):
            found.setdefault(e.pid, []).append((e, dict(mine)))
    return found


@check("every += holds the Value's lock, from the read to the write", uses=race)
def test_increment_holds_the_lock(obs):
    updates = _race_updates(obs)
    expect(updates, "wrong_result", _("add_many() never read or wrote counter.value."))
    for pid, accesses in updates.items():
        for event, held in accesses:
            verb = _("read") if event.kind == "counter.read" else _("wrote")
            expect(held, "wrong_result",
                   _("add_many() {verb} counter.value without holding its lock (at {value}). The Value's own locking "
                     "covers one read, or one write, never the pair that `+=` is. Write `with counter.get_lock(): "
                     "counter.value += 1`.").format(verb=verb, value=event.where or '?'), where=event.where)
        releases = [e.t for e in obs.events if e.kind == "lock.release" and e.pid == pid]
        for (read, _held), (write, _held2) in zip(accesses, accesses[1:], strict=False):
            if read.kind != "counter.read" or write.kind != "counter.write":
                continue
            between = [t for t in releases if read.t < t < write.t]
            expect(not between, "wrong_result",
                   _("add_many() released the lock between reading counter.value and writing it back (at {value}): "
                     "another worker can write in that gap, and an increment is lost. Keep the whole `counter.value "
                     "+= 1` inside one `with counter.get_lock():`.").format(value=read.where or '?'),
                   where=read.where)


@check("no increment is lost when 4 workers race: 4 x 60 make 240", uses=race)  # RACE_WORKERS, RACE_TIMES
def test_race_total(obs):
    expected = RACE_WORKERS * RACE_TIMES
    bad = [code for code in obs.value["exitcodes"] if code != 0]
    expect(not bad, "crash", _("add_many() failed in {n_bad} worker(s) (exit codes {bad}): see the output.").format(n_bad=len(bad), bad=bad))
    expect(obs.value["total"] == expected, "wrong_result",
           _("{RACE_WORKERS} processes each ran add_many(counter, {RACE_TIMES}) on one shared Value, started "
             "together; the counter ended at {total}, expected {expected}. Increments were lost: hold "
             "counter.get_lock() around each `counter.value += 1`.").format(RACE_WORKERS=RACE_WORKERS, RACE_TIMES=RACE_TIMES, total=obs.value['total'], expected=expected))
