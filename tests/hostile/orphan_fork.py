"""Hostile: os.fork() a child that outlives the call (not through multiprocessing)."""
import os
import time


def start_named(names, results):
    if os.fork() == 0:
        time.sleep(300)
        os._exit(0)
    return []


def exit_codes():
    raise NotImplementedError


def watch_lifecycle():
    raise NotImplementedError
