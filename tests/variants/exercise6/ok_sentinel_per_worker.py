"""Exercise 6 variant: correct: each worker puts a None sentinel when done; the consumer stops after one sentinel per worker."""

import os
from multiprocessing import Process, SimpleQueue


def worker(q, func, chunk):
    """Runs in a child: report (this pid, x, func(x)) for each x of the chunk."""
    for x in chunk:
        q.put((os.getpid(), x, func(x)))
    q.put(None)  # this worker is done


def fan_in(func, chunks):
    """One worker per chunk, all putting on one SimpleQueue; collect every report."""
    q = SimpleQueue()
    workers = [Process(target=worker, args=(q, func, chunk)) for chunk in chunks]
    for w in workers:
        w.start()
    reports, done = [], 0
    while done < len(workers):
        report = q.get()
        if report is None:
            done += 1
        else:
            reports.append(report)
    for w in workers:
        w.join()
    q.close()
    return reports


def square(x):
    return x * x


if __name__ == "__main__":
    print(fan_in(square, [[1, 2, 3], [4, 5], [6]]))
