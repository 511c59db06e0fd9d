"""The warm sandbox (grader/zygote.py): a fork of it must be the process a fresh interpreter
would have been, to the student's code and to the supervisor."""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap

import psutil
import pytest
from conftest import sandbox_files

from grader import confinement, sandbox, zygote
from grader.observations import RETURNED
from grader.sandbox import Sandbox, SandboxError

needs_warm = pytest.mark.skipif(not zygote.enabled(), reason="the warm sandbox is Linux-only")

STUDENT = textwrap.dedent('''
    import multiprocessing
    import os
    import sys
    import tempfile

    def where():
        return {"cwd": os.getcwd(), "tmpdir": os.environ.get("TMPDIR"), "gettempdir": tempfile.gettempdir(),
                "path": sys.path[:4], "authkey": bytes(multiprocessing.current_process().authkey).hex(),
                "pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0), "stdin": os.isatty(0),
                "comm": open("/proc/self/comm").read().strip(), "argv": sys.argv,
                "nostdin": sys.stdin.read() == "", "method": multiprocessing.get_start_method()}

    def escape():
        """A grandchild that double-forks into a new session, far from the sandbox's folder."""
        if os.fork() == 0:
            os.setsid()
            os.chdir("/")
            if os.fork() == 0:
                import time
                time.sleep(120)
            os._exit(0)
        import time
        time.sleep(0.3)
''')


@pytest.fixture
def files(tmp_path):
    return sandbox_files(tmp_path, STUDENT)


def _where(files, method="fork") -> tuple[dict, dict]:
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", method, 10) as box:
        obs = box.run("call", "where")
        scratch = str(box._scratch)
        warm_pid = box._proc.pid if isinstance(box._proc, sandbox._Adopted) else None
    assert obs.outcome == RETURNED, obs
    return obs.value, {"scratch": scratch, "adopted": warm_pid}


@needs_warm
def test_a_warm_sandbox_looks_to_the_student_as_a_fresh_one_would(files, monkeypatch):
    warm, seen = _where(files)
    assert seen["adopted"] is not None, "the sandbox was forked from the warm sandbox"
    monkeypatch.setenv(zygote.ENV_SWITCH, "0")
    cold, _ = _where(files)
    for value, scratch in ((warm, seen["scratch"]), (cold, None)):
        assert value["cwd"].endswith(os.sep + "work") and value["tmpdir"].endswith(os.sep + "tmp")
        assert value["gettempdir"] == value["tmpdir"], "tempfile looks TMPDIR up afresh"
        assert value["sid"] == value["ppid"], "its own session, led by the nanny"
        assert value["nostdin"] and value["method"] == "fork"
        if scratch:
            assert value["cwd"] == os.path.join(scratch, "work")
    assert warm["path"] == [p.replace(os.path.dirname(cold["cwd"]), os.path.dirname(warm["cwd"]))
                            for p in cold["path"]], "sys.path in the same order"
    assert warm["argv"] == cold["argv"] == ["-c"]
    assert warm["comm"] == os.path.basename(seen["scratch"]), "the sandbox's processes carry its name"


@needs_warm
def test_every_warm_sandbox_draws_its_own_authkey(files):
    first, _ = _where(files)
    second, _ = _where(files)
    assert first["authkey"] != second["authkey"]


@needs_warm
def test_the_supervisor_waits_for_a_warm_sandbox_as_for_its_own_child(files):
    box = Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 10)
    box.start()
    pid = box._proc.pid
    assert psutil.Process(pid).ppid() == os.getpid(), "re-parented to the grader"
    box.close()
    assert box._proc is None and not psutil.pid_exists(pid), "waited for: no zombie is left"


@needs_warm
def test_an_escape_from_a_warm_sandbox_is_found_and_stopped(files):
    """Its environment in /proc is the zygote's and its folder is /: the sandbox's name finds it."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 10) as box:
        obs = box.run("call", "escape")
    assert obs.outcome == RETURNED
    assert [left.name for left in obs.leftovers], "the escaped grandchild is reported"
    after = [p for p in psutil.Process().children(recursive=True)
             if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE and "zygote" not in " ".join(p.cmdline())]
    assert after == [], "nothing of the sandbox is left running"


@needs_warm
def test_the_warm_sandbox_ends_with_the_process_that_started_it(tmp_path):
    import subprocess
    import sys

    code = ("from grader.sandbox import warm_up; from grader import zygote; warm_up(); "
            "z = zygote.current(); z._await_ready(); print(z.pid, flush=True)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    pid = int(done.stdout.split()[0])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_a_sandbox_that_the_kernel_did_not_confine_runs_nothing_when_the_course_was_not_saved(files, monkeypatch):
    """The runner takes no snapshot where Landlock is expected; a sandbox it did not confine refuses."""
    monkeypatch.setattr(confinement, "guards_files", lambda: True)
    monkeypatch.setenv(confinement.ENV_SWITCH, "0")  # the sandbox's Landlock is off: "not confined"
    scratch_parent = files / "tmp"
    scratch_parent.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_parent))
    box = Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 10)
    with pytest.raises(SandboxError, match="did not confine"):
        box.start()
    assert box._proc is None and list(scratch_parent.iterdir()) == [], "a failed start leaves no process, no folder"


SITE_STUDENT = textwrap.dedent('''
    import multiprocessing
    import subprocess
    import sys

    def view(_=None):
        import psutil  # a package of the grader's environment, found in its site-packages

        python = subprocess.run([sys.executable, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True)
        return {"no_site": sys.flags.no_site, "exit": callable(exit) and callable(quit),
                "psutil": psutil.__name__, "probed": "grader.probe" in sys.modules, "prefix": sys.prefix,
                "python": (python.returncode, python.stdout.strip(), python.stderr[-300:])}

    def views():
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            spawned = pool.apply(view)
        with multiprocessing.get_context("forkserver").Pool(1) as pool:
            served = pool.apply(view)
        return {"sandbox": view(), "spawn": spawned, "forkserver": served}
''')


@pytest.mark.parametrize("warm", [True, False], ids=["warm", "cold"])
def test_without_site_a_students_program_still_has_what_site_gives_it(tmp_path, monkeypatch, warm):
    # The sandbox's interpreters start with -S (an editable install's finder made every spawned
    # child pay for site): exit(), site-packages and the probe must be there all the same.
    if not warm:
        monkeypatch.setenv(zygote.ENV_SWITCH, "0")
    files = sandbox_files(tmp_path, SITE_STUDENT)
    with Sandbox(files / "student.py", "student", files / "drivers_mod.py", "fork", 20) as box:
        obs = box.run("call", "views")
    assert obs.outcome == RETURNED, obs
    for where, view in obs.value.items():
        # A program with site started from the sandbox (a student's subprocess, `python exercise.py`)
        # reads the virtual environment's pyvenv.cfg: sys.prefix must be the one site would set.
        assert view == {"no_site": 1, "exit": True, "psutil": "psutil", "probed": True, "prefix": sys.prefix,
                        "python": (0, sys.prefix, "")}, where
    assert any(e.kind == "pool.create" for e in obs.events), "the probe logged the student's pools"
