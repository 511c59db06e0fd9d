"""Hostile: allocates far more memory than the sandbox allows."""


def start_named(names, results):
    hog = []
    while True:  # 1 GiB at a time: the first one is past the cap, however slow the machine is
        hog.append(bytearray(1 << 30))


exit_codes = watch_lifecycle = start_named
