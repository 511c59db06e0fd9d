"""What the timeline costs: recording (the probe's extra events) and rendering (--timeline, --trace, html).

    python bench/timeline_cost.py [--pairs 7] [--calls 2000]

1. Recording, per call: a child-free loop of Queue put+get and Lock acquire+release under
   the probe as it is now, and under the probe of the commit before issue 11 (no wait
   events, no object ids), in alternating pairs; median µs per operation.
2. Grading, paired: `grade exercise5 --start-method fork` on the solution, alternately with
   and without `--timeline --trace FILE`, median wall time of each and of the differences.
3. Rendering alone: timeline.build + the three renderers on the hang of a real variant.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _course import ROOT, copy_course

OLD_PROBE_COMMIT = "47209af"  # the probe before issue 11
LOOP = r"""
import multiprocessing, os, sys, tempfile, time
if sys.argv[1].endswith("new"):
    from grader import probe  # the probe now (it imports its package's schedule module)
else:
    sys.path.insert(0, sys.argv[1])
    import probe
d = tempfile.mkdtemp(); os.mkdir(d + "/events"); os.mkdir(d + "/stacks")
probe.install(d, __file__)
q, lock, n = multiprocessing.Queue(), multiprocessing.Lock(), int(sys.argv[2])
started = time.perf_counter()
for i in range(n):
    q.put(i)
    q.get()
    with lock:
        pass
print((time.perf_counter() - started) / n * 1e6)
"""


def recording(pairs: int, calls: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-probe-"))
    try:
        (work / "new").mkdir()
        (work / "old").mkdir()
        shutil.copy(ROOT / "grader" / "probe.py", work / "new" / "probe.py")
        old = subprocess.run(["git", "show", f"{OLD_PROBE_COMMIT}:grader/probe.py"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout
        (work / "old" / "probe.py").write_text(old)
        (work / "loop.py").write_text(LOOP)
        times = {"old": [], "new": []}
        for _ in range(pairs):
            for which in ("old", "new"):
                out = subprocess.run([sys.executable, str(work / "loop.py"), str(work / which), str(calls)],
                                     capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": ""})
                times[which].append(float(out.stdout.strip()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    old_m, new_m = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"recording: put+get+lock round, median of {pairs}: before issue 11 {old_m:.1f} µs, now {new_m:.1f} µs "
          f"(+{new_m - old_m:.1f} µs, {100 * (new_m - old_m) / old_m:+.0f}%)")


def grading(pairs: int) -> None:
    course = copy_course()
    grade = shutil.which("grade") or str(Path(sys.executable).with_name("grade"))
    trace = course.parent / "t.json"
    base = [grade, "exercise5", "--submission", str(course / "solutions" / "exercise5_queue.py"),
            "--start-method", "fork", "--format", "json", "--output", str(course.parent / "v.json")]
    plain, timed = [], []
    try:
        for i in range(pairs):
            order = [(plain, base), (timed, base + ["--timeline", "--trace", str(trace)])]
            for bucket, command in (order if i % 2 == 0 else order[::-1]):
                started = time.perf_counter()
                subprocess.run(command, cwd=course, capture_output=True, check=False)
                bucket.append(time.perf_counter() - started)
        size = trace.stat().st_size
    finally:
        shutil.rmtree(course.parent, ignore_errors=True)
    diffs = [b - a for a, b in zip(plain, timed, strict=True)]
    print(f"grading exercise5 (fork), {pairs} pairs: without {statistics.median(plain):.2f} s, with --timeline "
          f"--trace {statistics.median(timed):.2f} s, median paired difference {statistics.median(diffs) * 1000:+.0f} ms"
          f" (trace file {size / 1024:.0f} KiB)")


def rendering(pairs: int) -> None:
    sys.path.insert(0, str(ROOT))
    from grader import timeline
    from grader.course import load_course
    from grader.report import html, timeline_text, trace
    from grader.runner import Options, grade
    from grader.verdict import ExerciseVerdict, RunVerdict

    course = load_course(ROOT)
    variant = ROOT / "tests/variants/exercise5/one_sentinel_several_consumers.py"
    run = grade(course, [course.find("exercise5")], variant, Options(start_methods=("fork",), timeout=3,
                                                                      timeline=True))
    (verdict,) = run.exercises
    tl = verdict.timelines[0]
    costs = {"html": [], "trace": [], "text": []}
    for _ in range(pairs):
        for name, call in (("html", lambda: html.render(run)), ("trace", lambda: trace.render(run)),
                           ("text", lambda: timeline_text.render(run))):
            started = time.perf_counter()
            call()
            costs[name].append((time.perf_counter() - started) * 1000)
    from grader.observations import Event, Observation

    flood = tuple(Event(t=1 + i * 1e-5, pid=1 + i % 4, kind="queue.put", internal=False, where="x.py:1",
                        data={"q": "Q", "value": "1"}) for i in range(20_000))
    obs = Observation(driver="d", start_method="fork", outcome="returned", events=flood, student_file="x.py")
    started = time.perf_counter()
    built = timeline.build(obs)
    build_ms = (time.perf_counter() - started) * 1000
    rendered = RunVerdict(exercises=(ExerciseVerdict(**{**verdict.__dict__, "timelines": (built,)}),))
    print(f"rendering the real hang ({len(tl['processes'])} rows, {len(tl['spans'])} spans, {len(tl['instants'])} "
          f"instants), median of {pairs}: html {statistics.median(costs['html']):.1f} ms, trace "
          f"{statistics.median(costs['trace']):.1f} ms, text {statistics.median(costs['text']):.1f} ms")
    print(f"a flood of 20,000 puts: build {build_ms:.0f} ms, kept {len(built['instants'])} instants "
          f"(dropped {built['dropped']}), html {len(html.render(rendered)) / 1024:.0f} KiB, trace "
          f"{len(trace.render(rendered)) / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    recording(args.pairs, args.calls)
    rendering(args.pairs)
    grading(args.pairs)


if __name__ == "__main__":
    main()
