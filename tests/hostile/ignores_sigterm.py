"""Hostile: a child that ignores SIGTERM and never ends; the parent waits for it.

The child says when it ignores SIGTERM (a sleep instead, as this file had, was a race of its
own: a spawn child still starting up on a loaded machine was terminated before it ignored
anything, and the verdict changed with the load)."""
import signal
import time
from multiprocessing import Event, Process


def stubborn(ignoring):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ignoring.set()
    while True:
        time.sleep(0.05)


def start_named(names, results):
    ignoring = Event()
    p = Process(target=stubborn, args=(ignoring,))
    p.start()
    ignoring.wait()
    p.terminate()
    p.join()


exit_codes = watch_lifecycle = start_named
