"""The wait-for reading of hangs (grader/diagnosis.py), and the hang message built on it.

Unit tests build observations by hand (stacks as faulthandler prints them, events as the
probe logs them). The variant tests run every known hang of the course in a real sandbox
and check the message against that run's own stacks: every process named, what each
waits on, what could have released it, and no call claimed that no stack is in.
"""

from __future__ import annotations

import importlib.util
import re

import pytest
from conftest import BUG_TIMEOUT, ROOT

from grader import schedule
from grader.checks import CheckFailure, CheckSpec, advice_for, describe_hang, judge_outcome
from grader.course import load_course
from grader.diagnosis import diagnose
from grader.drivers import is_driver
from grader.observations import TIMEOUT, Event, Observation, ProcessStack
from grader.proctree import parse_faulthandler
from grader.runner import Options, grade
from grader.sandbox import Sandbox

MP = "/usr/lib/python3.11/multiprocessing/"
STUDENT = "exercise2_lock.py"
SOURCE = tuple(f"line {n}" for n in range(1, 41))


def dump(*frames: tuple[str, int, str]) -> str:
    """A faulthandler dump of one thread, innermost frame first as faulthandler writes it."""
    lines = ["Current thread 0x00007f (most recent call first):"]
    lines += [f'  File "{file}", line {line} in {function}' for file, line, function in reversed(frames)]
    return "\n".join(lines)


def stack(pid, name, *frames) -> ProcessStack:
    return ProcessStack(pid=pid, name=name, daemon=False, threads=parse_faulthandler(dump(*frames)))


def event(t, pid, kind, where=None, **data) -> Event:
    return Event(t=t, pid=pid, kind=kind, internal=False, where=where, data=data)


def observation(stacks, events, student=STUDENT, method="fork") -> Observation:
    return Observation(driver="d", start_method=method, outcome=TIMEOUT, duration_s=4.0, events=tuple(events),
                       stacks=tuple(stacks), student_file=student, student_source=SOURCE)


MAIN = [("<string>", 1, "<module>"), ("/x/grader/sandbox_child.py", 214, "main")]
CHILD = MAIN + [(f"/w/{STUDENT}", 40, "run"), (MP + "process.py", 121, "start"), (MP + "popen_fork.py", 71, "_launch"),
                (MP + "process.py", 314, "_bootstrap"), (MP + "process.py", 108, "run")]


# --------------------------------------------------------------------------- stacks that are true


def test_a_forked_child_is_shown_where_it_is_not_at_its_parents_start_line():
    sleeper = stack(11, "Process-1", *CHILD)  # its target is time.sleep: no frame of the student's own
    text, _ = describe_hang(observation([sleeper], []))
    assert "line 40" not in text and f"{STUDENT}:40" not in text
    assert "Process-1 was running its target, which is not a function of your file" in text


def test_grader_and_library_frames_are_summarized_never_shown_as_the_students_code():
    idle = stack(10, "MainProcess", *MAIN, ("/x/grader/sandbox_child.py", 38, "receive"),
                 ("/x/grader/sandbox_child.py", 45, "_read_exactly"))
    text, _ = describe_hang(observation([idle], []))
    assert "_read_exactly" not in text and "sandbox_child" not in text
    assert "MainProcess was done with your code" in text


# --------------------------------------------------------------------------- who waits for whom


def test_a_lock_held_by_a_crashed_worker_names_the_dead_holder_its_exception_and_line():
    main = stack(10, "MainProcess", *MAIN, (f"/w/{STUDENT}", 30, "run"), (MP + "process.py", 149, "join"))
    waiter = stack(12, "Process-2", *CHILD[:2], (MP + "process.py", 108, "run"), (f"/w/{STUDENT}", 26, "work"))
    events = [
        event(1.0, 10, "lock.create", f"{STUDENT}:20", lock="L1", type="Lock"),
        event(1.1, 10, "process.start", f"{STUDENT}:22", child=11, name="Process-1"),
        event(1.2, 10, "process.start", f"{STUDENT}:22", child=12, name="Process-2"),
        event(1.3, 11, "lock.acquire", f"{STUDENT}:24", acquired=True, lock="L1", type="Lock", wid=1),
        event(1.4, 11, "process.error", f"{STUDENT}:25", name="Process-1", error="TypeError", message="bad operand"),
        event(1.5, 11, "process.end", None, name="Process-1", exitcode=1),
        event(1.6, 12, "wait", f"{STUDENT}:26", call="lock.acquire", lock="L1", type="Lock", wid=1),
        event(1.7, 10, "wait", f"{STUDENT}:30", call="process.join", child=12, name="Process-2", wid=3),
    ]
    text, where = describe_hang(observation([main, waiter], events))
    assert where == f"{STUDENT}:30"
    assert "Process-2 waits at line 26 for the Lock created at line 20" in text
    assert "Process-1 took it at line 24 and crashed with TypeError at line 25 (bad operand) before releasing it" in text
    assert "MainProcess waits at line 30 for Process-2 to end" in text


def test_a_pipe_hang_where_the_parent_joins_does_not_claim_it_waits_in_recv():
    """The parent closed its end and joins; the child waits in recv() on a copy it never closed."""
    main = stack(10, "MainProcess", *MAIN, (f"/w/{STUDENT}", 30, "run"), (MP + "process.py", 149, "join"))
    child = stack(11, "Process-1", *CHILD[:2], (MP + "process.py", 108, "run"), (f"/w/{STUDENT}", 12, "receive"),
                  (MP + "connection.py", 250, "recv"))
    events = [
        event(1.0, 10, "pipe.create", f"{STUDENT}:25", pipe="10.1", duplex=False),
        event(1.1, 10, "process.start", f"{STUDENT}:26", child=11, name="Process-1"),
        event(1.2, 10, "pipe.send", f"{STUDENT}:27", end="10.1:1", value="1"),
        event(1.3, 10, "pipe.close", f"{STUDENT}:28", end="10.1:1"),
        event(1.4, 11, "pipe.recv", f"{STUDENT}:12", end="10.1:0", wid=1),
        event(1.5, 11, "wait", f"{STUDENT}:12", call="pipe.recv", end="10.1:0", wid=2),
        event(1.6, 10, "wait", f"{STUDENT}:30", call="process.join", child=11, name="Process-1", wid=3),
    ]
    text, _ = describe_hang(observation([main, child], events))
    assert "MainProcess was at exercise2_lock.py:30 in run(): `line 30`, waiting in Process.join()" in text
    assert "MainProcess waits in recv" not in text and "MainProcess itself" not in text
    assert "Process-1 waits at line 12 for the pipe created at line 25" in text
    assert "a copy is still open in Process-1 itself" in text


def test_a_queue_whose_consumer_ended_shows_producers_blocked_in_put_not_a_waiting_consumer():
    producer = stack(12, "Process-2", *CHILD[:2], (MP + "process.py", 108, "run"), (f"/w/{STUDENT}", 8, "produce"),
                     (MP + "queues.py", 94, "put"))
    events = [event(1.0, 10, "queue.create", f"{STUDENT}:20", queue="Queue", q="Q"),
              event(1.1, 11, "queue.get", f"{STUDENT}:14", queue="Queue", q="Q", wid=1),
              event(1.2, 11, "process.end", None, name="Process-1", exitcode=0)]
    text, _ = describe_hang(observation([producer], events))
    assert "Process-2 was at exercise2_lock.py:8 in produce(): `line 8`, waiting in Queue.put()" in text
    assert "get()" not in text


def test_a_consumer_waiting_after_every_producer_ended_is_told_nothing_more_will_arrive():
    consumer = stack(13, "Process-3", *CHILD[:2], (MP + "process.py", 108, "run"), (f"/w/{STUDENT}", 14, "consume"),
                     (MP + "queues.py", 103, "get"))
    events = [event(1.0, 10, "queue.create", f"{STUDENT}:20", queue="Queue", q="Q"),
              event(1.1, 11, "queue.put", f"{STUDENT}:8", queue="Queue", q="Q", value="1"),
              event(1.2, 11, "queue.put", f"{STUDENT}:9", queue="Queue", q="Q", value="None"),
              event(1.3, 11, "process.end", None, name="Process-1", exitcode=0),
              event(1.4, 12, "queue.get", f"{STUDENT}:14", queue="Queue", q="Q", wid=1),
              event(1.5, 13, "queue.get", f"{STUDENT}:14", queue="Queue", q="Q", wid=1),
              event(1.6, 13, "wait", f"{STUDENT}:14", call="queue.get", queue="Queue", q="Q", wid=2)]
    diagnosis = diagnose(observation([consumer], events))
    (reason,) = diagnosis.reasons
    assert reason.startswith("Process-3 waits at line 14 for the Queue created at line 20.")
    assert "2 item(s) were put on it and 2 taken" in reason
    assert "1 sentinel (None) was put for 2 consumers" in reason
    assert "the process(es) that put to it (Process-1) have ended" in reason


def test_a_wait_in_the_log_is_not_believed_when_the_stack_shows_another_line():
    busy = stack(11, "Process-1", *CHILD[:2], (MP + "process.py", 108, "run"), (f"/w/{STUDENT}", 33, "spin"))
    events = [event(1.0, 11, "wait", f"{STUDENT}:14", call="queue.get", queue="Queue", q="Q", wid=1)]
    diagnosis = diagnose(observation([busy], events))
    assert diagnosis.reasons == ()
    assert diagnosis.processes[0].where == f"{STUDENT}:33" and diagnosis.processes[0].call is None


def test_hang_advice_of_a_check_is_shown_only_for_the_call_it_is_about():
    in_get = diagnose(observation([stack(11, "Process-1", *CHILD[:2], (MP + "process.py", 108, "run"),
                                         (f"/w/{STUDENT}", 14, "c"), (MP + "queues.py", 103, "get"))], []))
    assert advice_for({"Connection.recv()": "close the send end"}, in_get) == ""
    assert advice_for({"Queue.get()": "put a sentinel"}, in_get) == "put a sentinel"


# --------------------------------------------------------------------------- every known hang of the course

COURSE = load_course(ROOT)
HANGS = [pytest.param(ex, bug.path, id=f"{ex.id}-{bug.path.stem}")
         for ex in COURSE.exercises for bug in ex.known_bugs if bug.category == "timeout"]
CLAIMED_CALL = re.compile(r"(?:waits?|waiting) in ([\w.' ]*?)(\w+)\(\)")
OBJECTS = ("Queue", "Lock", "Semaphore", "lock of the shared value", "pipe", "Pool", "to end", "managed Lock")


def _hidden(exercise):
    spec = importlib.util.spec_from_file_location(f"hidden_{exercise.id}", exercise.tests)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _specs(module) -> list[CheckSpec]:
    return [f._grader_check for f in vars(module).values() if isinstance(getattr(f, "_grader_check", None), CheckSpec)]


def _hang(exercise, path, module) -> Observation:
    """Run the drivers in order, each under the schedules its checks ask for, until one hangs."""
    drivers = [name for name, value in vars(module).items() if is_driver(value)]
    with Sandbox(path, exercise.file.stem, exercise.tests, "fork", BUG_TIMEOUT, exercise.limits) as box:
        assert box.import_observation is None
        for name in drivers:
            asked = max((s.schedules for s in _specs(module) if s.uses.__name__ == name), default=0)
            for seed in schedule.seeds(exercise.id, max(1, asked)):
                plan = {"seed": seed, "budget_ms": schedule.budget_ms(BUG_TIMEOUT), "run": box.runs} \
                    if asked > 1 else None
                obs = box.run(name, schedule=plan)
                if obs.outcome == TIMEOUT:
                    return obs
                assert not box.dead, obs.detail
    pytest.fail(f"{path.name} did not hang under fork")


def _seen_calls(obs: Observation) -> set[str]:
    """Every function a stack is in, and every call written on a student line a stack is at."""
    seen = set()
    for s in obs.stacks:
        for thread in s.threads:
            for frame in thread:
                seen.add(frame.function)
                if frame.file.endswith(obs.student_file):
                    seen.update(re.findall(r"(\w+)\(", obs.source_line(frame.line)))
    return seen


def test_the_course_has_a_hang_variant_for_most_exercises():
    hung = {ex.id for ex, *_ in (p.values for p in HANGS)}
    assert len(hung) >= 12, sorted(hung)


@pytest.mark.parametrize(("exercise", "path"), HANGS)
def test_a_hang_variant_names_who_waits_on_what_and_contradicts_no_stack(exercise, path):
    module = _hidden(exercise)
    obs = _hang(exercise, path, module)
    specs = [s for s in _specs(module) if s.uses.__name__ == obs.driver]
    assert specs, f"no check judges {obs.driver}"
    alive = [s.name for s in obs.stacks if s.threads]
    seen = _seen_calls(obs)
    for spec in specs:
        with pytest.raises(CheckFailure) as failed:
            judge_outcome(obs, spec)
        message = failed.value.message
        assert failed.value.category == "timeout"
        for name in alive:
            assert name in message, f"{name} is not named:\n{message}"
        assert "_read_exactly" not in message and "sandbox_child" not in message and "popen_" not in message
        for _, call in CLAIMED_CALL.findall(message):
            assert call in seen, f"the message claims a wait in {call}(), but no stack is there:\n{message}"
        diagnosis = diagnose(obs)
        blocked = [p for p in diagnosis.processes if p.call]
        assert blocked, f"no process found blocked in a call:\n{message}"
        if path.stem == "no_finally":  # the holder's own crash, read from the child by the probe
            assert re.search(r"Process-\d+ took it at line \d+ and crashed with RuntimeError at line \d+", message)
        assert "Why: " in message and any(o in message for o in OBJECTS), message
        assert any(p.why for p in diagnosis.processes), f"nothing said about what could release it:\n{message}"


# --------------------------------------------------------------------------- start methods, crashes in children


def test_a_check_that_differs_by_start_method_says_the_start_method_is_the_cause_and_why():
    from grader.startmethods import Outcome, advice

    said = advice([Outcome("fork", "pass"), Outcome("spawn", "crash", "AttributeError: Can't pickle local object "
                                                              "'f.<locals>.<lambda>'")], "")
    assert "passes under fork but not under spawn: the start method is the cause" in said
    assert "could not be pickled" in said and "macOS and Windows" in said and "Python 3.14" in said
    assert advice([Outcome("fork", "crash"), Outcome("spawn", "crash")], "") == ""  # one category: nothing to say
    guard = advice([Outcome("fork", "pass"), Outcome("spawn", "timeout", "", "RuntimeError: ... bootstrapping phase")],
                   "")
    assert "if __name__ == \"__main__\":" in guard
    state = advice([Outcome("fork", "pass"), Outcome("spawn", "wrong_result")],
                   "TOTAL = 0\ndef work():\n    global TOTAL\n    TOTAL += 1\n")
    assert "module-level state (TOTAL)" in state


def test_a_spawn_only_failure_shows_the_start_method_advice():
    course = load_course(ROOT)
    exercise = course.find("exercise1")
    run = grade(course, [exercise], ROOT / "tests/variants/exercise1/lambda_target.py",
                Options(start_methods=("fork", "spawn"), timeout=BUG_TIMEOUT))
    (verdict,) = run.exercises
    under = {m: {c.category.value for c in verdict.checks if c.start_method == m} for m in ("fork", "spawn")}
    assert under["fork"] == {"pass"} and "crash" in under["spawn"]
    for check in verdict.checks:
        if check.start_method == "spawn" and check.status.value == "fail":
            assert "passes under fork but not under spawn: the start method is the cause" in check.message
            assert "could not be pickled" in check.message and "macOS and Windows" in check.message


def test_a_childs_exception_is_shown_as_that_childs_with_its_name_and_lines():
    from grader.checks import describe_child_errors

    crashed = observation([], [event(1.0, 11, "process.error", f"{STUDENT}:25", name="worker-3", error="TypeError",
                                     message="can only concatenate str", frames=[[22, "work", "step(x)"],
                                                                                 [25, "step", "total + x"]],
                                     raised_at=None)])
    text = describe_child_errors(crashed)
    assert text.splitlines() == [
        "worker-3 raised TypeError (its traceback, trimmed to your file):",
        f'  File "{STUDENT}", line 22, in work', "    step(x)",
        f'  File "{STUDENT}", line 25, in step', "    total + x",
        "TypeError: can only concatenate str"]
