"""Floods: four megabytes of output in one go, then the rest as the solution would."""
import sys


def start_named(names, results):
    sys.stdout.write("y" * (4 << 20))
    sys.stdout.flush()
    return []


def exit_codes():
    raise NotImplementedError


def watch_lifecycle():
    raise NotImplementedError
