"""Exercise 12, with a timing-dependent mistake: imap_unordered() where the order of the items is promised."""

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
    with Pool(processes=2) as pool:
        return list(pool.imap_unordered(func, items, chunksize=chunksize))  # faster, same results


def deliver_as_completed(func, items, on_result):
    """With a Pool of 2 worker processes and pool.imap_unordered(func, items), call
    on_result(result) for each result as soon as it is ready: do not wait for the others
    first. Return how many results were delivered.
    """
    delivered = 0
    with Pool(processes=2) as pool:
        for result in pool.imap_unordered(func, items):
            on_result(result)
            delivered += 1
    return delivered


if __name__ == "__main__":
    print(results_in_order(slow_square, [5, 1, 2], chunksize=1))  # [25, 1, 4]
    started = time.monotonic()
    deliver_as_completed(slow_square, [5, 1, 2],
                         lambda r: print(f"{time.monotonic() - started:.1f} s: got {r}"))  # 1, then 4, then 25
