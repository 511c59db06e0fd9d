"""The warm sandbox: one Python process with the sandbox's side of the grader already
imported, forked once per sandbox.

A fresh interpreter per sandbox costs its start-up and the import of the probe and the
rest of grader/sandbox_child.py (0.14 s here without bytecode caching), three times per
exercise. The zygote pays that once per grader process, and it is started as the grader
starts, so that it imports while the grader imports the rest of itself. Each sandbox is then a fork of
it, made in two steps: the zygote forks a go-between, which forks the sandbox's process
and exits at once. The sandbox's process is thus re-parented to the grader (a child
subreaper, grader/proctree.py), which waits for it and owns its tree exactly as it owns a
process it started itself; from there on it is the process grader/sandbox.py would have
started: a new session, the scratch folder, the sandbox's environment and pipes, then
`sandbox_child.main()`. The student's own start method is not touched (spawn children still
start a fresh interpreter): only the grader's start-up is saved.

The zygote never imports the student's module nor runs any student code: it only forks.
It ends when the grader does (its end of the socket closes). Where it cannot serve (not
Linux, no subreaper, `GRADE_WARM=0`, a zygote that failed), a sandbox starts as a fresh
interpreter, as before.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import threading

ENV_SWITCH = "GRADE_WARM"  # GRADE_WARM=0: every sandbox is a fresh interpreter
READY_WAIT_S = 60.0  # the zygote's imports, on a loaded machine
MAX_MESSAGE = 1 << 20
# What every sandbox imports before the student's module (grader/sandbox_child.py, the probe's
# patches); a module imported here is one no sandbox compiles again.
PRELOAD = (
    "grader.sandbox_child", "grader.drivers", "grader.plain", "grader.probe", "grader.schedule",
    "grader.confinement", "grader.checks",  # what hidden modules import (`from grader.checks import ...`)
    "multiprocessing", "multiprocessing.context", "multiprocessing.process",
    "multiprocessing.queues", "multiprocessing.synchronize", "multiprocessing.connection", "multiprocessing.pool",
    "multiprocessing.managers", "multiprocessing.sharedctypes", "multiprocessing.reduction",
    "multiprocessing.util", "multiprocessing.spawn", "multiprocessing.popen_fork", "multiprocessing.forkserver",
    "multiprocessing.popen_spawn_posix", "multiprocessing.popen_forkserver", "multiprocessing.resource_tracker",
    "multiprocessing.heap", "multiprocessing.dummy", "queue", "traceback", "importlib.util", "resource",
)


# --------------------------------------------------------------------------- the grader's side


def python_without_site(program: str) -> list[str]:
    """The command of a sandbox's interpreter: no site module (every child multiprocessing starts
    inherits -S), and sitecustomize, from PYTHONPATH, makes up for it (grader/_site/sitecustomize.py).
    With site, where multiprocessing does not start its children through the function that
    sitecustomize adapts (none of 3.10-3.13 lacks it)."""
    from multiprocessing import util

    if not callable(getattr(util, "spawnv_passfds", None)):
        return [sys.executable, "-c", program]
    return [sys.executable, "-S", "-c", f"import sitecustomize; {program}"]



class Zygote:
    """The grader's handle on its zygote process. Thread-safe: one fork at a time."""

    def __init__(self, env: dict[str, str]):
        self._sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                python_without_site(f"from grader.zygote import serve; serve({theirs.fileno()})"),
                env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), start_new_session=True, cwd="/")
        finally:
            theirs.close()
        self.pid = self._proc.pid
        self._owner = os.getpid()
        self._lock = threading.Lock()
        self._ready: bool | None = None

    def fork(self, env: dict[str, str], cwd: str, fds: tuple[int, int, int]) -> int | None:
        """The pid of a new sandbox process (a child of this process once it says hello), or
        None when the zygote cannot serve: the caller starts a fresh interpreter instead."""
        with self._lock:
            if not self._await_ready():
                return None
            request = json.dumps({"env": env, "cwd": cwd, "parent": os.getpid()}).encode()
            try:
                socket.send_fds(self._sock, [request], list(fds))
                reply = json.loads(self._sock.recv(MAX_MESSAGE) or b"{}")
            except (OSError, ValueError):
                self._ready = False
                return None
        pid = reply.get("pid")
        return pid if isinstance(pid, int) else None

    def _await_ready(self) -> bool:
        if self._ready is None:
            self._sock.settimeout(READY_WAIT_S)
            try:
                self._ready = self._sock.recv(64) == b"ready"
            except OSError:
                self._ready = False
            self._sock.settimeout(None)
        return self._ready

    def close(self) -> None:
        if os.getpid() != self._owner:
            return
        self._sock.close()  # the zygote reads the end of its input and exits
        if not self._ready:
            self._proc.kill()  # still importing (a run that ended before its first sandbox): no wait
        try:
            self._proc.wait(1.0)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


_current: dict[str, Zygote | None] = {"zygote": None}
_start_lock = threading.Lock()


def enabled() -> bool:
    return sys.platform.startswith("linux") and os.environ.get(ENV_SWITCH, "1") != "0"


def prestart(env: dict[str, str]) -> Zygote | None:
    """Start the zygote now if it is not running (so that it imports while the caller goes on)."""
    if not enabled():
        return None
    with _start_lock:
        if _current["zygote"] is None:
            try:
                _current["zygote"] = Zygote(env)
            except OSError:
                return None
            atexit.register(_current["zygote"].close)
        return _current["zygote"]


def current() -> Zygote | None:
    return _current["zygote"]


def _forget_in_child() -> None:
    # A fork of the grader (a test's worker, a batch helper) must not share the zygote's socket.
    zygote = _current["zygote"]
    _current["zygote"] = None
    if zygote is not None:
        try:
            zygote._sock.close()
        except OSError:
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


# --------------------------------------------------------------------------- the zygote's side


def serve(fd: int) -> None:
    """The zygote's loop: import, say ready, then fork a sandbox per request until the grader goes."""
    import importlib
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when the zygote ends
    cwd_entry = "" in sys.path
    if cwd_entry:
        sys.path.remove("")  # nothing of the zygote's own folder is imported
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    if cwd_entry:
        sys.path.insert(0, "")  # a sandbox's `python -c` imports from its folder first
    sock = socket.socket(fileno=fd)
    sock.send(b"ready")
    while True:
        try:
            message, fds, _flags, _address = socket.recv_fds(sock, MAX_MESSAGE, 3)
        except OSError:
            break
        if not message:
            break  # the grader has gone
        pid = _fork_sandbox(sock, json.loads(message), fds) if len(fds) == 3 else None
        for received in fds:
            os.close(received)
        try:
            sock.send(json.dumps({"pid": pid}).encode())
        except OSError:
            break
    os._exit(0)


def _fork_sandbox(sock: socket.socket, request: dict, fds: list[int]) -> int | None:
    """Fork the go-between, which forks the sandbox's process and exits: its pid, or None."""
    read_end, write_end = os.pipe()
    try:
        go_between = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if go_between == 0:
        os.close(read_end)
        go_between = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os._exit(1)
        if pid:
            os.write(write_end, str(pid).encode())
            os._exit(0)
        os.close(write_end)
        _become_sandbox(sock, request, fds, go_between)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 32):
        data += chunk
    os.close(read_end)
    os.waitpid(go_between, 0)
    return int(data) if data else None


def _become_sandbox(sock: socket.socket, request: dict, fds: list[int], go_between: int) -> None:
    """In the new process: become what a fresh `python -c sandbox_child.main()` would be. Never returns."""
    import signal
    import tempfile
    import time
    import traceback

    try:
        sock.close()
        while os.getppid() == go_between:  # the go-between exits at once
            time.sleep(0.0002)
        if os.getppid() != request["parent"]:
            os._exit(70)  # not re-parented to the grader: it could not wait for this process
        os.setsid()
        request_r, reply_w, output_w = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(output_w, 1)
        os.dup2(output_w, 2)
        os.close(output_w)
        os.chdir(request["cwd"])
        env = dict(request["env"])
        config = json.loads(env["GRADER_SANDBOX"])
        config.update(request_fd=request_r, reply_fd=reply_w)  # the numbers this process holds them by
        env["GRADER_SANDBOX"] = json.dumps(config)
        os.environ.clear()
        os.environ.update(env)
        _path_as_started(env.get("PYTHONPATH", ""))
        tempfile.tempdir = None  # the sandbox's own TMPDIR, not one looked up before
        import multiprocessing

        multiprocessing.current_process().authkey = os.urandom(32)  # as a fresh interpreter draws its own
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from grader.sandbox_child import main

        main()
    except BaseException:  # noqa: BLE001 - the grader's fault, shown in the sandbox's output
        traceback.print_exc()
    finally:
        os._exit(1)


def _path_as_started(pythonpath: str) -> None:
    """sys.path as `python -c` started with this PYTHONPATH would have it: each entry after the one
    before it (the zygote started with the first of them only)."""
    at = 1 if sys.path and sys.path[0] == "" else 0
    for entry in filter(None, pythonpath.split(os.pathsep)):
        if entry in sys.path:
            at = sys.path.index(entry) + 1
        else:
            sys.path.insert(at, entry)
            at += 1
