"""Hidden checks for exercise 11: Pool, asynchronous work.

The drivers hand the student's functions a pool of their own (so one mistake cannot
break the next driver's pool) and callbacks that record each call: its value and the
thread that ran it (a pool calls callbacks in the parent's result-handler thread, so a
call from the main thread means the student called it by hand). A task that must stay
unfinished waits on a manager Event (the gate) that only the student's code sets: no
race with the clock. squares_in_with_block() makes its own pool; its driver is last,
since a get() after the with-block hangs.
"""

from grader import pools
from grader.checks import N_, _, check, driver, expect, fail, first_at, judge_error, student_calls

NUMBERS = [3, 1, 4, 1, 5, 9, 2, 6]
SQUARES = [x * x for x in NUMBERS]
INVERSE_INPUTS = [4, 0, 2]
INVERSES = [0.25, "ZeroDivisionError", 0.5]
DRIVER_POOL = 1

# ----------------------------------------------------------------------------- drivers


def _recorder(name, describe=lambda value: value):
    """A callback that records each call: what it received, in which thread."""
    import threading

    calls = []

    def record(value):
        calls.append({"value": describe(value), "main_thread": threading.current_thread() is threading.main_thread(),
                      "thread": threading.current_thread().name})

    record.__name__ = record.__qualname__ = name
    return calls, record


def _plain(value):
    return value if isinstance(value, (int, float, str, list, tuple, type(None))) else repr(value)


def _exception_name(value):
    if isinstance(value, BaseException):
        return type(value).__name__
    return f"{value!r} (not an exception)"


def _with_pool(call):
    """Run call(pool) on a fresh pool, and always shut the pool down (no event: not the student's)."""
    import multiprocessing

    pool = multiprocessing.Pool(DRIVER_POOL)
    try:
        return call(pool)
    finally:
        pools.end(pool)  # not _terminate() at once: it can kill the worker sending wait_for's result


@driver
def callbacks(student):
    calls, on_result = _recorder("on_result", _plain)
    returned = _with_pool(lambda pool: student.squares_with_callback(pool, list(NUMBERS), on_result))
    return {"returned": returned, "calls": list(calls)}


@driver
def map_callback(student):
    calls, on_done = _recorder("on_done", _plain)
    returned = _with_pool(lambda pool: student.squares_map_async(pool, list(NUMBERS), on_done))
    return {"returned": returned, "calls": list(calls)}


@driver
def errors(student):
    calls, on_error = _recorder("on_error", _exception_name)
    returned = _with_pool(lambda pool: student.inverses(pool, list(INVERSE_INPUTS), on_error))
    return {"returned": returned, "calls": list(calls)}


@driver
def timeline(student):
    import multiprocessing

    with multiprocessing.Manager() as manager:
        gate = manager.Event()

        def watch(pool):
            try:
                return student.watch_result(pool, gate)
            finally:
                gate.set()  # release a task the student's code left waiting

        return _with_pool(watch)


@driver
def with_block(student):
    try:
        returned = student.squares_in_with_block(list(NUMBERS))
    finally:
        pools.end_open()
    return {"returned": returned}


# ----------------------------------------------------------------------------- helpers


def _explain_error(obs):
    """Judge an exception of the student's code, with advice for the classic mistakes."""
    error = obs.error
    if error is None:
        return
    where = f"{obs.student_file}:{error.line}" if error.line else None
    said = _("Your code raised {type}: {message}").format(type=error.type, message=error.message) + "\n"
    text = f"{error.message} {error.traceback} {error.remote_traceback}"
    if error.type == "TimeoutError" and "multiprocessing.context.TimeoutError" in text:
        fail("crash", said
                      + _("AsyncResult.get(timeout) raised multiprocessing.TimeoutError, and nothing caught it. It is not "
                        "the builtin TimeoutError (nor queue.Empty): catch it as `except multiprocessing.TimeoutError:`."), where)
    if error.type == "ValueError" and "not ready" in error.message:
        fail("crash", said
                      + _("successful() on a result that is not ready yet raises ValueError (since Python 3.7; the post, "
                        "written for Python 2, says AssertionError). Catch ValueError, or ask ready() first."), where)
    for name in ("on_result", "on_done", "on_error"):
        if name in text and ("pickle" in text.lower() or "must be a mapping" in text):
            keyword = "error_callback" if name == "on_error" else "callback"
            fail("crash", _("Your code raised {type}: {name} was sent to a worker as a task argument, and could not be. The "
                            "third positional argument of apply_async() is `kwds` (of map_async(), `chunksize`), not the "
                            "callback. Pass the callback by name: {keyword}={name}.").format(type=error.type, name=name, keyword=keyword), first_at(student_calls(obs, "pool.apply_async", "pool.map_async"))
                 or where)
    if "not supported between instances of 'function' and 'int'" in text:
        fail("crash", said
                      + _("The third positional argument of map_async() is `chunksize`: pass the callback by name, "
                        "map_async(square, numbers, callback=on_done) (or, as the post does, give a chunksize first: "
                        "map_async(square, numbers, 8, on_done))."), where)
    if "pickle" in text.lower() and ("lambda" in text or "local object" in text):
        fail("crash", said
                      + _("The function a pool runs is pickled for its workers: give it a module-level function (square, "
                        "inverse, wait_for), not a lambda or a nested function."), where)
    judge_error(obs)


def _judge(obs, function, expected):
    _explain_error(obs)
    got = obs.value["returned"]
    if isinstance(got, tuple):
        got = list(got)
    expect(got == expected, "wrong_result", _("{function} should return {expected}; it returned {got!r}.").format(function=function, expected=expected, got=got))


# ----------------------------------------------------------------------------- checks: apply_async + callback


@check("apply_async: get() gives every square, in order", uses=callbacks, expects_error=True,
       on_timeout={"AsyncResult.get()": N_("A callback that raises (one that takes no argument, for instance) "
                                           "kills the pool's result-handler thread; after that no result is "
                                           "delivered.")})
def test_apply_async_results(obs):
    _judge(obs, f"squares_with_callback(pool, {NUMBERS}, on_result)", SQUARES)


@check("the callback is called once per task, with its result, by the pool", uses=callbacks)
def test_apply_async_callback(obs):
    calls = obs.value["calls"]
    expect(calls, "wrong_result",
           _("on_result was never called. Give it to every task: pool.apply_async(square, (x,), "
             "callback=on_result)."))
    by_hand = [c for c in calls if c["main_thread"]]
    expect(not by_hand, "wrong_result",
           _("on_result was called in your main thread: you called it yourself. Give it to the pool instead, "
             "apply_async(square, (x,), callback=on_result): the pool calls it in the parent process, in its "
             "result-handler thread, as each result arrives."))
    values = [c["value"] for c in calls]
    expect(len(values) == len(NUMBERS) and sorted(values, key=repr) == sorted(SQUARES, key=repr), "wrong_result",
           _("apply_async calls its callback once per task with that task's result: on_result should have "
             "been called {n_NUMBERS} times with the squares {sorted} (in any order); it got {values}.").format(n_NUMBERS=len(NUMBERS), sorted=sorted(SQUARES), values=values))


@check("every task is submitted before the first get()", uses=callbacks, category="not_parallel")
def test_submit_all_then_get(obs):
    calls = student_calls(obs, "pool.apply_async", "pool.apply", "result.get", "result.wait")
    applies = [e for e in calls if e.kind == "pool.apply"]
    expect(not applies, "not_parallel",
           _("You used pool.apply(), which waits for each result before returning: the tasks ran one at a "
             "time. Submit them with apply_async() and collect the results afterwards."), where=first_at(applies))
    submits = [i for i, e in enumerate(calls) if e.kind == "pool.apply_async"]
    early = [e for i, e in enumerate(calls) if e.kind.startswith("result.") and submits and i < submits[-1]]
    expect(not early, "not_parallel",
           _("You waited for a result (get() or wait()) before every task was submitted: each task then runs "
             "alone while the other workers idle. Submit all the tasks first (keep the AsyncResults in a "
             "list), then get() each one."), where=first_at(early))


# ----------------------------------------------------------------------------- checks: map_async + callback


@check("map_async: get() gives the list of squares", uses=map_callback, expects_error=True)
def test_map_async_results(obs):
    _judge(obs, f"squares_map_async(pool, {NUMBERS}, on_done)", SQUARES)


@check("map_async calls its callback once, with the whole list", uses=map_callback)
def test_map_async_callback(obs):
    calls = obs.value["calls"]
    values = [c["value"] for c in calls]
    expect(calls, "wrong_result",
           _("on_done was never called. Give it to map_async: pool.map_async(square, numbers, "
             "callback=on_done)."))
    expect(not any(c["main_thread"] for c in calls), "wrong_result",
           _("on_done was called in your main thread: you called it yourself. Pass it as map_async(..., "
             "callback=on_done) and the pool calls it when the whole map is done."))
    expect(len(calls) == 1 and list(values[0] or []) == SQUARES, "wrong_result",
           _("map_async calls its callback once, with the whole list of results; on_done should have been "
             "called once with {SQUARES}, it was called {n_calls} time(s) with {values}.").format(SQUARES=SQUARES, n_calls=len(calls), values=values))


# ----------------------------------------------------------------------------- checks: errors


@check("get() raises a failing task's exception again in the parent", uses=errors, expects_error=True)
def test_get_reraises(obs):
    _judge(obs, f"inverses(pool, {INVERSE_INPUTS}, on_error)", INVERSES)


@check("error_callback receives the failing task's exception", uses=errors)
def test_error_callback(obs):
    calls = obs.value["calls"]
    expect(calls, "wrong_result",
           _("on_error was never called. Give it to every task: apply_async(inverse, (x,), "
             "error_callback=on_error); the pool calls it with the exception of a task that raised."))
    expect(not any(c["main_thread"] for c in calls), "wrong_result",
           _("on_error was called in your main thread: you called it yourself. Pass it as "
             "error_callback=on_error, and the pool calls it with the task's exception."))
    names = [c["value"] for c in calls]
    hint = ""
    if any(str(name).endswith("(not an exception)") for name in names):
        hint = _(" It received results, so it was given as callback=: the error callback is the keyword "
                "error_callback=on_error.")
    expect(names == ["ZeroDivisionError"], "wrong_result",
           _("Of {INVERSE_INPUTS}, only inverse(0) fails, so on_error should be called once, with its "
             "ZeroDivisionError; it received {join}.{hint}").format(INVERSE_INPUTS=INVERSE_INPUTS, join=', '.join(map(str, names)), hint=hint))


# ----------------------------------------------------------------------------- checks: AsyncResult


def _report(obs, key):
    _explain_error(obs)
    report = obs.value
    expect(isinstance(report, dict) and key in report, "wrong_result",
           _("watch_result() should return a dict with the key {key!r}; it returned {report!r}.").format(key=key, report=report))
    return report


@check("ready() is False while the task runs, True once it is done", uses=timeline, expects_error=True,
       on_timeout={call: N_("wait_for(gate) returns only once gate.set() is called: a get() (or wait()) without "
                            "a timeout before gate.set() waits for ever. Use get(timeout=0.1) first, then set the "
                            "gate.")
                   for call in ("AsyncResult.get()", "AsyncResult.wait()")})
def test_ready(obs):
    report = _report(obs, "ready_before")
    expect(report["ready_before"] is False, "wrong_result",
           _("Just after apply_async(wait_for, (gate,)) the task is waiting for the gate, so ready() must be "
             "False; your report says {ready_before!r}. Call result.ready() before gate.set().").format(ready_before=report['ready_before']))
    report = _report(obs, "ready_after")
    expect(report["ready_after"] is True, "wrong_result",
           _("After gate.set() and result.wait() the task is done, so ready() must be True; your report says "
             "{ready_after!r}. Did you wait() for the result after setting the gate?").format(ready_after=report['ready_after']))


@check("get(timeout) raises multiprocessing.TimeoutError while the task is not done", uses=timeline,
       expects_error=True)
def test_get_timeout(obs):
    report = _report(obs, "timed_out")
    expect(report["timed_out"] is True, "wrong_result",
           _("Before gate.set() the task cannot finish, so result.get(timeout=0.1) must raise "
             "multiprocessing.TimeoutError; your report says timed_out={timed_out!r}. Call get(timeout=0.1) "
             "before gate.set(), and catch multiprocessing.TimeoutError.").format(timed_out=report['timed_out']))


@check("successful() raises ValueError before the task is done, and is True after", uses=timeline,
       expects_error=True)
def test_successful(obs):
    report = _report(obs, "early_successful")
    expect(report["early_successful"] == "ValueError", "wrong_result",
           _("successful() on a result that is not ready raises ValueError (Python 3.7+); your report says "
             "early_successful={early_successful!r}. Call it before gate.set(), catch the exception and "
             "report its class name, type(error).__name__.").format(early_successful=report['early_successful']))
    report = _report(obs, "successful")
    expect(report["successful"] is True and report.get("value") == "released", "wrong_result",
           _("Once released, wait_for(gate) returns 'released' without raising: successful() must be True "
             "and get() 'released'; your report says successful={successful!r}, value={get!r}.").format(successful=report['successful'], get=report.get('value')))


# ----------------------------------------------------------------------------- checks: with-block (last driver)


@check("every result is collected inside the with-block", uses=with_block, expects_error=True,
       schedules=8,  # a slow task is still running when the block ends
       on_timeout={"AsyncResult.get()": N_("Call get() on every result inside the `with` block.")})
def test_results_inside_with_block(obs):
    _explain_error(obs)
    exits = student_calls(obs, "pool.exit", "pool.terminate")
    joined = [e for e in student_calls(obs, "pool.join") if exits and e.t <= exits[0].t]
    late = [e for e in student_calls(obs, "result.get", "result.wait")
            if exits and not joined and e.t > exits[0].t]
    if late:
        fail("timeout", _("You called get() after the with-block had ended, and leaving the block calls pool.terminate(): "
                          "tasks not yet finished are thrown away. This time every result happened to be back already, "
                          "but usually that get() waits for ever. Call get() on every result inside the block."), late[0].where)
    _judge(obs, f"squares_in_with_block({NUMBERS})", SQUARES)


@check("squares_in_with_block() creates a pool of 4 and shuts it down", uses=with_block, category="lifecycle")
def test_with_block_pool(obs):
    pools = obs.events_of("pool.create", student_only=False)
    expect(pools, "wrong_result", _("squares_in_with_block() created no Pool: create one with `with Pool(processes=4) as pool:`."))
    sizes = [e.get("processes") for e in pools]
    expect(sizes == [4], "wrong_result", _("squares_in_with_block() should create one pool of 4 workers; it created pools of {sizes}. "
                                           "Write Pool(processes=4).").format(sizes=sizes), first_at(pools))
    shut = student_calls(obs, "pool.exit", "pool.close", "pool.terminate")
    expect(shut, "lifecycle", _("The pool created at {value} was never shut down: create it in a `with Pool(processes=4) as "
                                "pool:` block (or close() and join() it).").format(value=pools[0].where or 'your code'),
           pools[0].where)
