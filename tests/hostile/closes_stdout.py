"""Hostile: closes its stdout and stderr, then returns nonsense."""
import os


def start_named(names, results):
    os.close(1)
    os.close(2)
    return "passed"


exit_codes = watch_lifecycle = start_named
