"""Exercise 3, hangs: each visitor takes a permit and never gives it back, so the fourth waits forever."""

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
    """Hold one of the semaphore's permits for the whole visit."""
    sem.acquire()  # BUG: never released
    room.use()


def run_visitors(room, visitors, limit):
    """One Semaphore(limit) for everyone; `visitors` children run visit(sem, room); start all, join all."""
    sem = Semaphore(limit)
    children = [Process(target=visit, args=(sem, room)) for _ in range(visitors)]
    for child in children:
        child.start()
    for child in children:
        child.join()


if __name__ == "__main__":
    room = Room()
    run_visitors(room, 8, 3)
    print("at most", room.most(), "visitors were inside at once (expected 3)")
