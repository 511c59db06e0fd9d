"""Hostile: a child that ignores SIGTERM and never ends; the parent waits for it."""
import signal
import time
from multiprocessing import Process


def stubborn():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.05)


def start_named(names, results):
    p = Process(target=stubborn)
    p.start()
    time.sleep(0.5)  # let it install its handler
    p.terminate()
    p.join()


exit_codes = watch_lifecycle = start_named
