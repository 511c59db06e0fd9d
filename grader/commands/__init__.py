"""The `grade` sub-commands: one module each, behind one table.

A command module defines `HELP` (one line for `grade --help`), `configure(parser)` (its
own arguments) and `run(args) -> int` (its exit status). Modules are imported only when
their command runs, so `grade list` never pays for the runner. To add a command, add a module
and one line to COMMANDS.
"""

from __future__ import annotations

import importlib

# name → module (inside grader.commands). The order is the order `grade --help` lists them.
COMMANDS: dict[str, str] = {
    "list": "list_",
    "hint": "hint",
    "watch": "watch",
    "reset": "reset",
    "solution": "solution",
    "check": "check",
    "new": "new",
    "release": "release",
    "batch": "batch",
    "report": "report",
    "export": "export",
    "doctor": "doctor",
}


def load(name: str):
    """The module of command NAME; "grade" is the shorthand `grade EXERCISE...`."""
    return importlib.import_module(f"{__name__}.{COMMANDS.get(name, name)}")
