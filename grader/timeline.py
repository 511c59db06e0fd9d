"""A run's timeline, as plain data: rows of processes, spans, instants, flows and queue depths.

Built from one observation (the probe's log, and the stacks if the run hung) and carried in
the verdict only when asked (`grade --timeline`, `--trace FILE`, `--format html`), so that
reporters, which import the verdict only, can draw it. Times are seconds from the run's
first event. It is bounded: past MAX_ITEMS of a kind, items are counted, not kept, and the
count is said (`dropped`), so a submission that puts a million items costs a few KiB.

Pairings are the probe's own: a wait and the call that ended it share a `wid`; a lock hold
runs from an acquire to the next release of that lock in that process. A put is paired with
a get of the same queue in order (first put, first get), a send with a recv on the other
end of the same pipe: a queue fed by several processes is FIFO in the order the feeder
threads wrote, so an arrow may join a put to a neighbour's item when two puts were
microseconds apart.
"""

from __future__ import annotations

from collections import deque

from .observations import TIMEOUT, Event, Observation

MAX_ITEMS = 400  # of each kind: spans, instants, flows, counter points
MIN_WAIT_S = 0.002  # shorter waits are not drawn (they are the normal cost of a call)
INSTANTS = {
    "process.start": "start", "process.join": "join", "process.terminate": "terminate", "process.kill": "kill",
    "process.error": "crash", "queue.put": "put", "queue.get": "get", "simplequeue.put": "put",
    "simplequeue.get": "get", "queue.put_nowait": "put", "queue.get_nowait": "get", "queue.task_done": "task_done",
    "queue.close": "close", "pipe.send": "send", "pipe.recv": "recv", "pipe.close": "close",
    "pool.create": "Pool()", "pool.close": "close", "pool.terminate": "terminate", "pool.join": "join",
    "pool.exit": "with-exit", "manager.start": "Manager()", "manager.shutdown": "shutdown",
}


class _Bounded(list):
    def __init__(self, kind: str, dropped: dict):
        super().__init__()
        self.kind, self.dropped = kind, dropped

    def add(self, item: dict) -> None:
        if len(self) < MAX_ITEMS:
            self.append(item)
        else:
            self.dropped[self.kind] = self.dropped.get(self.kind, 0) + 1


def build(obs: Observation, label: str = "") -> dict:
    events = [e for e in obs.events if not e.internal or e.kind in ("process.start", "process.join")]
    t0 = min((e.get("called", e.t) for e in events), default=0.0)
    last = max((e.t for e in events), default=t0)
    hung = obs.outcome == TIMEOUT
    end = max(last - t0, obs.duration_s if hung else 0.0)
    dropped: dict[str, int] = {}
    spans, instants = _Bounded("spans", dropped), _Bounded("instants", dropped)
    flows, counters = _Bounded("flows", dropped), _Bounded("counters", dropped)
    rows = _rows(obs, events, t0, end)
    known = {r["pid"] for r in rows}
    labels = {e.get("q"): (f"(line {e.where.rsplit(':', 1)[1]})" if e.where else "(the grader's)")
              for e in events if e.kind.endswith(".create") and e.get("q") is not None}

    def rel(t: float) -> float:
        return round(t - t0, 6)

    done_waits = {(e.pid, e.get("wid")): e for e in events if e.kind != "wait" and e.get("wid") is not None}
    holds: dict[tuple, Event] = {}
    puts: dict[str, list] = {}
    sends: dict[str, list] = {}
    depth: dict[str, int] = {}
    for e in events:
        if e.pid not in known:
            continue
        if e.kind == "wait":
            finished = done_waits.get((e.pid, e.get("wid")))
            stop = rel(finished.t) if finished else end
            if stop - rel(e.t) >= MIN_WAIT_S:
                spans.add({"pid": e.pid, "kind": "wait", "name": f"waits in {e.get('call')}", "begin": rel(e.t),
                           "end": stop, "where": e.where, "open": finished is None})
        elif e.kind == "pool.task":
            spans.add({"pid": e.pid, "kind": "task", "name": f"task {e.get('func')}", "begin": rel(e.get("begin", e.t)),
                       "end": rel(e.t), "where": e.where, "open": False})
        elif e.kind == "lock.acquire" and e.get("acquired"):
            holds[(e.pid, e.get("lock"))] = e
        elif e.kind == "lock.release":
            took = holds.pop((e.pid, e.get("lock")), None)
            if took is not None:
                spans.add({"pid": e.pid, "kind": "lock", "name": f"holds {took.get('type') or 'Lock'}",
                           "begin": rel(took.t), "end": rel(e.t), "where": took.where, "open": False})
        if e.kind in INSTANTS and not (e.kind.startswith("process.") and e.internal):
            item = {"pid": e.pid, "t": rel(e.t), "kind": e.kind, "name": INSTANTS[e.kind], "where": e.where}
            if e.kind == "process.error":
                item["name"] = f"crash: {e.get('error')}"
            instants.add(item)
        _pair(e, rel, puts, sends, flows)
        q = e.get("q")
        if q is not None and e.kind.endswith((".put", ".put_nowait", ".get", ".get_nowait")):
            depth[q] = depth.get(q, 0) + (1 if ".put" in e.kind else -1)
            counters.add({"name": f"queue {labels.get(q, '')}".strip(), "pid": e.pid, "t": rel(e.t),
                          "value": max(0, depth[q])})
    for (pid, _lock), took in holds.items():  # never released: held to the end of the run
        ended = next((r["end"] for r in rows if r["pid"] == pid), end)
        spans.add({"pid": pid, "kind": "lock", "name": f"holds {took.get('type') or 'Lock'}", "begin": rel(took.t),
                   "end": ended, "where": took.where, "open": True})
    return {"label": label or obs.driver, "driver": obs.driver, "start_method": obs.start_method,
            "outcome": obs.outcome, "end": round(end, 6), "hang_at": round(end, 6) if hung else None,
            "processes": rows, "spans": list(spans), "instants": list(instants), "flows": list(flows),
            "counters": list(counters), "dropped": dropped}


def _rows(obs: Observation, events: list[Event], t0: float, end: float) -> list[dict]:
    """One row per process that did something: the sandbox's own process first."""
    names, begins, ends = {}, {}, {}
    for e in events:
        if e.kind == "process.start" and e.get("child"):
            names.setdefault(e.get("child"), str(e.get("name")))
        elif e.kind == "process.begin":
            names[e.pid] = str(e.get("name"))
            begins[e.pid] = e.t - t0
        elif e.kind == "process.end":
            ends[e.pid] = (e.t - t0, e.get("exitcode"))
    for s in obs.stacks:
        names.setdefault(s.pid, s.name)
    order = []
    for e in events:
        if e.pid not in order:
            order.append(e.pid)
    alive = {s.pid for s in obs.stacks if s.threads}
    rows = []
    for pid in order:
        stop, code = ends.get(pid, (end, None))
        rows.append({"pid": pid, "name": names.get(pid, "MainProcess" if not rows else f"process {pid}"),
                     "begin": round(begins.get(pid, 0.0), 6), "end": round(stop, 6), "exitcode": code,
                     "hung": pid in alive})
    return rows[:64]


def _pair(e: Event, rel, puts: dict, sends: dict, flows: _Bounded) -> None:
    """Arrows: the n-th put of a queue to its n-th get; a send to the recv on the pipe's other end."""
    q = e.get("q")
    if q is not None and e.kind.endswith((".put", ".put_nowait")):
        puts.setdefault(q, deque()).append(e)
    elif q is not None and e.kind.endswith((".get", ".get_nowait")) and puts.get(q):
        put = puts[q].popleft()
        flows.add({"kind": "queue", "from_pid": put.pid, "from_t": rel(put.t), "to_pid": e.pid, "to_t": rel(e.t)})
    end = e.get("end")
    if end and e.kind == "pipe.send":
        sends.setdefault(end, deque()).append(e)
    elif end and e.kind == "pipe.recv" and ":" in end:
        pipe, side = end.rsplit(":", 1)
        waiting = sends.get(f"{pipe}:{1 - int(side)}")
        if waiting:
            send = waiting.popleft()
            flows.add({"kind": "pipe", "from_pid": send.pid, "from_t": rel(send.t), "to_pid": e.pid,
                       "to_t": rel(e.t)})
