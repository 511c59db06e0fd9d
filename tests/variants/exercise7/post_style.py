"""Exercise 7 — correct variant: the post's order (start the daemons, then put the jobs)."""

import os
from multiprocessing import JoinableQueue, Process


def square_worker(jobs, results):
    while True:
        number = jobs.get()
        try:
            results.put((number, number ** 2, os.getpid()))
        finally:
            jobs.task_done()


def run_jobs(numbers, results, n_workers=3):
    jobs = JoinableQueue()
    pids = []
    for _ in range(n_workers):
        p = Process(target=square_worker, args=(jobs, results))
        p.daemon = True
        p.start()
        pids.append(p.pid)
    for number in numbers:
        jobs.put(number)
    jobs.join()
    return pids


if __name__ == "__main__":
    from multiprocessing import Queue

    numbers = list(range(10))
    results = Queue()
    run_jobs(numbers, results)
    for _ in numbers:
        print(results.get())
