"""Timelines (grader/timeline.py) and their two reporters that are not HTML: the terminal
drawing (report/timeline_text.py) and Chrome Trace Event JSON (report/trace.py)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import BUG_TIMEOUT, ROOT

from grader import timeline
from grader.course import load_course
from grader.observations import RETURNED, TIMEOUT, Event, Observation, ProcessStack
from grader.report import timeline_text, trace
from grader.runner import Options, grade
from grader.verdict import Category, CheckResult, ExerciseVerdict, RunVerdict, Status

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "trace_event.schema.json").read_text())
F = "ex.py"


def ev(t, pid, kind, where=None, **data):
    return Event(t=t, pid=pid, kind=kind, internal=False, where=where, data=data)


def obs(events, outcome=RETURNED, stacks=(), duration=1.0):
    return Observation(driver="drive", start_method="fork", outcome=outcome, duration_s=duration, events=tuple(events),
                       stacks=tuple(stacks), student_file=F)


def run_of(*timelines) -> RunVerdict:
    check = CheckResult(name="c", status=Status.FAIL, category=Category.TIMEOUT, message="hung", start_method="fork")
    return RunVerdict(exercises=(ExerciseVerdict(
        exercise="exercise5", slug="queue", title="Queue", status=Status.FAIL, score=0, max_score=10, duration_s=1.0,
        checks=(check,), timelines=tuple(timelines)),))


PRODUCE_CONSUME = [
    ev(10.0, 1, "queue.create", f"{F}:3", q="Q"),
    ev(10.1, 1, "process.start", f"{F}:4", child=2, name="Process-1"),
    ev(10.2, 2, "process.begin", name="Process-1"),
    ev(10.3, 2, "queue.put", f"{F}:8", q="Q", value="1"),
    ev(10.4, 2, "queue.put", f"{F}:8", q="Q", value="None"),
    ev(10.5, 2, "process.end", name="Process-1", exitcode=0),
    ev(10.6, 1, "wait", f"{F}:5", call="queue.get", q="Q", wid=1),
    ev(10.7, 1, "queue.get", f"{F}:5", q="Q", wid=1),
    ev(10.8, 1, "queue.get", f"{F}:5", q="Q", wid=2),
    ev(10.9, 1, "pipe.create", f"{F}:6", pipe="1.3"),
    ev(11.0, 1, "pipe.send", f"{F}:7", end="1.3:1"),
    ev(11.1, 1, "pipe.recv", f"{F}:7", end="1.3:0", wid=4),
    ev(11.2, 1, "lock.acquire", f"{F}:9", lock="L", type="Lock", acquired=True),
]


def test_puts_are_paired_with_gets_sends_with_recvs_and_queue_depth_counted():
    tl = timeline.build(obs(PRODUCE_CONSUME))
    assert [r["name"] for r in tl["processes"]] == ["MainProcess", "Process-1"]
    assert [(f["kind"], f["from_pid"], f["to_pid"]) for f in tl["flows"]] == [("queue", 2, 1), ("queue", 2, 1),
                                                                             ("pipe", 1, 1)]
    assert [c["value"] for c in tl["counters"]] == [1, 2, 1, 0]
    (wait,) = [s for s in tl["spans"] if s["kind"] == "wait"]
    assert wait["begin"] == pytest.approx(0.6) and wait["end"] == pytest.approx(0.7)
    (hold,) = [s for s in tl["spans"] if s["kind"] == "lock"]
    assert hold["open"] and hold["end"] == tl["end"]  # never released: held to the end


def test_a_flood_of_events_is_bounded_and_said():
    flood = [ev(1 + i * 1e-5, 1, "queue.put", f"{F}:8", q="Q", value="1") for i in range(5000)]
    tl = timeline.build(obs(flood))
    assert len(tl["instants"]) == timeline.MAX_ITEMS and tl["dropped"]["instants"] == 5000 - timeline.MAX_ITEMS
    assert len(json.dumps(tl)) < 200_000
    drawn = timeline_text.draw(tl, "flood")
    assert f"{5000 - timeline.MAX_ITEMS} instants" in drawn
    assert any(e.get("cat") == "summary" for e in trace.events(run_of(tl)))


def test_a_hung_run_marks_the_deadline_and_the_processes_still_running():
    stuck = ProcessStack(pid=2, name="Process-1", daemon=False, threads=())
    alive = ProcessStack(pid=1, name="MainProcess", daemon=False, threads=((),))
    tl = timeline.build(obs(PRODUCE_CONSUME[:5], TIMEOUT, stacks=[alive, stuck], duration=4.0))
    assert tl["hang_at"] == pytest.approx(4.0)
    rows = {r["name"]: r for r in tl["processes"]}
    assert rows["MainProcess"]["hung"] and not rows["Process-1"]["hung"]
    lines = timeline_text.draw(tl, "hang").splitlines()
    assert lines[1].startswith("MainProcess") and lines[1].endswith("!|")
    assert lines[2].startswith("Process-1") and "!" not in lines[2]
    assert "the deadline" in lines[-1]


def test_the_terminal_drawing_has_one_row_per_process():
    tl = timeline.build(obs(PRODUCE_CONSUME))
    text = timeline_text.render(run_of(tl))
    rows = [line for line in text.splitlines() if "|" in line and not line.startswith("[")]
    assert [r.split()[0] for r in rows] == ["MainProcess", "Process-1"]
    assert all(len(r.split("|")[1]) == timeline_text.WIDTH for r in rows)


def _valid_trace(run: RunVerdict) -> list[dict]:
    document = json.loads(trace.render(run))
    jsonschema.validate(document, SCHEMA)
    events = document["traceEvents"]
    named = {e["pid"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
    assert {e["pid"] for e in events if e["ph"] in ("X", "C") or (e["ph"] == "i" and e["s"] == "t")} <= named
    for flow_id in {e["id"] for e in events if e["ph"] in ("s", "f")}:
        start, finish = ([e for e in events if e.get("id") == flow_id and e["ph"] == ph] for ph in "sf")
        assert len(start) == len(finish) == 1 and start[0]["ts"] <= finish[0]["ts"]
    by_track: dict = {}
    for e in (e for e in events if e["ph"] == "X"):
        by_track.setdefault((e["pid"], e["tid"]), []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_track.values():  # slices on one track nest or do not touch
        spans.sort()
        for (_b1, e1), (b2, e2) in zip(spans, spans[1:], strict=False):
            assert b2 >= e1 or e2 <= e1, spans
    return events


def test_the_trace_is_valid_trace_event_json_field_by_field():
    events = _valid_trace(run_of(timeline.build(obs(PRODUCE_CONSUME))))
    phases = {e["ph"] for e in events}
    assert {"X", "i", "s", "f", "C", "M"} <= phases
    assert {e["name"] for e in events if e["ph"] == "X"} >= {"put", "get", "send", "recv", "holds Lock"}
    assert {e["args"]["name"].split(" — ")[0] for e in events if e["name"] == "process_name"} == {"MainProcess",
                                                                                                   "Process-1"}


def test_timelines_reach_the_json_verdict_only_when_asked():
    tl = timeline.build(obs(PRODUCE_CONSUME))
    with_timeline = run_of(tl).exercises[0]
    assert ExerciseVerdict.from_dict(json.loads(json.dumps(with_timeline.to_dict()))) == with_timeline
    assert "timelines" not in run_of().exercises[0].to_dict()


@pytest.fixture(scope="module")
def pipe_hang():
    course = load_course(ROOT)
    exercise = course.find("exercise4")
    variant = ROOT / "tests/variants/exercise4/post_endless_receiver.py"
    return grade(course, [exercise], variant, Options(start_methods=("fork",), timeout=BUG_TIMEOUT, timeline=True))


def test_a_real_hang_carries_its_timeline_and_its_trace_validates(pipe_hang):
    (verdict,) = pipe_hang.exercises
    (tl,) = verdict.timelines
    assert tl["start_method"] == "fork" and tl["hang_at"] is not None
    assert tl["processes"][0]["name"] == "MainProcess" and tl["processes"][0]["hung"]
    assert any(f["kind"] == "pipe" for f in tl["flows"])
    _valid_trace(pipe_hang)
    assert "timelines" in json.loads(json.dumps(verdict.to_dict()))
