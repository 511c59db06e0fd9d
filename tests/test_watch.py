"""`grade watch`, driven in a real terminal (pexpect): saves graded, keys, quitting, polling.

Every wait is the test's patience (generous: the machine may be loaded), never a latency
assertion: how fast a save is graded is measured by bench/watch_latency.py.
"""

from __future__ import annotations

import os
import sys

import pexpect
import psutil
import pytest
from conftest import copy_course

from grader.commands import watch
from grader.filewatch import NO_EVENTS_ENV

PATIENCE_S = 120
STUB = os.path.join("exercises", "exercise1_process.py")
SOLUTION = os.path.join("solutions", "exercise1_process.py")


@pytest.fixture
def course_dir(tmp_path):
    return copy_course(tmp_path / "course")


def start(course_dir, *extra, env=None):
    # COLUMNS/LINES (set in pytest-xdist's workers) would override the terminal's own size.
    environment = {k: v for k, v in os.environ.items() if k not in (NO_EVENTS_ENV, "COLUMNS", "LINES")}
    environment.update(env or {})
    child = pexpect.spawn(sys.executable, ["-m", "grader", "watch", "exercise1", "--start-method", "fork", *extra],
                          cwd=str(course_dir), env=environment, encoding="utf-8", timeout=PATIENCE_S,
                          dimensions=(60, 140))
    child.expect_exact(watch.KEYS)  # the first grading is shown, with the keys under it
    return child


def save_in_place(course_dir, content: bytes) -> None:
    with open(course_dir / STUB, "wb") as f:
        f.write(content)


def save_by_rename(course_dir, content: bytes) -> None:
    """As vim does: write a new file beside it, then rename it over the old one."""
    tmp = course_dir / "exercises" / ".exercise1_process.py.swp"
    tmp.write_bytes(content)
    os.replace(tmp, course_dir / STUB)


def quit_and_check_nothing_left(child, course_dir) -> None:
    pid = child.pid
    descendants = psutil.Process(pid).children(recursive=True)
    child.send("q")
    child.expect_exact(watch.BYE)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    gone, alive = psutil.wait_procs(descendants, timeout=10)
    assert not alive, f"left running: {alive}"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    for proc in psutil.process_iter(["cwd"]):
        assert not str(proc.info.get("cwd") or "").startswith(str(course_dir)), proc


@pytest.mark.parametrize("save", [save_in_place, save_by_rename], ids=["in place", "by rename"])
def test_saving_the_solution_shows_the_pass(course_dir, save):
    child = start(course_dir)
    assert "1/14" not in child.before
    save(course_dir, (course_dir / SOLUTION).read_bytes())
    child.expect_exact(watch.GRADING.format(id="exercise1"))
    child.expect_exact("] 1/14")  # the progress bar under the result
    child.expect_exact(watch.PASSED_NEXT.format(id="exercise1", next="exercise2"))
    quit_and_check_nothing_left(child, course_dir)


def test_keys_hint_next_and_q(course_dir):
    child = start(course_dir)
    child.send("n")  # not passed yet: it stays
    child.expect_exact(watch.NOT_YET.format(id="exercise1"))
    child.send("h")
    child.expect_exact("Hint for exercise1")
    child.expect_exact("args is a tuple")
    child.send("s")
    child.expect_exact("does not pass yet: the solution is shown once it does")
    save_in_place(course_dir, (course_dir / SOLUTION).read_bytes())
    child.expect_exact(watch.PASSED_NEXT.format(id="exercise1", next="exercise2"))
    child.send("s")
    child.expect_exact("Reference solution of exercise1")
    child.send("n")
    child.expect_exact(watch.GRADING.format(id="exercise2"))
    child.expect_exact(watch.WATCHING.format(file="exercises/exercise2_lock.py"))
    quit_and_check_nothing_left(child, course_dir)


def test_the_terminal_is_restored_after_q_and_after_ctrl_c(course_dir):
    shell = pexpect.spawn("bash", ["--norc", "--noprofile"], cwd=str(course_dir), encoding="utf-8",
                          timeout=PATIENCE_S, env={**os.environ, "PS1": "$ "})
    shell.expect_exact("$ ")
    shell.sendline("stty -g > before.txt")
    shell.expect_exact("$ ")
    command = f"{sys.executable} -m grader watch exercise1 --start-method fork"
    for stop in ("q", "\x03"):
        shell.sendline(command)
        shell.expect_exact(watch.KEYS)
        shell.send(stop)
        shell.expect_exact(watch.BYE)
        shell.expect_exact("$ ")
        shell.sendline('stty -g > after.txt; echo "MODE:$(cmp -s before.txt after.txt && echo same || echo changed)"')
        shell.expect(r"MODE:(same|changed)")
        assert shell.match.group(1) == "same", f"terminal left changed after {stop!r}"
        shell.expect_exact("$ ")
    shell.sendline("exit")
    shell.expect(pexpect.EOF)


def test_without_events_it_suggests_poll_and_still_grades(course_dir):
    child = start(course_dir, env={NO_EVENTS_ENV: "1"})
    save_in_place(course_dir, (course_dir / SOLUTION).read_bytes())
    child.expect_exact("Try `grade watch --poll`.")
    assert watch.PASSED_NEXT.format(id="exercise1", next="exercise2") in child.before
    quit_and_check_nothing_left(child, course_dir)


def test_poll_works_where_events_are_suppressed(course_dir):
    child = start(course_dir, "--poll", env={NO_EVENTS_ENV: "1"})
    save_by_rename(course_dir, (course_dir / SOLUTION).read_bytes())
    child.expect_exact(watch.PASSED_NEXT.format(id="exercise1", next="exercise2"))
    assert "--poll" not in child.before
    quit_and_check_nothing_left(child, course_dir)


def test_keys_pressed_while_grading_are_ignored(course_dir):
    child = start(course_dir)
    # A solution whose import takes seconds: the key surely arrives while it is being graded.
    slow = b"import time\ntime.sleep(3)\n" + (course_dir / SOLUTION).read_bytes()
    save_in_place(course_dir, slow)
    child.expect_exact(watch.GRADING.format(id="exercise1"))
    child.send("q")
    child.expect_exact(watch.KEYS)  # the result is shown
    # ... and the q was thrown away, not read afterwards as "quit": it does not say goodbye.
    assert child.expect_exact([watch.BYE, pexpect.TIMEOUT], timeout=3) == 1
    assert child.isalive()
    child.send("r")  # a key pressed now is read
    child.expect_exact(watch.GRADING.format(id="exercise1"))
    child.expect_exact(watch.KEYS)
    quit_and_check_nothing_left(child, course_dir)


def test_a_save_gets_a_first_look_under_one_start_method_then_the_whole_verdict(course_dir):
    child = start(course_dir, "--start-method", "spawn", env={"NO_COLOR": "1"})  # the first look: fork's
    save_in_place(course_dir, (course_dir / SOLUTION).read_bytes())
    child.expect_exact(watch.GRADING.format(id="exercise1"))
    child.expect_exact("✓ each child reports the name it was given")  # streamed, the moment it is judged
    assert "exercise1 · Process basics" in child.before and "Score" not in child.before
    child.expect_exact(watch.FIRST_LOOK.format(method="fork", others="spawn"))
    streamed, _, first_look = child.before.partition("\x1b[2J")  # the finished first look replaces the lines
    assert streamed.count("✓") == 6 and "Score" not in streamed  # exercise 1's other six checks, one by one
    assert "exercise1 · Process basics" in first_look and "Score 10/10" in first_look
    assert "0/14" in first_look  # not yet recorded as done: only the whole verdict is
    child.expect_exact(watch.PASSED_NEXT.format(id="exercise1", next="exercise2"))
    assert "exercise1 · Process basics" in child.before and "1/14" in child.before  # the whole verdict
    child.send("r")  # r grades every start method at once: no first look
    child.expect_exact(watch.GRADING.format(id="exercise1"))
    child.expect_exact(watch.PASSED_NEXT.format(id="exercise1", next="exercise2"))
    assert watch.FIRST_LOOK.format(method="fork", others="spawn") not in child.before
    quit_and_check_nothing_left(child, course_dir)


def test_a_first_look_that_hangs_is_the_result(course_dir):
    child = start(course_dir, "--start-method", "spawn", "--timeout", "2", env={"NO_COLOR": "1"})
    save_in_place(course_dir, b"while True:\n    pass\n")
    child.expect_exact(watch.GRADING.format(id="exercise1"))
    child.expect_exact(watch.FIRST_LOOK_HUNG.format(method="fork", others="spawn"))
    shown = child.before
    child.expect_exact(watch.KEYS)
    # One hang, under fork: spawn's grading, which would wait as long again, was not started.
    assert shown.count("[timeout · fork]") == 1 and "spawn]" not in shown
    assert watch.FIRST_LOOK.format(method="fork", others="spawn") not in shown
    quit_and_check_nothing_left(child, course_dir)


def test_a_save_wakes_the_loop_through_the_watchers_file_descriptor(tmp_path, monkeypatch):
    """The loop waits in select() on the watcher (and the keys): a save is seen when reported, not
    at the loop's next tick. Structural: the descriptor turns readable, and drain() empties it."""
    import select

    from grader.filewatch import FileWatcher

    monkeypatch.delenv(NO_EVENTS_ENV, raising=False)
    path = tmp_path / "exercise1_process.py"
    path.write_text("x = 1\n")
    watcher = FileWatcher(path).start()
    try:
        assert select.select([watcher], [], [], 0)[0] == []
        for attempt in range(20):  # the watcher may still be setting up its inotify watch
            (tmp_path / "new.tmp").write_text(f"x = {attempt + 2}\n")
            os.replace(tmp_path / "new.tmp", path)  # one event, whatever the load: one report
            if select.select([watcher], [], [], 3)[0]:
                break
        else:
            pytest.fail("no save was reported on the watcher's descriptor")
        assert watcher.drain() is True
        assert select.select([watcher], [], [], 0)[0] == [] and watcher.drain() is False
    finally:
        watcher.close()
