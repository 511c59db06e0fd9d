"""Same submission, same verdict: every variant and hostile file graded N times under load.

    python bench/repeat_verdicts.py [--repeat 10] [--burners 2] [--jobs 1] [--only NAME ...] [--start-method M ...]

Grades every file of tests/variants/ that course.yaml names (known bugs and correct
variants, each as its exercise) and every hostile submission of tests/hostile/ (as
exercise 1, on a copy of the course), REPEAT times each, while BURNERS CPU-bound processes
keep the cores busy. Prints every file whose verdict differed between runs: its exercise's
status and score, and each check's status and category under each start method. Exit
status 1 if any differed (or a grading gave no JSON document), else 0. With --jobs N, N
files are graded at once (each file's runs one after another): more load, less wall time.
Not part of CI: it loads the machine on purpose, for as long as it runs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course import load_course  # noqa: E402 - after the path that makes it importable


def _burn() -> None:
    # A session of its own, as any other program's: the kernel shares CPUs between sessions
    # first (sched_autogroup), so burners in the bench's session would load the sandboxes (each
    # a session) hardly at all.
    os.setsid()
    while True:
        pass


@contextlib.contextmanager
def burning(n: int):
    burners = [multiprocessing.Process(target=_burn, daemon=True, name=f"burner-{i}") for i in range(n)]
    for burner in burners:
        burner.start()
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.join()


def submissions(course) -> list[tuple[str, Path, str]]:
    """(exercise id, file, label) for every hostile file, then every variant."""
    found = [("exercise1", path, str(path.relative_to(ROOT))) for path in sorted((ROOT / "tests" / "hostile").glob("*.py"))]
    for ex in course.exercises:
        for bug in ex.known_bugs:
            found.append((ex.id, bug.path, str(bug.path.relative_to(ROOT))))
        for path in ex.correct_variants:
            found.append((ex.id, path, str(path.relative_to(ROOT))))
    return found


def signature(document: dict) -> tuple:
    """What must not vary between runs of one file."""
    checks = tuple(sorted((c["name"], c.get("start_method") or "", c["status"], c["category"])
                          for c in document.get("checks", ())))
    return document.get("status"), document.get("score"), checks


def grade_once(exercise: str, path: Path, course_root: Path, methods: list[str], timeout: float | None) -> tuple:
    args = [sys.executable, "-m", "grader", exercise, "--submission", str(path), "--format", "json",
            "--course", str(course_root)]
    for method in methods:
        args += ["--start-method", method]
    if timeout:
        args += ["--timeout", str(timeout)]
    env = dict(os.environ, HOSTILE_TARGET=str(course_root))  # the tampering file aims at the copy
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900, cwd=course_root)
    try:
        return signature(json.loads(proc.stdout))
    except ValueError:
        return ("no JSON document", proc.returncode, proc.stderr[-300:])


def describe(runs: list[tuple]) -> str:
    """How the runs of one file differed: the top line, then each check that did not always agree."""
    lines = [f"    status/score: {sorted({(r[0], r[1]) for r in runs}, key=str)}"]
    per_check: dict[tuple, set] = {}
    for run in runs:
        for name, method, status, category in (run[2] if isinstance(run[2], tuple) else ()):
            per_check.setdefault((name, method), set()).add((status, category))
    for (name, method), seen in per_check.items():
        if len(seen) > 1:
            lines.append(f"    {name} [{method}]: {sorted(seen)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--burners", type=int, default=2, help="CPU-bound processes while grading (default 2)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME",
                        help="only files whose path contains NAME (repeatable)")
    parser.add_argument("--start-method", action="append", default=[], dest="methods")
    parser.add_argument("--timeout", type=float, default=None, help="override the exercises' time limits")
    parser.add_argument("--jobs", type=int, default=1, help="files graded at once (default 1)")
    args = parser.parse_args(argv)

    course = load_course(ROOT)
    chosen = [s for s in submissions(course) if not args.only or any(n in s[2] for n in args.only)]
    scratch = Path(tempfile.mkdtemp(prefix="repeat-verdicts-"))
    copy = scratch / "course"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".grade", "__pycache__",
                                                              "*.egg-info", ".pytest_cache"))
    differing = 0
    started = time.monotonic()

    def repeated(exercise: str, path: Path) -> list[tuple]:
        return [grade_once(exercise, copy / path.relative_to(ROOT), copy, args.methods, args.timeout)
                for _ in range(args.repeat)]

    try:
        with burning(args.burners), concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            futures = {pool.submit(repeated, exercise, path): (exercise, label) for exercise, path, label in chosen}
            for future in concurrent.futures.as_completed(futures):
                exercise, label = futures[future]
                runs = future.result()
                same = len(set(runs)) == 1 and runs[0][0] != "no JSON document"
                print(f"{'same' if same else 'DIFFERENT'}  {label}  ({exercise}, {args.repeat} runs): "
                      f"{runs[0][0]} {runs[0][1]}", flush=True)
                if not same:
                    differing += 1
                    print(describe(runs), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    minutes = (time.monotonic() - started) / 60
    print(f"{len(chosen)} files x {args.repeat} runs with {args.burners} burners, {args.jobs} at once, "
          f"in {minutes:.1f} min: "
          f"{differing} differed")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
