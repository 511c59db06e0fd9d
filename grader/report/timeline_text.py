"""The verdict's timelines drawn in the terminal: one row per process, time left to right.

Reads only the verdict (grader/timeline.py made the timelines). Plain ASCII so that it
survives any terminal and a copy into a forum post:

    MainProcess  |-----S---~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~!
    Process-1    |   [==p=p=p=]                              |
    Process-2    |   [~~~~~~~~~~~~#######~~~~~~~~~~~~~~~~~~~~!

`[` begins, `]` ends, `-` alive, `~` waiting in a call, `#` holding a lock, `=` running a
Pool task, `S` start(), `J` join() returned, `p`/`g` put/get, `s`/`r` send/recv, `X` an
uncaught exception, `!` still running at the deadline (the hang).
"""

from __future__ import annotations

from grader.i18n import N_, _
from grader.verdict import RunVerdict

WIDTH = 60  # columns of the time axis
MARKS = {"start": "S", "join": "J", "put": "p", "get": "g", "send": "s", "recv": "r", "terminate": "T", "kill": "K",
         "task_done": "d", "close": "c"}
LEGEND = N_("[ begins  ] ends  - alive  ~ waiting  # holds a lock  = Pool task  S start  J join  "
            "p/g put/get  s/r send/recv  X exception  ! hung at the deadline")


def render(run: RunVerdict, width: int = WIDTH) -> str:
    blocks = []
    for exercise in run.exercises:
        for tl in exercise.timelines:
            blocks.append(draw(tl, f"{exercise.exercise}: {tl.get('label', '')}", width))
    if not blocks:
        return _("No timeline was recorded.")
    return "\n\n".join(blocks) + "\n\n" + _(LEGEND)


def draw(tl: dict, title: str, width: int = WIDTH) -> str:
    end = max(float(tl.get("end") or 0.0), 1e-6)
    rows = tl.get("processes", [])
    names = {r["pid"]: r["name"] for r in rows}
    label = max((len(n) for n in names.values()), default=4)
    label = min(label, 24)

    def col(t: float) -> int:
        return max(0, min(width - 1, int(t / end * (width - 1))))

    lines = [f"{title}  " + _("(0 to {end:.3f} s; one column ~ {column:.1f} ms)").format(
        end=end, column=end / width * 1000)]
    for row in rows:
        cells = [" "] * width
        begin, stop = col(row["begin"]), col(row["end"])
        for c in range(begin, stop + 1):
            cells[c] = "-"
        for span in tl.get("spans", []):
            if span["pid"] != row["pid"]:
                continue
            mark = {"wait": "~", "lock": "#", "task": "="}.get(span["kind"], "-")
            for c in range(col(span["begin"]), col(span["end"]) + 1):
                if cells[c] in " -~" or mark != "~":
                    cells[c] = mark
        for item in tl.get("instants", []):
            if item["pid"] == row["pid"]:
                mark = "X" if item["kind"] == "process.error" else MARKS.get(item["name"])
                if mark:
                    cells[col(item["t"])] = mark
        cells[begin] = "["
        if row.get("hung"):
            cells[width - 1] = "!"
        elif row.get("exitcode") is not None or row["end"] < end:
            cells[stop] = "]"
        lines.append(f"{row['name'][:label]:<{label}}  |{''.join(cells)}|")
    if tl.get("dropped"):
        kept = ", ".join(f"{n} {kind}" for kind, n in sorted(tl["dropped"].items()))
        lines.append(_("(a flood of events: {kept} not drawn)").format(kept=kept))
    if tl.get("hang_at") is not None:
        lines.append(f"{'':<{label}}   {' ' * (width - 1)}" + _("^ the deadline: the run hung"))
    return "\n".join(lines)
