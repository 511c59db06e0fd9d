"""Watch mode's re-grade latency: from a save to the result on screen, median of N saves.

    python bench/watch_latency.py [--runs 10] [--start-method fork ...] [--poll]

Drives `grade watch exercise1` in a pseudo-terminal (pexpect) in a copy of the course and
saves exercise1's file N times (the solution, each time with a different trailing comment
so the bytes change). For each save it notes three moments: the re-grade starts ("Grading
exercise1…" appears), the first line of the result appears (the exercise's heading, which
is shown with the first check's line, the moment that check is judged), and the whole
result is shown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

import pexpect
from _course import copy_course

from grader.commands import watch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--start-method", action="append", default=[], dest="methods")
    parser.add_argument("--poll", action="store_true")
    args = parser.parse_args()
    course = copy_course()
    extra = [a for m in args.methods for a in ("--start-method", m)] + (["--poll"] if args.poll else [])
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    child = pexpect.spawn(sys.executable, ["-m", "grader", "watch", "exercise1", *extra], cwd=str(course),
                          env=env, encoding="utf-8", timeout=120, dimensions=(80, 200))
    stub = course / "exercises" / "exercise1_process.py"
    solution = (course / "solutions" / "exercise1_process.py").read_bytes()
    starts, results, totals = [], [], []
    try:
        child.expect_exact(watch.KEYS)
        for n in range(args.runs):
            time.sleep(0.5)  # let the watcher settle, as between two real saves
            saved = time.perf_counter()
            stub.write_bytes(solution + f"\n# save {n}\n".encode())
            child.expect_exact(watch.GRADING.format(id="exercise1"))
            starts.append(time.perf_counter() - saved)
            child.expect_exact("exercise1 · Process basics")
            results.append(time.perf_counter() - saved)
            child.expect_exact(watch.KEYS)
            totals.append(time.perf_counter() - saved)
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
        shutil.rmtree(course.parent, ignore_errors=True)
    methods = ", ".join(args.methods) or "fork, forkserver, spawn"
    print(f"grade watch exercise1 ({methods}{', --poll' if args.poll else ''}), {args.runs} saves:")
    for label, values in (("save -> re-grade starts", starts), ("save -> first line of the result", results),
                          ("save -> whole result shown", totals)):
        print(f"  {label}: median {statistics.median(values) * 1000:.0f} ms "
              f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})")


if __name__ == "__main__":
    main()
