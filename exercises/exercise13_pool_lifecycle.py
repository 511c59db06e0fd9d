"""Exercise 13 — Pool lifecycle: close, terminate, join.

A Pool goes through three stages: it takes work; it stops taking work; its workers exit.

    pool = Pool(processes=2)
    result = pool.map_async(func, items)  # 1. take work
    pool.close()                          # 2. no more work: the queued tasks still run
    pool.join()                           # 3. wait until every worker has exited
    print(result.get())

- `close()` refuses new work but lets the tasks already queued run to the end. After
  it, `apply_async`/`map`/... raise `ValueError("Pool not running")`.
- `join()` waits for the worker processes to exit. They only exit once the pool is
  closed (or terminated), so `join()` on a running pool raises
  `ValueError("Pool is still running")`: close() first, then join().
- `terminate()` stops the workers at once: queued and running tasks are thrown away,
  and their results never come (a `get()` for them waits forever).
- `with Pool() as pool:` calls `terminate()` (not close) when the block ends. So get
  every result you need INSIDE the block.
- The source post says terminate() is what "the garbage collector calls when memory runs
  short". In Python 3, terminate() runs when you call it, when a `with` block ends, and
  when a Pool that was never shut down is garbage-collected or the program exits (with a
  ResourceWarning since 3.8) — memory has nothing to do with it. Its own example
  (`pool = Pool(4); print(pool.map(...))`) never closes its pool: always end with
  close() and join(), or use a `with` block.

Run `grade exercise13` to check your work, `grade hint exercise13` for a hint.
"""

import time
from multiprocessing import Pool


def slow_double(x):
    """A task for trying things out: takes a second, then returns 2 * x."""
    time.sleep(1)
    return 2 * x


def run_and_wait(func, items):
    """Without a `with` block: create a Pool of 2 worker processes, start
    pool.map_async(func, items), then shut the pool down properly — close() it, then
    join() it — and return the results (a list, in the order of items). When this
    function returns, every worker process must have exited.
    """
    # TODO: map_async, close, join, then get the results
    raise NotImplementedError


def lifecycle_errors(func):
    """Make a Pool of 2 workers raise its two "wrong order" errors, and catch them:
    1. call pool.join() while the pool is still running;
    2. close() the pool, then call pool.apply_async(func, (1,)).
    Then join() the pool (it is closed now). Return the two messages:
    {"join_while_running": str(first error), "submit_after_close": str(second error)}.
    """
    # TODO: try/except ValueError around each call
    raise NotImplementedError


def cancel(func, items):
    """Start pool.map_async(func, items) on a Pool of 2 workers, then cancel that work:
    the tasks are slow and their results are no longer wanted. Stop the workers at once,
    without waiting for the tasks, and wait until the workers are gone. Return nothing.
    """
    # TODO: which call stops the workers without waiting for their tasks?
    raise NotImplementedError


def results_inside_with(func, items):
    """Using `with Pool(processes=2) as pool:`, submit one pool.apply_async(func, (item,))
    per item, and return their results (each AsyncResult's get()), in the order of items.
    """
    # TODO: where must get() be called, given that the block ends with terminate()?
    raise NotImplementedError


if __name__ == "__main__":
    print(run_and_wait(slow_double, [1, 2, 3]))  # [2, 4, 6]
    print(lifecycle_errors(slow_double))
    started = time.monotonic()
    cancel(slow_double, [1, 2, 3, 4])
    print(f"cancelled after {time.monotonic() - started:.3f} s")  # not the 4 s the tasks would take
    print(results_inside_with(slow_double, [4, 5]))  # [8, 10]
