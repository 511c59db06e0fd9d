"""Exercise 12 — Pool: imap and imap_unordered.

`pool.map(func, items)` gives back a finished list: nothing at all until every task is
done. `imap` and `imap_unordered` give back an iterator instead, so that you can use each
result as soon as it is ready:

    with Pool(processes=2) as pool:
        for result in pool.imap(func, items):            # in the order of items
            ...
        for result in pool.imap_unordered(func, items):  # in the order the tasks finish
            ...

- `imap` yields the results in the order of `items`. A slow first item holds back the
  others: they are finished, but wait until the first one is done.
- `imap_unordered` yields each result as soon as its task is done: the order is the
  order of completion, not of `items`. (Sorting the results afterwards gives you the
  order of the *values*, which is not the order of `items`.)
- `chunksize=n` sends the items to the workers n at a time: fewer, bigger tasks, less
  overhead when there are many small items. imap's default is 1 (map picks one for you).
- The iterator is lazy: the results arrive while you loop over it. Leaving a
  `with Pool() as pool:` block calls `pool.terminate()`, which stops the workers at once.
  So read the results INSIDE the block: a result still unread when the block ends is
  lost, and waiting for it afterwards waits forever. (`pool.close()` is different: it
  only refuses new work, and the results still arrive.)
- The source post only lists imap and imap_unordered ("the API says it all"); their
  point is streaming: you can act on the first results while the rest are computed.

Run `grade exercise12` to check your work, `grade hint exercise12` for a hint.
"""

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
    # TODO: create the pool with a `with` block, and read every result inside the block
    raise NotImplementedError


def deliver_as_completed(func, items, on_result):
    """With a Pool of 2 worker processes and pool.imap_unordered(func, items), call
    on_result(result) for each result as soon as it is ready: do not wait for the others
    first. Return how many results were delivered.
    """
    # TODO: loop over pool.imap_unordered(...) and hand each result to on_result at once
    raise NotImplementedError


if __name__ == "__main__":
    print(results_in_order(slow_square, [5, 1, 2], chunksize=1))  # [25, 1, 4]
    started = time.monotonic()
    deliver_as_completed(slow_square, [5, 1, 2],
                         lambda r: print(f"{time.monotonic() - started:.1f} s: got {r}"))  # 1, then 4, then 25
