"""Hostile: a non-daemon child left running, never joined."""
import time
from multiprocessing import Process


def start_named(names, results):
    p = Process(target=time.sleep, args=(300,), name="forgotten")
    p.start()
    return [p.pid]


def exit_codes():
    raise NotImplementedError


def watch_lifecycle():
    raise NotImplementedError
