"""A self-contained HTML report: every check with its message, the hint, and the timeline as SVG.

Reads only the verdict. The page comes from the jinja2 template
`grader/templates/report/report.html.j2`; this module computes the drawing (one SVG row
per process of each timeline, x proportional to time) as plain numbers for the template.
No script, no external file: it opens the same from a disk, an e-mail or an LMS.
"""

from __future__ import annotations

import jinja2

from grader import i18n
from grader.verdict import RunVerdict, Status

WIDTH = 900  # px of the time axis
LABEL = 170  # px of the process names
ROW = 26  # px per process
SPAN_CLASS = {"wait": "wait", "lock": "lock", "task": "task"}
MARK = {"start": "S", "join": "J", "put": "p", "get": "g", "send": "s", "recv": "r", "terminate": "T", "kill": "K"}


_ENV: list = []  # the jinja2 environment, made once (compiling the template is most of the cost)


def render(run: RunVerdict) -> str:
    return _page(run)


def error(message: str) -> str:
    """The page of a run that graded nothing (the call, the course or the grader at fault)."""
    return _page(RunVerdict(exercises=()), message)


def _page(run: RunVerdict, failure: str = "") -> str:
    if not _ENV:
        _ENV.append(jinja2.Environment(loader=jinja2.PackageLoader("grader", "templates"),
                                       autoescape=jinja2.select_autoescape(["html", "j2"]), trim_blocks=True,
                                       lstrip_blocks=True, extensions=["jinja2.ext.i18n"]))
        # The page's words: i18n._ reads the language in use at each call, so one install serves all.
        _ENV[0].install_gettext_callables(i18n._, i18n.ngettext, newstyle=False)
    env = _ENV[0]
    exercises = [{
        "id": e.exercise, "title": e.title, "status": e.status.value, "score": e.score, "max_score": e.max_score,
        "hint": e.hint, "message": e.message, "file": e.file,
        "checks": [{"name": c.name, "status": c.status.value, "category": c.category.value,
                    "start_method": c.start_method or "", "message": c.message, "location": c.location or "",
                    "failed": c.status is not Status.PASS} for c in e.checks],
        "timelines": [drawing(tl) for tl in e.timelines],
    } for e in run.exercises]
    return env.get_template("report/report.html.j2").render(
        lang=i18n.language(), title=run.title or i18n._("Grading report"),
        status="error" if failure else run.status.value, score=run.score, max_score=run.max_score,
        exercises=exercises, error=failure)


def drawing(tl: dict) -> dict:
    """The SVG geometry of one timeline: rows, rects, marks, arrows, the hang line."""
    end = max(float(tl.get("end") or 0.0), 1e-6)
    rows = tl.get("processes", [])
    y_of = {r["pid"]: i * ROW for i, r in enumerate(rows)}

    def x(t: float) -> float:
        return round(LABEL + max(0.0, min(1.0, t / end)) * WIDTH, 1)

    drawn_rows = []
    for i, row in enumerate(rows):
        pid = row["pid"]
        spans = [{"x": x(s["begin"]), "w": max(1.0, round(x(s["end"]) - x(s["begin"]), 1)),
                  "cls": SPAN_CLASS.get(s["kind"], "wait"), "title": f"{s['name']} ({s.get('where') or ''})"}
                 for s in tl.get("spans", []) if s["pid"] == pid]
        marks = [{"x": x(m["t"]), "text": "X" if m["kind"] == "process.error" else MARK.get(m["name"], "·"),
                  "title": f"{m['name']} at {m.get('where') or '?'} ({m['t'] * 1000:.1f} ms)",
                  "cls": "crash" if m["kind"] == "process.error" else "mark"}
                 for m in tl.get("instants", []) if m["pid"] == pid]
        drawn_rows.append({"pid": pid, "name": row["name"], "y": i * ROW, "x0": x(row["begin"]),
                           "w": max(1.0, round(x(row["end"]) - x(row["begin"]), 1)), "hung": row.get("hung"),
                           "spans": spans, "marks": marks})
    arrows = [{"x1": x(f["from_t"]), "y1": y_of[f["from_pid"]] + ROW / 2, "x2": x(f["to_t"]),
               "y2": y_of[f["to_pid"]] + ROW / 2, "cls": f["kind"]}
              for f in tl.get("flows", []) if f["from_pid"] in y_of and f["to_pid"] in y_of]
    return {"label": tl.get("label", ""), "outcome": tl.get("outcome", ""), "end_ms": round(end * 1000, 1),
            "rows": drawn_rows, "arrows": arrows, "height": max(1, len(rows)) * ROW + 30,
            "width": LABEL + WIDTH + 20, "label_w": LABEL, "axis_w": WIDTH,
            "hang_x": x(tl["hang_at"]) if tl.get("hang_at") is not None else None,
            "dropped": ", ".join(f"{n} {k}" for k, n in sorted((tl.get("dropped") or {}).items()))}
