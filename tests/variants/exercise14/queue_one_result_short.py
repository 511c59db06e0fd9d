"""Exercise 14, hangs: one Process per chunk puts its result on a Queue, but the parent waits for one more."""

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
    size = n // parts
    bounds = [i * size for i in range(parts)] + [n]
    return [(bounds[i], bounds[i + 1]) for i in range(parts)]


def run_in_processes(func, chunks):
    """Compute func(chunk) for every chunk in worker processes that run at the same
    time (a Pool of 2, or one Process per chunk). Return the results in the order of
    chunks.
    """
    from multiprocessing import Process, Queue

    results = Queue()
    workers = [Process(target=_put_result, args=(results, i, func, c)) for i, c in enumerate(chunks)]
    for w in workers:
        w.start()
    got = dict(results.get() for _ in range(len(chunks) + 1))  # BUG: one get too many
    for w in workers:
        w.join()
    return [got[i] for i in range(len(chunks))]


def _put_result(results, index, func, chunk):
    results.put((index, func(chunk)))


def count_primes_below(n, parts=2):
    """The number of primes below n: count_primes() of each piece of
    split_range(n, parts), computed with run_in_processes(), added up.
    """
    return sum(run_in_processes(count_primes, split_range(n, parts)))


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
