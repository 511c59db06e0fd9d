"""Exercise 12 — Pool: imap and imap_unordered (variant: correct: no with-block; close() first, read the results, then join())."""

import time
from multiprocessing import Pool


def slow_square(x):
    """A task for trying things out: takes x tenths of a second, then returns x * x."""
    time.sleep(x / 10)
    return x * x


def results_in_order(func, items, chunksize=1):
    """Return [func(item) for item in items], computed by a Pool of 2 worker processes with
    pool.imap(func, items, chunksize=chunksize): in the order of `items`, and with the
    items sent to the workers `chunksize` at a time.
    """
    pool = Pool(processes=2)
    results = pool.imap(func, items, chunksize)
    pool.close()  # no new work; the results still arrive
    ordered = [result for result in results]
    pool.join()
    return ordered


def deliver_as_completed(func, items, on_result):
    """With a Pool of 2 worker processes and pool.imap_unordered(func, items), call
    on_result(result) for each result as soon as it is ready: do not wait for the others
    first. Return how many results were delivered.
    """
    pool = Pool(2)
    count = 0
    try:
        iterator = pool.imap_unordered(func, items, chunksize=1)
        while True:
            try:
                result = next(iterator)
            except StopIteration:
                break
            on_result(result)
            count += 1
    finally:
        pool.terminate()
        pool.join()
    return count


if __name__ == "__main__":
    print(results_in_order(slow_square, [5, 1, 2], chunksize=1))  # [25, 1, 4]
    started = time.monotonic()
    deliver_as_completed(slow_square, [5, 1, 2],
                         lambda r: print(f"{time.monotonic() - started:.1f} s: got {r}"))  # 1, then 4, then 25
