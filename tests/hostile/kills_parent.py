"""Hostile: kills its parent process, then claims success."""
import os
import signal


def start_named(names, results):
    os.kill(os.getppid(), signal.SIGKILL)
    return [1, 2, 3]


exit_codes = watch_lifecycle = start_named
