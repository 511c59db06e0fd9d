"""Why a check ends differently under fork, forkserver and spawn, from what was observed.

The same submission is graded under several start methods. When one check's category
differs between them, the start method is the cause (a verdict is otherwise a function
of the submission alone), and the student is told so and why: an unpicklable target or
argument (a lambda, a function defined inside another), a missing
`if __name__ == "__main__":` guard, module-level state a fresh child does not share, or an
object the child got for free under fork that spawn must be handed explicitly. The reason
is read from the failing run (its exception, its output) and the student's file (`ast`);
where none is recognised, only the difference and what it means is said. (English only for
now, like grader/diagnosis.py: the catalogue does not hold these texts yet.)
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, replace

DEFAULTS = ("macOS and Windows start processes with spawn by default, and Python 3.14 on Linux with "
            "forkserver: grade under those before you rely on fork.")
FRESH = ("Under spawn and forkserver a child is a fresh interpreter: it imports your module again and "
         "receives its target and arguments pickled, while under fork it is a copy of the parent.")

PICKLE_RE = re.compile(r"Can't pickle|Can't get local object|Can't get attribute|PicklingError|"
                       r"attribute lookup .* failed|cannot pickle", re.I)
BOOTSTRAP_RE = re.compile(r"bootstrapping phase|freeze_support", re.I)
PROCESS_MAKERS = {"Process", "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Queue", "JoinableQueue",
                  "SimpleQueue", "Value", "Array", "Pipe", "Event", "Condition", "Manager", "Pool"}


@dataclass(frozen=True)
class Outcome:
    """One check under one start method, as the advice needs it."""

    method: str
    category: str  # "pass" when it passed
    error: str = ""  # exception type and message, when the run raised
    output: str = ""  # what the student's processes printed (children's tracebacks land here)


def reason(failing: list[Outcome], source: str) -> str:
    """The observed cause of a start-method difference, in a sentence (or "")."""
    seen = " ".join(f"{o.error} {o.output}" for o in failing)
    if PICKLE_RE.search(seen):
        return ("The child's target or one of its arguments could not be pickled (a lambda, or a function "
                 "defined inside another function, is unpicklable): under fork the child inherits it in memory, "
                 "under spawn and forkserver it must travel pickled. Define the function at the top level of "
                 "your file.")
    if BOOTSTRAP_RE.search(seen) or (_unguarded_start(source) and any(o.category == "timeout" for o in failing)):
        return ("Your file starts processes at its top level without `if __name__ == \"__main__\":`: a spawned "
                 "child imports your file again and would start them again. Put that code under the guard.")
    shared = _module_state(source)
    if shared:
        return ("Your functions use module-level state ({names}) that the parent changes or made before "
                 "starting the children: a spawned child re-imports your file and sees the values the file "
                 "itself gives, not the parent's, and an object made at import time is a different object in "
                 "each child. Pass what a child needs as an argument of Process(...).").format(
                     names=", ".join(shared[:3]))
    return ""


def advice(outcomes: list[Outcome], source: str) -> str:
    """The paragraph added to each differing check's message ("" when every method agrees)."""
    if len({o.category for o in outcomes}) < 2:
        return ""
    passed = [o.method for o in outcomes if o.category == "pass"]
    failing = [o for o in outcomes if o.category != "pass"]
    if passed:
        head = ("This check passes under {passed} but not under {failed}: the start method is the cause.").format(
            passed=", ".join(passed), failed=", ".join(o.method for o in failing))
    else:
        head = ("This check ends differently under each start method ({each}): the start method is part of "
                 "the cause.").format(each=", ".join(f"{o.method}: {o.category}" for o in outcomes))
    why = reason(failing, source) or FRESH
    return " ".join([head, why, DEFAULTS])


def annotate(checks: list, outcomes_of, source: str) -> list:
    """Checks (verdict.CheckResult) with the advice appended where the start methods disagree.

    `outcomes_of(name)` gives the Outcome of every start method for that check name.
    """
    done: dict[str, str] = {}
    annotated = []
    for check in checks:
        if check.name not in done:
            done[check.name] = advice(outcomes_of(check.name), source)
        text = done[check.name]
        if text and check.category.value != "pass":
            check = replace(check, message=(check.message + "\n" if check.message else "") + text)
        annotated.append(check)
    return annotated


# --------------------------------------------------------------------------- reading the student's file


def _tree(source: str):
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _unguarded_start(source: str) -> bool:
    """A multiprocessing object made or started at the top level, outside the __main__ guard."""
    tree = _tree(source)
    if tree is None:
        return False
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Expr, ast.Assign)) and any(
                isinstance(n, ast.Call) and _name(n.func) in PROCESS_MAKERS | {"start", "map"} for n in ast.walk(node)):
            return True
    return False


def _module_state(source: str) -> list[str]:
    """Module-level names a function rebinds with `global`, or multiprocessing objects made at import."""
    tree = _tree(source)
    if tree is None:
        return []
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            names += [n for n in node.names if n not in names]
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _name(node.value.func) in \
                PROCESS_MAKERS - {"Process", "Pool", "Manager"}:
            names += [t.id for t in node.targets if isinstance(t, ast.Name) and t.id not in names]
    return names


def _name(func) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
