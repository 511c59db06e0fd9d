"""The sandbox and the probe, driven directly: what comes back from the student's process."""

from __future__ import annotations

import textwrap

import pytest
from conftest import sandbox_files

from grader.course import Limits
from grader.observations import RAISED, RETURNED, TIMEOUT
from grader.sandbox import Sandbox, time_lost_to_load

STUDENT = textwrap.dedent('''
    import multiprocessing as mp
    import time

    def work(q, n):
        q.put(n * n)

    def run(n):
        q = mp.Queue()
        ps = [mp.Process(target=work, args=(q, i), name=f"w{i}") for i in range(n)]
        for p in ps:
            p.start()
        out = sorted(q.get() for _ in ps)
        for p in ps:
            p.join()
        return out

    def leave():
        mp.Process(target=time.sleep, args=(30,), name="sleeper").start()

    def hang():
        q = mp.Queue()
        p = mp.Process(target=q.get, name="consumer")
        p.start()
        p.join()

    def write(path):
        with open(path, "w") as f:
            f.write("x")
''')


@pytest.fixture
def files(tmp_path):
    return sandbox_files(tmp_path, STUDENT)


@pytest.mark.parametrize("method", ["fork", "forkserver", "spawn"])
def test_the_probe_records_the_students_calls_in_parent_and_children(files, method):
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", method, 10) as box:
        obs = box.run("call", "run", 3)
    assert obs.outcome == RETURNED and obs.value == [0, 1, 4]
    kinds = [e.kind for e in obs.events if not e.internal]
    assert kinds.count("process.start") == 3 and kinds.count("process.join") == 3
    assert kinds.count("process.begin") == 3 and kinds.count("queue.put") == 3  # logged inside the children
    puts = [e for e in obs.events if e.kind == "queue.put"]
    assert {e.where for e in puts} == {"student.py:6"}
    starts = {e.get("child") for e in obs.events if e.kind == "process.start"}
    assert starts == {e.pid for e in puts}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_non_daemon_child_left_running_is_recorded_and_stopped(files, method):
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", method, 10) as box:
        obs = box.run("call", "leave")
        again = box.run("call", "run", 1)
    assert [(x.name, x.daemon) for x in obs.leftovers] == [("sleeper", False)]
    assert obs.leftovers[0].stack is not None
    assert again.outcome == RETURNED and again.leftovers == ()


def test_a_hang_dumps_every_stack_and_ends_the_sandbox(files):
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 1.5) as box:
        obs = box.run("call", "hang")
        after = box.run("call", "run", 1)
    assert obs.outcome == TIMEOUT
    assert {s.name for s in obs.stacks} == {"MainProcess", "consumer"}
    assert after.outcome == "not_run"


def test_an_exception_comes_back_as_text_trimmed_to_the_students_frames(files):
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 10) as box:
        obs = box.run("call", "run", "three")
    assert obs.outcome == RAISED and obs.error.type == "TypeError"
    assert obs.error.line == 10 and "sandbox_child" not in obs.error.traceback


def test_writes_outside_the_sandbox_folder_are_recorded(files, tmp_path_factory):
    target = tmp_path_factory.mktemp("outside") / "f.txt"
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 10) as box:
        obs = box.run("call", "write", str(target))
    assert [e.get("path") for e in obs.events if e.kind == "file.write"] == [str(target)]


def test_too_many_processes_is_a_resource_failure(tmp_path):
    sandbox_files(tmp_path, "import os, time\ndef bomb():\n    for _ in range(40):\n        if os.fork() == 0:\n"
                            "            time.sleep(60)\n            os._exit(0)\n    time.sleep(30)\n")
    with Sandbox(tmp_path / "student.py", "student", tmp_path / "drivers_mod.py", "fork", 10,
                 Limits(processes=20)) as box:
        obs = box.run("call", "bomb")
    assert obs.outcome == "resource" and "limit is 20" in obs.detail


MANAGED = textwrap.dedent('''
    import multiprocessing as mp

    def hold(lock):
        with lock:
            pass
        lock.acquire()
        lock.release()

    def run():
        with mp.Manager() as manager:
            lock = manager.Lock()
            child = mp.Process(target=hold, args=(lock,))
            child.start()
            child.join()
            hold(lock)
''')


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_managers_lock_is_logged_like_a_semlock_with_one_id_in_every_process(tmp_path, method):
    sandbox_files(tmp_path, MANAGED)
    with Sandbox(tmp_path / "student.py", "student", tmp_path / "drivers_mod.py", method, 10) as box:
        obs = box.run("call", "run")
    assert obs.outcome == RETURNED, obs.error
    acquires = [e for e in obs.events if e.kind == "lock.acquire"]
    releases = [e for e in obs.events if e.kind == "lock.release"]
    assert len(acquires) == len(releases) == 4 and all(e.get("acquired") for e in acquires)
    assert len({e.pid for e in acquires}) == 2, "the child's calls and the parent's"
    assert len({e.get("lock") for e in acquires + releases}) == 1 and acquires[0].get("managed")
    assert {e.where for e in acquires} == {"student.py:5", "student.py:7"}
    starts = [e for e in obs.events if e.kind == "process.start" and not e.internal]
    assert len(starts) == 1, "the manager's server process is multiprocessing's, not the student's"


# --------------------------------------------------------------------------- the machine's load


SECOND = 10**9


@pytest.mark.parametrize("ran, waited, demand, cpus, lost, case", [
    (1.0, 0.0, 1, 2, 0.0, "alone on an idle machine: nothing lost"),
    (0.0, 0.0, 0, 2, 0.0, "asleep (a blocked queue): no CPU wanted, nothing lost"),
    (2 / 3, 1 / 3, 3, 2, 0.0, "three start methods spinning on two cores: the submission's own cost"),
    (0.25, 0.75, 1, 2, 0.75, "one process kept to a quarter of a CPU by other work: three quarters lost"),
    (0.25, 0.75, 3, 2, 0.625, "a quarter where this grading alone allows two thirds"),
    (0.9, 0.1, 4, 2, -0.8, "ahead of its share: negative, so that the caller's sum averages out"),
])
def test_time_lost_to_load_is_what_the_machine_took_beyond_the_gradings_own_demand(ran, waited, demand, cpus,
                                                                                  lost, case):
    assert time_lost_to_load(int(ran * SECOND), int(waited * SECOND), demand, cpus, 1.0) == pytest.approx(lost), case



def test_a_programs_wait_for_a_cpu_is_read_for_its_whole_tree():
    """run_as_script's exit wait is credited with what the program's processes waited for a CPU:
    the sum must cover its children too, and never go down as processes end."""
    import os
    import subprocess
    import sys
    import time

    from grader.drivers import CpuWait

    program = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', 'import time; "
               "time.sleep(30)']); print(child.pid, flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True)
    try:
        child = int(proc.stdout.readline())
        waited = CpuWait(proc.pid)
        first = waited.seconds()
        assert set(waited._seen) == {proc.pid, child}
        os.kill(child, 9)
        time.sleep(0.2)
        assert waited.seconds() >= first and child in waited._seen, "an ended process's wait is kept"
    finally:
        proc.kill()
        proc.wait()
