"""Exercise 11 — Pool: asynchronous work.

`apply_async` and `map_async` hand work to the pool and return at once, with an
`AsyncResult` that you ask for the answer later:

    result = pool.apply_async(square, (3,), callback=on_result, error_callback=on_error)
    results = pool.map_async(square, [1, 2, 3], callback=on_done)
    result.get(timeout=5)    # 9, once the task is done (waits at most 5 s)

- Submit everything first, then collect: calling get() right after each apply_async()
  waits for that task before submitting the next one, so the tasks run one at a time.
- Pass the callbacks by name. The signatures are apply_async(func, args, kwds, callback,
  error_callback) and map_async(func, iterable, chunksize, callback, error_callback): a
  third positional argument is `kwds` (or `chunksize`), not the callback. The source
  post's `pool.map_async(func, range(8), 8, callback)` works because 8 is the chunksize.
- `callback(value)` is called once per apply_async() with its result, and once per
  map_async() with the whole list. It runs in the PARENT process, in the pool's
  result-handler thread (not in a worker, not in your main thread), before get()
  returns. Keep it short: while it runs, no other result is delivered (the post says it
  blocks the main thread; it blocks that thread, and every get() waiting behind it). A
  callback that raises (one that takes no argument, say) kills that thread, and every
  get() after it waits for ever.
- When a task raises, `error_callback(exception)` receives the exception, and get()
  raises it again in the parent.
- `ready()` is True once the task is done; `wait(timeout)` waits without fetching the
  value; `successful()` says whether it returned without raising. Called before the
  task is done, successful() raises ValueError (since Python 3.7; the post, written for
  Python 2, says AssertionError).
- `get(timeout)` raises `multiprocessing.TimeoutError` when the time runs out. That is
  NOT the builtin `TimeoutError` (nor `queue.Empty`): `except TimeoutError:` does not
  catch it (see for yourself: `issubclass(multiprocessing.TimeoutError, TimeoutError)`
  is False). Write `except multiprocessing.TimeoutError:`.
- `with Pool(4) as pool:` calls terminate() when the block ends, which throws away
  unfinished tasks: collect every result INSIDE the block. A get() after it waits for a
  result that will never come.

Run `grade exercise11` to check your work, `grade hint exercise11` for a hint.
"""

import multiprocessing
from multiprocessing import Pool


def square(x):
    """Runs in a pool worker (given)."""
    return x * x


def inverse(x):
    """Runs in a pool worker (given): raises ZeroDivisionError for 0."""
    return 1 / x


def wait_for(gate):
    """Runs in a pool worker (given): blocks until someone calls gate.set()."""
    gate.wait()
    return "released"


def squares_with_callback(pool, numbers, on_result):
    """Submit square(x) for every x in `numbers` with pool.apply_async, giving `on_result`
    as its callback. Submit them ALL, then get() each result. Return the squares in the
    order of `numbers`.
    """
    # TODO: one apply_async per number, with callback=on_result
    # TODO: then collect the results with get()
    raise NotImplementedError


def squares_map_async(pool, numbers, on_done):
    """Compute the squares of `numbers` with ONE pool.map_async, giving `on_done` as its
    callback. Return the list, from the AsyncResult's get().
    """
    # TODO
    raise NotImplementedError


def inverses(pool, numbers, on_error):
    """Submit inverse(x) for every x with pool.apply_async, giving `on_error` as its
    error_callback. Then get() each result: return a list holding, for each number, its
    inverse, or the class name of the exception that get() raised (e.g.
    [0.25, "ZeroDivisionError", 0.5] for [4, 0, 2]).
    """
    # TODO
    raise NotImplementedError


def watch_result(pool, gate):
    """Follow one AsyncResult through its life. wait_for(gate) blocks until gate.set().
    1. result = pool.apply_async(wait_for, (gate,))
    2. "ready_before": result.ready() now (the task is waiting for the gate)
    3. "timed_out": True if result.get(timeout=0.1) raised multiprocessing.TimeoutError
    4. "early_successful": the class name of the exception result.successful() raises
       now, or None if it raises nothing
    5. release the task with gate.set(), and wait() for it to finish
    6. "ready_after": result.ready(), "successful": result.successful(),
       "value": result.get()
    Return a dict with these six keys.
    """
    # TODO
    raise NotImplementedError


def squares_in_with_block(numbers):
    """Create your own pool of 4 workers in a `with Pool(processes=4) as pool:` block,
    submit square(x) for every x with apply_async, and return the squares in the order
    of `numbers`.
    """
    # TODO
    raise NotImplementedError


if __name__ == "__main__":
    with Pool(processes=4) as pool:
        print(squares_with_callback(pool, range(8), print))
        print(squares_map_async(pool, range(8), print))
        print(inverses(pool, [4, 0, 2], print))
        with multiprocessing.Manager() as manager:
            print(watch_result(pool, manager.Event()))
    print(squares_in_with_block(range(8)))
