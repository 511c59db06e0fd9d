"""Exercise 5 — Queue: producers and consumers.

`multiprocessing.Queue(maxsize)` carries pickled objects between processes, first in,
first out. With a maxsize, `put()` waits while the queue is full; `get()` waits while
it is empty.

- Timeouts: `put(item, timeout=t)` raises `queue.Full` and `get(timeout=t)` raises
  `queue.Empty` when t seconds pass; `put_nowait(item)` / `get_nowait()` raise them at
  once. Those exceptions live in the standard module `queue` (`import queue`), not on
  `multiprocessing.Queue`, which is a function. (The source post's `Queue.Full` /
  `Queue.Empty` is Python 2's module `Queue`.)
- `empty()`, `full()` and `qsize()` are only snapshots: another process may change the
  queue the next instant, so never decide "the work is finished" with them. `qsize()`
  raises NotImplementedError on macOS.
- A process that put items has a background "feeder" thread that writes them into a
  pipe. `q.close()` says "this process will put no more"; `q.join_thread()` then waits
  until everything it put has been flushed. A process does not end before its feeder
  has flushed: so if a child put a big item (a pipe holds about 64 KiB) that nobody
  gets, joining that child waits forever. Get the items first, then join.
- The post's consumer is `while True: print(q.get())`: it never ends, and neither does
  the program. A consumer needs to be told "no more items": a sentinel such as None,
  put after every real item, one for each consumer (each stops at the first it takes).

Run `grade exercise5` to check your work, `grade hint exercise5` for a hint.
"""

import queue
from multiprocessing import Process, Queue


def fill(q, items):
    """Put the items on `q` in order WITHOUT ever waiting: stop at the first item the
    queue has no room for. Return how many items were put.
    """
    # TODO: q.put_nowait(item) raises queue.Full when there is no room
    raise NotImplementedError


def drain(q, timeout):
    """Get items from `q` until none arrives within `timeout` seconds. Return them in order."""
    # TODO: q.get(timeout=timeout) raises queue.Empty when the time is up
    raise NotImplementedError


def take_ready(q):
    """Take every item that is in `q` right now, WITHOUT ever waiting: stop at the first
    get the queue cannot answer at once. Return the items in order (an empty queue: []).
    """
    # TODO: q.get_nowait() raises queue.Empty when nothing is there
    raise NotImplementedError


def snapshot(q):
    """Return {"empty": q.empty(), "full": q.full(), "size": q.qsize()}, with "size"
    None where qsize() is not implemented (it raises NotImplementedError on macOS).
    """
    # TODO
    raise NotImplementedError


def producer(q, who, count):
    """Runs in a child. Put the tuples (who, 0), (who, 1), ..., (who, count - 1) on `q`.
    Then close this process's handle on the queue and wait for its feeder thread
    (q.close(), then q.join_thread()).
    """
    # TODO
    raise NotImplementedError


def consumer(q, results):
    """Runs in a child. Take items from `q` until it takes a None sentinel; then put the
    list of every item it took on `results` (one report per consumer) and return.
    """
    # TODO: the post's `while True: q.get()` never ends. When must the loop stop?
    raise NotImplementedError


def run(n_producers, n_consumers, per_producer):
    """Create q = Queue(40) and a second Queue for the consumers' reports. Start
    n_producers processes running producer(q, who, per_producer) (who = 0, 1, ...) and
    n_consumers running consumer(q, results). Make every consumer stop once every item
    has been consumed, join every process, and return the list of every item the
    consumers took (in any order).
    """
    # TODO: when is it safe to put the sentinels, and how many?
    # TODO: read the consumers' reports before joining them
    raise NotImplementedError


def big_producer(q, who, size):
    """Runs in a child. Put one tuple (who, <a bytes object of `size` bytes>) on `q`."""
    # TODO
    raise NotImplementedError


def collect_big(n, size):
    """Start n processes running big_producer(q, who, size) on one Queue(). Collect their
    n items and join them all. Return the sorted list of (who, len(data)) pairs.
    """
    # TODO: in which order must you get() and join()? (size may be 100 KiB or more)
    raise NotImplementedError


if __name__ == "__main__":
    print(len(run(10, 1, 10)), collect_big(3, 100_000))
