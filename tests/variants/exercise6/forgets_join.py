"""Exercise 6 variant: collects every report but never joins the workers (lifecycle)."""

import os
from multiprocessing import Process, SimpleQueue


def worker(q, func, chunk):
    """Runs in a child: report (this pid, x, func(x)) for each x of the chunk."""
    for x in chunk:
        q.put((os.getpid(), x, func(x)))


def fan_in(func, chunks):
    """One worker per chunk, all putting on one SimpleQueue; collect every report."""
    q = SimpleQueue()
    workers = [Process(target=worker, args=(q, func, chunk)) for chunk in chunks]
    for w in workers:
        w.start()
    expected = sum(len(chunk) for chunk in chunks)  # exactly this many reports will come
    reports = [q.get() for _ in range(expected)]
    q.close()  # BUG: the workers are never joined
    return reports


def square(x):
    return x * x


if __name__ == "__main__":
    print(fan_in(square, [[1, 2, 3], [4, 5], [6]]))
