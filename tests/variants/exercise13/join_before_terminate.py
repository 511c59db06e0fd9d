"""Exercise 13 — Pool lifecycle: close, terminate, join (variant: cancel() joins the pool before terminating it)."""

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
    pool = Pool(processes=2)
    result = pool.map_async(func, items)
    pool.close()
    pool.join()
    return result.get()


def lifecycle_errors(func):
    """Make a Pool of 2 workers raise its two "wrong order" errors, and catch them:
    1. call pool.join() while the pool is still running;
    2. close() the pool, then call pool.apply_async(func, (1,)).
    Then join() the pool (it is closed now). Return the two messages:
    {"join_while_running": str(first error), "submit_after_close": str(second error)}.
    """
    messages = {}
    pool = Pool(processes=2)
    try:
        pool.join()
    except ValueError as error:
        messages["join_while_running"] = str(error)
    pool.close()
    try:
        pool.apply_async(func, (1,))
    except ValueError as error:
        messages["submit_after_close"] = str(error)
    pool.join()
    return messages


def cancel(func, items):
    """Start pool.map_async(func, items) on a Pool of 2 workers, then cancel that work:
    the tasks are slow and their results are no longer wanted. Stop the workers at once,
    without waiting for the tasks, and wait until the workers are gone. Return nothing.
    """
    pool = Pool(processes=2)
    pool.map_async(func, items)
    pool.join()  # BUG: join() before terminate(): the pool is still running
    pool.terminate()


def results_inside_with(func, items):
    """Using `with Pool(processes=2) as pool:`, submit one pool.apply_async(func, (item,))
    per item, and return their results (each AsyncResult's get()), in the order of items.
    """
    with Pool(processes=2) as pool:
        pending = [pool.apply_async(func, (item,)) for item in items]
        return [result.get() for result in pending]


if __name__ == "__main__":
    print(run_and_wait(slow_double, [1, 2, 3]))  # [2, 4, 6]
    print(lifecycle_errors(slow_double))
    started = time.monotonic()
    cancel(slow_double, [1, 2, 3, 4])
    print(f"cancelled after {time.monotonic() - started:.3f} s")  # not the 4 s the tasks would take
    print(results_inside_with(slow_double, [4, 5]))  # [8, 10]
