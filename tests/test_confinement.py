"""The kernel's confinement of student code (issue 7): hostile submissions graded end to end.

Each submission is the reference solution of exercise 1 with an attack from
tests/hostile/confinement/ appended, so the attack is its only fault. Every one is aimed at a
copy of the course in tmp_path (never the real one), and the whole copy is hashed before and
after. A test skips only where this machine's kernel lacks the feature it relies on.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from conftest import ROOT, copy_course

from grader import confinement
from grader import sandbox as sandbox_module
from grader.course import Limits
from grader.observations import RAISED, RETURNED
from grader.sandbox import ABANDONED_AFTER_S, Sandbox, sweep_folder, sweep_semaphores

ATTACKS = ROOT / "tests" / "hostile" / "confinement"
ABI, WHY = confinement.landlock_abi()
TAMPER_CHECK = "your code leaves the course's files alone"

needs_fs = pytest.mark.skipif(ABI < 1, reason=f"no Landlock on this kernel: {WHY}")
needs_scopes = pytest.mark.skipif(ABI < 6, reason=f"Landlock ABI {ABI} has no signal scope (needs 6, Linux 6.12)")
needs_net = pytest.mark.skipif(ABI < 4, reason=f"Landlock ABI {ABI} has no TCP rules (needs 4, Linux 6.7)")
needs_cap = pytest.mark.skipif(
    not confinement.cgroup_available() and os.getuid() == 0,
    reason="no writable pids cgroup and running as root: only the poll holds the process cap")


# --------------------------------------------------------------------------- helpers


def _submission(tmp_path: Path, attack: str) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    path = folder / "exercise1_process.py"
    path.write_text((ROOT / "solutions" / "exercise1_process.py").read_text() + "\n\n"
                    + (ATTACKS / "_targets.py").read_text() + "\n\n" + (ATTACKS / f"{attack}.py").read_text())
    return path


def _course_files(root: Path) -> list[str]:
    """What the issue's attack aims at: every .py under grader/, solutions/*.py, course.yaml."""
    files = [str(p.relative_to(root)) for p in (root / "grader").rglob("*.py") if "__pycache__" not in p.parts]
    files += [str(p.relative_to(root)) for p in (root / "solutions").glob("*.py")]
    return sorted(files) + ["course.yaml"]


def _tree_hash(root: Path) -> dict[str, str]:
    """Every file of the course copy, by content (the grader's own .grade/ and caches aside)."""
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] != ".grade" and "__pycache__" not in relative.parts:
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _changed(before: dict, after: dict) -> list[str]:
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _grade(root: Path, submission: Path, *args: str, env: dict | None = None, mark: str = "") -> tuple:
    full_env = dict(os.environ, HOSTILE_TARGET=str(root), HOSTILE_FILES="\n".join(_course_files(root)),
                    HOSTILE_MARK=mark or uuid.uuid4().hex, **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(submission), "--course", str(root),
         "--timeout", "5", *args], capture_output=True, text=True, timeout=180, env=full_env)
    return proc


def _json(proc) -> dict:
    assert proc.stdout.strip(), proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _tamper_message(verdict: dict) -> str:
    found = [c for c in verdict["checks"] if c["name"] == TAMPER_CHECK]
    assert found, [c["name"] for c in verdict["checks"]]
    assert found[0]["status"] == "fail" and found[0]["category"] == "crash"
    return found[0]["message"]


def _marked(mark: str) -> list[psutil.Process]:
    """The submission's processes (the `grade` process itself and its warm sandbox, grader/zygote.py,
    which carry the mark too, aside; a fork of the warm sandbox carries the sandbox's name)."""
    found = []
    for p in psutil.process_iter():
        try:
            command = p.cmdline()
            zygote = "grader.zygote" in " ".join(command) and not p.name().startswith("grade-")
            if p.environ().get("HOSTILE_MARK") == mark and command[1:3] != ["-m", "grader"] and not zygote:
                found.append(p)
        except (psutil.Error, OSError):
            continue
    return found


@pytest.fixture
def course_copy(tmp_path) -> Path:
    return copy_course(tmp_path / "course")


# --------------------------------------------------------------------------- the course cannot be changed

TAMPERING = {  # attack -> what the verdict must name
    "walkup_append": "write to",
    "ctypes_write": "through ctypes",
    "shell_append": "shell command",
    "rename_over_check": "test_exercise1_process.py",
    "deletes_course_yaml": "remove",
}


@needs_fs
@pytest.mark.parametrize("attack", sorted(TAMPERING))
def test_tampering_is_refused_and_named(attack, course_copy, tmp_path):
    before = _tree_hash(course_copy)
    proc = _grade(course_copy, _submission(tmp_path, attack), "--format", "json", "--start-method", "fork")
    assert proc.returncode == 1, proc.stderr[-2000:]
    verdict = _json(proc)
    assert verdict["status"] == "fail"
    assert TAMPERING[attack] in _tamper_message(verdict)
    assert _changed(before, _tree_hash(course_copy)) == [], "a course file was changed"
    assert not (course_copy / ".grade" / "replaced").exists(), "refused, so nothing had to be restored"


@pytest.mark.parametrize("attack", ["walkup_append", "ctypes_write", "shell_append", "deletes_course_yaml"])
def test_without_landlock_the_snapshot_restores_and_names_every_changed_file(attack, course_copy, tmp_path):
    """The fallback (macOS, old kernels): compared by content after the run, whatever wrote."""
    before = _tree_hash(course_copy)
    proc = _grade(course_copy, _submission(tmp_path, attack), "--format", "json", "--start-method", "fork",
                  env={confinement.ENV_SWITCH: "0"})
    assert proc.returncode == 1, proc.stderr[-2000:]
    message = _tamper_message(_json(proc))
    assert "put them back" in message and "course.yaml" in message
    assert _changed(before, _tree_hash(course_copy)) == []
    assert (course_copy / "exercises" / "exercise1_process.py").read_bytes() == (
        ROOT / "exercises" / "exercise1_process.py").read_bytes(), "the student's folder is never touched"


def _bytecode(root: Path) -> dict[str, tuple]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in (root / "grader").rglob("*.pyc")}


@pytest.mark.parametrize("confined", ["1", "0"])
def test_bytecode_planted_for_the_next_grading_never_runs(course_copy, tmp_path, confined):
    """A .pyc beside a hidden check is what Python imports instead of its source: refused where
    Landlock confines the sandbox, deleted after the run where only the snapshot guards the course."""
    if confined == "1" and ABI < 1:
        pytest.skip(f"no Landlock on this kernel: {WHY}")
    env = {confinement.ENV_SWITCH: confined}
    before = _bytecode(course_copy)
    attacked = _grade(course_copy, _submission(tmp_path, "plants_bytecode"), "--format", "json",
                      "--start-method", "fork", env=env)
    assert attacked.returncode == 1, attacked.stderr[-2000:]
    message = _tamper_message(_json(attacked))
    assert ("test_exercise1_process.cpython" if confined == "0" else "create the folder") in message, message
    assert _bytecode(course_copy).items() <= before.items(), "planted bytecode was left in the course"
    clean = _grade(course_copy, ROOT / "solutions" / "exercise1_process.py", "--format", "json",
                   "--start-method", "fork", env=env)
    assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]
    assert "planted bytecode ran" not in clean.stdout + clean.stderr


# --------------------------------------------------------------------------- the grader cannot be reached


@needs_scopes
def test_killing_the_grader_and_forging_its_results_is_refused(course_copy, tmp_path):
    results = tmp_path / "results" / "results.json"
    results.parent.mkdir()
    mark = uuid.uuid4().hex
    proc = _grade(course_copy, _submission(tmp_path, "kills_grader_forges_results"), "--format", "gradescope",
                  "--output", str(results), env={"HOSTILE_OUTPUT": str(results)}, mark=mark)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    written = json.loads(results.read_text())
    assert "FORGED" not in results.read_text()
    assert written["tests"], "the real verdict, with its checks"
    tamper = [t for t in written["tests"] if TAMPER_CHECK in t.get("name", "")]
    assert tamper and "send a signal" in tamper[0]["output"] and "results.json" in tamper[0]["output"]
    assert _marked(mark) == []


@needs_scopes
def test_signals_to_the_parent_the_grader_and_its_group_are_refused(course_copy, tmp_path):
    mark = uuid.uuid4().hex
    proc = _grade(course_copy, _submission(tmp_path, "signals_grader"), "--format", "json", mark=mark)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    message = _tamper_message(_json(proc))
    assert message.count("send a signal") >= 3, message  # the parent, the grader, the group
    assert _marked(mark) == [], "processes of the submission are still running"


@needs_net
def test_a_tcp_connect_is_refused_by_default(course_copy, tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        proc = _grade(course_copy, _submission(tmp_path, "tcp_connect"), "--format", "json", "--start-method", "fork",
                      env={"HOSTILE_PORT": str(port)})
        listener.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listener.accept()
    assert proc.returncode == 1
    assert f"connect to 127.0.0.1:{port} over TCP" in _tamper_message(_json(proc))


@needs_net
def test_an_exercise_with_network_true_may_connect(course_copy, tmp_path):
    manifest = course_copy / "course.yaml"
    manifest.write_text(manifest.read_text().replace("output_kb: 64}", "output_kb: 64, network: true}", 1))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        proc = _grade(course_copy, _submission(tmp_path, "tcp_connect"), "--format", "json", "--start-method", "fork",
                      env={"HOSTILE_PORT": str(port)})
        listener.settimeout(5)
        connection, _ = listener.accept()
        connection.close()
    verdict = _json(proc)
    assert proc.returncode == 0, verdict
    assert verdict["confinement"]["net"] is False and "network: true" in verdict["confinement"]["why"]


# --------------------------------------------------------------------------- the process cap


@needs_cap
def test_a_fork_bomb_never_exceeds_the_cap(course_copy, tmp_path):
    cap = Limits().processes
    mark = uuid.uuid4().hex
    peak, done = [0], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], len(_marked(mark)))
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        proc = _grade(course_copy, _submission(tmp_path, "fork_bomb"), "--format", "json", "--start-method", "fork",
                      mark=mark)
    finally:
        done.set()
        watcher.join()
    verdict = _json(proc)
    # An exit 2 (the grader could not grade) was seen once at load 20: say why if it comes again.
    assert proc.returncode == 1, ({k: v for k, v in verdict.items() if k != "checks"}, proc.stderr[-1500:])
    failures = [c for c in verdict["checks"] if c["status"] == "fail"]
    assert failures and failures[0]["category"] == "resource", failures
    assert verdict["confinement"]["process_cap"] == "cgroup"
    assert 0 < peak[0] <= cap, f"{peak[0]} processes at once against a cap of {cap}"
    assert _marked(mark) == []


# --------------------------------------------------------------------------- neighbours and litter

VICTIM = "def write(text):\n    open('secret.txt', 'w').write(text)\n    return __import__('os').getcwd()\n"
THIEF = "def read(path):\n    return open(path).read()\n"
DRIVERS = "def call(student, name, *args):\n    return getattr(student, name)(*args)\n"


@needs_fs
def test_a_sandbox_cannot_read_a_neighbours_scratch_files(tmp_path):
    (tmp_path / "victim.py").write_text(VICTIM)
    (tmp_path / "thief.py").write_text(THIEF)
    (tmp_path / "drivers_mod.py").write_text(DRIVERS)
    with Sandbox(tmp_path / "victim.py", "victim", tmp_path / "drivers_mod.py", "fork", 10) as victim, \
            Sandbox(tmp_path / "thief.py", "thief", tmp_path / "drivers_mod.py", "fork", 10) as thief:
        wrote = victim.run("call", "write", "the answers")
        assert wrote.outcome == RETURNED
        secret = Path(wrote.value) / "secret.txt"
        assert secret.read_text() == "the answers"  # there, while both sandboxes run
        stolen = thief.run("call", "read", str(secret))
        own = thief.run("call", "read", str(thief._scratch / "work" / "thief.py"))
    assert stolen.outcome == RAISED and stolen.error.type == "PermissionError", stolen
    assert own.outcome == RETURNED, "its own folder stays readable"


LEAVES_LITTER = """
import multiprocessing, time
_lock, _queue = multiprocessing.Lock(), multiprocessing.Queue()
_manager = multiprocessing.Manager()
time.sleep(60)
"""


def test_no_litter_is_left_in_the_temporary_folder_or_dev_shm(course_copy, tmp_path, short_tmp):
    """A clean run and a killed one (semaphores and a Manager's socket held at the deadline)."""
    tmp = short_tmp
    killed = tmp_path / "killed" / "exercise1_process.py"
    killed.parent.mkdir()
    killed.write_text(LEAVES_LITTER)
    names, done = set(), threading.Event()

    def watch():  # the sandboxes' scratch folders, by name: their semaphores carry it
        while not done.is_set():
            names.update(p.name for p in tmp.glob("grade-*"))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for submission in (ROOT / "solutions" / "exercise1_process.py", killed):
            proc = _grade(course_copy, submission, "--format", "json", "--timeout", "3", env={"TMPDIR": str(tmp)})
            assert proc.returncode in (0, 1), proc.stderr[-2000:]
    finally:
        done.set()
        watcher.join()
    assert len(names) >= 6, names  # one sandbox per start method and submission
    assert list(tmp.iterdir()) == [], "pymp-* folders, sockets or scratch folders left behind"
    left = [n for n in os.listdir("/dev/shm") if any(n.startswith(f"sem.mp-{name}-") for name in names)]
    assert left == [], "semaphores left in /dev/shm"


def _left_after_the_grader(tree: list[psutil.Process], tmp: Path) -> list[psutil.Process]:
    """What of `tree` still runs once the nannies have had their time (30 s) to end it and empty `tmp`."""
    for _ in range(600):
        alive = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive and not list(tmp.iterdir()):
            break
        time.sleep(0.05)
    return alive


def test_a_grader_killed_outright_leaves_no_process_folder_or_semaphore(tmp_path, short_tmp):
    """SIGKILL or the OOM killer: grade cannot clean up, so each sandbox's nanny does."""
    tmp = short_tmp
    submission = tmp_path / "exercise1_process.py"
    submission.write_text(LEAVES_LITTER)  # semaphores and a Manager's socket, then a hang at import
    proc = subprocess.Popen([sys.executable, "-m", "grader", "exercise1", "--submission", str(submission),
                             "--course", str(ROOT), "--format", "json"], stdout=(tmp_path / "stdout").open("w"),
                            stderr=(tmp_path / "stderr").open("w"), env=dict(os.environ, TMPDIR=str(tmp)))
    grader = psutil.Process(proc.pid)

    def name(p: psutil.Process) -> str:
        try:
            return p.name()
        except psutil.Error:
            return ""

    for _ in range(1200):  # until every sandbox has its nanny and its student's process (named after it)
        names = {p.name for p in tmp.glob("grade-*")}
        tree = grader.children(recursive=True)
        labels = [name(p) for p in tree]
        if len(names) == 3 and all(labels.count(n[:15]) >= 2 for n in names):
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the sandboxes never started: {(tmp_path / 'stderr').read_text()[-1500:]}"
                    f"{(tmp_path / 'stdout').read_text()[:1500]}")
    proc.kill()
    proc.wait()
    alive = _left_after_the_grader(tree, tmp)
    assert alive == [], "processes of the sandboxes left running"
    assert list(tmp.iterdir()) == [], "the sandboxes' folders left behind"
    left = [n for n in os.listdir("/dev/shm") if any(n.startswith(f"sem.mp-{name}-") for name in names)]
    assert left == [], "semaphores left in /dev/shm"


IDLE_GRADER = """
import sys, time
from pathlib import Path
from grader.sandbox import Sandbox
folder = Path(sys.argv[1])
box = Sandbox(folder / "student.py", "student", folder / "drivers_mod.py", sys.argv[2], 30)
box.start()
obs = box.run("call", "ready")
print("between runs", obs.outcome, obs.error or obs.detail or "", flush=True)
time.sleep(120)
"""

HAS_A_MANAGER = """
import multiprocessing
_manager = multiprocessing.Manager()  # a process of the sandbox's own, which outlives every run
def ready():
    return True
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_grader_killed_between_runs_leaves_nothing(tmp_path, short_tmp, method):
    """Killed while its sandbox waits for the next request: the sandbox's process sees its requests
    end, and it must not simply exit, or its nanny would take that for a normal end."""
    (tmp_path / "drivers_mod.py").write_text(DRIVERS)
    (tmp_path / "student.py").write_text(HAS_A_MANAGER)
    (tmp_path / "killed_grader.py").write_text(IDLE_GRADER)
    proc = subprocess.Popen([sys.executable, str(tmp_path / "killed_grader.py"), str(tmp_path), method], text=True,
                            stdout=subprocess.PIPE, env=dict(os.environ, TMPDIR=str(short_tmp)), cwd=ROOT)
    try:
        said = proc.stdout.readline()
        assert said.startswith("between runs returned"), said  # the run's outcome, and why when it failed
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert len(tree) >= 3, "the nanny, the sandbox's process and its Manager are running"
    finally:
        proc.kill()
        proc.wait()
    alive = _left_after_the_grader(tree, short_tmp)
    assert alive == [], "the sandbox's processes (its Manager among them) left running"
    assert list(short_tmp.iterdir()) == [], "the sandbox's folder left behind"


def test_the_next_grader_ends_what_a_sandbox_killed_with_its_grader_left(tmp_path):
    """A folder nobody holds, old enough, is swept with its processes; one in use, a fresh one and
    a folder that only looks like one are not."""
    old = time.time() - 2 * ABANDONED_AFTER_S

    def scratch(name: str, age: float | None = old) -> Path:
        folder = tmp_path / name
        for sub in ("events", "stacks", "tmp"):
            (folder / sub).mkdir(parents=True)
        if age:
            os.utime(folder, (age, age))
        return folder

    abandoned, in_use = scratch("grade-abandon1"), scratch("grade-inuse123")
    scratch("grade-fresh123", age=None)
    lookalike = tmp_path / "grade-bench-xyz"
    lookalike.mkdir()
    os.utime(lookalike, (old, old))
    semaphore = Path(f"/dev/shm/sem.mp-{abandoned.name}-test{uuid.uuid4().hex[:6]}")
    semaphore.write_bytes(b"")
    left_running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                                    env=dict(os.environ, TMPDIR=str(abandoned / "tmp")))
    os.utime(abandoned, (old, old))
    holder = os.open(in_use, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        sweep_folder(tmp_path)
        assert left_running.wait(timeout=60) == -signal.SIGKILL
        assert sorted(p.name for p in tmp_path.iterdir()) == ["grade-bench-xyz", "grade-fresh123", "grade-inuse123"]
        assert not semaphore.exists()
    finally:
        os.close(holder)
        left_running.kill()
        semaphore.unlink(missing_ok=True)


def test_semaphores_of_a_sandbox_that_no_longer_exists_are_unlinked(tmp_path, monkeypatch):
    """Only those of a sandbox with no folder and no live process, and old enough."""
    shm, root = tmp_path / "shm", tmp_path / "root"
    shm.mkdir()
    root.mkdir()
    monkeypatch.setattr(sandbox_module, "scratch_root", lambda: root)
    (root / "grade-withdir1").mkdir()
    old = time.time() - 2 * ABANDONED_AFTER_S
    living = subprocess.Popen([sys.executable, "-c", "import time; open('/proc/self/comm', 'w').write('grade-alive123'); "
                               "print('named', flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert living.stdout.readline() == "named\n"  # as a sandbox's nanny names itself
        names = ["grade-orphan12", "grade-alive123", "grade-withdir1", "grade-fresh123"]
        for name in names:
            semaphore = shm / f"sem.mp-{name}-abcd1234"
            semaphore.touch()
            if name != "grade-fresh123":
                os.utime(semaphore, (old, old))
        (shm / "sem.mp-unrelated").touch()
        os.utime(shm / "sem.mp-unrelated", (old, old))
        sweep_semaphores(shm)
        assert sorted(p.name for p in shm.iterdir()) == [
            "sem.mp-grade-alive123-abcd1234", "sem.mp-grade-fresh123-abcd1234", "sem.mp-grade-withdir1-abcd1234",
            "sem.mp-unrelated"]
    finally:
        living.kill()
        living.wait()


# --------------------------------------------------------------------------- on this machine


@pytest.mark.skipif(ABI < 6, reason=f"Landlock ABI {ABI} < 6: not every confinement is available here")
def test_on_this_kernel_every_confinement_is_active():
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "exercise1", "--submission", str(ROOT / "solutions" / "exercise1_process.py"),
         "--format", "json", "--course", str(ROOT)], capture_output=True, text=True, timeout=180)
    verdict = _json(proc)
    assert proc.returncode == 0, [f"{c['name']} [{c['start_method']}]: {c['category']}: {c['message']}"
                                  for c in verdict["checks"] if c["status"] != "pass"]
    held = verdict["confinement"]
    assert held["landlock_abi"] == ABI and held["fs"] and held["signals"] and held["net"], held
    expected_cap = "cgroup" if confinement.cgroup_available() else "poll"
    assert held["process_cap"] == expected_cap, held


def test_grade_doctor_tries_the_confinement_for_real():
    proc = subprocess.run([sys.executable, "-m", "grader", "doctor", "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["landlock_abi"] == ABI
    tried = report["trial"]["tried"]
    assert tried["write inside"] == "allowed"
    if ABI >= 1:
        assert tried["write outside"] == "refused"
    if ABI >= 6:
        assert tried["signal the parent"] == "refused"
    if ABI >= 4:
        assert tried["tcp connect"] == "refused"


# --------------------------------------------------------------------------- best effort, by ABI

OLDER_KERNEL = """
import json, os, sys
from grader import confinement
confinement.landlock_abi = lambda: ({abi}, "")  # as an older kernel would answer
scratch, outside = sys.argv[1], sys.argv[2]
applied = confinement.restrict(scratch, confinement.read_paths([]), False)
tried = {{}}
for name, action in (("write outside", lambda: open(outside, "a").close()),
                     ("write inside", lambda: open(os.path.join(scratch, "x"), "w").close()),
                     ("signal the parent", lambda: os.kill(os.getppid(), 0))):
    try:
        action()
        tried[name] = "allowed"
    except PermissionError:
        tried[name] = "refused"
print(json.dumps({{"applied": applied, "tried": tried}}))
"""


@needs_scopes
@pytest.mark.parametrize("abi", [1, 3, 5])
def test_on_an_older_abi_each_right_it_lacks_is_dropped_and_said(abi, tmp_path):
    """The kernel's "best effort": ask for what ABI N knows, apply it, say what is missing."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.run([sys.executable, "-c", OLDER_KERNEL.format(abi=abi), str(scratch), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=60)
    result = json.loads(proc.stdout)
    applied, tried = result["applied"], result["tried"]
    assert applied["fs"] is True and applied["signals"] is False
    assert applied["net"] is (abi >= 4)
    assert "ABI 6" in applied["why"]
    assert tried == {"write outside": "refused", "write inside": "allowed", "signal the parent": "allowed"}


def test_the_weakest_confinement_of_an_exercises_sandboxes_is_reported():
    full = {"landlock_abi": 7, "fs": True, "signals": True, "net": True, "why": "", "uid": 0, "process_cap": "cgroup"}
    weak = dict(full, landlock_abi=3, signals=False, net=False, why="signal and socket scopes need ABI 6",
                process_cap="poll")
    merged = confinement.weakest([full, weak, {}])
    assert merged == dict(full, landlock_abi=3, signals=False, net=False, why=weak["why"], process_cap="poll")
    assert confinement.weakest([]) is None


def test_the_confinement_survives_the_json_round_trip():
    from grader.verdict import ExerciseVerdict, Status

    held = {"landlock_abi": 7, "fs": True, "signals": True, "net": True, "why": "", "uid": 65534,
            "process_cap": "cgroup"}
    verdict = ExerciseVerdict(exercise="exercise1", slug="process", title="t", status=Status.PASS, score=1,
                              max_score=1, duration_s=0.1, checks=(), confinement=held)
    assert ExerciseVerdict.from_dict(json.loads(json.dumps(verdict.to_dict()))).confinement == held


@needs_fs
def test_an_instructors_edit_during_a_confined_grading_is_kept(course_copy, tmp_path):
    """The kernel kept the student's code from writing the course, so a course file that changes
    meanwhile was changed by someone else (an instructor editing while a class is graded): kept."""
    hanging = tmp_path / "exercise1_process.py"
    hanging.write_text((ROOT / "tests" / "submissions" / "exercise1_deadlocks.py").read_text())
    proc = subprocess.Popen([sys.executable, "-m", "grader", "exercise1", "--submission", str(hanging),
                             "--course", str(course_copy), "--format", "json", "--timeout", "3",
                             "--start-method", "fork"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    edited = course_copy / "solutions" / "exercise1_process.py"
    deadline = time.monotonic() + 120
    while not psutil.Process(proc.pid).children() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # until a sandbox is up: the course was noted before the sandboxes start
    edited.write_text(edited.read_text() + "\n# an instructor's note\n")
    out, _ = proc.communicate(timeout=180)
    verdict = json.loads(out)
    assert verdict["confinement"]["fs"] is True
    assert edited.read_text().endswith("# an instructor's note\n"), "the instructor's edit was undone"
    assert TAMPER_CHECK not in {c["name"] for c in verdict["checks"] if c["status"] == "fail"}
