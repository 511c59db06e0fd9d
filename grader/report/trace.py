"""The run in Chrome's Trace Event Format, for Perfetto's UI (ui.perfetto.dev) or chrome://tracing.

Reads only the verdict's timelines (grader/timeline.py made them). Each process of the
student's run is a trace process (its pid) with named tracks: `calls` (waits, lifecycle
instants), `locks` (lock holds), `tasks` (Pool task spans), `messages` (puts, gets, sends
and recvs, as 1 µs slices so that flow arrows can bind to them). Arrows (s/f flow events)
join each put to its get and each send to its recv; a counter (C) per queue draws its
depth; M events name processes and tracks. Runs under several start methods follow one
another on the time axis. Slices on one track never overlap without nesting: a span that
would is put on a track of its own ("locks 2").
"""

from __future__ import annotations

import json

from grader.verdict import RunVerdict

TRACKS = {"wait": (1, "calls"), "lock": (10, "locks"), "task": (20, "tasks"), "message": (30, "messages")}
GAP_S = 0.5  # between the runs of two start methods
MESSAGE_KINDS = ("put", "get", "send", "recv")


def render(run: RunVerdict) -> str:
    return json.dumps({"traceEvents": events(run), "displayTimeUnit": "ms"}, ensure_ascii=False)


def events(run: RunVerdict) -> list[dict]:
    out: list[dict] = []
    offset = 0.0
    for exercise in run.exercises:
        for timeline in exercise.timelines:
            out += _timeline(timeline, offset, f"{exercise.exercise} {timeline.get('label', '')}".strip())
            offset += float(timeline.get("end", 0.0)) + GAP_S
    return out


def _us(seconds: float, offset: float) -> float:
    return round((seconds + offset) * 1e6, 1)


def _timeline(tl: dict, offset: float, label: str) -> list[dict]:
    out: list[dict] = []
    lanes: dict[tuple[int, int], list[float]] = {}  # (pid, base tid) -> end of the last span of each lane
    named: set[tuple[int, int]] = set()

    def track(pid: int, kind: str, begin: float, end: float) -> int:
        base, name = TRACKS[kind]
        ends = lanes.setdefault((pid, base), [])
        lane = next((i for i, stop in enumerate(ends) if stop <= begin), None)
        if lane is None:
            ends.append(end)
            lane = len(ends) - 1
        else:
            ends[lane] = end
        tid = base + lane
        if (pid, tid) not in named:
            named.add((pid, tid))
            out.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "ts": 0,
                        "args": {"name": name + (f" {lane + 1}" if lane else "")}})
        return tid

    for index, row in enumerate(tl.get("processes", [])):
        pid = row["pid"]
        out.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "ts": 0,
                    "args": {"name": f"{row['name']} — {label}"}})
        out.append({"ph": "M", "name": "process_sort_index", "pid": pid, "tid": 0, "ts": 0, "args": {"sort_index": index}})
        tid = track(pid, "wait", row["begin"], row["begin"])
        out.append({"ph": "i", "s": "t", "name": "begins", "cat": "lifecycle", "pid": pid, "tid": tid,
                    "ts": _us(row["begin"], offset), "args": {}})
        if row.get("exitcode") is not None or not row.get("hung"):
            out.append({"ph": "i", "s": "t", "name": f"ends (exit code {row.get('exitcode')})", "cat": "lifecycle",
                        "pid": pid, "tid": tid, "ts": _us(row["end"], offset), "args": {}})
    for span in sorted(tl.get("spans", []), key=lambda s: (s["begin"], -s["end"])):
        tid = track(span["pid"], span["kind"], span["begin"], span["end"])
        out.append({"ph": "X", "name": span["name"], "cat": span["kind"], "pid": span["pid"], "tid": tid,
                    "ts": _us(span["begin"], offset), "dur": max(1.0, round((span["end"] - span["begin"]) * 1e6, 1)),
                    "args": {"where": span.get("where"), "unfinished": span.get("open", False)}})
    message_tid: dict[tuple[int, float], int] = {}
    for item in tl.get("instants", []):
        pid, t = item["pid"], item["t"]
        if item["name"] in MESSAGE_KINDS:
            tid = track(pid, "message", t, t + 1e-6)
            message_tid[(pid, t)] = tid
            out.append({"ph": "X", "name": item["name"], "cat": "message", "pid": pid, "tid": tid,
                        "ts": _us(t, offset), "dur": 1.0, "args": {"where": item.get("where")}})
        else:
            out.append({"ph": "i", "s": "t", "name": item["name"], "cat": "lifecycle", "pid": pid,
                        "tid": TRACKS["wait"][0], "ts": _us(t, offset), "args": {"where": item.get("where")}})
    for number, flow in enumerate(tl.get("flows", []), start=1):
        start = (flow["from_pid"], flow["from_t"])
        finish = (flow["to_pid"], flow["to_t"])
        if start not in message_tid or finish not in message_tid:
            continue  # an end the bounded timeline did not keep
        flow_id = f"{label}:{number}"
        out.append({"ph": "s", "name": flow["kind"], "cat": "flow", "id": flow_id, "pid": start[0],
                    "tid": message_tid[start], "ts": _us(start[1], offset)})
        out.append({"ph": "f", "bp": "e", "name": flow["kind"], "cat": "flow", "id": flow_id, "pid": finish[0],
                    "tid": message_tid[finish], "ts": _us(finish[1], offset)})
    for point in tl.get("counters", []):
        out.append({"ph": "C", "name": point["name"], "pid": tl["processes"][0]["pid"] if tl.get("processes") else 0,
                    "tid": 0, "ts": _us(point["t"], offset), "args": {"depth": point["value"]}})
    if tl.get("hang_at") is not None:
        out.append({"ph": "i", "s": "g", "name": "the deadline: the run hung", "cat": "hang", "pid": 0, "tid": 0,
                    "ts": _us(tl["hang_at"], offset), "args": {}})
    if tl.get("dropped"):
        out.append({"ph": "i", "s": "g", "name": "not kept (a flood): " + ", ".join(
            f"{n} {kind}" for kind, n in sorted(tl["dropped"].items())), "cat": "summary", "pid": 0, "tid": 0,
            "ts": _us(tl.get("end", 0.0), offset), "args": dict(tl["dropped"])})
    return out
