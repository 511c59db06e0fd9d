"""Confinement figures (issue 7), not part of the test suite.

    python bench/confinement.py [--python PATH] [--rounds 15] [--skip-cost]

1. Course files changed by each tampering attack of tests/hostile/confinement/ after
   `grade exercise1` on a fresh copy of the course (the whole copy hashed before and after).
2. The fork bomb's peak count of the submission's processes (sampled every 20 ms).
3. The cost of confinement per sandbox start: Sandbox.start() + close() of a trivial module,
   paired rounds with GRADE_CONFINE=1 and =0, the median of the per-round differences.

--python grades 1 and 2 with another interpreter, e.g. a venv whose grader is a worktree of
the main before issue 7 (the "before" figures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import psutil  # noqa: E402
from conftest import copy_course  # noqa: E402
from test_confinement import _changed, _course_files, _submission, _tree_hash  # noqa: E402

ATTACKS = ("walkup_append", "ctypes_write", "shell_append", "rename_over_check", "deletes_course_yaml")


def grade(root: Path, submission: Path, src: str | None, mark: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, HOSTILE_TARGET=str(root), HOSTILE_FILES="\n".join(_course_files(root)),
               HOSTILE_MARK=mark)
    return subprocess.run([src or sys.executable, "-m", "grader", "exercise1", "--submission", str(submission),
                           "--course", str(root), "--format", "json", "--start-method", "fork",
                           "--timeout", "5"], capture_output=True, text=True, timeout=300, env=env,
                          cwd=root.parent)  # not this checkout: its grader/ would shadow --python's


def tampering(src: str | None) -> None:
    for attack in ATTACKS:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            root = copy_course(tmp / "course")
            before = _tree_hash(root)
            proc = grade(root, _submission(tmp, attack), src, uuid.uuid4().hex)
            changed = _changed(before, _tree_hash(root))
            print(f"{attack:<22} exit {proc.returncode:>3}  course files changed: {len(changed)}")


def fork_bomb(src: str | None) -> None:
    mark = uuid.uuid4().hex
    peak, done = [0], threading.Event()

    def count():
        n = 0
        for p in psutil.process_iter():
            try:
                if p.environ().get("HOSTILE_MARK") == mark and p.cmdline()[1:3] != ["-m", "grader"]:
                    n += 1
            except (psutil.Error, OSError):
                continue
        return n

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], count())
            time.sleep(0.02)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        root = copy_course(tmp / "course")
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            proc = grade(root, _submission(tmp, "fork_bomb"), src, mark)
        finally:
            done.set()
            watcher.join()
    time.sleep(0.5)
    print(f"fork bomb: exit {proc.returncode}, peak {peak[0]} processes (cap 64), left running {count()}")


def start_cost(rounds: int) -> None:
    from grader.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "student.py").write_text("x = 1\n")
        (tmp / "drivers_mod.py").write_text("def call(student):\n    return student.x\n")
        on, off, diffs = [], [], []
        for _ in range(rounds):
            seconds = {}
            for flag in ("1", "0"):
                os.environ["GRADE_CONFINE"] = flag
                started = time.perf_counter()
                with Sandbox(tmp / "student.py", "student", tmp / "drivers_mod.py", "fork", 10) as box:
                    box.run("call")
                seconds[flag] = time.perf_counter() - started
            on.append(seconds["1"])
            off.append(seconds["0"])
            diffs.append(seconds["1"] - seconds["0"])
        os.environ.pop("GRADE_CONFINE")
    print(f"sandbox start+run+close, {rounds} paired rounds: confined median {statistics.median(on) * 1000:.1f} ms, "
          f"unconfined {statistics.median(off) * 1000:.1f} ms, median difference "
          f"{statistics.median(diffs) * 1000:+.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=None, help="the interpreter that grades (default: this one)")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--skip-cost", action="store_true")
    args = parser.parse_args()
    tampering(args.python)
    fork_bomb(args.python)
    if not args.skip_cost:
        start_cost(args.rounds)


if __name__ == "__main__":
    main()
