"""Hostile (by accident): a syntax error on line 5."""


def start_named(names, results)
    return []
