"""Exercise 12 — Pool: imap and imap_unordered (variant: counts with enumerate() and returns the last index: one short)."""

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
        return list(pool.imap(func, items, chunksize=chunksize))


def deliver_as_completed(func, items, on_result):
    """With a Pool of 2 worker processes and pool.imap_unordered(func, items), call
    on_result(result) for each result as soon as it is ready: do not wait for the others
    first. Return how many results were delivered.
    """
    with Pool(processes=2) as pool:
        for delivered, result in enumerate(pool.imap_unordered(func, items)):
            on_result(result)
    return delivered  # BUG: enumerate() counts from 0: the last index is one less than the count


if __name__ == "__main__":
    print(results_in_order(slow_square, [5, 1, 2], chunksize=1))  # [25, 1, 4]
    started = time.monotonic()
    deliver_as_completed(slow_square, [5, 1, 2],
                         lambda r: print(f"{time.monotonic() - started:.1f} s: got {r}"))  # 1, then 4, then 25
