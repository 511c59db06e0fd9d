"""Exercise 7 — JoinableQueue and daemon workers.

A `JoinableQueue` is a Queue that also counts unfinished work:

    jobs = JoinableQueue()
    jobs.put(item)       # one more unfinished task
    item = jobs.get()    # (in a worker) take it...
    jobs.task_done()     # ...and, once it is handled, say so: one less unfinished task
    jobs.join()          # (in the main process) wait until every task put is done

- Call `task_done()` exactly once per item you got: never calling it makes `join()`
  wait forever; calling it twice raises "ValueError: task_done() called too many times".
- Workers usually loop forever (`while True: item = jobs.get(); ...; jobs.task_done()`),
  so they never end by themselves. A program whose non-daemon children are still running
  cannot exit: at its end, Python joins them, and they wait in `jobs.get()` forever.
  Make them daemons (`p.daemon = True`, or `Process(..., daemon=True)`, before `start()`):
  daemonic children are stopped when the main program ends. (Or send each worker a
  sentinel such as None that makes it return, and join it.)
- `jobs.join()` waits for the *work*, not for the processes: after it returns, the
  workers are still alive, waiting for more jobs.
- The source post (Python 2) writes `print "consumer", q.get()` and `xrange`: in Python 3
  it is `print("consumer", q.get())` and `range`.

Run `grade exercise7` to check your work, `grade hint exercise7` for a hint.
"""

import os
from multiprocessing import JoinableQueue, Process


def square_worker(jobs, results):
    """Runs in a worker process, forever: take a number from `jobs`, put the tuple
    (number, number * number, this process's pid) on `results`, then mark the job done.
    """
    # TODO: loop forever: get a number, put (number, number * number, os.getpid()) on results,
    #       then jobs.task_done()
    raise NotImplementedError


def run_jobs(numbers, results, n_workers=3):
    """Square `numbers` with `n_workers` worker processes, each running
    square_worker(jobs, results) on one shared JoinableQueue `jobs`. Put every number on
    `jobs`, start the workers as daemons, and return only when every number is done
    (jobs.join()). Return the workers' pids.
    """
    # TODO: create the JoinableQueue and put every number on it
    # TODO: start n_workers daemon processes running square_worker(jobs, results)
    # TODO: wait until every job is done, then return the workers' pids
    raise NotImplementedError


if __name__ == "__main__":
    from multiprocessing import Queue

    numbers = list(range(10))
    results = Queue()
    workers = run_jobs(numbers, results)
    squares = sorted(results.get()[:2] for _ in numbers)
    print("workers:", workers)
    print("squares:", squares)
    # The workers still loop in jobs.get(): as daemons, they end with this program.
