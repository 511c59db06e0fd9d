"""The reliability run (not part of CI): verdicts that hold under load, on every Python.

    python bench/reliability.py [--repeat 50] [--pythons 3.10.13,3.12.1,3.13.0]

1. Every reference solution graded REPEAT times while two CPU-bound processes load both
   cores: 0 failures allowed.
2. Every hostile submission in tests/hostile/ graded under each start method alone, on a
   copy of the course, with a temporary folder of its own: 0 hangs (each verdict arrives),
   and after each grading 0 processes in its sandboxes' folders or names, 0 files left in
   that temporary folder and 0 semaphores in /dev/shm named after its sandboxes (other
   programs' gradings on the machine are not counted).
3. The course's solutions graded under each other Python (a venv per version, made with
   `pyenv`'s interpreters) with verdicts identical to this Python's, check by check.
Each finding is printed; the exit status is 1 if there is any.
"""

from __future__ import annotations

import argparse
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
PY = sys.executable


def _burn() -> None:
    # A session of its own, as any other program's: the kernel shares CPUs between sessions
    # first (sched_autogroup), so burners in the bench's session would load the sandboxes (each
    # a session) hardly at all.
    os.setsid()
    while True:
        pass


@contextlib.contextmanager
def loaded_cores(n: int = 2):
    burners = [multiprocessing.Process(target=_burn, daemon=True) for _ in range(n)]
    for b in burners:
        b.start()
    try:
        yield
    finally:
        for b in burners:
            b.kill()
            b.join()


def grade_json(python: str, *args: str, cwd: Path = ROOT, timeout: float = 900, env: dict | None = None) -> dict:
    proc = subprocess.run([python, "-m", "grader", *args, "--format", "json"], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"status": "error", "message": f"exit {proc.returncode}, no JSON: {proc.stderr[-500:]}"}


def signature(document: dict) -> list[tuple]:
    """What must not vary: per exercise status and score, per check status and category."""
    out = []
    for ex in document.get("exercises", [document]):
        out.append((ex.get("exercise"), ex.get("status"), ex.get("score")))
        out.extend((ex.get("exercise"), c["name"], c.get("start_method"), c["status"], c["category"])
                   for c in ex.get("checks", []))
    return out


def left_by(tmp: Path) -> tuple[list[str], list[str]]:
    """What gradings whose TMPDIR was `tmp` left: processes (still in a sandbox's folder there, or
    named after one), files in it, and semaphores named after its sandboxes. Gradings of other
    programs on the machine use other folders and other names: they are not counted."""
    import psutil

    names = {p.name for p in tmp.iterdir()} | SANDBOXES_SEEN
    processes = []
    for proc in psutil.process_iter(["pid", "name", "cwd"]):
        cwd = proc.info.get("cwd") or ""
        if cwd.startswith(str(tmp)) or proc.info.get("name") in names:
            processes.append(f"{proc.info['pid']} {proc.info['name']} in {cwd}")
    files = [str(p) for p in tmp.iterdir()]
    shm = Path("/dev/shm")
    if shm.is_dir():
        files += [str(p) for p in shm.glob("sem.mp-grade-*") if p.name.split("-")[2] in {n.split("-")[1] for n in names}]
    return processes, files


SANDBOXES_SEEN: set[str] = set()  # the sandboxes' names (their folders' names), noted while they ran


def _note_sandboxes(tmp: Path, proc: subprocess.Popen) -> None:
    while proc.poll() is None:
        SANDBOXES_SEEN.update(p.name for p in tmp.iterdir() if p.name.startswith("grade-"))
        time.sleep(0.05)


def solutions_under_load(repeat: int) -> list[str]:
    findings = []
    with loaded_cores():
        for i in range(repeat):
            document = grade_json(PY, "--all", "--submission", str(ROOT / "solutions"))
            bad = [e["exercise"] for e in document.get("exercises", []) if e.get("status") != "pass"]
            if document.get("status") != "pass":
                findings.append(f"solutions, run {i + 1}: {document.get('status')} {bad or document.get('message')}")
            print(f"solutions under load: {i + 1}/{repeat}", file=sys.stderr, flush=True)
    return findings


def hostile_under_each_method() -> list[str]:
    findings = []
    with tempfile.TemporaryDirectory(prefix="grade-reliability-") as tmp:
        course = Path(tmp) / "course"
        shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(".git", ".venv", ".grade", "__pycache__"))
        private = Path(tmp) / "tmp"  # every sandbox's folder, pymp-* and socket of these gradings
        private.mkdir()
        env = {**os.environ, "TMPDIR": str(private)}
        for file in sorted((ROOT / "tests" / "hostile").glob("*.py")):
            for method in ("fork", "forkserver", "spawn"):
                SANDBOXES_SEEN.clear()
                cmd = [PY, "-m", "grader", "exercise1", "--submission", str(file), "--start-method", method,
                       "--timeout", "2", "--course", str(course), "--format", "json"]
                proc = subprocess.Popen(cmd, cwd=course, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True)
                _note_sandboxes(private, proc)
                try:
                    out, _ = proc.communicate(timeout=120)
                    document = json.loads(out)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    findings.append(f"{file.name} [{method}]: no verdict within 120 s")
                    continue
                except ValueError:
                    findings.append(f"{file.name} [{method}]: no JSON document (exit {proc.returncode})")
                    continue
                if document.get("status") == "pass":
                    findings.append(f"{file.name} [{method}]: passed")
                time.sleep(0.5)  # the resource trackers' own clean-up
                processes, files = left_by(private)
                findings += [f"{file.name} [{method}]: left running: {p}" for p in processes]
                findings += [f"{file.name} [{method}]: left behind: {f}" for f in files]
                for path in private.iterdir():  # so that the next file's findings are its own
                    shutil.rmtree(path, ignore_errors=True)
    return findings


def other_pythons(versions: list[str]) -> list[str]:
    findings = []
    document = grade_json(PY, "--all", "--submission", str(ROOT / "solutions"))
    findings += [f"Python {sys.version.split()[0]}: {e.get('exercise')}'s solution: {e.get('status')}"
                 for e in document.get("exercises", [document]) if e.get("status") != "pass"]
    mine = signature(document)
    for version in versions:
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        if prefix.returncode != 0:
            findings.append(f"Python {version}: not installed ({prefix.stderr.strip()})")
            continue
        venv = Path(tempfile.gettempdir()) / f"grade-reliability-{version}"
        python = venv / "bin" / "python"
        if not python.exists():
            subprocess.run([Path(prefix.stdout.strip()) / "bin" / "python3", "-m", "venv", venv], check=True)
            subprocess.run([python, "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True)
        theirs = signature(grade_json(str(python), "--all", "--submission", str(ROOT / "solutions")))
        if theirs != mine:
            diff = sorted(set(theirs) ^ set(mine))[:10]
            findings.append(f"Python {version}: verdicts differ from {sys.version.split()[0]}: {diff}")
        else:
            print(f"Python {version}: identical verdicts ({len(mine)} entries)", file=sys.stderr)
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--pythons", default="3.10.13,3.12.1,3.13.0")
    parser.add_argument("--skip", action="append", default=[], choices=["solutions", "hostile", "pythons"])
    args = parser.parse_args(argv)
    findings = []
    if "solutions" not in args.skip:
        findings += solutions_under_load(args.repeat)
    if "hostile" not in args.skip:
        findings += hostile_under_each_method()
    if "pythons" not in args.skip:
        findings += other_pythons([v for v in args.pythons.split(",") if v])
    for finding in findings:
        print(f"- {finding}")
    print(f"{len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
