"""Hidden checks for exercise 14: why processes (the GIL).

Parallelism is judged by structure and CPU accounting, never by wall-clock speed-ups (a
loaded 2-core machine makes those meaningless). run_in_processes() is given `burn`, a
CPU-bound task that notes, in a file per call, its process id, when it began and ended
(time.monotonic(), one clock for every process on Linux) and the CPU time it used.

Each burn task starts at a *rendezvous*: it waits (at most MEET_S) until a second task
has begun, then does its CPU work. Code that hands out the chunks together always has two
tasks in progress at once, however slowly its workers start, so their [begin, end]
intervals overlap; code that runs the chunks one after the other (start and join in one
loop, pool.apply in a loop, a pool of one) never can: its first task waits alone for
MEET_S, then ends before the second begins. Threads do overlap, but in the parent's
process id, with the CPU time spent in the parent: both are checked.

Where the chunks do run at the same time, chunk 0 also *finishes last*: after its work it
waits until every other chunk is done and its process has exited (a Process per chunk), or
SETTLE_S has passed since (a pool's worker, which stays). Code that takes the results in
the order the processes finish then gets them out of order on every run, not when chunk 0
happened to be slow; code that keeps the chunks' order is not affected.
"""

import os
import shutil
import tempfile
import time
import uuid

from grader import pools
from grader.checks import _, check, driver, expect, fail, max_overlap, student_calls

MEET_S = 2.0  # longest a task waits for a second one: only code that runs chunks one at a time waits this long
SETTLE_S = 0.1  # after the others' work, how long chunk 0 gives a worker that stays alive to send its result
BURN_LOOPS = 800_000  # ~30 ms of CPU per chunk on an idle machine
CHUNKS = 3
N = 30_028  # with 2 parts the first piece is range(0, 15014) and 15013 is a prime: a boundary bug can change the count
PRIMES_BELOW_N = 3247
SPLITS = [(10, 3), (100, 4), (7, 7), (N, 2)]

# ----------------------------------------------------------------------------- the task


def burn(chunk):
    """CPU-bound work for one chunk, timed and noted in a file; returns f"chunk-{index}"."""
    index, folder = chunk
    begin = time.monotonic()
    with open(os.path.join(folder, f"begun-{uuid.uuid4().hex}"), "w"):
        pass
    deadline = begin + MEET_S
    while len([f for f in os.listdir(folder) if f.startswith("begun-")]) < 2 and time.monotonic() < deadline:
        time.sleep(0.002)
    cpu = time.thread_time()
    total = 0
    for i in range(BURN_LOOPS):
        total += i * i % 7
    cpu = time.thread_time() - cpu
    note = f"{os.getpid()} {begin!r} {time.monotonic()!r} {cpu!r}"
    with open(os.path.join(folder, f"done-{uuid.uuid4().hex}"), "w") as out:
        out.write(note)
    if index == 0 and len([f for f in os.listdir(folder) if f.startswith("begun-")]) >= 2:
        _finish_last(folder)
    return f"chunk-{index}"


def _finish_last(folder):
    """Chunk 0, run beside others: return once every other chunk is done and has had its result
    sent (its process exited, or SETTLE_S passed for a worker that stays alive); at most MEET_S."""
    deadline = time.monotonic() + MEET_S
    while time.monotonic() < deadline:
        others = []
        for name in os.listdir(folder):
            if name.startswith("done-"):
                try:
                    with open(os.path.join(folder, name)) as note:
                        pid, _begin, end, _cpu = note.read().split()
                except (OSError, ValueError):
                    continue  # being written
                if int(pid) != os.getpid():
                    others.append((int(pid), float(end)))
        if len(others) >= CHUNKS - 1 and all(_exited(pid) or time.monotonic() - end > SETTLE_S
                                             for pid, end in others):
            return
        time.sleep(0.002)


def _exited(pid):
    """The process has ended (gone, or a zombie its parent has not yet joined)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def _give_threads_a_pid():
    """Work around the probe: its Pool.__init__ record reads worker.pid, which a ThreadPool's threads
    (multiprocessing.dummy.DummyProcess) lack, so a student's ThreadPool would crash in the probe."""
    from multiprocessing import dummy

    if not hasattr(dummy.DummyProcess, "pid"):
        dummy.DummyProcess.pid = None


def _plain(value):
    return value if isinstance(value, (list, tuple, int, str, type(None))) else repr(value)[:200]


# ----------------------------------------------------------------------------- drivers


@driver
def splits(student):
    return [[n, parts, _plain(student.split_range(n, parts))] for n, parts in SPLITS]


@driver
def primes(student):
    _give_threads_a_pid()
    try:
        return _plain(student.count_primes_below(N, 2))
    finally:
        pools.end_open()


@driver
def parallel(student):
    _give_threads_a_pid()
    folder = tempfile.mkdtemp(prefix="burn-", dir=os.getcwd())
    try:
        before = os.times()
        returned = student.run_in_processes(burn, [(i, folder) for i in range(CHUNKS)])
        after = os.times()
        tasks = []
        for name in os.listdir(folder):
            if name.startswith("done-"):
                with open(os.path.join(folder, name)) as note:
                    pid, begin, end, cpu = note.read().split()
                tasks.append([int(pid), float(begin), float(end), float(cpu)])
        return {"returned": _plain(returned), "tasks": sorted(tasks, key=lambda t: t[1]), "parent": os.getpid(),
                "parent_cpu": (after.user - before.user) + (after.system - before.system)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        pools.end_open()


# ----------------------------------------------------------------------------- checks


@check("split_range() cuts range(0, n) into `parts` consecutive pieces", uses=splits)
def test_split_range(obs):
    for n, parts, pieces in obs.value:
        call = f"split_range({n}, {parts})"
        expect(isinstance(pieces, (list, tuple)) and all(isinstance(p, (list, tuple)) and len(p) == 2
                                                         for p in pieces), "wrong_result",
               _("{call} should return a list of (lo, hi) pairs; it returned {pieces!r}.").format(call=call, pieces=pieces))
        pieces = [tuple(p) for p in pieces]
        expect(len(pieces) == parts, "wrong_result", _("{call} returned {n_pieces} pieces, not {parts}: {pieces}.").format(call=call, n_pieces=len(pieces), parts=parts, pieces=pieces))
        expect(pieces[0][0] == 0 and pieces[-1][1] == n, "wrong_result",
               _("{call} returned {pieces}: the first piece must start at 0 and the last end at {n} (half-open, "
                 "like range(0, {n})).").format(call=call, pieces=pieces, n=n))
        for before, after in zip(pieces, pieces[1:], strict=False):
            if before[1] != after[0]:
                fail("wrong_result",
                     _("{call} returned {pieces}: each piece must start where the previous one ends (hi is excluded, "
                       "as in range(lo, hi)), but {before} is followed by {after}, so ").format(call=call, pieces=pieces, before=before, after=after)
                     + (_("a number is skipped.") if after[0] > before[1] else _("a number is counted twice.")))
        sizes = [hi - lo for lo, hi in pieces]
        expect(min(sizes) > 0 and max(sizes) - min(sizes) < parts, "wrong_result",
               _("{call} returned pieces of sizes {sizes}: they should be (nearly) equal, so that the processes "
                 "share the work evenly.").format(call=call, sizes=sizes))


@check("count_primes_below() counts the primes below n", uses=primes)
def test_count_primes_below(obs):
    expect(obs.value == PRIMES_BELOW_N, "wrong_result",
           _("count_primes_below({N}, 2) returned {value!r}; there are {PRIMES_BELOW_N} primes below {N}. Is "
             "a number at a boundary between two pieces counted twice, or skipped?").format(N=N, value=obs.value, PRIMES_BELOW_N=PRIMES_BELOW_N))


@check("run_in_processes() returns func's results in the order of the chunks", uses=parallel)
def test_results_in_order(obs):
    expected = [f"chunk-{i}" for i in range(CHUNKS)]
    got = obs.value["returned"]
    hint = ""
    if isinstance(got, (list, tuple)) and sorted(map(str, got)) == expected and list(got) != expected:
        hint = _(" The results came back in the order the processes finished: put (index, result) pairs on "
                "the queue and sort them, or use Pool.map, which keeps the order.")
    expect(isinstance(got, (list, tuple)) and list(got) == expected, "wrong_result",
           _("run_in_processes(func, chunks) returned {got!r}; expected {expected}.{hint}").format(got=got, expected=expected, hint=hint))


@check("each chunk runs in a process of its own, not in the parent", uses=parallel, category="not_parallel")
def test_chunks_in_child_processes(obs):
    tasks, parent = obs.value["tasks"], obs.value["parent"]
    expect(len(tasks) == CHUNKS, "wrong_result",
           _("func ran {n_tasks} time(s) for {CHUNKS} chunks: call it once per chunk.").format(n_tasks=len(tasks), CHUNKS=CHUNKS))
    in_parent = [t for t in tasks if t[0] == parent]
    expect(not in_parent, "not_parallel",
           _("{n_in_parent} of the {CHUNKS} chunks ran in the parent process itself (in threads, or called "
             "directly). The threads of one process share one GIL, so CPU-bound Python code gets no faster "
             "with them (a ThreadPool, multiprocessing.dummy and ThreadPoolExecutor are all threads): use "
             "processes, multiprocessing.Pool or Process.").format(n_in_parent=len(in_parent), CHUNKS=CHUNKS))


@check("two chunks run at the same time, in two different processes", uses=parallel, category="not_parallel")
def test_chunks_overlap(obs):
    tasks, parent = obs.value["tasks"], obs.value["parent"]
    in_children = [t for t in tasks if t[0] != parent]
    if not in_children:
        return  # the check above says where they ran
    overlap = max_overlap([(begin, end) for _pid, begin, end, _cpu in in_children])
    pids = {t[0] for t in in_children}
    expect(overlap >= 2 and len(pids) >= 2, "not_parallel",
           _("The chunks ran one after the other: each one had ended before the next began, so the processes "
             "never worked at the same time (it took as long as one process doing everything). Hand out "
             "every chunk before waiting for any: start() all the processes, then join() them all (or one "
             "pool.map), rather than start() and join() in one loop, or pool.apply() in a loop."),
           where=_serial_where(obs))


@check("the CPU time is spent in the worker processes, not in the parent", uses=parallel,
       category="not_parallel")
def test_cpu_in_children(obs):
    tasks, parent = obs.value["tasks"], obs.value["parent"]
    children_cpu = sum(cpu for pid, _begin, _end, cpu in tasks if pid != parent)
    parent_cpu = obs.value["parent_cpu"]
    expect(children_cpu > parent_cpu, "not_parallel",
           _("The chunks' CPU work took {children_cpu:.0f} ms in worker processes and your own process used "
             "{parent_cpu:.0f} ms of CPU: the work was done in the parent. One process runs Python code on "
             "one core at a time (the GIL); give the work to worker processes.").format(children_cpu=children_cpu * 1000, parent_cpu=parent_cpu * 1000))


def _serial_where(obs):
    """Where the code waited before handing out the next chunk: a join() or an apply() in a loop."""
    joins = student_calls(obs, "process.join")
    starts = student_calls(obs, "process.start")
    early = [j for j in joins if starts and j.t < starts[-1].t]
    if early:
        return early[0].where
    applies = student_calls(obs, "pool.apply")
    return applies[0].where if applies else None
