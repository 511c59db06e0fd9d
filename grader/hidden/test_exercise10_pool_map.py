"""Hidden checks for exercise 10: Pool, map and apply.

One driver calls squares_and_power(); the checks judge its answer and the probe's log:
which process ran each task (`pool.task` events are logged in the worker that ran
them, `pool.create` lists the pool's workers), how the work was handed out, and how the
pool was shut down (the student's own pool.close / pool.join / pool.terminate /
pool.exit calls). An unclosed pool leaves no leftover to see (its workers are daemons,
and its finalizer terminates them when the Pool object is collected), so the missing
close() is judged from the log.
"""

from grader import pools
from grader.checks import _, check, driver, expect, fail, first_at, judge_error, student_calls

NUMBERS = [3, 1, 4, 1, 5, 9, 2, 6]
BASE, EXPONENT = 2, 10
WORKERS = 4

# ----------------------------------------------------------------------------- drivers


@driver(first_task_last=True)  # unordered results come back out of order every time
def pool_work(student):
    import os

    try:
        returned = student.squares_and_power(list(NUMBERS), BASE, EXPONENT)
    finally:
        pools.end_open()
    return {"parent": os.getpid(), "returned": returned}


# ----------------------------------------------------------------------------- helpers


def _explain_error(obs):
    """Judge an exception of the student's code, with advice for the classic Pool mistakes."""
    error = obs.error
    if error is None:
        return
    where = f"{obs.student_file}:{error.line}" if error.line else None
    text = f"{error.message} {error.traceback}"
    if "pickle" in text.lower() and ("lambda" in text or "local object" in text):
        fail("crash", _("Your code raised {type}: {message}\nA pool sends the function to its workers by pickling it, "
                        "and a lambda or a function defined inside another function cannot be pickled (under every "
                        "start method). Give map() and apply() a function defined with `def` at the top level of your "
                        "module, such as square.").format(type=error.type, message=error.message), where)
    if "argument after * must be an iterable" in text:
        fail("crash", _("Your code raised {type}: {message}\napply(func, args, kwds) needs `args` as a tuple: "
                        "pool.apply(power, (base,), {{'exponent': exponent}}) with the comma; `(base)` is just base.").format(type=error.type, message=error.message), where)
    if "argument after ** must be a mapping" in text:
        fail("crash", _("Your code raised {type}: {message}\nThe third argument of apply() is `kwds`, a dict of keyword "
                        "arguments: pool.apply(power, (base,), {{'exponent': exponent}}).").format(type=error.type, message=error.message), where)
    judge_error(obs)


def _parts(obs):
    returned = obs.value["returned"]
    expect(isinstance(returned, (tuple, list)) and len(returned) == 2, "wrong_result",
           _("squares_and_power() should return a pair (squares, value); it returned {returned!r}.").format(returned=returned))
    return returned


def _parent_pools(obs):
    parent = obs.value["parent"] if isinstance(obs.value, dict) else None
    return [e for e in obs.events_of("pool.create", student_only=False) if parent is None or e.pid == parent]


def _worker_pids(obs):
    pids = {pid for e in _parent_pools(obs) for pid in (e.get("workers") or [])}
    return pids | {e.pid for e in obs.events_of("pool.worker", student_only=False)}


def _tasks(obs, func):
    return [e for e in obs.events_of("pool.task", student_only=False) if e.get("func") == func]


# ----------------------------------------------------------------------------- checks


@check("map returns the squares of the numbers, in order", uses=pool_work, expects_error=True)
def test_map_results(obs):
    _explain_error(obs)
    squares, _value = _parts(obs)
    expected = [x * x for x in NUMBERS]
    got = list(squares) if isinstance(squares, (list, tuple)) else squares
    if isinstance(got, list) and sorted(got, key=repr) == sorted(expected, key=repr) and got != expected:
        fail("wrong_result", _("For numbers={NUMBERS} the squares should be {expected}, in the order of the numbers; they came "
                               "back as {got}. pool.map() keeps the input order: return its list as it is.").format(NUMBERS=NUMBERS, expected=expected, got=got))
    expect(got == expected, "wrong_result",
           _("For numbers={NUMBERS} the squares should be {expected}; squares_and_power() returned "
             "{squares!r}. Does square(x) return x * x, and do you return the list pool.map(square, numbers) "
             "gives back?").format(NUMBERS=NUMBERS, expected=expected, squares=squares))


@check("apply returns power(base, exponent=...)", uses=pool_work)
def test_apply_result(obs):
    _squares, value = _parts(obs)
    expected = BASE**EXPONENT
    hint = ""
    if value == BASE**2:
        hint = _(" That is base ** 2: the exponent did not reach power(); pass it through kwds, "
                "pool.apply(power, (base,), {'exponent': exponent}).")
    expect(value == expected, "wrong_result",
           _("squares_and_power(numbers, {BASE}, {EXPONENT}) should return power({BASE}, "
             "exponent={EXPONENT}) = {expected} as its second value; it returned {value!r}.{hint}").format(BASE=BASE, EXPONENT=EXPONENT, expected=expected, value=value, hint=hint))


@check("the pool has 4 worker processes", uses=pool_work)
def test_pool_size(obs):
    pools = _parent_pools(obs)
    expect(pools, "not_parallel", _("squares_and_power() created no Pool: create one with Pool(processes=4)."))
    sizes = [e.get("processes") for e in pools]
    expect(all(size == WORKERS for size in sizes), "wrong_result",
           _("The pool was created with {value} worker processes; the exercise asks for {WORKERS}. Pool() "
             "without an argument starts os.cpu_count() workers: write Pool(processes={WORKERS}).").format(value=sizes[0] if len(sizes) == 1 else sizes, WORKERS=WORKERS), where=first_at(pools))


@check("square() and power() run in the pool's worker processes, not in the parent", uses=pool_work,
       category="not_parallel")
def test_work_runs_in_workers(obs):
    parent, workers = obs.value["parent"], _worker_pids(obs)
    for func, call in (("square", "pool.map(square, numbers)"),
                       ("power", "pool.apply(power, (base,), {'exponent': exponent})")):
        tasks = _tasks(obs, func)
        expect(tasks, "not_parallel",
               _("{func}() never ran in a pool worker: it was called in the parent process (or not at all). Hand "
                 "it to the pool, {call}, so that a worker runs it.").format(func=func, call=call))
        strangers = sorted({e.pid for e in tasks if e.pid == parent or e.pid not in workers})
        expect(not strangers, "not_parallel",
               _("{func}() ran in process(es) {strangers}, which are not the workers of your pool {sorted}. Let "
                 "the pool you created run it.").format(func=func, strangers=strangers, sorted=sorted(workers)))


@check("map hands all the numbers to the pool at once", uses=pool_work, category="not_parallel")
def test_map_hands_out_everything(obs):
    applies = [e for e in student_calls(obs, "pool.apply") if e.get("func") == "square"]
    expect(len(applies) <= 1, "not_parallel",
           _("square() was handed to the pool with {n_applies} separate pool.apply() calls. apply() waits "
             "for its one result before it returns, so a loop of apply() runs the squares one at a time "
             "while the other workers idle. Give the whole list to one pool.map(square, numbers).").format(n_applies=len(applies)),
           where=first_at(applies))
    calls = [e for e in student_calls(obs, "pool.apply_async", "result.get")
             if e.kind == "result.get" or e.get("func") == "square"]
    submits = [i for i, e in enumerate(calls) if e.kind == "pool.apply_async"]
    waited = [e for e in calls if e.kind == "result.get" and submits and calls.index(e) < submits[-1]]
    expect(not waited, "not_parallel",
           _("Each apply_async(square, ...) was followed by its .get() before the next one was submitted, "
             "which runs the squares one at a time. Use pool.map(square, numbers)."), where=first_at(waited))


@check("close() is called before join()", uses=pool_work, category="ordering", expects_error=True)
def test_close_before_join(obs):
    error = obs.error
    if error is not None and error.type == "ValueError" and "Pool is still running" in error.message:
        fail("ordering", _("pool.join() raised ValueError('Pool is still running'): join() waits for the workers to exit, "
                           "and they only exit once the pool is closed (or terminated). Call pool.close() first, then "
                           "pool.join()."),
             f"{obs.student_file}:{error.line}" if error.line else None)
    if error is not None:
        _explain_error(obs)
    for join in student_calls(obs, "pool.join"):
        called = join.get("called", join.t)
        before = [e for e in student_calls(obs, "pool.close", "pool.terminate") if e.t <= called]
        expect(before, "ordering", _("pool.join() was called before pool.close(): close the pool first, then join it."), where=join.where)


@check("the pool is closed, then joined (or used in a with-block)", uses=pool_work, category="lifecycle")
def test_pool_is_shut_down(obs):
    pools = _parent_pools(obs)
    if not pools:
        return  # "the pool has 4 worker processes" reports the missing pool
    terminates = student_calls(obs, "pool.terminate")
    expect(not terminates, "lifecycle",
           _("You stopped the pool with terminate(). terminate() kills the workers on the spot, throwing "
             "away any work not yet finished; it is the emergency stop. Here map() and apply() had already "
             "returned, so nothing was lost, but the habit loses results: when you are done handing out "
             "work, call pool.close() and then pool.join(), which let the workers finish and exit on their "
             "own."),
           where=first_at(terminates))
    closes = student_calls(obs, "pool.close")
    exits = student_calls(obs, "pool.exit")
    joins = student_calls(obs, "pool.join")
    unclosed = len(pools) - len(exits) - len(closes)
    if unclosed > 0:
        where = pools[len(pools) - unclosed].where
        fail("lifecycle",
             _("The pool created at {value} was never closed: its {WORKERS} workers sat waiting for more tasks "
               "after squares_and_power() returned, until the garbage collector happened to terminate them (a "
               "program that keeps the pool referenced keeps them for ever). When the work is handed out, call "
               "pool.close() then pool.join() (or create the pool in a `with Pool(processes=4) as pool:` "
               "block).").format(value=where or 'your code', WORKERS=WORKERS), where)
    unjoined = len(pools) - len(exits) - len(joins)
    expect(unjoined <= 0, "lifecycle",
           _("You closed the pool but never joined it: close() only says that no more tasks will come, the "
             "workers are still finishing and exiting when your function returns. Call pool.join() after "
             "pool.close() to wait for them."), where=first_at(closes))
