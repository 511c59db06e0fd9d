"""Plain data across the process boundary.

Only builtins cross from the student's process to the grader: None, bool, int, float,
str, bytes, and lists, tuples, sets, frozensets and dicts of them. Anything else (an
object of the student's own class, a Process, a lock) arrives as an `Opaque` that names
its type and carries a short repr: it is never unpickled, compared or called on the
grader's side. The encoding is JSON with a one-key tag for the containers.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_DEPTH = 32
MAX_ITEMS = 100_000


@dataclass(frozen=True)
class Opaque:
    """A value that was not plain data: its type's name and a short description."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


_CONTAINERS = {list: "list", tuple: "tuple", set: "set", frozenset: "frozenset"}


def encode(value, _depth: int = 0):
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if _depth > MAX_DEPTH:
        return {"opaque": kind.__name__, "text": "(nested too deeply)"}
    if kind in _CONTAINERS:
        items = list(value)[:MAX_ITEMS]
        return {_CONTAINERS[kind]: [encode(v, _depth + 1) for v in items]}
    if kind is dict:
        return {"dict": [[encode(k, _depth + 1), encode(v, _depth + 1)] for k, v in list(value.items())[:MAX_ITEMS]]}
    if kind is bytes:
        return {"bytes": value.decode("latin-1")}
    try:
        text = repr(value)[:200]
    except Exception:  # a student's __repr__ may raise
        text = "?"
    return {"opaque": f"{kind.__module__}.{kind.__qualname__}", "text": text}


def decode(data):
    if not isinstance(data, dict):
        return data
    ((tag, body),) = data.items() if len(data) == 1 else (("opaque", data),)
    if tag == "list":
        return [decode(v) for v in body]
    if tag == "tuple":
        return tuple(decode(v) for v in body)
    if tag == "set":
        return set(_hashable(decode(v)) for v in body)
    if tag == "frozenset":
        return frozenset(_hashable(decode(v)) for v in body)
    if tag == "dict":
        return {_hashable(decode(k)): decode(v) for k, v in body}
    if tag == "bytes":
        return body.encode("latin-1")
    return Opaque(str(body.get("opaque", "?")), str(body.get("text", "")))


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted(value.items(), key=repr))
    return value
