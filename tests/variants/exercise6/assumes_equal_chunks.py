"""Exercise 6 variant: expects len(chunks) * len(chunks[0]) reports: with chunks of different lengths it waits for reports that never come (timeout)."""

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
    expected = len(chunks) * len(chunks[0])  # every chunk is as long as the first... or is it?
    reports = [q.get() for _ in range(expected)]
    for w in workers:
        w.join()
    q.close()
    return reports


def square(x):
    return x * x


if __name__ == "__main__":
    print(fan_in(square, [[1, 2, 3], [4, 5], [6]]))
