"""The JSON report: the verdict exactly as DESIGN.md fixes it, one document and nothing else.

A single exercise is the bare exercise object; several are wrapped in
`{"status", "score", "max_score", "exercises"}` (see `RunVerdict.to_dict`).
"""

from __future__ import annotations

import json

from grader.verdict import RunVerdict


def error(message: str, indent: int | None = None) -> str:
    """The document of a run that graded nothing: the several-exercises shape, no exercises."""
    return json.dumps({"status": "error", "score": 0, "max_score": 0, "message": message, "exercises": []},
                      ensure_ascii=False, indent=indent)


def render(run: RunVerdict, indent: int | None = None) -> str:
    """One JSON document; `RunVerdict.from_dict(json.loads(...))` gives the run back."""
    return json.dumps(run.to_dict(), ensure_ascii=False, indent=indent)
