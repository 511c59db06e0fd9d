"""The sandbox's own process: imports the student's module and runs drivers on request.

Everything here runs inside the student's process tree, so nothing here decides a
verdict. It answers the supervisor (grader/sandbox.py) over a pipe with plain data:
values encoded by `grader.plain`, errors as text trimmed to the student's frames.

Start-up, in order: joining the sandbox's pids cgroup, resource limits, a nanny fork (so
that the student's `os.getppid()` is a disposable process, not the grader), the probe, the
start method, Landlock (grader/confinement.py: from here on this process and all it starts
write only in the scratch folder and signal nothing outside), the student's module, the
drivers' module. Then a loop: read a request, run the driver, reply.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback


def send(fd: int, message: dict) -> None:
    data = json.dumps(message).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd: int) -> dict | None:
    header = _read_exactly(fd, 4)
    if header is None:
        return None
    body = _read_exactly(fd, struct.unpack(">I", header)[0])
    return None if body is None else json.loads(body)


def _read_exactly(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


# --------------------------------------------------------------------------- errors as text


def describe_error(error: BaseException, student_file: str) -> dict:
    """An exception as plain data: type, message, the student's frames, the student's line."""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [f for f in frames if f.filename == student_file]
    shown = list(mine)
    if frames and (not mine or frames[-1] is not mine[-1]):
        shown.append(frames[-1])  # where it was raised, when that is not the student's own line
    lines = []
    for f in shown:
        name = os.path.basename(f.filename) if f.filename == student_file else _short_path(f.filename)
        lines.append(f'  File "{name}", line {f.lineno}, in {f.name}')
        if f.line:
            lines.append(f"    {f.line.strip()}")
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    cause = error.__cause__
    remote = str(cause).strip() if cause is not None and type(cause).__name__ == "RemoteTraceback" else ""
    last = mine[-1] if mine else None
    if isinstance(error, SyntaxError) and error.filename == student_file:
        code = (error.text or "").strip()
        marker = f'  File "{os.path.basename(student_file)}", line {error.lineno}\n    {code}\n'
        return {"type": type(error).__name__, "message": error.msg, "traceback": marker + text.splitlines()[-1],
                "line": error.lineno, "function": None, "code": code, "from_student": True,
                "raised_in_student_file": True, "remote_traceback": "", "exit_code": None}
    return {
        "type": type(error).__name__,
        "message": str(error)[:2000],
        "traceback": "\n".join(lines + [text])[:6000],
        "remote_traceback": _trim_remote(remote, student_file),
        "line": last.lineno if last else None,
        "function": last.name if last else None,
        "code": (last.line or "").strip() if last else None,
        "from_student": bool(mine),
        "raised_in_student_file": bool(frames) and frames[-1].filename == student_file,
        "exit_code": error.code if isinstance(error, SystemExit) and isinstance(error.code, (int, type(None))) else None,
    }


def _short_path(path: str) -> str:
    marker = os.sep + "multiprocessing" + os.sep
    return "multiprocessing/" + path.split(marker, 1)[1] if marker in path else os.path.basename(path)


def _trim_remote(text: str, student_file: str) -> str:
    """Keep, of a Pool worker's traceback, the lines about the student's file and the error."""
    if not text:
        return ""
    lines = text.strip('"').splitlines()
    kept, keep_next = [], False
    for line in lines:
        if student_file in line:
            kept.append(line.replace(student_file, os.path.basename(student_file)))
            keep_next = True
        elif keep_next and line.startswith("    "):
            kept.append(line)
            keep_next = False
        else:
            keep_next = False
    if lines:
        kept.append(lines[-1])
    return "\n".join(kept)[:3000]


# --------------------------------------------------------------------------- the process


ABANDONED_POLL_S = 0.25  # how often the nanny looks whether its grader is still there
ABANDONED_EXIT = 137  # the nanny's exit status when it ended a sandbox its grader had left
GRADER_GONE = 75  # the worker's exit status when its requests ended without an "exit": its grader died


def _nanny(fds: tuple[int, ...], config: dict) -> None:
    """Fork: the parent waits for the child and exits as it did; the child goes on.

    Should the grader die first (a SIGKILL, the OOM killer), nobody else would stop a hung tree
    or remove its folder: the parent, which never runs the student's code and is not confined,
    then ends the sandbox itself (`_end_abandoned`)."""
    grader = os.getppid()
    pid = os.fork()
    if pid == 0:
        return
    for fd in fds:
        os.close(fd)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    status = _wait_unless_abandoned(pid, grader)
    if status is None:
        _end_abandoned(config)
        os._exit(ABANDONED_EXIT)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def _wait_unless_abandoned(pid: int, grader: int) -> int | None:
    """The child's wait status, or None as soon as this process is no longer the grader's child."""
    try:
        exited = os.pidfd_open(pid)  # readable when the child exits: no wait for the next look
    except (AttributeError, OSError):
        exited = None
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        # The child may end *because* its grader is gone (its request pipe closed) before the
        # next look: that too is a sandbox nobody will clean up.
        if os.getppid() != grader:
            return None
        if done:
            return None if os.WIFEXITED(status) and os.WEXITSTATUS(status) == GRADER_GONE else status
        try:
            if exited is not None:
                select.select([exited], [], [], ABANDONED_POLL_S)
            else:
                time.sleep(ABANDONED_POLL_S)
        except InterruptedError:
            pass


def _end_abandoned(config: dict) -> None:
    """Kill every process of this sandbox (its session, the forks named after it, the processes
    whose environment names its folder, its cgroup), then remove its folder and semaphores."""
    folder = config["probe_dir"]
    for _round in range(200):
        found = [pid for pid in sandbox_pids(folder, config.get("cgroup_procs"), os.getsid(0)) if pid != os.getpid()]
        if not found:
            break
        kill_now(found)
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.01)
    remove_files(folder, os.environ.get("GRADER_SEMPREFIX"))


def kill_now(pids: list[int]) -> None:
    for sig in (signal.SIGSTOP, signal.SIGKILL):  # stopped first, so that none forks meanwhile
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass


def remove_files(folder: str, semprefix: str | None) -> None:
    """A sandbox's folder, and the POSIX semaphores named after it that a killed tree left."""
    import glob
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    for path in glob.glob(f"/dev/shm/sem.{semprefix}-*") if semprefix else ():
        try:
            os.unlink(path)
        except OSError:
            pass


def sandbox_pids(folder: str, cgroup_procs: str | None = None, session: int | None = None) -> list[int]:
    """Live processes of the sandbox whose folder is `folder`, from /proc: forks named after it
    (`_label`), processes whose environment names it, those of its cgroup and of its session."""
    label, marker = os.path.basename(folder)[:15].encode(), folder.encode()
    found = set()
    if cgroup_procs:
        try:
            with open(cgroup_procs) as f:
                found.update(int(line) for line in f if line.strip())
        except (OSError, ValueError):
            pass
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            comm = stat[stat.index(b"(") + 1:stat.rindex(b")")]
            state, _ppid, _group, sid = stat[stat.rindex(b")") + 2:].split()[:4]
            if state in (b"Z", b"X"):
                continue
            if int(sid) == session or comm == label:
                found.add(int(name))
                continue
            with open(f"/proc/{name}/environ", "rb") as f:
                if marker in f.read():
                    found.add(int(name))
        except (OSError, ValueError):
            continue
    return sorted(found)


def _set_limits(memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    for which, value in ((resource.RLIMIT_AS, limit), (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass


def _stop_daemons() -> list[dict]:
    """What the end of a program does: finalize pools nobody holds, then stop daemonic children.

    Only pools' finalizers (exit priority 15) run: a Manager the student forgot to shut down
    must still be found running, and reported.
    """
    import gc
    import multiprocessing
    from multiprocessing import util

    gc.collect()
    util._run_finalizers(15)

    stopped = []
    for p in multiprocessing.active_children():
        if p.daemon:
            stopped.append({"pid": p.pid, "name": p.name})
            p.terminate()
            p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join(1.0)
    return stopped


def _name_semaphores(prefix: str | None) -> None:
    """Name this sandbox's POSIX semaphores /dev/shm/sem.<prefix>-*, so that the supervisor can
    unlink what a killed tree leaves (spawned children do the same from sitecustomize)."""
    if prefix:
        from multiprocessing import process

        process.current_process()._config["semprefix"] = "/" + prefix


def _confine(config: dict) -> dict:
    """Landlock on this process and all it starts; what held, for the verdict."""
    from grader import confinement

    if not config.get("confine", True):
        return {"landlock_abi": 0, "fs": False, "signals": False, "net": False,
                "why": f"turned off ({confinement.ENV_SWITCH}=0)"}
    import grader

    extra = [os.path.dirname(grader.__file__), os.path.dirname(config["drivers_file"])]
    return confinement.restrict(config["probe_dir"], confinement.read_paths(extra), config.get("network", False))


def _label(name: str) -> None:
    """Name this process, and every fork of it, after the sandbox (`ps` shows it; the supervisor
    tells its orphans from another sandbox's by it, where their environment does not say)."""
    try:
        with open("/proc/self/comm", "w") as f:
            f.write(name[:15])
    except OSError:
        pass


def _drivers_of(module) -> list[list]:
    """[name, schedules asked, failed by leftovers] of each driver of the hidden-check module, in
    the module's order (the last: some check of it fails whenever processes are left running):
    what the supervisor runs, known before (and without) the grader's own loading of the checks."""
    from grader.drivers import is_driver

    asked = {name: [name, 0, False] for name, value in vars(module).items() if is_driver(value)}
    for value in vars(module).values():
        spec = getattr(value, "_grader_check", None)
        uses = getattr(getattr(spec, "uses", None), "__name__", None)
        if uses in asked:
            asked[uses][1] = max(asked[uses][1], int(getattr(spec, "schedules", 0) or 0))
            asked[uses][2] = asked[uses][2] or not getattr(spec, "leftovers_ok", False)
    return list(asked.values())


def main() -> None:
    config = json.loads(os.environ.pop("GRADER_SANDBOX", "{}"))
    request_fd, reply_fd = config["request_fd"], config["reply_fd"]
    _label(os.path.basename(config["probe_dir"]))
    if config.get("cgroup_procs"):
        try:  # first of all, so that every process of the tree counts against the cap
            with open(config["cgroup_procs"], "w") as f:
                f.write(str(os.getpid()))
        except OSError:
            pass
    _set_limits(config["memory_mb"])
    if config.get("drop"):
        from grader.confinement import drop_privileges

        drop_privileges(*config["drop"])
    _nanny((request_fd, reply_fd), config)
    os.environ.pop("PYTHONOPTIMIZE", None)

    from grader import drivers as driver_budget
    from grader import plain, probe, schedule

    student_file = config["student_file"]
    probe.install(config["probe_dir"], student_file)
    import multiprocessing

    multiprocessing.set_start_method(config["start_method"], force=True)
    _name_semaphores(os.environ.get("GRADER_SEMPREFIX"))
    confined = _confine(config)
    if config.get("require_fs") and not confined.get("fs"):
        # The grader counted on the kernel to keep the course's files safe, and took no snapshot.
        send(reply_fd, {"type": "unconfined", "why": confined.get("why", "")})
        os._exit(0)
    send(reply_fd, {"type": "hello", "pid": os.getpid(), "nanny": os.getppid(), "confinement": confined,
                    "uid": os.getuid()})

    sys.path.insert(0, os.path.dirname(config["drivers_file"]))
    # The drivers first: nothing the student's import does (a .pyc planted where the course is not
    # confined, a module put in sys.modules) can change what this sandbox runs as the grader's.
    try:
        drivers = importlib.import_module(config["drivers_module"])
    except BaseException as error:  # noqa: BLE001 - the grader's own fault: reported as such
        send(reply_fd, {"type": "drivers_failed", "error": describe_error(error, config["drivers_file"])})
        os._exit(0)
    sys.path.insert(0, os.path.dirname(student_file))
    started = time.monotonic()
    try:
        student = importlib.import_module(config["student_module"])
    except BaseException as error:  # noqa: BLE001 - whatever the student's import does is an outcome
        sys.stdout.flush()
        send(reply_fd, {"type": "import_failed", "error": describe_error(error, student_file),
                        "duration": time.monotonic() - started})
        os._exit(0)
    send(reply_fd, {"type": "imported", "duration": time.monotonic() - started, "drivers": _drivers_of(drivers)})

    while True:
        request = receive(request_fd)
        if request is None:  # the grader died: the nanny, still waiting, ends what is left
            os._exit(GRADER_GONE)
        if request.get("type") == "exit":
            break
        driver = getattr(drivers, request["driver"])
        args = plain.decode(request["args"])
        explored = request.get("schedule")
        held = getattr(driver, "_grader_first_task_last", False)
        if explored or held:
            plan = explored or {"seed": 0, "budget_ms": 0, "run": request.get("run", 0)}
            schedule.begin(config["probe_dir"], plan["seed"], plan["budget_ms"], plan["run"], first_task_last=held)
        started = time.monotonic()
        driver_budget.mark_run_start()  # drivers' waits are shares of this run's deadline
        try:
            value = driver(student, *args)
            reply = {"type": "result", "ok": True, "value": plain.encode(value)}
        except BaseException as error:  # noqa: BLE001 - a student's exception is an outcome
            reply = {"type": "result", "ok": False, "error": describe_error(error, student_file)}
        reply["duration"] = time.monotonic() - started
        if explored or held:  # clean-up (stopping daemons) runs unperturbed
            schedule.begin(config["probe_dir"], 0, 0, plan["run"])
            reply["delay_ms"] = schedule.spent_ms(config["probe_dir"], plan["run"])
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        try:
            reply["daemons_stopped"] = _stop_daemons()
        except Exception:
            reply["daemons_stopped"] = []
        send(reply_fd, reply)
    os._exit(0)


if __name__ == "__main__":
    main()
