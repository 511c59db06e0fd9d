"""Measure the grader on this machine and rewrite docs/benchmarks.md.

    python bench/run.py                       # every figure, >= 5 runs each (about 50 minutes)
    python bench/run.py --quick               # 3 runs each, fewer exercises: a smoke run of the harness
    python bench/run.py --only hangs --only watch   # re-measure some sections, keep the others

Every run also writes docs/benchmarks.json, the figures as data: --only re-measures the
sections it names, takes the others from that file as they were, and the page says for
each section when, at which commit and at which load it was measured.

Each figure is the median with min-max of its runs. Ratios are paired: the commands of
one comparison run one after another in each round, and the ratio is the median of the
per-round ratios, so a change of load between rounds cancels out. Every figure is taken
twice, with bytecode caching off (PYTHONDONTWRITEBYTECODE=1, as on our CI machines) and
on (as on a student's laptop). Nothing here is part of the test suite: timings belong
here, never in tests/.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import yaml

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable
COMMAND_LIMIT_S = 600  # no figure's command takes this long: one that does is broken, not slow
MODE_SECTIONS = ("exercises", "hangs", "course", "memory")  # measured with and without bytecode caching
SCRIPT_SECTIONS = ("batch", "gradescope", "watch", "overview")  # quoted as their own scripts print them

# Submissions whose verdict is a hang, and the exercise they stand in for.
HANGS = {
    "deadlock (every child blocks in Queue.get())": ("exercise1", "tests/submissions/exercise1_deadlocks.py"),
    "endless loop at import": ("exercise1", "tests/hostile/busy_loop.py"),
    "non-daemon child left running": ("exercise1", "tests/hostile/nondaemon_left_running.py"),
}


@dataclass
class Figure:
    name: str
    runs: list[float] = field(default_factory=list)
    unit: str = "s"

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    def shown(self) -> str:
        if not self.runs:
            return "n/a"
        if self.unit == "x":
            return f"{self.median:.2f}× ({min(self.runs):.2f}–{max(self.runs):.2f})"
        if self.unit == "MiB":
            return f"{self.median:.0f} MiB ({min(self.runs):.0f}–{max(self.runs):.0f})"
        if self.unit == "/min":
            return f"{self.median:.1f}/min ({min(self.runs):.1f}–{max(self.runs):.1f})"
        return f"{self.median:.2f} s ({min(self.runs):.2f}–{max(self.runs):.2f})"


def env_for(bytecode: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def timed(cmd: list[str], env: dict[str, str], cwd: Path = ROOT, ok=(0, 1)) -> float:
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=COMMAND_LIMIT_S)
    except subprocess.TimeoutExpired:
        raise SystemExit(f"bench: {' '.join(cmd)} did not end within {COMMAND_LIMIT_S} s") from None
    elapsed = time.perf_counter() - started
    if proc.returncode not in ok:
        raise SystemExit(f"bench: {' '.join(cmd)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed


def peak_rss_mib(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Peak resident memory of the grader's own process, and of the largest sandbox process, in MiB.

    The grader runs in-process here, so RUSAGE_SELF is the grader and RUSAGE_CHILDREN the
    largest of its descendants (Linux folds a child's own children into that maximum).
    """
    probe = ("import json, resource, sys; from grader.cli import main; main(sys.argv[1:]); "
             "print(json.dumps([resource.getrusage(w).ru_maxrss for w in "
             "(resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]), file=sys.stderr)")
    proc = subprocess.run([PY, "-c", probe, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    grader_kib, sandbox_kib = json.loads(proc.stderr.strip().splitlines()[-1])
    return grader_kib / 1024, sandbox_kib / 1024


class Bench:
    def __init__(self, rounds: int, quick: bool):
        self.rounds, self.quick = rounds, quick
        self.course = yaml.safe_load((ROOT / "course.yaml").read_text())
        self.tmp = Path(tempfile.mkdtemp(prefix="grade-bench-"))
        (self.tmp / "test_one.py").write_text("def test_one():\n    assert True\n")
        self.sections: list[dict] = []

    # ------------------------------------------------------------------ commands
    def grade_cmd(self, exercise: dict, file: str, *extra: str) -> list[str]:
        return [PY, "-m", "grader", exercise["id"], "--submission", str(ROOT / file), "--format", "json", *extra]

    def unisolated_cmd(self, exercise: dict, file: str) -> list[str]:
        methods = exercise.get("start_methods") or self.course.get("defaults", {}).get(
            "start_methods", ["fork", "forkserver", "spawn"])
        return [PY, str(BENCH / "unisolated.py"), str(ROOT / exercise["tests"]), str(ROOT / file), *methods]

    def pytest_cmd(self) -> list[str]:
        # No plugin autoloading, as in a grading session: an installed plugin's import (anyio's
        # costs 0.5 s here, pulled in by watchfiles) would flatter the ratio.
        return ["env", "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1", PY, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                str(self.tmp / "test_one.py")]

    # ------------------------------------------------------------------ figures
    def paired(self, label: str, commands: dict[str, list[str]], env, cwd=ROOT) -> dict[str, Figure]:
        figures = {name: Figure(f"{label}: {name}") for name in commands}
        for _ in range(self.rounds):
            for name, cmd in commands.items():
                figures[name].runs.append(timed(cmd, env, cwd))
        return figures

    def ratio(self, a: Figure, b: Figure, name: str) -> Figure:
        return Figure(name, [x / y for x, y in zip(a.runs, b.runs, strict=True)], unit="x")

    def per_exercise(self, bytecode: bool) -> dict:
        env = env_for(bytecode)
        rows = []
        exercises = self.course["exercises"][:3] if self.quick else self.course["exercises"]
        for exercise in exercises:
            f = self.paired(exercise["id"], {
                "graded": self.grade_cmd(exercise, exercise["solution"]),
                "once": self.grade_cmd(exercise, exercise["solution"], "--schedules", "1"),
                "unisolated": self.unisolated_cmd(exercise, exercise["solution"]),
                "pytest": self.pytest_cmd(),
            }, env)
            rows.append({"id": exercise["id"], "graded": f["graded"].shown(), "once": f["once"].shown(),
                         "unisolated": f["unisolated"].shown(), "pytest": f["pytest"].shown(),
                         "vs_unisolated": self.ratio(f["graded"], f["unisolated"], "").shown(),
                         "once_vs_unisolated": self.ratio(f["once"], f["unisolated"], "").shown(),
                         "vs_pytest": self.ratio(f["graded"], f["pytest"], "").shown(),
                         "once_vs_pytest": self.ratio(f["once"], f["pytest"], "").shown()})
        return {"rows": rows}

    def hangs(self, bytecode: bool) -> dict:
        env = env_for(bytecode)
        timeout = 10
        rows = []
        for name, (exercise_id, file) in HANGS.items():
            exercise = next(e for e in self.course["exercises"] if e["id"] == exercise_id)
            figure = Figure(name)
            for _ in range(self.rounds):
                figure.runs.append(timed(self.grade_cmd(exercise, file, "--timeout", str(timeout)), env))
            rows.append({"name": name, "time": figure.shown(), "over": f"{figure.median - timeout:+.2f} s"})
        return {"timeout": timeout, "rows": rows}

    def whole_course(self, bytecode: bool) -> dict:
        env = env_for(bytecode)
        base = [PY, "-m", "grader", "--all", "--format", "json"]
        one_core = ["taskset", "-c", "0"] if shutil.which("taskset") else []
        commands = {
            "solutions, 2 cores": [*base, "--submission", str(ROOT / "solutions")],
            "solutions, 2 cores, no exploration (--schedules 1)": [*base, "--submission", str(ROOT / "solutions"),
                                                                   "--schedules", "1"],
            "stubs, 2 cores": [*base, "--submission", str(ROOT / "exercises")],
        }
        if one_core:
            commands["solutions, 1 core"] = [*one_core, *base, "--submission", str(ROOT / "solutions")]
        unisolated = {
            f"unisolated {e['id']}": self.unisolated_cmd(e, e["solution"]) for e in self.course["exercises"]}
        rounds = max(3, self.rounds - 2) if not self.quick else 1
        figures = {name: Figure(name) for name in commands}
        work = Figure("the same drivers' work, unisolated")
        for _ in range(rounds):
            for name, cmd in commands.items():
                figures[name].runs.append(timed(cmd, env))
            work.runs.append(sum(timed(cmd, env) for cmd in unisolated.values()))
        ratio = self.ratio(figures["solutions, 2 cores"], work, "")
        once = self.ratio(figures["solutions, 2 cores, no exploration (--schedules 1)"], work, "")
        return {"rows": [{"name": n, "time": f.shown()} for n, f in figures.items()],
                "work": work.shown(), "ratio": ratio.shown(), "once_ratio": once.shown()}

    def memory(self, bytecode: bool) -> dict:
        env = env_for(bytecode)
        exercise = self.course["exercises"][0]
        grader, sandbox = Figure("grader peak", unit="MiB"), Figure("sandbox peak", unit="MiB")
        for _ in range(self.rounds):
            mine, theirs = peak_rss_mib(self.grade_cmd(exercise, exercise["solution"])[3:], env)
            grader.runs.append(mine)
            sandbox.runs.append(theirs)
        return {"grader": grader.shown(), "sandbox": sandbox.shown()}

    def optional_script(self, script: str, *args: str) -> str | None:
        """Figures that other commands' own bench scripts measure (batch, watch), when present."""
        path = BENCH / script
        if not path.exists():
            return None
        proc = subprocess.run([PY, str(path), *args], cwd=ROOT, capture_output=True, text=True, timeout=1800)
        return (proc.stdout.strip() or proc.stderr.strip()[-500:]) or None


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "date": datetime.date.today().isoformat(), "load": os.getloadavg()[0]}


def commit() -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return proc.stdout.strip() or "unknown"


def measured() -> dict:
    """Where and when a section's figures were taken."""
    return {**machine(), "commit": commit()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs, 3 exercises: check the harness works")
    parser.add_argument("--rounds", type=int, default=None, help="runs per figure (default 5; --quick: 3)")
    parser.add_argument("--only", action="append", default=[], choices=MODE_SECTIONS + SCRIPT_SECTIONS,
                        help="measure only this section (repeatable); the others are kept from --data")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--data", type=Path, default=None, help="the figures as JSON (default: OUTPUT with .json)")
    args = parser.parse_args(argv)
    data_path = args.data or args.output.with_suffix(".json")
    bench = Bench(args.rounds or (3 if args.quick else 5), args.quick)
    wanted = set(args.only or MODE_SECTIONS + SCRIPT_SECTIONS)
    results = {"machine": machine(), "rounds": bench.rounds, "quick": args.quick, "modes": []}
    if args.only:
        try:
            results = json.loads(data_path.read_text())
        except (OSError, ValueError) as error:
            parser.error(f"--only keeps the other sections from {data_path}, which cannot be read ({error}): "
                         "run once without --only")
    modes = {m["label"]: m for m in results.get("modes", [])}
    for bytecode in (False, True):
        label = "bytecode cached (a laptop)" if bytecode else "PYTHONDONTWRITEBYTECODE=1 (CI, this machine)"
        mode = modes.setdefault(label, {"label": label})
        for section in MODE_SECTIONS:
            if section in wanted:
                print(f"bench: {label}: {section}", file=sys.stderr, flush=True)
                mode[section] = {**getattr(bench, SECTION_METHODS[section])(bytecode), "measured": measured()}
    results["modes"] = list(modes.values())
    # Figures that have their own scripts, quoted as they print them.
    scripts = {"batch": ("batch_class.py", "--students", "12" if args.quick else "40"),
               "gradescope": ("batch_class.py", "--gradescope"),
               "watch": ("watch_latency.py", "--runs", "3" if args.quick else "10"),
               "overview": ("overview_time.py", "--runs", "3" if args.quick else "10")}
    for section, (script, *script_args) in scripts.items():
        if section in wanted:
            print(f"bench: {section}", file=sys.stderr, flush=True)
            results[section] = {"text": bench.optional_script(script, *script_args), "measured": measured()}
    data_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(BENCH / "templates"),
                                  keep_trailing_newline=True).get_template("benchmarks.md.j2")
    args.output.write_text(template.render(**results))
    shutil.rmtree(bench.tmp, ignore_errors=True)
    print(f"bench: wrote {args.output} and {data_path}", file=sys.stderr)
    return 0


SECTION_METHODS = {"exercises": "per_exercise", "hangs": "hangs", "course": "whole_course", "memory": "memory"}


if __name__ == "__main__":
    sys.exit(main())
