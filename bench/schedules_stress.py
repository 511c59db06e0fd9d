"""Stress figures for schedule exploration (issue 10): how often a verdict holds.

Grades each timing-dependent known bug, solution and correct variant REPEAT times through
the real command line (`grade EX --submission FILE --format json`), idle or with CPU
burners running beside it (for at most --burn-seconds: the machine is shared), and counts: a known bug must fail with its category every
time, a solution or correct variant must pass every time. `--replay` also re-grades each
failure with the seed its verdict names and counts how often the failure comes back.

    python bench/schedules_stress.py --repeat 20 --burners 2 --replay 10
    python bench/schedules_stress.py --only exercise12 --repeat 5
    python bench/schedules_stress.py --what passing --burners 2 --jobs 2 --burn-seconds 3600

Timings are printed, never asserted (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.course import load_course  # noqa: E402

# The timing-dependent known bugs: they fail only when the schedule is unkind.
TIMING_BUGS = {
    "exercise4": ["tests/variants/exercise4/poll_timeout_receiver.py"],
    "exercise5": ["tests/variants/exercise5/stops_when_queue_looks_empty.py"],
    "exercise7": ["tests/variants/exercise7/stops_when_queue_looks_empty.py"],
    "exercise10": ["tests/variants/exercise10/imap_unordered_squares.py"],
    "exercise11": ["tests/variants/exercise11/waits_for_last_only.py",
                   "tests/variants/exercise11/get_after_with_block.py"],
    "exercise12": ["tests/variants/exercise12/unordered_where_order_promised.py"],
    "exercise14": ["tests/variants/exercise14/queue_in_finish_order.py"],
}


def _burn(stop, seconds):
    """Busy for at most `seconds`: the shared machine's rule is no load generator over a minute."""
    # A session of its own, as any other program's: the kernel shares CPUs between sessions
    # first (sched_autogroup), so burners in the bench's session would load the sandboxes (each
    # a session) hardly at all.
    os.setsid()
    deadline = time.monotonic() + seconds
    while not stop.is_set() and time.monotonic() < deadline:
        sum(i * i for i in range(10_000))


def grade(exercise: str, path: str, extra: tuple[str, ...] = ()) -> dict:
    command = [sys.executable, "-m", "grader", exercise, "--submission", path, "--format", "json", *extra]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {"status": "error", "checks": [], "message": done.stderr[-500:]}


def categories(verdict: dict) -> set[str]:
    return {c["category"] for c in verdict.get("checks", []) if c["status"] == "fail"}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--burners", type=int, default=0, help="CPU burners running beside the gradings")
    parser.add_argument("--burn-seconds", type=float, default=60, help="the burners stop after this long")
    parser.add_argument("--replay", type=int, default=0, help="replays of each failure's seed")
    parser.add_argument("--only", action="append", default=[], help="exercise ids to include")
    parser.add_argument("--what", choices=("bugs", "passing", "both"), default="both")
    parser.add_argument("--jobs", type=int, default=1, help="gradings at once (more load, less wall time)")
    args = parser.parse_args(argv)
    course = load_course(ROOT)
    expected = {str(b.path.relative_to(ROOT)): b.category for ex in course.exercises for b in ex.known_bugs}
    cases = []
    for ex in course.exercises:
        if args.only and ex.id not in args.only:
            continue
        if args.what in ("bugs", "both"):
            cases += [(ex.id, path, expected.get(path, "?")) for path in TIMING_BUGS.get(ex.id, [])]
        if args.what in ("passing", "both"):
            cases += [(ex.id, str(p.relative_to(ROOT)), "pass") for p in (ex.solution, *ex.correct_variants)]
    stop = multiprocessing.Event()
    burners = [multiprocessing.Process(target=_burn, args=(stop, args.burn_seconds), daemon=True)
               for _ in range(args.burners)]
    for b in burners:
        b.start()
    bad = 0
    try:
        for exercise, path, want in cases:
            good, seeds, started = 0, [], time.monotonic()
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                verdicts = list(pool.map(grade, [exercise] * args.repeat, [path] * args.repeat))
            for verdict in verdicts:
                if want == "pass":
                    good += verdict.get("status") == "pass"
                else:
                    good += verdict.get("status") == "fail" and want in categories(verdict)
                    seed = (verdict.get("schedules") or {}).get("seed")
                    if seed:
                        seeds.append(seed)
            line = f"{exercise:11} {Path(path).name:40} {want:13} {good}/{args.repeat}"
            if args.replay and seeds:
                again = sum(verdict.get("status") == "fail" and want in categories(verdict)
                            for verdict in (grade(exercise, path, ("--seed", str(seeds[0])))
                                            for _ in range(args.replay)))
                line += f"  replay of seed {seeds[0]}: {again}/{args.replay}"
            elif args.replay and want != "pass":
                line += "  (failed unperturbed: no seed to replay)"
            load = open("/proc/loadavg").read().split()[0]
            print(f"{line}  {time.monotonic() - started:.0f} s  load {load}", flush=True)
            bad += good != args.repeat
    finally:
        stop.set()
        for b in burners:
            b.join(2)
    print(f"burners={args.burners} repeat={args.repeat}: {len(cases) - bad} of {len(cases)} cases held every time")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
