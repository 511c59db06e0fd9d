"""Placeholder: this exercise is being written."""


def todo():
    raise NotImplementedError
