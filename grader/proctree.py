"""Processes of a sandbox, seen from outside: reaping, killing, asking for stacks.

Small functions the supervisor (grader/sandbox.py) builds on. They act on pids and
psutil handles only; none of them knows about the sandbox's protocol or observations.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import sys
from pathlib import Path

import psutil

from .i18n import _
from .observations import Frame
from .probe import STACK_SIGNAL

_subreaper_done = False


def become_subreaper() -> bool:
    """Orphans of the student's tree are re-parented to this process, not to init. Whether they are."""
    global _subreaper_done
    if _subreaper_done or not sys.platform.startswith("linux"):
        return _subreaper_done
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_CHILD_SUBREAPER = 36  # noqa: N806 - the kernel's name
    _subreaper_done = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    return _subreaper_done


def ppid_map() -> dict[int, int]:
    """{pid: parent pid} of every process, from one read of /proc.

    psutil's children() reads all of /proc once per call, and a tree needs several calls;
    under load, with three sandboxes scanning at once, each scan cost 10-100 ms.
    """
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
            found[int(name)] = int(data[data.rfind(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return found


def running(p: psutil.Process) -> bool:
    try:
        return p.status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


def kill(procs: list[psutil.Process], stop_first: bool = False) -> None:
    if stop_first:
        for p in procs:
            try:
                p.send_signal(signal.SIGSTOP)
            except psutil.Error:
                pass
    for p in procs:
        try:
            p.send_signal(signal.SIGKILL)
        except psutil.Error:
            pass


def handles_stack_signal(pid: int) -> bool:
    """True once the process has installed its stack handler (an early SIGUSR1 would kill it)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) & (1 << (STACK_SIGNAL - 1)))
    except (OSError, ValueError):
        return False
    return False


_PROBE_FILE = str(Path(__file__).with_name("probe.py"))
_THREAD_RE = re.compile(r"^(Current thread|Thread) ")
_FRAME_RE = re.compile(r'^\s+File "(.*)", line (\d+) in (.*)$')


def parse_faulthandler(text: str) -> tuple[tuple[Frame, ...], ...]:
    threads: list[list[Frame]] = []
    for line in text.splitlines():
        if _THREAD_RE.match(line) or (line.startswith("Stack") and not threads):
            threads.append([])
            continue
        m = _FRAME_RE.match(line)
        if m and threads and m.group(1) != _PROBE_FILE:  # the probe's wrappers are not the student's business
            threads[-1].append(Frame(file=m.group(1), line=int(m.group(2)), function=m.group(3).strip()))
    # faulthandler prints the innermost frame first; keep outermost first.
    return tuple(tuple(_own_frames(list(reversed(t)))) for t in threads if t)


_PROCESS_FILE = "multiprocessing" + os.sep + "process.py"


def _own_frames(frames: list[Frame]) -> list[Frame]:
    """A forked child's stack still holds its parent's frames below BaseProcess._bootstrap (the
    `child.start()` that forked it): they are not where the child is, so they are cut off."""
    for index in range(len(frames) - 1, -1, -1):
        if frames[index].function == "_bootstrap" and frames[index].file.endswith(_PROCESS_FILE):
            return frames[index + 1:]
    return frames


def describe_exit(status: int | None) -> str:
    if status is None:
        return _("the student's process stopped answering")
    if status < 0:
        return _("the process was killed by {signal}").format(signal=signal.Signals(-status).name)
    if status >= 128 and status - 128 in signal.valid_signals():
        try:
            return _("the process was killed by {signal}").format(signal=signal.Signals(status - 128).name)
        except ValueError:
            pass
    return _("the process exited with status {status} before answering (sys.exit, os._exit or a closed "
             "channel)").format(status=status)
