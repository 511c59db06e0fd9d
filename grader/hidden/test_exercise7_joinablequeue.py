"""Hidden checks for exercise 7: JoinableQueue and daemon workers.

Three drivers, in this order:
- worker_alone: the grader feeds the student's square_worker() through its own
  JoinableQueue, with its own daemon workers, and watches the unfinished-task count
  (a missing or doubled task_done() is judged here, without hanging);
- run_all: the student's run_jobs() (a missing task_done() hangs here, in jobs.join());
- as_program: the file run as a program, which must exit although its workers loop forever.
Daemon workers are not required: workers that end (sentinels) and are joined pass too.
"""

import re

from grader import late
from grader.checks import (
    N_,
    NOT_IMPLEMENTED,
    _,
    check,
    children,
    describe_leftovers,
    driver,
    expect,
    fail,
    first_at,
    run_as_script,
    student_calls,
)
from grader.drivers import SCRIPT_EXIT_TIMEOUT_S

ALONE = list(range(1, 9))  # fed to two of the grader's workers
NUMBERS = list(range(10, 22))  # given to run_jobs()
N_WORKERS = 3

# Hang advice is keyed by the call it is about: shown only when a stack is in that call.
JOIN_ADVICE = {"JoinableQueue.join()": N_("If a worker does not call jobs.task_done() after each item it handled, "
                                       "join() waits forever.")}

# ----------------------------------------------------------------------------- drivers


def _collect(results, count, workers, limit):
    """Read up to `count` results; stop early once every worker has ended and nothing is left."""
    import queue
    import time

    got = []
    deadline = time.monotonic() + limit
    while len(got) < count and time.monotonic() < deadline:
        try:
            got.append(results.get(timeout=0.1))
        except queue.Empty:
            if workers is not None and not any(w.is_alive() for w in workers):
                try:  # what the last worker flushed as it ended
                    while len(got) < count:
                        got.append(results.get(timeout=0.2))
                except queue.Empty:
                    pass
                break
    return got


def late_worker(jobs, results):
    """The student's square_worker(), in a process whose Queue calls are watched (grader/late.py)."""
    return late.consumer("square_worker", jobs, results)


@driver
def worker_alone(student):
    import multiprocessing
    import os

    jobs = multiprocessing.JoinableQueue()
    results = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=late_worker, args=(jobs, results), daemon=True,
                                       name=f"square_worker-{i}") for i in (1, 2)]
    # The jobs come late, once both workers wait for one (or have seen the queue empty): a
    # worker that stops when the queue looks empty then stops on every run, not only when the
    # machine happened to be slow to deliver the first job.
    with late.run(student, len(workers)):
        for worker in workers:
            worker.start()
        late.await_consumers()
        for number in ALONE:
            jobs.put(number)
        got = _collect(results, len(ALONE), workers, 5.0)
    # What jobs.join() waits for, with a time limit: every task_done(). A correct worker calls
    # it right after its put, so this returns at once; only a forgotten one costs the wait.
    unfinished = jobs._unfinished_tasks
    if any(w.is_alive() for w in workers):
        with jobs._cond:
            jobs._cond.wait_for(unfinished._semlock._is_zero, timeout=2.0)
    return {"parent": os.getpid(), "workers": [w.pid for w in workers], "results": got,
            "exitcodes": [w.exitcode for w in workers], "unfinished": unfinished.get_value()}


@driver
def run_all(student):
    import multiprocessing
    import os

    results = multiprocessing.Queue()
    returned = student.run_jobs(list(NUMBERS), results, N_WORKERS)
    got = _collect(results, len(NUMBERS), None, 3.0)
    return {"parent": os.getpid(), "returned": returned, "results": got}


@driver
def as_program(student):
    return run_as_script(student)


# ----------------------------------------------------------------------------- helpers


def _error_lines(output):
    """The "SomeError: message" lines the student's processes printed (their tracebacks)."""
    return [line.strip() for line in output.splitlines() if re.match(r"^\w*(Error|Exception)\b", line.strip())]


def _not_implemented(obs, function):
    """A stub raising NotImplementedError in a child shows only in the child's traceback."""
    if any(line.startswith("NotImplementedError") for line in _error_lines(obs.output)):
        fail("not_implemented", _(NOT_IMPLEMENTED).format(function=function, file=obs.student_file))


def _squares(results):
    """The (number, square, pid) triples among the results, and the malformed results."""
    good, bad = [], []
    for r in results:
        if isinstance(r, (tuple, list)) and len(r) == 3 and all(isinstance(x, int) for x in r):
            good.append(tuple(r))
        else:
            bad.append(r)
    return good, bad


def _judge_squares(obs, expected, who):
    good, bad = _squares(obs.value["results"])
    expect(not bad, "wrong_result",
           (_("Each result should be a tuple (number, number * number, os.getpid()); {who} put {bad!r}.").format(who=_(who), bad=bad[0]) if bad else ""))
    numbers = sorted(r[0] for r in good)
    twice = sorted({n for n in numbers if numbers.count(n) > 1})
    missing = sorted(set(expected) - set(numbers))
    strange = sorted(set(numbers) - set(expected))
    expect(not twice, "wrong_result",
           _("These numbers were done more than once: {twice}. Each job is taken by one worker with "
             "jobs.get(), and its result put once.").format(twice=twice))
    expect(not strange, "wrong_result", _("Results came for numbers that were never queued: {strange}.").format(strange=strange))
    expect(not missing, "wrong_result",
           _("Expected one result for each of {expected}; none came for {missing} ({n_good} result(s) in "
             "all).").format(expected=expected, missing=missing, n_good=len(good)))
    wrong = [r for r in good if r[1] != r[0] * r[0]]
    expect(not wrong, "wrong_result",
           _("Each result is (number, number * number, pid); these squares are wrong: {wrong}.").format(wrong=wrong[:3]))
    return good


# ----------------------------------------------------------------------------- checks: square_worker


@check("square_worker() keeps taking jobs, without crashing", uses=worker_alone, category="crash")
def test_worker_keeps_running(obs):
    _not_implemented(obs, "square_worker")
    codes = obs.value["exitcodes"]
    errors = _error_lines(obs.output)
    crashed = [c for c in codes if c not in (None, 0)]
    if crashed:
        said = _(" It raised {error}.").format(error=errors[-1]) if errors else ""
        advice = ""
        if any("task_done() called too many times" in e for e in errors):
            advice = _(" task_done() says that one item you took is finished: call it exactly once per "
                      "jobs.get(), never twice for the same item.")
        fail("crash", _("A worker running square_worker() crashed (exit code {crashed}).{said}{advice}").format(crashed=crashed[0], said=said, advice=advice))
    expect(all(c is None for c in codes), "wrong_result",
           _("square_worker() returned (the workers ended with exit code 0) after {n_results} of {n_ALONE} "
             "jobs. A worker takes jobs until it is stopped: `while True: number = jobs.get(); ...`.").format(n_results=len(obs.value['results']), n_ALONE=len(ALONE)))


@check("square_worker() does every job it takes, once, in its own process", uses=worker_alone)
def test_worker_results(obs):
    _not_implemented(obs, "square_worker")
    good = _judge_squares(obs, ALONE, "square_worker()")
    pids = {r[2] for r in good}
    expect(obs.value["parent"] not in pids and pids <= set(obs.value["workers"]), "wrong_result",
           _("The third item of each result is the pid of the worker that did the job (os.getpid() in "
             "square_worker()); got {sorted}, while the workers were {workers}.").format(sorted=sorted(pids), workers=obs.value['workers']))


@check("square_worker() calls task_done() once per job", uses=worker_alone)
def test_task_done_once_per_job(obs):
    _not_implemented(obs, "square_worker")
    workers = set(obs.value["workers"])
    calls = [e for e in student_calls(obs, "queue.task_done") if e.pid in workers]
    unfinished = obs.value["unfinished"]
    if not calls and not obs.value["results"] and all(c is not None for c in obs.value["exitcodes"]):
        fail("wrong_result",
             _("The workers ended before they took a job, so no task was ever marked done: the queue still "
               "counts {unfinished} unfinished task(s), and jobs.join() would wait forever. A worker takes jobs "
               "until it is stopped, and calls jobs.task_done() once after each.").format(unfinished=unfinished))
    expect(calls or not unfinished, "wrong_result",
           _("The workers did their jobs but never called jobs.task_done(): the queue still counts "
             "{unfinished} unfinished task(s), so jobs.join() would wait forever. After handling each item, "
             "call jobs.task_done() once.").format(unfinished=unfinished))
    expect(len(calls) <= len(ALONE), "wrong_result",
           _("{n_ALONE} jobs were put on the queue, but task_done() was called {n_calls} times (once more "
             "than items were put, it raises ValueError). Call it once per item you took.").format(n_ALONE=len(ALONE), n_calls=len(calls)),
           where=first_at(calls))
    expect(unfinished == 0 and len(calls) == len(ALONE), "wrong_result",
           _("{n_ALONE} jobs were put, task_done() was called {n_calls} times, and the queue still counts "
             "{unfinished} unfinished task(s): jobs.join() would wait forever. Call jobs.task_done() once "
             "for every item, after handling it.").format(n_ALONE=len(ALONE), n_calls=len(calls), unfinished=unfinished), where=first_at(calls))


# ----------------------------------------------------------------------------- checks: run_jobs


@check("run_jobs() gets every number squared exactly once", uses=run_all, leftovers_ok=True, on_timeout=JOIN_ADVICE)
def test_every_job_done_once(obs):
    _judge_squares(obs, NUMBERS, N_("a worker"))


@check("run_jobs() starts 3 worker processes and returns their pids", uses=run_all, leftovers_ok=True,  # N_WORKERS
       on_timeout=JOIN_ADVICE)
def test_workers_started(obs):
    started = children(obs)
    expect(started, "wrong_result", _("run_jobs() started no process: start n_workers Process objects running square_worker(jobs, "
                                      "results)."))
    expect(len(started) == N_WORKERS, "wrong_result",
           _("run_jobs(numbers, results, {N_WORKERS}) should start {N_WORKERS} workers; it started "
             "{n_started}.").format(N_WORKERS=N_WORKERS, n_started=len(started)),
           where=first_at(student_calls(obs, "process.start")))
    good, _bad = _squares(obs.value["results"])
    outsiders = sorted({r[2] for r in good} - set(started))
    expect(not outsiders, "not_parallel",
           _("Some jobs were done in processes that are not the workers (pids {outsiders}{value}): the "
             "workers, not run_jobs() itself, should run square_worker().").format(outsiders=outsiders, value=_(", the main process among them") if obs.value['parent'] in outsiders else ''))
    returned = obs.value["returned"]
    expect(isinstance(returned, (list, tuple)) and sorted(returned, key=str) == sorted(started, key=str),
           "wrong_result", _("run_jobs() should return the workers' pids ({sorted}); it returned {returned!r}.").format(sorted=sorted(started), returned=returned))


@check("jobs.join() returns only once every job is done", uses=run_all, category="ordering", leftovers_ok=True,
       on_timeout=JOIN_ADVICE)
def test_join_waits_for_every_job(obs):
    parent = obs.value["parent"]
    joins = [e for e in student_calls(obs, "queue.join") if e.pid == parent]
    expect(joins, "ordering",
           _("run_jobs() never called jobs.join(), so it may return before the work is done. Call "
             "jobs.join() after starting the workers: it returns once task_done() was called for every item."))
    workers = set(children(obs))
    done = [e for e in student_calls(obs, "queue.task_done") if e.pid in workers and e.t < joins[0].t]
    expect(len(done) >= len(NUMBERS), "ordering",
           _("jobs.join() returned after only {n_done} of the {n_NUMBERS} jobs were marked done. Put every "
             "number on the queue before calling jobs.join(): join() waits only for the items already put.").format(n_done=len(done), n_NUMBERS=len(NUMBERS)),
           where=joins[0].where)


@check("no worker is left running when run_jobs() returns (daemons, or ended and joined)", uses=run_all,
       category="lifecycle", leftovers_ok=True, on_timeout=JOIN_ADVICE)
def test_no_worker_left(obs):
    if obs.leftovers:
        non_daemons = [w.name for w in obs.leftovers if w.daemon is False]
        fail("lifecycle",
             describe_leftovers(obs)
             + "\n"
             + (_("{join}: not daemons. ").format(join=', '.join(non_daemons)) if non_daemons else "")
             + _("Workers that loop forever never end by themselves, and a program cannot exit while non-daemon "
               "children run. Set daemon=True before start() so that they end with the main program (or send "
               "each worker a sentinel that makes it return, and join it)."),
             where=first_at(student_calls(obs, "process.start")))


# ----------------------------------------------------------------------------- checks: the program


@check("run as a program, the file exits by itself once the work is done", uses=as_program,
       category="lifecycle", leftovers_ok=True,
       on_timeout={"the end of the program": N_("At its end, a program waits for every non-daemon child, and "
                                             "workers looping on jobs.get() never end. Make them daemons.")})
def test_program_exits(obs):
    _not_implemented(obs, "run_jobs")
    ran = obs.value
    if not ran["exited"]:
        fail("lifecycle",
             _("Run as a program (python {student_file}), your file had not exited after "
               "{SCRIPT_EXIT_TIMEOUT_S:g} s.\n").format(student_file=obs.student_file, SCRIPT_EXIT_TIMEOUT_S=SCRIPT_EXIT_TIMEOUT_S)
             + (describe_leftovers(obs) if obs.leftovers else "")  # none: it ended just after the limit
             + _("\nAt its end, a program waits for every non-daemon child, and workers looping on jobs.get() "
               "never end. Make them daemons (p.daemon = True before p.start()), or send each a sentinel and "
               "join it."))
    errors = _error_lines(obs.output)
    expect(ran["exitcode"] == 0, "crash",
           _("Run as a program, your file exited with status {exitcode}").format(exitcode=ran['exitcode'])
           + (_(" ({errors})").format(errors=errors[-1]) if errors else "")
           + _(". Try it yourself: python {student_file}").format(student_file=obs.student_file))
    expect(not obs.leftovers, "lifecycle",
           _("Run as a program, your file exited but left processes running.\n")
           + describe_leftovers(obs))
