"""Hidden checks for exercise 6: SimpleQueue fan-in.

The driver passes the student's fan_in() a function that makes every worker wait at a
gate before it computes anything. The gate opens only when the parent itself waits:
when it calls SimpleQueue.get() or Process.join() (or any other receive or join), or
calls empty() a second time (a
consumer polling empty() in a loop is fine; one that trusts a single empty() is not).
So a consumer that decides "finished" from empty() before the workers have put their
results loses them every time, on any machine, instead of once in a while.
"""

import os
import threading

from grader.checks import N_, _, check, children, driver, expect, first_at, student_calls

CHUNKS = [[1, 2, 3, 4], [5, 6], [7, 8, 9]]  # different lengths, the longest first
IDLE_CHUNKS = [[10], [], [11, 12]]  # one worker has nothing to do


class Gated:
    """func(x) = x * x, computed in a worker only once the gate is open."""

    def __init__(self, gate, owner):
        self.gate = gate
        self.owner = owner

    def __call__(self, x):
        if os.getpid() != self.owner:  # in the parent (a misplaced call) there is nothing to wait for
            self.gate.wait()
        return x * x


class _GateOpener:
    """While active: open the gate when this process waits for data or for a child, or polls empty() twice.

    It hooks the calls beneath SimpleQueue.get() and Process.join() (Connection.recv_bytes,
    Popen.wait) rather than those methods themselves, so that a stack dumped at a hang
    still shows the student waiting in multiprocessing.queues.get() or process.join().
    """

    def __init__(self, gate):
        self.gate = gate
        self.empty_calls = 0
        self.empty_before_open = 0
        self._saved = []

    def __enter__(self):
        from multiprocessing import connection, popen_fork, queues

        opener, main = self, threading.get_ident()
        recv_bytes, wait, empty = connection.Connection.recv_bytes, popen_fork.Popen.wait, queues.SimpleQueue.empty

        def gated_recv_bytes(conn, *args, **kwargs):
            opener.gate.set()
            return recv_bytes(conn, *args, **kwargs)

        def gated_wait(popen, *args, **kwargs):
            opener.gate.set()
            return wait(popen, *args, **kwargs)

        def gated_empty(q):
            if threading.get_ident() == main:
                opener.empty_calls += 1
                if not opener.gate.is_set():
                    opener.empty_before_open += 1
                if opener.empty_calls >= 2:
                    opener.gate.set()
            return empty(q)

        self._saved = [(connection.Connection, "recv_bytes", recv_bytes), (popen_fork.Popen, "wait", wait),
                       (queues.SimpleQueue, "empty", empty)]
        connection.Connection.recv_bytes = gated_recv_bytes
        popen_fork.Popen.wait = gated_wait
        queues.SimpleQueue.empty = gated_empty
        return self

    def __exit__(self, *exc):
        for cls, name, original in self._saved:
            setattr(cls, name, original)
        self.gate.set()  # never leave a worker waiting


# ----------------------------------------------------------------------------- drivers


def _gated_run(student, chunks):
    import multiprocessing

    gate = multiprocessing.Event()
    with _GateOpener(gate) as opener:
        reports = student.fan_in(Gated(gate, os.getpid()), [list(c) for c in chunks])
    return {"parent": os.getpid(), "reports": reports, "empty_calls": opener.empty_calls,
            "empty_before_open": opener.empty_before_open}


@driver
def gated_fan_in(student):
    return _gated_run(student, CHUNKS)


@driver
def idle_worker(student):
    return _gated_run(student, IDLE_CHUNKS)


# ----------------------------------------------------------------------------- checks

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
FAN_IN_HANG = {"Queue.get()": N_("SimpleQueue.get() has no timeout: take exactly as many reports as the workers put "
                              "(the chunks have different lengths, so count every chunk's items), or have each "
                              "worker put a sentinel when it is done and stop after one per worker.")}


def _judge_results(obs, chunks):
    reports = _reports(obs)
    expected = sorted(x for chunk in chunks for x in chunk)
    malformed = [r for r in reports if not (isinstance(r, tuple) and len(r) == 3)]
    expect(not malformed, "wrong_result",
           _("Each report should be a tuple (pid, x, func(x)); fan_in() returned {malformed} among them. "
             "Leave sentinels out of the list you return.").format(malformed=malformed[:3]))
    got = sorted(r[1] for r in reports)
    lost = [x for x in expected if x not in got]
    call = f"fan_in(func, {chunks})"
    if lost and obs.value["empty_before_open"]:
        expect(False, "wrong_result",
               _("{call} returned {n_reports} of the {n_expected} reports: the ones for {lost} were lost. It "
                 'asked q.empty() before the workers had put anything, took True for "finished", and stopped. '
                 'empty() only says "nothing right now": count the reports you expect instead (or one sentinel '
                 "per worker).").format(call=call, n_reports=len(reports), n_expected=len(expected), lost=lost), where=first_at(student_calls(obs, "simplequeue.get")))
    expect(not lost, "wrong_result",
           _("{call} returned {n_reports} of the {n_expected} reports; those for {lost} never arrived. "
             "Collect a report for every item of every chunk.").format(call=call, n_reports=len(reports), n_expected=len(expected), lost=lost))
    expect(got == expected, "wrong_result",
           _("Some results arrived twice or were never asked for: {call} returned reports for {got}; "
             "expected exactly one for each of {expected}.").format(call=call, got=got, expected=expected))
    wrong = [r for r in reports if r[2] != r[1] * r[1]]
    expect(not wrong, "wrong_result",
           _("These reports do not hold func(x): {wrong}. The worker puts (os.getpid(), x, func(x)).").format(wrong=wrong[:3]))


def _reports(obs):
    reports = obs.value["reports"]
    expect(isinstance(reports, list), "wrong_result",
           _("fan_in() should return the list of reports; it returned {reports!r}.").format(reports=reports))
    return [tuple(r) if isinstance(r, list) else r for r in reports]


@check("every result arrives: none lost, none duplicated", uses=gated_fan_in, leftovers_ok=True,
       on_timeout=FAN_IN_HANG)
def test_every_result(obs):
    _judge_results(obs, CHUNKS)


@check("the results come from several worker processes, one per chunk", uses=gated_fan_in, leftovers_ok=True,
       on_timeout=FAN_IN_HANG)
def test_several_processes(obs):
    reports = [r for r in _reports(obs) if isinstance(r, tuple) and len(r) == 3]
    parent = obs.value["parent"]
    pids = {r[0] for r in reports}
    expect(reports, "wrong_result", _("fan_in() returned no reports."))
    expect(parent not in pids, "not_parallel",
           _("Some reports carry the parent's pid: the work ran in the parent. Each worker process puts its "
             "own reports, with its own os.getpid()."))
    workers = {pid for pid, info in children(obs).items() if info.get("target") == "worker"}
    expect(len(workers) == len(CHUNKS), "wrong_result",
           _("fan_in() should start one process per chunk ({n_CHUNKS}) running worker; it started "
             "{n_workers}.").format(n_CHUNKS=len(CHUNKS), n_workers=len(workers)), where=first_at(student_calls(obs, "process.start")))
    expect(pids <= workers and len(pids) == len(CHUNKS), "wrong_result",
           _("The reports came from {n_pids} process(es) {sorted}; expected one per chunk, from the worker "
             "processes {sorted2}. Put os.getpid() in each report, in the worker.").format(n_pids=len(pids), sorted=sorted(pids), sorted2=sorted(workers)))


@check("the workers run at the same time: all started before any is waited for", uses=gated_fan_in,
       category="not_parallel", leftovers_ok=True, on_timeout=FAN_IN_HANG)
def test_started_together(obs):
    starts = student_calls(obs, "process.start")
    waits = student_calls(obs, "process.join", "simplequeue.get")
    expect(starts, "wrong_result", _("fan_in() started no process."))
    first_wait = waits[0] if waits else None
    late = [e for e in starts if first_wait is not None and e.t > first_wait.t]
    expect(not late, "not_parallel",
           _("A worker was started after fan_in() had begun waiting (at {value}), so the workers ran one "
             "after another. Start every worker first, then collect, then join.").format(value=first_wait.where if first_wait else '?'),
           where=first_wait.where if first_wait else None)


@check("the consumer ends and every worker is joined", uses=gated_fan_in, category="lifecycle",
       on_timeout=FAN_IN_HANG)
def test_workers_joined(obs):
    started = children(obs)
    expect(started, "wrong_result", _("fan_in() started no process."))
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(not unjoined, "lifecycle",
           _("These workers were never joined: {unjoined}. Join every worker before fan_in() returns.").format(unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))


IDLE_HANG = {"Queue.get()": N_("With the chunks [[10], [], [11, 12]], one worker has an empty chunk and puts no "
                                "result. Count the reports from the chunks' real lengths (or have every worker, "
                                "even an idle one, put its sentinel).")}


@check("a worker with an empty chunk: fan_in() still ends with every other result", uses=idle_worker,
       on_timeout=IDLE_HANG)
def test_idle_worker(obs):
    _judge_results(obs, IDLE_CHUNKS)
    started = children(obs)
    unjoined = [info["name"] for info in started.values() if not info.get("joins")]
    expect(len(started) == len(IDLE_CHUNKS) and not unjoined, "lifecycle",
           _("fan_in(func, {IDLE_CHUNKS}) should start and join {n_IDLE_CHUNKS} workers, the idle one too; "
             "it started {n_started}, and did not join {unjoined}.").format(IDLE_CHUNKS=IDLE_CHUNKS, n_IDLE_CHUNKS=len(IDLE_CHUNKS), n_started=len(started), unjoined=unjoined),
           where=first_at(student_calls(obs, "process.start")))
