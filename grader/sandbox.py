"""The sandbox supervisor: runs student code in an isolated process tree, with limits.

One `Sandbox` is one student process (grader/sandbox_child.py) for one exercise under one
start method. It lives in its own session, in a scratch directory holding a copy of the
submission, under a memory cap; its output goes to a pipe that the supervisor reads and
caps; its answers come over a second pipe as plain data. The supervisor owns the whole
tree: this process is a child subreaper, so children that double-fork into a new session
come back to it. Whatever the student's code does comes back as an `Observation`; this
module raises only when the grader itself breaks.

At a deadline: ask every process for its Python stack (faulthandler on SIGUSR1), then
kill the tree. After every run: find what the student left running, record it, kill it.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from . import confinement, plain, zygote
from .course import Limits
from .i18n import N_, _
from .observations import (
    DIED,
    NOT_RUN,
    RAISED,
    RESOURCE,
    RETURNED,
    TIMEOUT,
    ErrorInfo,
    Event,
    Leftover,
    Observation,
    ProcessStack,
)
from .probe import STACK_SIGNAL
from .proctree import (
    become_subreaper,
    describe_exit,
    handles_stack_signal,
    kill,
    parse_faulthandler,
    ppid_map,
    running,
)
from .sandbox_child import (
    kill_now,
    remove_files,
    sandbox_pids,
    send,  # the one framing both sides use: a 4-byte length, then JSON
)

SITE_DIR = Path(__file__).parent / "_site"
POLL_S = 0.1  # how often the tree is counted while waiting (a scan of /proc costs ~2 ms)
STACK_WAIT_S = 0.5  # longest wait for the stack dumps
STACK_READY_S = 1.0  # how long a process still starting up gets to install its stack handler
# A run's first half second of children starting up counts against its limit, as it would on any
# machine (an idle one starts a spawn child in ~0.15 s); only start-up beyond it is the machine's.
STARTUP_OWN_S = 0.5
# Time the student's processes were ready to run but waited for a CPU (the kernel's run-queue
# delay) is the machine's too: a loaded machine makes correct CPU-bound code slow, and it must
# not make it a hang. Both credits together extend a run's limit by at most this many limits.
CREDIT_LIMITS = 2
WAITING_OWN_S = 1.0  # and its first second counts against the limit (the grader's own polling, the kernel's noise)
SCRATCH_PREFIX = "grade-"
# multiprocessing puts its sockets (a Manager's, the fork server's) in TMPDIR/pymp-XXXXXXXX/listener-XXXXXXXX,
# and a sandbox's TMPDIR is ROOT/grade-XXXXXXXX/tmp: AF_UNIX allows 107 bytes of path in all.
UNIX_PATH_MAX = 107
SOCKET_PATH_ROOM = len("/grade-XXXXXXXX/tmp") + len("/pymp-XXXXXXXX/listener-XXXXXXXX")
ABANDONED_AFTER_S = 60  # an unlocked scratch folder this old was left by a grader that was killed
LEFTOVER_GRACE_S = 0.2  # processes still exiting when a run returns get this long
CLOSE_WAIT_S = 2.0  # a clean exit of the sandbox process gets this long
FLOOD_FACTOR = 16  # output past 16 times its cap stops the run at once
STARTUP_WAIT_S = 60.0  # the sandbox's Python must say hello within this (a loaded machine is slow to start)


class SandboxError(Exception):
    """The grader itself failed to run the sandbox (never the student's fault)."""


def base_env() -> dict[str, str]:
    """The environment every sandbox's Python starts with, before its own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONOPTIMIZE", "PYTHONINSPECT", "GRADER_"))}
    env["PYTHONPATH"] = str(SITE_DIR)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    env["GRADER_SITE_PACKAGES"] = os.pathsep.join(_site_packages())
    env["GRADER_PREFIX"], env["GRADER_EXEC_PREFIX"] = sys.prefix, sys.exec_prefix
    return env


def _site_packages() -> list[str]:
    """This environment's site-packages folders, which site would put on a sandbox's sys.path."""
    import site

    folders = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return [f for f in folders if os.path.isdir(f)]


def warm_up() -> zygote.Zygote | None:
    """The warm sandbox (grader/zygote.py), started now if it is not running, so that it is ready by
    the first sandbox; None where its forks could not be re-parented here (no subreaper)."""
    return zygote.prestart(base_env()) if become_subreaper() else None


class _Adopted:
    """A sandbox process this process did not start but is the parent of (a fork of the warm
    sandbox, re-parented here): the part of subprocess.Popen that the supervisor uses."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # not (or no longer) ours to wait for
                if not psutil.pid_exists(self.pid):
                    self.returncode = -signal.SIGKILL
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise subprocess.TimeoutExpired(f"sandbox {self.pid}", timeout)
            time.sleep(0.005)
        return self.returncode


_NANNIES: set[int] = set()  # the first process of every live sandbox of this grader
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_WANTED: dict[int, float] = {}  # by sandbox (id) while it waits for a run: the CPUs its processes wanted lately
_CANCEL = threading.Event()  # set by cancel_all(): every sandbox stops waiting and kills its tree


def cancel_all() -> None:
    """Stop every running sandbox of this process now (Ctrl-C, the grader's own timeout)."""
    _CANCEL.set()


def reset_cancel() -> None:
    _CANCEL.clear()


class Sandbox:
    """A student's module, imported once in an isolated process, running drivers on request."""

    def __init__(self, submission: Path, module_name: str, drivers_file: Path, start_method: str,
                 timeout: float, limits: Limits | None = None):
        self.submission = Path(submission).resolve()
        self.module_name = module_name
        self.drivers_file = Path(drivers_file).resolve()
        self.start_method = start_method
        self.timeout = timeout
        self.limits = limits or Limits()
        self.student_file_name = f"{module_name}.py"
        self.dead = False  # after a hang, a crash or a resource kill, no more runs
        self.dead_reason = ""
        self.runs = 0  # driver runs requested so far (numbers each run's schedule budget)
        self.import_observation: Observation | None = None
        self.drivers: dict[str, int] = {}  # the drivers module's drivers, in order: schedules its checks ask for
        self.strict: set[str] = set()  # drivers with a check that fails whenever processes are left running
        self._proc: subprocess.Popen | None = None
        self._request_w = self._reply_r = self._output_r = None  # the pipes' ends this process keeps
        self._scratch: Path | None = None
        self._held: int | None = None  # the flock that says this folder is in use
        self._event_offsets: dict[str, int] = {}
        self._pending_events: list[Event] = []
        self._names: dict[int, tuple[str, bool | None]] = {}
        self._helpers: set[int] = set()  # multiprocessing's own processes, recognised by command line
        self._worker_pid: int | None = None
        self._own_pid = os.getpid()
        self._orphan_owner: dict[int, bool] = {}
        self._handles: dict[int, psutil.Process] = {}
        self._commands: dict[int, str] = {}  # command lines, read once per process
        self._output = bytearray()
        self._output_total = 0
        self._reply_buffer = bytearray()
        self._cgroup: confinement.PidsCgroup | None = None
        self.confinement: dict = {}  # what protected this sandbox (the child's report, and the process cap)
        try:
            self._source = tuple(self.submission.read_text(errors="replace").splitlines())
        except OSError:
            self._source = ()

    # ------------------------------------------------------------------ life cycle

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> Observation:
        """Start the process and import the student's module; the outcome of the import.

        If the grader cannot start it (SandboxError), nothing of it is left: no process, no folder."""
        try:
            return self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> Observation:
        warm = warm_up()  # this process becomes a subreaper: the sandbox's orphans come back here
        sweep_abandoned()
        self._scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=scratch_root()))
        self._held = _hold(self._scratch)
        for sub in ("events", "stacks", "work", "tmp"):
            (self._scratch / sub).mkdir()
        student_copy = self._scratch / "work" / self.student_file_name
        shutil.copyfile(self.submission, student_copy)
        self._student_path = str(student_copy)
        self._preexisting = {p.pid for p in psutil.Process(self._own_pid).children()}

        request_r, self._request_w = os.pipe()
        self._reply_r, reply_w = os.pipe()
        self._output_r, output_w = os.pipe()
        for fd in (self._reply_r, self._output_r):
            os.set_blocking(fd, False)
        config = {
            "request_fd": request_r, "reply_fd": reply_w, "memory_mb": self.limits.memory_mb,
            "student_file": self._student_path, "student_module": self.module_name,
            "drivers_file": str(self.drivers_file), "drivers_module": self.drivers_file.stem,
            "probe_dir": str(self._scratch), "start_method": self.start_method,
            "confine": confinement.enabled(), "network": self.limits.network,
            "require_fs": confinement.guards_files(),  # the runner then takes no snapshot of the course
        }
        self._cgroup = confinement.PidsCgroup.create(self._scratch.name, self.limits.processes)
        if self._cgroup is not None:
            config["cgroup_procs"] = str(self._cgroup.path / "cgroup.procs")
        drop = confinement.drop_target((str(self.drivers_file.parent),))
        if drop is not None:  # root, and another user can run this Python: the sandbox runs as that user
            config["drop"] = [*drop, None if self._cgroup else self.limits.processes]
            for folder, _, files in os.walk(self._scratch):
                for name in [folder, *(os.path.join(folder, f) for f in files)]:
                    os.chown(name, *drop)
        env = base_env()
        env["PYTHONPATH"] = os.pathsep.join([str(SITE_DIR), str(self.drivers_file.parent)])
        env["GRADER_SANDBOX"] = json.dumps(config)
        env["GRADER_TIMEOUT"] = str(self.timeout)  # drivers that wait (run_as_script) stay inside it
        # multiprocessing's pymp-* folders, sockets and the fork server's files land in the scratch folder,
        # and go with it; its semaphores carry the sandbox's name (see remove_files).
        env["TMPDIR"] = str(self._scratch / "tmp")
        env["GRADER_SEMPREFIX"] = self._semprefix
        try:
            pid = warm.fork(env, str(self._scratch / "work"), (request_r, reply_w, output_w)) if warm else None
            if pid is not None:
                self._proc = _Adopted(pid)  # a fork of the warm sandbox (grader/zygote.py), now our child
            else:
                self._proc = subprocess.Popen(
                    zygote.python_without_site("from grader.sandbox_child import main; main()"),
                    cwd=self._scratch / "work", env=env, stdin=subprocess.DEVNULL, stdout=output_w,
                    stderr=output_w, pass_fds=(request_r, reply_w), start_new_session=True,
                )
        except OSError as error:
            raise SandboxError(f"could not start Python for the sandbox: {error}") from error
        finally:
            for fd in (request_r, reply_w, output_w):
                os.close(fd)
        _NANNIES.add(self._proc.pid)
        started = time.monotonic()
        # Python's own start-up is the grader's, not the student's: generous, and not in the limit.
        hello = self._await(started + max(STARTUP_WAIT_S, self.timeout + 5))
        if isinstance(hello, dict) and hello.get("type") == "unconfined":
            self._kill_tree()
            raise SandboxError(
                f"the kernel did not confine the sandbox after all ({hello.get('why') or 'no reason given'}), "
                f"so your code was not run; {confinement.ENV_SWITCH}=0 grades without kernel confinement "
                "(the course's files are then checked and put back after each run)")
        if not isinstance(hello, dict) or hello.get("type") != "hello":
            self._kill_tree()
            raise SandboxError(f"the sandbox process did not start ({hello}); output: {self._take_output()[0][:500]}")
        self._worker_pid = hello["pid"]
        self.confinement = dict(hello.get("confinement") or {}, uid=hello.get("uid"),
                                process_cap="cgroup" if self._cgroup else "rlimit" if hello.get("uid") else "poll")
        self._names[self._worker_pid] = ("MainProcess", False)
        reply = self._await(time.monotonic() + self.timeout)  # the student's import: from "hello" on
        self.import_observation = self._observe("(import)", reply, started)
        if self.import_observation.outcome == RETURNED:
            # What the import did (a write outside, a refused signal) belongs to the first run's events.
            self._pending_events[:0] = self.import_observation.events
            self.import_observation = None
        else:
            self.dead = True
            self.dead_reason = N_("the module failed to import")  # msgids: matched, translated when shown
        return self.import_observation

    def run(self, driver: str, *args, schedule: dict | None = None) -> Observation:
        """Run one driver (a function of the drivers module) on the student's module.

        `schedule` ({"seed", "budget_ms", "run"}, see grader/schedule.py) perturbs this run.
        """
        if self._proc is None:
            raise SandboxError("Sandbox.run() before start()")
        if self.dead:
            return self._make(driver, NOT_RUN, detail=self.dead_reason)
        started = time.monotonic()
        self.runs += 1
        request = {"type": "run", "driver": driver, "args": plain.encode(list(args)), "run": self.runs}
        if schedule:
            request["schedule"] = schedule
        try:
            send(self._request_w, request)
        except OSError:
            return self._observe(driver, "eof", started)
        reply = self._await(started + self.timeout)
        return self._observe(driver, reply, started)

    def close(self) -> None:
        """End the sandbox: let the process exit cleanly if it can, then kill what is left, and
        remove its folder and cgroup (after a start that failed half-way too). Idempotent."""
        if self._proc is not None:
            if self._proc.poll() is None and not self.dead:
                try:
                    send(self._request_w, {"type": "exit"})
                    self._proc.wait(CLOSE_WAIT_S)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            self._kill_tree()
            _NANNIES.discard(self._proc.pid)
            self._proc = None
        for fd in (self._request_w, self._reply_r, self._output_r):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._request_w = self._reply_r = self._output_r = None
        if self._scratch is not None:
            remove_files(str(self._scratch), self._semprefix)
            self._scratch = None
        if self._held is not None:
            os.close(self._held)
            self._held = None
        if self._cgroup is not None:
            self._cgroup.remove()
            self._cgroup = None

    # ------------------------------------------------------------------ waiting

    def _await(self, deadline: float):
        try:
            return self._await_reply(deadline)
        finally:
            _WANTED.pop(id(self), None)  # a sandbox between runs wants no CPU

    def _await_reply(self, deadline: float):
        """The next reply, or "eof", "timeout", or ("resource", detail).

        Time in which one of the student's processes is still starting up (a spawn or forkserver
        child importing modules, before it runs anything) is added to the deadline: that time
        is the machine's, and on a loaded one it is seconds per child.
        The first STARTUP_OWN_S of it is not: an idle machine's hang is then reported in time.
        So is time in which a process of the sandbox was ready to run and waited for a CPU
        (`_cpu_wait`): none on an idle machine, most of the time on a loaded one. Together the
        credits extend the limit by at most CREDIT_LIMITS limits, so that a hang still ends.
        """
        next_count = last_poll = time.monotonic() + POLL_S
        limit, cap = deadline, deadline + CREDIT_LIMITS * self.timeout
        own = STARTUP_OWN_S
        starting_credit = waiting_credit = 0.0
        schedstat: dict[int, tuple[int, int]] = {}
        while True:
            message = self._parse_reply()
            if message is not None:
                # A fork the kernel refused often surfaces as the student's own exception
                # (BlockingIOError) before the next poll: the cap is still what ended the run.
                return self._refused_by_cap() or message
            now = time.monotonic()
            if now >= deadline or _CANCEL.is_set():
                return "timeout"
            wait = max(0.0, min(deadline, next_count) - now)
            try:
                ready, _unused, _unused = select.select([self._reply_r, self._output_r], [], [], wait)
            except InterruptedError:
                continue
            if self._output_r in ready:
                self._drain_output()
                flood = FLOOD_FACTOR * self.limits.output_kb * 1024
                if self._output_total > flood:
                    # Past this the run fails as "resource" however it ends: stop it now, so that
                    # the verdict does not depend on how fast this machine moves the rest through a pipe.
                    return ("resource", _("Your code printed more than {flood} bytes (at most {limit} are kept): "
                                          "remove debugging prints, or print less in loops").format(
                                              flood=flood, limit=self.limits.output_kb * 1024))
            if self._reply_r in ready:
                try:
                    chunk = os.read(self._reply_r, 1 << 16)
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    self._drain_output()
                    return self._parse_reply() or "eof"
                if chunk:
                    self._reply_buffer += chunk
            if time.monotonic() >= next_count:
                next_count = time.monotonic() + POLL_S
                refused = self._refused_by_cap()
                if refused:
                    return refused
                tree = self._tree()
                polled = time.monotonic()
                if self._starting(tree):
                    counted = min(own, polled - last_poll)
                    own -= counted
                    starting_credit += polled - last_poll - counted
                waiting_credit += self._cpu_wait(tree, schedstat, polled - last_poll)
                credit = max(starting_credit, waiting_credit - WAITING_OWN_S)
                deadline = max(deadline, min(cap, limit + credit))
                last_poll = polled
                count = sum(1 for p in tree if running(p))
                if count > self.limits.processes:
                    return ("resource", _("Your code had {count} processes running at once; the limit is "
                                          "{limit}").format(count=count, limit=self.limits.processes))

    def _refused_by_cap(self):
        if self._cgroup is None or not self._cgroup.refused():
            return None
        return ("resource", _("Your code tried to run more processes and threads at once than the "
                              "kernel allows it; the limit is {limit}").format(limit=self.limits.processes))

    def _cpu_wait(self, tree: list[psutil.Process], last: dict[int, tuple[int, int]], interval: float) -> float:
        """Of the last `interval` s, the time the machine's load took from this sandbox, signed.

        Its processes got `ran` of CPU and waited `waited` in the kernel's run queue (ready, but
        no CPU free), per /proc/PID/schedstat since `last` (updated here). Alone, this grading
        would have given them the share min(1, CPUS / demand) of what they wanted, where demand
        is the CPUs all its sandboxes wanted: three start methods spinning on two cores slow one
        another on any such machine, and that is the submission's own cost. Progress short of
        that share is the machine's; the rest counts against the limit. Signed, so that the
        kernel's uneven sharing over a tenth of a second averages out in the caller's sum."""
        ran, waited = 0, 0
        for p in tree:
            try:
                with open(f"/proc/{p.pid}/schedstat") as f:
                    now_ran, now_waited = (int(x) for x in f.read().split()[:2])
            except (OSError, ValueError):
                continue
            before = last.get(p.pid)
            last[p.pid] = (now_ran, now_waited)
            if before is not None:
                ran += now_ran - before[0]
                waited += now_waited - before[1]
        _WANTED[id(self)] = (ran + waited) / 1e9 / interval if interval > 0 else 0.0
        return time_lost_to_load(ran, waited, sum(_WANTED.values()), CPUS, interval)

    def _starting(self, tree: list[psutil.Process]) -> bool:
        """Is a process of the student's still starting: a fresh interpreter (spawn, forkserver)
        that has not logged anything yet (its first event is process.begin)?"""
        for p in tree:
            if p.pid in (self._worker_pid, self._proc.pid) or p.pid in self._helpers:
                continue
            command = self._commands.get(p.pid)
            if command is None:
                try:
                    command = self._commands[p.pid] = " ".join(p.cmdline())
                except psutil.Error:
                    continue
            if "spawn_main" not in command and "multiprocessing.forkserver" not in command:
                continue  # a fork (of the student's, or by the fork method) runs at once
            if self._is_helper(p):
                continue
            try:
                if (self._scratch / "events" / f"{p.pid}.jsonl").stat().st_size:
                    continue
            except OSError:
                pass
            if running(p):
                return True
        return False

    def _parse_reply(self) -> dict | None:
        if len(self._reply_buffer) < 4:
            return None
        (size,) = struct.unpack(">I", self._reply_buffer[:4])
        if len(self._reply_buffer) < 4 + size:
            return None
        body = bytes(self._reply_buffer[4:4 + size])
        del self._reply_buffer[:4 + size]
        return json.loads(body)

    def _drain_output(self) -> None:
        limit = self.limits.output_kb * 1024
        while True:
            try:
                chunk = os.read(self._output_r, 1 << 16)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self._output_total += len(chunk)
            room = limit - len(self._output)
            if room > 0:
                self._output += chunk[:room]

    def _take_output(self) -> tuple[str, int]:
        self._drain_output()
        text = self._output.decode("utf-8", errors="replace")
        total = self._output_total
        self._output.clear()
        self._output_total = 0
        return text, total

    # ------------------------------------------------------------------ observing

    def _observe(self, driver: str, reply, started: float) -> Observation:
        duration = time.monotonic() - started
        if isinstance(reply, dict) and reply.get("type") == "result":
            leftovers = self._collect_leftovers()
            if reply["ok"]:
                return self._make(driver, RETURNED, duration=duration, value=plain.decode(reply["value"]),
                                  leftovers=leftovers, daemons=reply.get("daemons_stopped", ()))
            return self._make(driver, RAISED, duration=duration, error=ErrorInfo.from_dict(reply["error"]),
                              leftovers=leftovers, daemons=reply.get("daemons_stopped", ()))
        if isinstance(reply, dict) and reply.get("type") == "imported":
            self.drivers = {str(name): int(asked) for name, asked, *_ in reply.get("drivers", ())}
            self.strict = {str(name) for name, _asked, *rest in reply.get("drivers", ()) if rest and rest[0]}
            return self._make(driver, RETURNED, duration=duration)
        if isinstance(reply, dict) and reply.get("type") == "drivers_failed":
            self._kill_tree()
            raise SandboxError(f"the hidden checks' drivers failed to import: {reply['error']['traceback']}")
        if isinstance(reply, dict) and reply.get("type") == "import_failed":
            self._kill_tree()
            return self._make(driver, RAISED, duration=duration, error=ErrorInfo.from_dict(reply["error"]))
        self.dead = True
        if reply == "timeout":
            # The nanny (the process this grader started) never runs the probe: asking it for a
            # stack would only wait STACK_READY_S for a handler that never comes.
            stacks = self._dump_stacks([p for p in self._tree() if not self._is_helper(p) and p.pid != self._proc.pid])
            self._kill_tree()
            self.dead_reason = N_("your code hung in an earlier check")
            return self._make(driver, TIMEOUT, duration=duration, stacks=stacks,
                              detail=f"no answer within {self.timeout:g} s")
        if isinstance(reply, tuple) and reply[0] == "resource":
            self._kill_tree()
            self.dead_reason = N_("your code exceeded a limit in an earlier check")
            return self._make(driver, RESOURCE, duration=duration, detail=reply[1])
        status = self._proc.poll()
        if status is None:
            try:
                status = self._proc.wait(0.5)
            except subprocess.TimeoutExpired:
                status = None
        self._kill_tree()
        self.dead_reason = N_("your code ended its own process in an earlier check")
        return self._make(driver, DIED, duration=duration, detail=describe_exit(status))

    def _make(self, driver: str, outcome: str, *, duration: float = 0.0, value=None, error=None,
              stacks=(), leftovers=(), daemons=(), detail: str = "") -> Observation:
        output, total = self._take_output()
        return Observation(
            driver=driver, start_method=self.start_method, outcome=outcome, value=value, error=error,
            duration_s=duration, output=output, output_bytes=total, output_limit=self.limits.output_kb * 1024,
            events=self._take_events(), stacks=tuple(stacks), leftovers=tuple(leftovers), limit_s=self.timeout,
            daemons_stopped=tuple(d.get("name", "?") for d in daemons if isinstance(d, dict)),
            detail=detail, student_file=self.student_file_name, student_source=self._source,
        )

    def _take_events(self) -> tuple[Event, ...]:
        self._read_events()
        events = tuple(sorted(self._pending_events, key=lambda e: e.t))
        self._pending_events.clear()
        return events

    def _read_events(self) -> None:
        """Move what the probe wrote since the last call into the pending events."""
        if self._scratch is None:
            return
        events = []
        for path in (self._scratch / "events").glob("*.jsonl"):
            offset = self._event_offsets.get(path.name, 0)
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    data = f.read()
            except OSError:
                continue
            end = data.rfind(b"\n") + 1
            self._event_offsets[path.name] = offset + end
            for line in data[:end].splitlines():
                try:
                    record = json.loads(line)
                    events.append(Event(t=record.pop("t"), pid=record.pop("pid"), kind=record.pop("kind"),
                                        internal=record.pop("internal", False), where=record.pop("where", None),
                                        data=record))
                except (ValueError, KeyError, TypeError):
                    continue
        events.sort(key=lambda e: e.t)
        for e in events:
            if e.kind == "process.begin":
                self._names[e.pid] = (str(e.get("name")), e.get("daemon"))
            elif e.kind == "process.start" and e.get("child"):
                # The parent knows the name as soon as start() returns; a spawn child still
                # starting up has not said it yet.
                self._names.setdefault(e.get("child"), (str(e.get("name")), e.get("daemon")))
            elif e.kind == "manager.start" and e.get("child"):
                self._names.setdefault(e.get("child"), (str(e.get("name")), False))
        self._pending_events.extend(events)

    # ------------------------------------------------------------------ the process tree

    def _tree(self) -> list[psutil.Process]:
        """Every process of the sandbox: the nanny's descendants and orphans re-parented here."""
        parents = ppid_map()
        kids: dict[int, list[int]] = {}
        for pid, ppid in parents.items():
            kids.setdefault(ppid, []).append(pid)
        todo = self._orphans(kids.get(self._own_pid, ()))
        if self._proc.pid in parents:
            todo.append(self._proc.pid)
        found: set[int] = set()
        while todo:
            pid = todo.pop()
            if pid not in found:
                found.add(pid)
                todo.extend(kids.get(pid, ()))
        self._orphan_owner.update(dict.fromkeys(found, True))  # once seen in the tree, ours when orphaned
        return [p for p in map(self._handle, found) if p is not None]

    def _handle(self, pid: int) -> psutil.Process | None:
        handle = self._handles.get(pid)
        if handle is None or not handle.is_running():
            try:
                handle = self._handles[pid] = psutil.Process(pid)
            except psutil.Error:
                return None
        return handle

    def _orphans(self, children=None) -> list[int]:
        """Pids of this sandbox's processes re-parented to this process (it is a subreaper).

        Several sandboxes may run at once: an orphan is this one's if it was seen in this
        tree before, or if it names this sandbox (`_names_this_sandbox`).
        """
        if children is None:
            children = [pid for pid, ppid in ppid_map().items() if ppid == self._own_pid]
        mine = []
        warm = zygote.current()
        for pid in children:
            if pid in self._preexisting or pid in _NANNIES or (warm is not None and pid == warm.pid):
                continue
            if pid not in self._orphan_owner:
                self._orphan_owner[pid] = self._names_this_sandbox(pid)
            if self._orphan_owner[pid]:
                mine.append(pid)
        return mine

    def _names_this_sandbox(self, pid: int) -> bool:
        """Whether a process says it is of this sandbox: an exec'd one by its environment; a fork by
        the name sandbox_child gave its process (a fork of the warm sandbox shows the zygote's
        environment in /proc, not its own), or by its folder."""
        marker = str(self._scratch)
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() == self._scratch.name[:15]:
                    return True
            process = psutil.Process(pid)
            return any(marker in v for v in process.environ().values()) or process.cwd().startswith(marker)
        except (OSError, psutil.Error):
            return False

    def _os_label(self, pid: int) -> str:
        """A name for a process multiprocessing did not start: the program, or what the OS calls it."""
        try:
            command = " ".join(psutil.Process(pid).cmdline())
        except psutil.Error:
            return _("a process")
        if "runpy.run_path" in command:
            return _("your program ({file})").format(file=self.student_file_name)
        forked = "sandbox_child" in command or "grader.zygote" in command
        return _("a forked process") if forked else command.split(" ")[0].rsplit("/", 1)[-1]

    def _is_helper(self, p: psutil.Process) -> bool:
        """multiprocessing's resource tracker and fork server: the library's, not the student's."""
        if p.pid in self._helpers:
            return True
        try:
            command = " ".join(p.cmdline())
            if "multiprocessing.forkserver" in command:
                # The fork server's children share its command line: they are the student's processes.
                parent = p.parent()
                helper = parent is None or "multiprocessing.forkserver" not in " ".join(parent.cmdline())
            else:
                helper = "multiprocessing.resource_tracker" in command
        except psutil.Error:
            return False
        if helper:
            self._helpers.add(p.pid)
        return helper

    def _collect_leftovers(self) -> tuple[Leftover, ...]:
        ignored = {self._worker_pid, self._proc.pid} | self._helpers
        deadline = time.monotonic() + LEFTOVER_GRACE_S
        while True:
            alive = [p for p in self._tree() if p.pid not in ignored and running(p) and not self._is_helper(p)]
            if not alive or time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        if not alive:
            return ()
        self._read_events()  # the names of the processes still running
        stacks = {s.pid: s for s in self._dump_stacks(alive)}
        leftovers = []
        for p in alive:
            name, daemon = self._names.get(p.pid) or (self._os_label(p.pid), None)
            leftovers.append(Leftover(pid=p.pid, name=name, daemon=daemon, stack=stacks.get(p.pid)))
        kill(alive)
        self._reap_orphans()
        return tuple(leftovers)

    def _dump_stacks(self, procs: list[psutil.Process]) -> list[ProcessStack]:
        """Ask each Python process of `procs` for its stack; parse what they wrote."""
        asked = {}
        # A child still starting up (a spawn child importing, on a loaded machine) has not yet
        # installed its handler, and an early signal would kill it: give it a bounded moment.
        ready_by = time.monotonic() + STACK_READY_S
        starting = [p for p in procs if _is_python(p)]
        while starting and time.monotonic() < ready_by:
            starting = [p for p in starting if running(p) and not handles_stack_signal(p.pid)]
            time.sleep(0.02 if starting else 0)
        for p in procs:
            path = self._scratch / "stacks" / f"{p.pid}.txt"
            if not handles_stack_signal(p.pid) or not path.exists():
                continue
            asked[p.pid] = (path, path.stat().st_size)
            try:
                os.kill(p.pid, STACK_SIGNAL)
            except OSError:
                asked.pop(p.pid)
        deadline = time.monotonic() + STACK_WAIT_S
        sizes: dict[int, int] = {}
        while asked and time.monotonic() < deadline:
            time.sleep(0.02)
            grown = {pid: path.stat().st_size for pid, (path, start) in asked.items() if path.stat().st_size > start}
            if len(grown) == len(asked) and grown == sizes:
                break
            sizes = grown
        self._read_events()
        stacks = []
        for pid, (path, start) in asked.items():
            with open(path, errors="replace") as f:
                f.seek(start)
                text = f.read()
            name, daemon = self._names.get(pid) or (self._os_label(pid), None)
            stacks.append(ProcessStack(pid=pid, name=name, daemon=daemon, threads=parse_faulthandler(text)))
        stacks.sort(key=lambda s: (s.pid != self._worker_pid, s.pid))
        return stacks

    def _kill_tree(self) -> None:
        """Kill every process of the sandbox, escaped ones included, and reap our own."""
        if self._proc is None:
            return
        for _attempt in range(400):
            procs = self._tree()
            if not procs:
                break
            # The student's processes first (stopped, so that none forks meanwhile), then
            # multiprocessing's helpers at once: the semaphores the tracker would have unlinked
            # carry this sandbox's name and are unlinked in close(). (Waiting for the tracker
            # to exit by itself cost up to a second per hang, more on a loaded machine.)
            students = [p for p in procs if not self._is_helper(p)]
            kill(students, stop_first=True)
            kill([p for p in procs if p not in students])
            self._proc.poll()
            self._reap_orphans()
            time.sleep(0.005)
        try:
            os.killpg(self._proc.pid, signal.SIGKILL)  # the safety net: anything of the group still there
        except OSError:
            pass
        if self._cgroup is not None:
            self._cgroup.kill()  # and whatever is left in the cgroup, wherever it went
        try:
            self._proc.wait(1.0)
        except subprocess.TimeoutExpired:
            pass

    @property
    def _semprefix(self) -> str:
        return f"mp-{self._scratch.name}"

    def _reap_orphans(self) -> None:
        """Collect the exit status of this sandbox's re-parented orphans (only pids that are ours)."""
        for pid in self._orphans():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def time_lost_to_load(ran: int, waited: int, demand: float, cpus: int, interval: float) -> float:
    """Of `interval` s in which a sandbox's processes ran `ran` ns and waited `waited` ns for a
    CPU, the seconds the machine's load took (negative: it ran ahead of its share). `demand` is
    how many CPUs the grading's sandboxes wanted in all; alone on `cpus` CPUs they would get the
    share min(1, cpus / demand) of what they wanted, which is the submission's own pace."""
    wanted = ran + waited
    if wanted <= 0 or interval <= 0:
        return 0.0
    fair = min(1.0, cpus / demand) if demand > 0 else 1.0
    return interval * (1 - (ran / wanted) / fair)


def scratch_root() -> Path:
    """Where the sandboxes' scratch folders go: the temporary folder, unless its path is so long
    that multiprocessing's sockets inside a sandbox would not fit in an AF_UNIX address (Manager()
    and every forkserver run would then fail, through no fault of the student's): then /tmp."""
    root = Path(tempfile.gettempdir())
    return root if len(os.fsencode(root)) + SOCKET_PATH_ROOM <= UNIX_PATH_MAX else Path("/tmp")


def _hold(folder: Path) -> int | None:
    """An exclusive flock on the scratch folder for as long as its sandbox lives: the kernel
    releases it when this process ends, however it ends (see sweep_abandoned)."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        pass
    return fd


_swept = threading.Lock()


def sweep_abandoned() -> None:
    """Once per process: end what a grader killed outright (SIGKILL, the OOM killer) left before
    its sandbox could end itself (sandbox_child's nanny does that where it lives): a scratch folder
    whose lock nobody holds, older than ABANDONED_AFTER_S, its processes and its semaphores."""
    if _swept.acquire(blocking=False):
        sweep_folder(scratch_root())
        sweep_semaphores(Path("/dev/shm"))


def sweep_semaphores(shm: Path) -> None:
    """Unlink the semaphores named after a sandbox that no longer exists: older than
    ABANDONED_AFTER_S, no folder of that name in this grader's scratch root (sweep_folder ends
    those) and no process of that name alive (every sandbox's nanny carries it while it lives).
    They are what a sandbox killed with its nanny leaves when its folder went another way (a
    test's temporary folder, a reboot of /tmp): each one is a file in /dev/shm for good."""
    try:
        old = [path for path in shm.glob(f"sem.mp-{SCRATCH_PREFIX}*")
               if time.time() - path.stat().st_mtime > ABANDONED_AFTER_S]
    except OSError:
        return
    if not old:
        return
    alive = {proc.info["name"] for proc in psutil.process_iter(["name"])}
    root = scratch_root()
    for path in old:
        sandbox = path.name[len("sem.mp-"):].rsplit("-", 1)[0]
        if sandbox[:15] in alive or (root / sandbox).exists():
            continue
        try:
            path.unlink()
        except OSError:
            pass


def sweep_folder(root: Path) -> None:
    """End the abandoned sandboxes whose scratch folders are in `root` (see sweep_abandoned)."""
    try:
        candidates = [p for p in root.glob(f"{SCRATCH_PREFIX}*") if (p / "events").is_dir() and (p / "stacks").is_dir()]
    except OSError:
        return
    for folder in candidates:
        try:
            if time.time() - folder.stat().st_mtime < ABANDONED_AFTER_S:
                continue
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # its grader is alive
        try:
            for _round in range(50):
                found = sandbox_pids(str(folder))
                if not found:
                    break
                kill_now(found)
                time.sleep(0.01)
            remove_files(str(folder), f"mp-{folder.name}")
        finally:
            os.close(fd)


def _is_python(p: psutil.Process) -> bool:
    """A Python interpreter (a non-Python program never installs a stack handler: no wait for it)."""
    try:
        return os.path.basename(p.cmdline()[0]).startswith("python")
    except (psutil.Error, IndexError):
        return False
