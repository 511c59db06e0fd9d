"""Hidden checks for exercise 5: Queue (timeouts, snapshots, producers and consumers, big items).

Drivers (run in the sandbox) call the student's functions and report plain data;
checks (run in the grader) judge it, together with the probe's log of queue and process
calls. Order: the calls that cannot hang first; then the producer/consumer runs (a
consumer that never stops hangs them); then drain() and take_ready() (a get() without a
timeout hangs them);
last the classic deadlock of joining a child before getting its big item.
"""

import os
from multiprocessing import queues

from grader import late
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
    raised,
    student_calls,
)
from grader.drivers import budget

FILL_ITEMS = list("abcdefgh")
FILL_ROOM = 5
DRAIN_ITEMS = [("item", i) for i in range(6)]
READY_ITEMS = ["x", "y", "z"]
THREE = (2, 3, 5)  # run(n_producers, n_consumers, per_producer) with more consumers than producers
LATE = (2, 2, 5)  # run() with as many consumers as producers
BIG_N, BIG_SIZE = 2, 256 * 1024  # each item far above a pipe's 64 KiB buffer

# ----------------------------------------------------------------------------- helpers run in the sandbox


class MacQueue(queues.Queue):
    """A multiprocessing Queue whose qsize() raises, as every Queue's does on macOS."""

    def qsize(self):
        raise NotImplementedError("qsize() is not implemented on this platform")


def put_all(q, items):
    """A child that puts items and ends (its exit flushes them into the queue's pipe)."""
    for item in items:
        q.put(item)


def _preloaded(q, items):
    """q with items already in its pipe, as if a child had put them and ended.

    Written straight into the pipe (the queue's own lock and semaphore taken as put()
    would), so that get(timeout=...) and empty() find them there whatever the machine's
    load: no feeder thread to wait for. Falls back to a child that puts them.
    """
    from multiprocessing.reduction import ForkingPickler

    try:
        writer, wlock, sem = q._writer, q._wlock, q._sem
    except AttributeError:
        import multiprocessing

        child = multiprocessing.Process(target=put_all, args=(q, items), name="grader-filler")
        child.start()
        child.join()
        return q
    for item in items:
        sem.acquire()
        data = ForkingPickler.dumps(item)
        if wlock is None:
            writer.send_bytes(data)
        else:
            with wlock:
                writer.send_bytes(data)
    return q


def _mac_queue(maxsize):
    """A Queue whose qsize() behaves as on macOS."""
    import multiprocessing

    return MacQueue(maxsize, ctx=multiprocessing.get_context())


def _exception_advice(error):
    """Advice for the wrong exception names students reach for; "" when nothing specific fits."""
    if error.type == "AttributeError" and ("'Full'" in error.message or "'Empty'" in error.message):
        return _("queue.Full and queue.Empty belong to the standard module `queue`: `import queue`, then "
                 "`except queue.Empty:`. multiprocessing.Queue is a function and has no .Empty or .Full "
                 "(the post's Queue.Empty is Python 2's module Queue).")
    if error.type in ("Full", "Empty"):
        return _("queue.{type} was raised and not caught: it is how put/get with a timeout (or the "
                 "_nowait versions) say \"no room\" / \"nothing came\". Catch queue.{type} "
                 "(import queue) and stop there.").format(type=error.type)
    return ""


def _judge_with_advice(obs):
    error = obs.error
    advice = _exception_advice(error)
    if advice:
        fail("crash", _("Your code raised {type}: {message}\n{advice}\n{traceback}").format(type=error.type, message=error.message, advice=advice, traceback=error.traceback),
             f"{obs.student_file}:{error.line}" if error.line else None)
    judge_error(obs)


# ----------------------------------------------------------------------------- drivers


@driver
def fill_queue(student):
    import multiprocessing
    import queue

    q = multiprocessing.Queue(FILL_ROOM)
    count = student.fill(q, list(FILL_ITEMS))
    held = []
    wait = budget()  # the student's feeder thread flushes the items: a share of the deadline, not a fixed delay
    for _room in range(min(count, FILL_ROOM) if isinstance(count, int) else 0):
        try:
            held.append(q.get(timeout=wait))
        except queue.Empty:
            break
    return {"count": count, "held": held}


@driver
def describe_queue(student):
    import multiprocessing

    fresh = student.snapshot(multiprocessing.Queue(3))
    full = student.snapshot(_preloaded(multiprocessing.Queue(3), ["a", "b", "c"]))
    mac = raised(student.snapshot, _preloaded(_mac_queue(3), ["a"]))
    return {"fresh": fresh, "full": full, "mac": mac}


# Late producers (grader/late.py): every run of run() gets producers that wait until every
# consumer waits in get(), has looked at the queue and seen it empty, or has ended, so that a consumer that
# stops when the queue looks empty fails on every run, not only when the machine made a producer late.


def late_consumer(q, results):
    """The student's consumer, in a process whose Queue calls are watched."""
    return late.consumer("consumer", q, results)


def late_producer(q, who, count):
    """The student's producer, started late: once every consumer waits, or has seen the queue empty."""
    late.await_consumers()
    return late.original("producer")(q, who, count)


def _run_late(student, n_producers, n_consumers, per_producer):
    """student.run(...) with late producers; what it returned, and whether a consumer saw the queue empty."""
    with late.run(student, n_consumers, producer=late_producer, consumer=late_consumer) as seen:
        taken = student.run(n_producers, n_consumers, per_producer)
    return {"parent": os.getpid(), "taken": taken, "saw_empty": seen["saw_empty"]}


@driver
def late_producers(student):
    return _run_late(student, *LATE)


@driver
def three_consumers(student):
    return _run_late(student, *THREE)


@driver
def drain_queue(student):
    import multiprocessing

    q = _preloaded(multiprocessing.Queue(), list(DRAIN_ITEMS))
    return student.drain(q, 0.2)


@driver
def ready_items(student):
    import multiprocessing

    ready = student.take_ready(_preloaded(multiprocessing.Queue(), list(READY_ITEMS)))
    empty = raised(student.take_ready, multiprocessing.Queue())
    return {"ready": ready, "empty": empty}


@driver
def big_items(student):
    return student.collect_big(BIG_N, BIG_SIZE)


@driver
def one_consumer(student):
    """Last of the drivers: a consumer that stops at an empty-looking queue leaves 10 producers
    blocked on a full Queue(40), a hang that ends the sandbox; every other driver has run by then."""
    return _run_late(student, 10, 1, 10)


# ----------------------------------------------------------------------------- checks: the calls


@check("put_nowait on a full queue raises queue.Full: fill() stops there", uses=fill_queue, expects_error=True)
def test_fill(obs):
    if obs.error is not None:
        _judge_with_advice(obs)
    count, held = obs.value["count"], obs.value["held"]
    expect(count == FILL_ROOM, "wrong_result",
           _("fill(Queue({FILL_ROOM}), {FILL_ITEMS}) returned {count!r}; the queue has room for {FILL_ROOM}, "
             "so expected {FILL_ROOM}. Count the items put, and stop at the first queue.Full.").format(FILL_ROOM=FILL_ROOM, FILL_ITEMS=FILL_ITEMS, count=count))
    expect(held == FILL_ITEMS[:FILL_ROOM], "wrong_result",
           _("After fill(), the queue held {held}; expected the first {FILL_ROOM} items in order, "
             "{FILL_ITEMS}.").format(held=held, FILL_ROOM=FILL_ROOM, FILL_ITEMS=FILL_ITEMS[:FILL_ROOM]))


@check("empty(), full() and qsize() describe a fresh queue and a full one", uses=describe_queue)
def test_snapshot(obs):
    fresh, full = obs.value["fresh"], obs.value["full"]
    want_fresh = {"empty": True, "full": False, "size": 0}
    want_full = {"empty": False, "full": True, "size": 3}
    expect(fresh == want_fresh, "wrong_result",
           _("snapshot() of a fresh Queue(3) returned {fresh!r}; expected {want_fresh}.").format(fresh=fresh, want_fresh=want_fresh))
    expect(full == want_full, "wrong_result",
           _("snapshot() of a Queue(3) holding 3 items returned {full!r}; expected {want_full}.").format(full=full, want_full=want_full))


@check("snapshot() copes with qsize() raising NotImplementedError (as on macOS)", uses=describe_queue)
def test_snapshot_macos(obs):
    mac = obs.value["mac"]
    if mac[0] == "raised":
        fail("crash", _("On a queue whose qsize() raises NotImplementedError (as every Queue does on macOS), snapshot() "
                        'raised {mac}: {mac2}. Catch NotImplementedError around qsize() and report "size": None.').format(mac=mac[1], mac2=mac[2]))
    want = {"empty": False, "full": False, "size": None}
    expect(mac[1] == want, "wrong_result",
           _("snapshot() of a queue holding 1 item of 3, whose qsize() is not implemented, returned {mac!r}; "
             "expected {want}.").format(mac=mac[1], want=want))


# ----------------------------------------------------------------------------- checks: producers and consumers

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
CONSUMER_HANG = {"Queue.get()": N_("A consumer only stops when it takes a sentinel: put one None per consumer, "
                                "after every producer has been joined (so that no real item comes after a "
                                "sentinel)."),
                 "Queue.put()": N_("The producers wait in put() for room on a full queue that nobody takes from any "
                                "more: did the consumer stop early? The grader's producers start late, once the "
                                "consumer waits, as a slow producer would; a consumer that stops when the queue "
                                "looks empty stops before the first item, and should stop only at its sentinel.")}


SAW_EMPTY = N_("{call}: the grader's producers started late (as a slow producer does), and a consumer looked at the "
               "queue before any item was there, saw it empty and stopped: {taken} of the {total} items were consumed. "
               "An empty queue only means \"nothing yet\": empty() and qsize() are snapshots, out of date as soon as "
               "they return. A consumer stops at its sentinel; let q.get() wait for the next item.")


def _judge_saw_empty(obs, call, total):
    """Items lost because a consumer took an empty-looking queue for the end (see the late producers)."""
    taken = obs.value["taken"]
    if obs.value["saw_empty"] and isinstance(taken, list) and len(taken) < total:
        fail("wrong_result", _(SAW_EMPTY).format(call=call, taken=len(taken), total=total),
             where=first_at([e for e in obs.events if e.kind == "queue.get" and not e.internal]))


def _role(info):
    """What a child of run() ran: the student's function, under the late wrapper's name too."""
    target = info.get("target") or ""
    return target[len("late_"):] if target in ("late_producer", "late_consumer") else target


def _expected(n_producers, per_producer):
    return sorted((who, i) for who in range(n_producers) for i in range(per_producer))


def _judge_items(taken, n_producers, per_producer, call):
    expected = _expected(n_producers, per_producer)
    expect(isinstance(taken, list), "wrong_result", _("{call} should return a list; it returned {taken!r}.").format(call=call, taken=taken))
    got = sorted((tuple(x) if isinstance(x, (list, tuple)) else x for x in taken), key=repr)
    missing = [x for x in expected if x not in got]
    extra = list(got)
    for x in expected:
        if x in extra:
            extra.remove(x)
    expect(not missing, "wrong_result",
           _("{call}: {n_missing} of the {n_expected} items were never consumed, e.g. {missing}. Does every "
             "producer put all its items, and does each consumer report everything it took?").format(call=call, n_missing=len(missing), n_expected=len(expected), missing=missing[:3]))
    expect(not extra, "wrong_result",
           _("{call}: these were consumed more than once, or were never produced: {extra}. Leave the "
             "sentinels out of the reports.").format(call=call, extra=extra[:5]))


@check("10 producers, 1 consumer: every item is consumed exactly once", uses=one_consumer, leftovers_ok=True,
       on_timeout=CONSUMER_HANG)
def test_one_consumer_items(obs):
    _judge_saw_empty(obs, "run(10, 1, 10)", 100)
    _judge_items(obs.value["taken"], 10, 10, "run(10, 1, 10)")


@check("the producers and the consumer are processes of their own", uses=one_consumer, leftovers_ok=True,
       on_timeout=CONSUMER_HANG)
def test_processes(obs):
    targets = [_role(info) for info in children(obs).values()]
    producers, consumers = targets.count("producer"), targets.count("consumer")
    expect(producers == 10 and consumers == 1, "wrong_result",
           _("run(10, 1, 10) should start 10 processes running producer and 1 running consumer; it started "
             "{producers} and {consumers}.").format(producers=producers, consumers=consumers), where=first_at(student_calls(obs, "process.start")))


@check("each producer closes its queue and waits for its feeder thread (close, then join_thread)",
       uses=one_consumer, category="lifecycle", leftovers_ok=True, on_timeout=CONSUMER_HANG)
def test_producers_flush(obs):
    producers = {pid for pid, info in children(obs).items() if _role(info) == "producer"}
    closed = {e.pid for e in student_calls(obs, "queue.close") if e.pid in producers}
    joined = {e.pid for e in student_calls(obs, "queue.join_thread") if e.pid in producers}
    expect(closed >= producers, "lifecycle",
           _("{n_producers} of the {n_producers2} producers never called q.close(). A producer that is done "
             "says so with q.close(), then waits for its items to be flushed with q.join_thread().").format(n_producers=len(producers - closed), n_producers2=len(producers)))
    expect(joined >= producers, "lifecycle",
           _("{n_producers} of the {n_producers2} producers called q.close() but not q.join_thread(): call "
             "it after close(), so the producer ends only once its items are in the pipe.").format(n_producers=len(producers - joined), n_producers2=len(producers)),
           where=first_at([e for e in student_calls(obs, "queue.close") if e.pid in producers]))


@check("every producer and consumer is joined", uses=one_consumer, category="lifecycle", on_timeout=CONSUMER_HANG)
def test_joined(obs):
    started = children(obs)
    unjoined = sorted({_role(info) or info["name"] for info in started.values() if not info.get("joins")})
    expect(not unjoined, "lifecycle",
           _("Some processes running {unjoined} were never joined: join every producer and every consumer.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))


@check("3 consumers: each one stops, and every item is consumed exactly once", uses=three_consumers,
       on_timeout={"Queue.get()": N_("A consumer only stops when it takes a sentinel: put one None per consumer, "
                                     "after every producer has been joined. With 3 consumers, one sentinel stops "
                                     "only one of them.")})
def test_three_consumers(obs):
    call = f"run{THREE}"
    _judge_saw_empty(obs, call, THREE[0] * THREE[2])
    _judge_items(obs.value["taken"], THREE[0], THREE[2], call)
    consumers = [info for info in children(obs).values() if _role(info) == "consumer"]
    expect(len(consumers) == THREE[1], "wrong_result",
           _("{call} should start {THREE} consumers; it started {n_consumers}.").format(call=call, THREE=THREE[1], n_consumers=len(consumers)))


@check("consumers that start before any item exists still take every item (producers start late)",
       uses=late_producers, leftovers_ok=True, on_timeout=CONSUMER_HANG)
def test_late_producers(obs):
    call = f"run{LATE}"
    _judge_saw_empty(obs, call, LATE[0] * LATE[2])
    _judge_items(obs.value["taken"], LATE[0], LATE[2], call)


# ----------------------------------------------------------------------------- checks: drain, big items

DRAIN_HANG = {"Queue.get()": N_("Without a timeout, get() on an empty queue never returns: call "
                             "q.get(timeout=timeout) and stop at queue.Empty.")}


@check("get with a timeout raises queue.Empty once nothing comes: drain() returns what there was",
       uses=drain_queue, expects_error=True, on_timeout=DRAIN_HANG)
def test_drain(obs):
    if obs.error is not None:
        _judge_with_advice(obs)
    got = obs.value
    expect(isinstance(got, list), "wrong_result", _("drain() should return a list; it returned {got!r}.").format(got=got))
    got = [tuple(x) if isinstance(x, list) else x for x in got]
    expect(got == DRAIN_ITEMS, "wrong_result",
           _("drain() of a queue holding {DRAIN_ITEMS} returned {got}; expected them all, in order.").format(DRAIN_ITEMS=DRAIN_ITEMS, got=got))


READY_HANG = {"Queue.get()": N_("A get() that may wait never returns on an empty queue. Call q.get_nowait(): it "
                             "answers at once, and raises queue.Empty when nothing is there.")}


@check("get_nowait() takes what is there and raises queue.Empty at once: take_ready() never waits",
       uses=ready_items, expects_error=True, on_timeout=READY_HANG)
def test_take_ready(obs):
    if obs.error is not None:
        _judge_with_advice(obs)
    ready, empty = obs.value["ready"], obs.value["empty"]
    ready = [tuple(x) if isinstance(x, list) else x for x in ready] if isinstance(ready, list) else ready
    expect(ready == READY_ITEMS, "wrong_result",
           _("take_ready() of a queue holding {READY_ITEMS} returned {ready!r}; expected them all, in order.").format(READY_ITEMS=READY_ITEMS, ready=ready))
    if empty[0] == "raised":
        advice = _exception_advice(_Raised(empty[1], empty[2]))
        fail("crash", _("take_ready() of an empty queue raised {empty}: {empty2}. ").format(empty=empty[1], empty2=empty[2])
                      + advice or _("get_nowait() raises queue.Empty there: catch it and return []."))
    expect(empty[1] == [], "wrong_result", _("take_ready() of an empty queue returned {empty!r}; expected [].").format(empty=empty[1]))
    waited = student_calls(obs, "queue.get")
    expect(not waited, "wrong_result",
           _("take_ready() called q.get() (at {value}), which may wait: with a timeout it waits that long on "
             "an empty queue, without one for ever. Take with q.get_nowait(), which answers at once.").format(value=waited[0].where if waited else '?'), where=first_at(waited))
    expect(student_calls(obs, "queue.get_nowait"), "wrong_result",
           _("take_ready() never called q.get_nowait(): take each ready item with it, and stop at "
             "queue.Empty."))


class _Raised:
    """The shape _exception_advice reads, for an exception a driver caught."""

    def __init__(self, type_name, message):
        self.type, self.message = type_name, message


BIG_HANG = {"Process.join()": N_("A pipe holds about 64 KiB: a child that put more cannot end until someone "
                               "get()s it. get() all the items first, then join the producers.")}


@check("big items: get them all before joining the producers", uses=big_items, on_timeout=BIG_HANG)
def test_big_items(obs):
    got = obs.value
    want = [(who, BIG_SIZE) for who in range(BIG_N)]
    got = [tuple(x) if isinstance(x, list) else x for x in got] if isinstance(got, list) else got
    expect(got == want, "wrong_result",
           _("collect_big({BIG_N}, {BIG_SIZE}) returned {got!r}; expected {want}.").format(BIG_N=BIG_N, BIG_SIZE=BIG_SIZE, got=got, want=want))
    started = children(obs)
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(started and not unjoined, "lifecycle",
           _("collect_big() should join its {BIG_N} producers (after getting their items); {n_unjoined} were "
             "not joined.").format(BIG_N=BIG_N, n_unjoined=len(unjoined)), where=first_at(student_calls(obs, "process.start")))
