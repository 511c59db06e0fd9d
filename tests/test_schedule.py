"""grader/schedule.py and schedule exploration in grading: determinism, the delay bound, the
verdict's `schedules`, and a replay that brings a failure back.

Structural only: what a seed decides, what the verdict says; never how long anything took.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grader import schedule
from grader.course import load_course
from grader.report import render
from grader.runner import Options, grade
from grader.verdict import RunVerdict, Status

ROOT = Path(__file__).resolve().parents[1]
RACE_COURSE = Path(__file__).parent / "courses" / "schedules"


# ---------------------------------------------------------------- what a seed decides


def test_same_seed_same_delays_and_priorities():
    for seed in (2468, 2469):
        first = [schedule.delay_ms(seed, who, k) for who in ("MainProcess", "Process-1", "Process-2") for k in range(60)]
        again = [schedule.delay_ms(seed, who, k) for who in ("MainProcess", "Process-1", "Process-2") for k in range(60)]
        assert first == again
        assert any(first), f"seed {seed} delays nothing in 180 points"
    levels = [schedule.priority_level(2469, f"Process-{i}") for i in range(20)]
    assert levels == [schedule.priority_level(2469, f"Process-{i}") for i in range(20)]
    assert len(set(levels)) > 1, "every process got the same priority"
    assert schedule.change_points(2469) == schedule.change_points(2469)


def test_different_seeds_give_different_schedules():
    one = [schedule.delay_ms(2468, "Process-1", k) for k in range(200)]
    other = [schedule.delay_ms(2470, "Process-1", k) for k in range(200)]
    assert one != other


def test_the_strategies_keep_their_shape():
    random_delays = [schedule.delay_ms(2468, "Process-1", k) for k in range(2000)]
    assert all(d == 0 or (d & (d - 1) == 0 and d <= 2 ** schedule.MAX_DELAY_EXP) for d in random_delays)
    share = sum(1 for d in random_delays if d) / len(random_delays)
    assert 0.05 < share < 0.15, f"{share:.2f} of the points delayed, P_DELAY is {schedule.P_DELAY}"
    # pct: one level per process until the first change point, the lowest after the last
    changes = schedule.change_points(2469)
    level = schedule.priority_level(2469, "Process-1")
    before = [schedule.delay_ms(2469, "Process-1", k) for k in range(min(changes))]
    assert set(before) <= {level * schedule.PCT_STEP_MS}
    assert schedule.delay_ms(2469, "Process-1", max(changes)) == schedule.PCT_CHANGE_MS
    after = schedule.delay_ms(2469, "Process-1", max(changes) + 1)
    assert after == (schedule.PCT_LEVELS - 1) * schedule.PCT_STEP_MS


def test_seeds_of_an_exercise_are_fixed_and_alternate_strategies():
    seeds = schedule.seeds("exercise4", 6)
    assert seeds == schedule.seeds("exercise4", 6)
    assert seeds[0] == 0 and len(set(seeds)) == 6
    assert [schedule.strategy_of(s) for s in seeds] == ["none", "pct", "random", "pct", "random", "pct"]
    assert schedule.seeds("exercise4", 1) == [0]


def test_no_seed_no_delay(tmp_path):
    schedule.reload(None)
    assert schedule.point("queue.put") == 0
    assert schedule.delay_ms(0, "MainProcess", 0) == 0


# ---------------------------------------------------------------- the bound on total delay


@pytest.mark.parametrize("seed", [2468, 2469, 31337, 31338])
def test_total_delay_stays_within_the_budget(tmp_path, monkeypatch, seed):
    slept = []
    monkeypatch.setattr(schedule.time, "sleep", slept.append)
    budget = 40
    schedule.begin(str(tmp_path), seed, budget, run=7)
    try:
        total = sum(schedule.point("queue.put") for _ in range(500))
        total += sum(schedule.point("pool.task", f"worker-{i % 3}") for i in range(500))
    finally:
        schedule.begin(str(tmp_path), 0, 0, run=7)
    assert total <= budget
    assert total == schedule.spent_ms(str(tmp_path), 7) == round(sum(slept) * 1000)
    assert total > 0, "nothing was delayed in 1000 points"


def test_the_budget_is_a_share_of_the_timeout_with_a_cap():
    assert schedule.budget_ms(1) == 1000 * schedule.BUDGET_SHARE
    assert schedule.budget_ms(10) <= 10_000 * schedule.BUDGET_SHARE
    assert schedule.budget_ms(600) == schedule.BUDGET_CAP_MS


def test_points_other_than_synchronisation_calls_never_wait(tmp_path, monkeypatch):
    monkeypatch.setattr(schedule.time, "sleep", lambda s: pytest.fail("slept"))
    schedule.begin(str(tmp_path), 2468, 1000, run=0)
    try:
        assert all(schedule.point(kind) == 0 for kind in ("pool.create", "file.write", "process.end") * 50)
    finally:
        schedule.begin(str(tmp_path), 0, 0, run=0)


# ---------------------------------------------------------------- in grading


def _grade(course_root: Path, exercise: str, submission: Path, **options) -> RunVerdict:
    course = load_course(course_root)
    return grade(course, [course.find(exercise)], submission, Options(**options))


def test_a_pass_states_its_schedules_in_the_verdict():
    verdict = _grade(RACE_COURSE, "exercise1", RACE_COURSE / "solutions" / "exercise1_relay.py",
                     schedules=1)
    assert verdict.exercises[0].schedules is None  # one unperturbed run: nothing explored
    verdict = _grade(ROOT, "exercise10", ROOT / "solutions" / "exercise10_pool_map.py", schedules=3,
                     start_methods=("fork",))
    ex = verdict.exercises[0]
    assert ex.status is Status.PASS
    assert ex.schedules == {"count": 3, "strategy": "random+pct", "replayed": False, "seed": None, "replay": None}
    document = verdict.to_dict()
    assert document["schedules"]["count"] == 3
    assert RunVerdict.from_dict(json.loads(json.dumps(document))).exercises[0].schedules == ex.schedules
    assert "No failure in 3 schedules" in render(verdict, "text")


def test_a_failure_names_its_seed_and_the_replay_reproduces_it():
    solution = RACE_COURSE / "solutions" / "exercise1_relay.py"
    explored = _grade(RACE_COURSE, "exercise1", solution, start_methods=("fork",))
    ex = explored.exercises[0]
    assert ex.status is Status.FAIL
    failed = [c for c in ex.checks if c.status is Status.FAIL]
    assert [c.name for c in failed] == ["no synchronisation point was delayed"]
    seed = failed[0].seed
    assert seed in schedule.seeds("exercise1", 4)[1:]
    assert ex.schedules["seed"] == seed and ex.schedules["replay"] == f"grade exercise1 --seed {seed}"
    assert f"grade exercise1 --seed {seed}" in render(explored, "text")

    replayed = _grade(RACE_COURSE, "exercise1", solution, start_methods=("fork",), seed=seed)
    again = replayed.exercises[0]
    assert again.status is Status.FAIL
    assert again.schedules["replayed"] is True and again.schedules["seed"] == seed
    [replay_failure] = [c for c in again.checks if c.status is Status.FAIL]
    assert replay_failure.seed == seed
    assert replay_failure.message == failed[0].message  # the same delays, at the same points

    clean = _grade(RACE_COURSE, "exercise1", solution, start_methods=("fork",), schedules=1)
    assert clean.exercises[0].status is Status.PASS


def test_the_command_line_takes_schedules_and_seed(tmp_path):
    command = [sys.executable, "-m", "grader", "exercise1", "--course", str(RACE_COURSE), "--submission",
               str(RACE_COURSE / "solutions" / "exercise1_relay.py"), "--format", "json", "--start-method", "fork"]
    one = subprocess.run(command + ["--schedules", "1"], capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    assert "schedules" not in json.loads(one.stdout)
    bad = subprocess.run(command + ["--schedules", "0"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    both = subprocess.run(command + ["--schedules", "2", "--seed", "5"], capture_output=True, text=True, timeout=300)
    assert both.returncode == 2


def test_a_check_can_ask_for_more_schedules_than_the_course():
    course = load_course(ROOT)
    exercise = course.find("exercise11")
    assert exercise.schedules < 8  # its with-block check asks for 8 (grader/hidden/test_exercise11_pool_async.py)
    verdict = _grade(ROOT, "exercise11", ROOT / "solutions" / "exercise11_pool_async.py", start_methods=("fork",))
    assert verdict.exercises[0].status is Status.PASS
    assert verdict.exercises[0].schedules["count"] == 8


# ---------------------------------------------------------------- first task last

POOL_STUDENT = '''
from multiprocessing import Pool


def square(x):
    return x * x


def unordered(items):
    with Pool(2) as pool:
        return list(pool.imap_unordered(square, items))


def in_order(items):
    with Pool(2) as pool:
        return pool.map(square, items, chunksize=1), list(pool.imap(square, items))


def nothing_to_wait_for(items):
    with Pool(2) as pool:
        one = [pool.apply(square, (x,)) for x in items]
        whole = pool.map(square, items, chunksize=len(items))
    with Pool(1) as alone:
        return one, whole, list(alone.imap_unordered(square, items))
'''

HELD_DRIVERS = '''
from grader.drivers import driver


@driver(first_task_last=True)
def held(student, name, *args):
    return getattr(student, name)(*args)


def call(student, name, *args):
    return getattr(student, name)(*args)
'''


def _holds(obs):
    return [e.get("ended_by") for e in obs.events if e.kind == "schedule.hold"]


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_first_task_last_puts_unordered_results_out_of_order_under_every_start_method(tmp_path, method):
    from conftest import sandbox_files

    from grader.sandbox import Sandbox

    files = sandbox_files(tmp_path, POOL_STUDENT)
    (files / "drivers_mod.py").write_text(HELD_DRIVERS)
    items = [1, 2, 3, 4, 5, 6]
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", method, 30) as box:
        runs = [box.run("held", "unordered", items) for _ in range(3)]
        ordered = box.run("held", "in_order", items)
        free = box.run("held", "nothing_to_wait_for", items)
        plain = box.run("call", "unordered", items)
    for obs in runs:
        assert sorted(obs.value) == [x * x for x in items]
        assert obs.value[0] != 1, f"the first item's result came first: {obs.value}"
        assert _holds(obs) in ([], ["mark"]), _holds(obs)  # [] when the mark came before the task did
    assert list(ordered.value) == [[x * x for x in items]] * 2  # map and imap keep the order whatever happens
    # one task per job, or one worker: nothing to wait for, so no task waits for the cap
    assert "cap" not in _holds(free) and list(free.value) == [[x * x for x in items]] * 3
    assert _holds(plain) == []  # a driver without the mark holds nothing


@pytest.mark.parametrize("exercise, bug", [("exercise10", "imap_unordered_squares"),
                                           ("exercise12", "unordered_where_order_promised"),
                                           ("exercise14", "queue_in_finish_order")])
def test_unordered_results_fail_the_order_check_in_one_run_under_every_start_method(exercise, bug):
    # no exploration: the order checks' drivers hold each Pool job's first task back (first_task_last),
    # and exercise 14's first chunk finishes last (grader/hidden/test_exercise14_gil.py)
    verdict = _grade(ROOT, exercise, ROOT / "tests" / "variants" / exercise / f"{bug}.py", schedules=1)
    ex = verdict.exercises[0]
    failed = {c.start_method for c in ex.checks if c.status is Status.FAIL}
    assert failed == {"fork", "forkserver", "spawn"}, [(c.name, c.start_method, c.status) for c in ex.checks]
    assert {c.category.value for c in ex.checks if c.status is Status.FAIL} == {"wrong_result"}
    assert ex.schedules is None
