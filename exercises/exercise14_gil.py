"""Exercise 14 — Capstone: why processes (the GIL).

CPython has a Global Interpreter Lock, the GIL (the source post calls it "PIL"): in one
process, only one thread at a time runs Python code. Threads still help a program that
waits (for the network, the disk, a sleep), since a waiting thread lets go of the GIL.
But CPU-bound Python code — loops, arithmetic — gets no faster with threads: they take
turns on one core. Each process has its own interpreter and its own GIL, so processes
do run Python code in parallel, one per core. That is why multiprocessing exists.

(The post says threads "cannot improve performance" at all: true only of CPU-bound
Python code. Code that waits, and C code that releases the GIL, such as hashlib or
numpy, do run in threads at the same time.)

The recipe: cut the work into independent chunks, compute each chunk in a worker
process, combine the results in the parent.

    with Pool(processes=2) as pool:          # or one Process per chunk, with a Queue
        results = pool.map(func, chunks)     # the chunks run at the same time

Every chunk must be handed out BEFORE waiting for any result: `start(); join()` in one
loop, or `pool.apply()` in a loop, runs the chunks one after the other. And threads
(`threading`, `multiprocessing.dummy`, `ThreadPoolExecutor`) keep it all in one process.

Run `grade exercise14` to check your work, `grade hint exercise14` for a hint.
"""

import time
from multiprocessing import Pool


def count_primes(bounds):
    """Given: how many primes p there are with lo <= p < hi (CPU-bound on purpose)."""
    lo, hi = bounds
    count = 0
    for n in range(max(lo, 2), hi):
        if all(n % d for d in range(2, int(n**0.5) + 1)):
            count += 1
    return count


def split_range(n, parts):
    """Split range(0, n) into `parts` consecutive pieces [(lo, hi), ...], half-open like
    range(lo, hi): the first lo is 0, each hi is the next piece's lo, the last hi is n,
    and the pieces' sizes differ by less than `parts` (e.g. the last one takes the rest).
    split_range(10, 3) -> [(0, 3), (3, 6), (6, 10)]
    """
    # TODO
    raise NotImplementedError


def run_in_processes(func, chunks):
    """Compute func(chunk) for every chunk in worker processes that run at the same
    time (a Pool of 2, or one Process per chunk). Return the results in the order of
    chunks.
    """
    # TODO: hand out every chunk first, then collect the results
    raise NotImplementedError


def count_primes_below(n, parts=2):
    """The number of primes below n: count_primes() of each piece of
    split_range(n, parts), computed with run_in_processes(), added up.
    """
    # TODO
    raise NotImplementedError


if __name__ == "__main__":
    from multiprocessing.pool import ThreadPool

    n = 300_000
    started = time.perf_counter()
    print(count_primes((0, n)), f"one process: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    with ThreadPool(2) as threads:
        total = sum(threads.map(count_primes, split_range(n, 2)))
    print(total, f"two threads: {time.perf_counter() - started:.2f} s (no faster: the GIL)")
    started = time.perf_counter()
    print(count_primes_below(n, 2), f"two processes: {time.perf_counter() - started:.2f} s")
