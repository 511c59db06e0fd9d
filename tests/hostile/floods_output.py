"""Hostile: prints 200 MB."""
import sys


def start_named(names, results):
    chunk = "x" * (1 << 20)
    for _ in range(200):
        sys.stdout.write(chunk)
    return []


def exit_codes():
    raise NotImplementedError


def watch_lifecycle():
    raise NotImplementedError
