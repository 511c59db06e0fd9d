"""Exercise 2 variant: correct: the lock is a Manager's Lock (a proxy every worker shares), shut down after the joins."""

import time
from multiprocessing import Lock, Manager, Process, RawValue


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
    """`times` times: add 1 to the counter, holding the lock around each read-and-write."""
    for _ in range(times):
        with lock:
            counter.write(counter.read() + 1)


def deposit_manually(lock, counter, times):
    """The same with acquire() and release(): release in `finally`, so that it happens even on an error."""
    for _ in range(times):
        lock.acquire()
        try:
            counter.write(counter.read() + 1)
        finally:
            lock.release()


def run_deposits(counter, workers, times, target=deposit):
    """One Lock for everyone; `workers` children run target(lock, counter=..., times=...); the final count."""
    manager = Manager()
    lock = manager.Lock()
    children = [Process(target=target, args=(lock,), kwargs={"counter": counter, "times": times})
                for _ in range(workers)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    manager.shutdown()
    return counter.read()


if __name__ == "__main__":
    print(run_deposits(Counter(), 4, 25), "(expected 100)")
    print(run_deposits(Counter(), 4, 25, target=deposit_manually), "(expected 100)")
