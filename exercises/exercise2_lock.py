"""Exercise 2 — Lock: protecting a shared resource.

Several processes update one shared counter. Each update is a read-modify-write:
read the value, add 1, write it back. If a second process reads between the first one's
read and its write, both write the same number and one deposit is lost. A Lock makes
the whole read-and-write happen in one process at a time:

    with lock:                       # acquire(); the block; release(), even if it raises
        counter.write(counter.read() + 1)

- Create ONE Lock in the parent and give that same object to every child. A Lock made
  inside each child (or at module level: under spawn and forkserver each child imports
  the module again and makes its own) is a different lock in every process, and keeps
  nobody out.
- The source post writes `Process(target=func, args=(lock))`. `(lock)` is not a tuple,
  just `lock` in parentheses, so Python 3 fails with "TypeError: 'Lock' object is not
  iterable". A one-element tuple needs a comma: `args=(lock,)`.
- The post's `lock.acquire() ... lock.release()` is right only if nothing in between
  raises. If it does, release() is skipped, the lock stays taken, and every other process
  waits in acquire() forever. Write `try: ... finally: lock.release()`, or use `with lock:`.

`Counter` below is the shared resource: its read() is slow on purpose, like a database
query, so that a missing lock really does lose updates. The grader passes in a counter of
its own with the same read() and write().

Run `grade exercise2` to check your work, `grade hint exercise2` for a hint.
"""

import time
from multiprocessing import Lock, Process, RawValue


class Counter:
    """A number in shared memory that is slow to update, like a row in a database."""

    def __init__(self):
        self._value = RawValue("i", 0)

    def read(self):
        value = self._value.value
        time.sleep(0.001)  # the "select" takes a while: plenty of time for another process to read too
        return value

    def write(self, value):
        self._value.value = value


def deposit(lock, counter, times):
    """Runs in a child. `times` times: add 1 to the counter, i.e.
    counter.write(counter.read() + 1), holding the lock with `with lock:` around each
    read-and-write. Let any exception go: do not catch it.
    """
    # TODO
    raise NotImplementedError


def deposit_manually(lock, counter, times):
    """Runs in a child. The same as deposit(), with lock.acquire() and lock.release()
    instead of `with`: release the lock in a `finally:` block, so that it is released
    even when counter.write() raises.
    """
    # TODO
    raise NotImplementedError


def run_deposits(counter, workers, times, target=deposit):
    """Create ONE Lock. Start `workers` processes, each running
    target(lock, counter=counter, times=times): pass the lock through `args` (a tuple!)
    and counter and times through `kwargs`. Start them all, then join them all, and
    return counter.read().
    """
    # TODO: create the lock, then the processes
    # TODO: start every process, then join every process
    raise NotImplementedError


if __name__ == "__main__":
    print(run_deposits(Counter(), 4, 25), "(expected 100)")
    print(run_deposits(Counter(), 4, 25, target=deposit_manually), "(expected 100)")
