"""Exercise 1, fails under spawn and forkserver only: the target is a lambda."""

import os
import sys
import time
from multiprocessing import Process, current_process


def greet(results, greeting, punctuation="!"):
    """Runs in a child: report who and where we are."""
    me = current_process()
    results.put((me.name, os.getpid(), greeting + punctuation))


def start_named(names, results):
    """Start one child per name, all at once, then wait for all; return their pids."""
    children = [
        Process(target=lambda *a, **k: greet(*a, **k), args=(results, "hello"), kwargs={"punctuation": "?"},
                name=name)  # BUG: a lambda cannot be pickled for a spawned child
        for name in names
    ]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return [child.pid for child in children]


def exit_codes():
    """The exitcode of a child that returns, one that calls sys.exit(3), one terminated."""
    normal = Process(target=time.sleep, args=(0,))
    exiting = Process(target=sys.exit, args=(3,))
    sleeper = Process(target=time.sleep, args=(60,))
    for child in (normal, exiting, sleeper):
        child.start()
    sleeper.terminate()
    for child in (normal, exiting, sleeper):
        child.join()
    return {"normal": normal.exitcode, "sys_exit": exiting.exitcode, "terminated": sleeper.exitcode}


def watch_lifecycle():
    """is_alive() before start, after start, and after terminate() and join()."""
    sleeper = Process(target=time.sleep, args=(60,))
    seen = [sleeper.is_alive()]
    sleeper.start()
    seen.append(sleeper.is_alive())
    sleeper.terminate()
    sleeper.join()
    seen.append(sleeper.is_alive())
    return seen


if __name__ == "__main__":
    from multiprocessing import Queue

    q = Queue()
    print(start_named(["alpha", "beta"], q), q.get(), q.get())
    print(exit_codes(), watch_lifecycle())
