"""Exercise 7 — correct variant: non-daemon workers stopped by sentinels, then joined."""

import os
from multiprocessing import JoinableQueue, Process

STOP = None  # the sentinel: a worker that takes it returns


def square_worker(jobs, results):
    """Take jobs until the sentinel comes; mark every item done, the sentinel too."""
    while True:
        number = jobs.get()
        if number is STOP:
            jobs.task_done()
            return
        results.put((number, number * number, os.getpid()))
        jobs.task_done()


def run_jobs(numbers, results, n_workers=3):
    """Start plain workers, wait for the work, then stop each with a sentinel and join it."""
    jobs = JoinableQueue()
    workers = [Process(target=square_worker, args=(jobs, results)) for _ in range(n_workers)]
    for worker in workers:
        worker.start()
    for number in numbers:
        jobs.put(number)
    jobs.join()
    for _ in workers:
        jobs.put(STOP)
    for worker in workers:
        worker.join()
    return [worker.pid for worker in workers]


if __name__ == "__main__":
    from multiprocessing import Queue

    numbers = list(range(10))
    results = Queue()
    workers = run_jobs(numbers, results)
    squares = sorted(results.get()[:2] for _ in numbers)
    print("workers:", workers)
    print("squares:", squares)
