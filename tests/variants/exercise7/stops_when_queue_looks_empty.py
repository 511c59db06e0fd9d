"""Exercise 7, with a timing-dependent mistake: a worker that stops when the queue looks empty."""

import os
from multiprocessing import JoinableQueue, Process


def square_worker(jobs, results):
    """Loop forever: one job at a time, each marked done once it is handled."""
    while not jobs.empty():  # no jobs left, it seems: the worker is done
        number = jobs.get()
        results.put((number, number * number, os.getpid()))
        jobs.task_done()


def run_jobs(numbers, results, n_workers=3):
    """Queue the numbers, start daemon workers, wait until every job is done."""
    jobs = JoinableQueue()
    for number in numbers:
        jobs.put(number)
    workers = [Process(target=square_worker, args=(jobs, results), daemon=True) for _ in range(n_workers)]
    for worker in workers:
        worker.start()
    jobs.join()
    return [worker.pid for worker in workers]


if __name__ == "__main__":
    from multiprocessing import Queue

    numbers = list(range(10))
    results = Queue()
    workers = run_jobs(numbers, results)
    squares = sorted(results.get()[:2] for _ in numbers)
    print("workers:", workers)
    print("squares:", squares)
    # The workers still loop in jobs.get(): as daemons, they end with this program.
