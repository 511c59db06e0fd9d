"""Hostile: forks 200 sleeping processes."""
import os
import time


def start_named(names, results):
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
    time.sleep(5)
    return []


exit_codes = watch_lifecycle = start_named
