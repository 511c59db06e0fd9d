"""A class of generated submissions through `grade batch` (not part of CI), and the one-core Gradescope run.

    python bench/batch_class.py [--students 40] [--jobs 1,2,0] [--exercises exercise1,exercise4]
    python bench/batch_class.py --gradescope      # the whole course's run_autograder pinned to core 0

The class (made from the course's own files): correct students, buggy ones (known bugs),
hanging, flooding, students who handed in one file, one corrupt zip, and zips nesting the
files in a repository folder. For each --jobs value (0 = the default, the number of cores)
the class is graded into a fresh folder and the figures printed: wall time, students per
minute, CPU seconds used by the batch's process tree, and the busy share of each core over
the run (from /proc/stat: that includes whatever else the machine runs; say so when quoting).

--gradescope exports the whole course, unpacks it into a temporary autograder tree and runs
its run_autograder on the solutions under `taskset -c 0` (one core, as Gradescope's ½ vCPU is
at most one), printing the wall time and the results' score.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def make_class(root: Path, students: int, exercises: list[str]) -> Path:
    """`students` submissions cycling through the kinds a real class hands in."""
    sys.path.insert(0, str(ROOT))
    from grader.course import load_course

    course = load_course(ROOT)
    chosen = [course.find(e) for e in exercises]
    subs = root / "submissions"
    subs.mkdir(parents=True)
    kinds = ["correct", "buggy", "correct", "hangs", "floods", "one_file", "correct", "buggy", "zipped", "correct"]
    for n in range(students):
        kind = "corrupt" if n == students // 2 else kinds[n % len(kinds)]
        name = f"student{n:02d}_{kind}"
        if kind == "corrupt":
            (subs / f"{name}.zip").write_bytes(b"PK\x03\x04 not a zip at all")
            continue
        files = {e.file.name: e.solution for e in chosen}
        first = chosen[0]
        if kind == "buggy":
            bug = first.known_bugs[n % len(first.known_bugs)]
            files[first.file.name] = bug.path
        elif kind == "hangs":
            files[first.file.name] = ROOT / "tests/submissions/exercise1_deadlocks.py"
        elif kind == "floods":
            files[first.file.name] = ROOT / "tests/submissions/exercise1_floods_output.py"
        elif kind == "one_file":
            files.pop(first.file.name)
        if kind == "zipped":
            with zipfile.ZipFile(subs / f"{name}.zip", "w") as zf:
                for target, source in files.items():
                    zf.write(source, f"{name}-repo/exercises/{target}")
            continue
        folder = subs / name
        folder.mkdir()
        for target, source in files.items():
            shutil.copy(source, folder / target)
    return subs


def cpu_ticks() -> list[tuple[int, int]]:
    """(busy, total) jiffies per core, from /proc/stat."""
    result = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("cpu") and line[3].isdigit():
            values = [int(v) for v in line.split()[1:]]
            idle = values[3] + values[4]
            result.append((sum(values) - idle, sum(values)))
    return result


def course_copy(tmp: Path) -> Path:
    """The course and its grader, copied: a grading snapshots its course and puts back any file that
    changes meanwhile, so a long run on the working tree would undo the edits made beside it."""
    copy = tmp / "course"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".git", ".venv", ".grade", "__pycache__", "*.egg-info",
                                                              "bench", "docs"))
    return copy


def run_batch(course: Path, subs: Path, out: Path, jobs: int, exercises: list[str], timeout: str | None) -> dict:
    command = [PY, "-m", "grader", "batch", str(subs), "--out", str(out), "--course", str(course),
               "--exercises", ",".join(exercises)]
    if jobs:
        command += ["--jobs", str(jobs)]
    if timeout:
        command += ["--timeout", timeout]
    before_ticks, before_usage = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, cwd=course, capture_output=True, text=True)  # -m grader: the copy's
    wall = time.monotonic() - started
    after_ticks, after_usage = cpu_ticks(), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after_usage.ru_utime - before_usage.ru_utime) + (after_usage.ru_stime - before_usage.ru_stime)
    busy = [round(100 * (a[0] - b[0]) / max(1, a[1] - b[1])) for a, b in zip(after_ticks, before_ticks, strict=True)]
    students = len(list((out / "students").glob("*.meta.json")))
    return {"jobs": jobs or "default", "exit": done.returncode, "students": students, "wall_s": round(wall, 1),
            "students_per_min": round(60 * students / wall, 1), "cpu_s": round(cpu, 1),
            "cores_used": round(cpu / wall, 2), "core_busy_percent": busy, "last_line": done.stderr.strip()[-200:]}


def gradescope_one_core() -> dict:
    with tempfile.TemporaryDirectory(prefix="gradescope-bench-") as tmp:
        tree = Path(tmp)
        subprocess.run([PY, "-m", "grader", "export", "gradescope", str(tree / "a.zip"), "--course", str(ROOT)],
                       check=True, cwd=ROOT, capture_output=True)
        with zipfile.ZipFile(tree / "a.zip") as zf:
            zf.extractall(tree / "source")
        shutil.copytree(ROOT / "solutions", tree / "submission")
        env = {**os.environ, "GRADER_AUTOGRADER_DIR": str(tree), "GRADER_PYTHON": PY}
        started = time.monotonic()
        subprocess.run(["taskset", "-c", "0", "bash", str(tree / "source" / "run_autograder")], env=env,
                       capture_output=True, check=True)
        wall = time.monotonic() - started
        results = json.loads((tree / "results" / "results.json").read_text())
        kept = Path(tempfile.gettempdir()) / "gradescope-bench-results.json"
        shutil.copy(tree / "results" / "results.json", kept)
    failed = [f"{t['name']}: {t['output'].splitlines()[0] if t['output'] else ''}"
              for t in results["tests"] if t["status"] != "passed"]
    return {"wall_s": round(wall, 1), "score": results["score"], "tests": len(results["tests"]), "failed": failed,
            "results": str(kept)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", default="1,2,0", help="comma-separated; 0 = the default (the number of cores)")
    parser.add_argument("--exercises", default="exercise1,exercise4")
    parser.add_argument("--timeout", default=None, help="per check, passed to grade batch")
    parser.add_argument("--gradescope", action="store_true", help="only the one-core Gradescope run")
    parser.add_argument("--keep", default=os.path.join(tempfile.gettempdir(), "batch-bench-last"),
                        help="where the last run's verdicts, gradebook and report are kept")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    if args.gradescope:
        print(json.dumps(gradescope_one_core(), indent=1))
        return 0
    exercises = [e for e in args.exercises.split(",") if e]
    with tempfile.TemporaryDirectory(prefix="batch-bench-") as tmp:
        subs = make_class(Path(tmp), args.students, exercises)
        course = course_copy(Path(tmp))
        for jobs in (int(j) for j in args.jobs.split(",")):
            figures = run_batch(course, subs, Path(tmp) / f"out-{jobs}", jobs, exercises, args.timeout)
            print(json.dumps(figures), flush=True)
        keep = Path(args.keep)
        shutil.rmtree(keep, ignore_errors=True)
        shutil.copytree(Path(tmp) / f"out-{args.jobs.split(',')[-1]}", keep)
        print(f"the last run's gradebook and report: {keep}")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
