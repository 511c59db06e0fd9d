"""Hostile: every function spins forever, burning CPU."""


def start_named(names, results):
    while True:
        pass


def exit_codes():
    while True:
        pass


def watch_lifecycle():
    while True:
        pass
