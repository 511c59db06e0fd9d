"""Hostile: allocates far more memory than the sandbox allows."""


def start_named(names, results):
    hog = []
    while True:
        hog.append(bytearray(64 << 20))


exit_codes = watch_lifecycle = start_named
