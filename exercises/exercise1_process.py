"""Exercise 1 — Process basics.

A `multiprocessing.Process` runs a function in a separate Python process:

    p = Process(target=func, args=(1, 2), kwargs={"key": "value"}, name="worker-1")
    p.start()      # the child begins running func(1, 2, key="value")
    p.join()       # wait until it has ended

- `args` must be a tuple: `args=(x,)` with a comma. `args=(x)` is just `x`, and the
  source post's `args=(lock)` fails with "TypeError: ... object is not iterable".
- Inside the child, `current_process()` is the child's own Process: `.name` is the name
  you gave it, and `os.getpid()` is its own process id, not the parent's.
- `is_alive()` is False before `start()`, True while the child runs, False once it ended.
- `exitcode` is None until the child has ended (so read it after `join()`): 0 for a
  normal return, N for `sys.exit(N)`, and -N when a signal N ended it (`terminate()`
  sends SIGTERM, so -15).
- Start all children first, then join them: `start(); join()` in one loop runs them
  one at a time.

Run `grade exercise1` to check your work, `grade hint exercise1` for a hint.
"""

import os
import sys
import time
from multiprocessing import Process, current_process


def greet(results, greeting, punctuation="!"):
    """Runs in a child. Put one tuple on `results`: (this process's name, its pid, greeting + punctuation)."""
    # TODO: find this process's name and pid, then results.put((name, pid, greeting + punctuation))
    raise NotImplementedError


def start_named(names, results):
    """Start one child per name in `names`, each running
    greet(results, "hello", punctuation="?") — pass "hello" through `args` and the
    punctuation through `kwargs` — and named after its name. Start them all, then join
    them all. Return the children's pids, in the order of `names`.
    """
    # TODO: create the Process objects (target, args, kwargs, name)
    # TODO: start every child, then join every child
    raise NotImplementedError


def exit_codes():
    """Start three children and return their exit codes as a dict:
    "normal": a child running time.sleep(0)          -> 0
    "sys_exit": a child running sys.exit(3)           -> 3
    "terminated": a child running time.sleep(60), stopped with terminate() -> -15
    """
    # TODO: start the three children, terminate the sleeper, join all three, read exitcode
    raise NotImplementedError


def watch_lifecycle():
    """Return [is_alive() before start(), is_alive() just after start(),
    is_alive() after terminate() and join()] for a child running time.sleep(60).
    """
    # TODO
    raise NotImplementedError


if __name__ == "__main__":
    from multiprocessing import Queue

    q = Queue()
    print(start_named(["alpha", "beta"], q), q.get(), q.get())
    print(exit_codes(), watch_lifecycle())
