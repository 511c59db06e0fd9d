"""Hostile: kills its whole process group (itself included)."""
import os
import signal


def start_named(names, results):
    os.killpg(0, signal.SIGKILL)


exit_codes = watch_lifecycle = start_named
