"""Exercise 3 — Semaphore: at most N at once.

A Lock lets one process in at a time. A Semaphore(N) holds N permits: acquire() takes
one (and waits while there are none left), release() gives one back. So at most N
processes are between acquire() and release() at once: N downloads, N database
connections, N visitors in a room.

    sem = Semaphore(3)
    with sem:            # acquire() a permit ... release() it, even if the block raises
        room.use()

- As with a Lock, create ONE Semaphore in the parent and pass it to every child: a
  semaphore made in each child gives every child its own permits.
- Nothing stops a release() without an acquire(): a plain Semaphore then simply gains a
  permit (Semaphore(1).release() makes it 2), and the limit is silently gone. A
  BoundedSemaphore raises ValueError instead.
- Release on every path: with acquire() ... release(), an exception in between keeps
  the permit forever, and the semaphore has one fewer from then on.
- Semaphore(1) behaves like a Lock: one at a time, no parallelism at all.

`Room` below is the shared resource; the grader passes in a room of its own with the
same use() method, which notes who is inside.

Run `grade exercise3` to check your work, `grade hint exercise3` for a hint.
"""

import time
from multiprocessing import Lock, Process, RawValue, Semaphore


class Room:
    """A room that notes how many visitors are inside, and the most there ever were at once."""

    def __init__(self):
        self._lock = Lock()
        self._inside = RawValue("i", 0)
        self._most = RawValue("i", 0)

    def use(self):
        with self._lock:
            self._inside.value += 1
            self._most.value = max(self._most.value, self._inside.value)
        time.sleep(0.05)  # a visit takes a while
        with self._lock:
            self._inside.value -= 1

    def most(self):
        return self._most.value


def visit(sem, room):
    """Runs in a child: call room.use() while holding one of the semaphore's permits
    (`with sem:`). Let any exception go: do not catch it.
    """
    # TODO
    raise NotImplementedError


def run_visitors(room, visitors, limit):
    """Create ONE Semaphore with `limit` permits. Start `visitors` processes, each
    running visit(sem, room); start them all, then join them all.
    """
    # TODO
    raise NotImplementedError


if __name__ == "__main__":
    room = Room()
    run_visitors(room, 8, 3)
    print("at most", room.most(), "visitors were inside at once (expected 3)")
