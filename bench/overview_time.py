"""How long `grade` alone (the overview) takes: wall time of the whole command, median of N runs.

    python bench/overview_time.py [--runs 10]

Runs the installed `grade` script in a copy of the course whose state file records a few
exercises (as a student's would after some work); the first run (welcome, originals kept)
is timed apart.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _course import copy_course


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    course = copy_course()
    grade = shutil.which("grade") or str(Path(sys.executable).with_name("grade"))
    try:
        first = _time(grade, course)
        solution = course / "solutions" / "exercise1_process.py"
        (course / "exercises" / "exercise1_process.py").write_bytes(solution.read_bytes())
        subprocess.run([grade, "exercise1", "--start-method", "fork"], cwd=course, capture_output=True, check=False)
        runs = [_time([grade], course) for _ in range(args.runs)]
        baseline = [_time([sys.executable, "-c", "pass"], course, check=False) for _ in range(args.runs)]
    finally:
        shutil.rmtree(course.parent, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"first run (welcome, originals kept): {first[0] * 1000:.0f} ms")
    for label, values in (("grade (overview)", runs), ("python -c pass (baseline)", baseline)):
        wall, cpu = [v[0] for v in values], [v[1] for v in values]
        print(f"{label}, median of {args.runs}: {statistics.median(wall) * 1000:.0f} ms wall "
              f"(min {min(wall) * 1000:.0f}, max {max(wall) * 1000:.0f}), "
              f"{statistics.median(cpu) * 1000:.0f} ms CPU")


def _time(command: list[str], course: Path, check: bool = True) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(command, cwd=course, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and (proc.returncode != 0 or "Progress:" not in proc.stdout):
        raise SystemExit(f"grade failed: {proc.stdout}{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


if __name__ == "__main__":
    main()
