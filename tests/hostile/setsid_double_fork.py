"""Hostile: a grandchild that escapes into a new session by a double fork."""
import os
import time


def start_named(names, results):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(300)
        os._exit(0)
    time.sleep(0.2)
    return []


def exit_codes():
    raise NotImplementedError


def watch_lifecycle():
    raise NotImplementedError
