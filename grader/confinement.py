"""Kernel confinement of a sandbox: Landlock rules, a pids cgroup, and what held on this machine.

Landlock (Linux >= 5.13) lets a process restrict itself and everything it starts, root
included. The sandbox child calls `restrict()` before it imports the student's module:
read and execute only where the interpreter and the grader live, write only in the
sandbox's scratch folder, /dev/shm and /dev/null; no signal and no abstract UNIX socket
out of the domain (ABI >= 6); no TCP bind or connect unless the exercise allows it
(ABI >= 4). Rights the kernel does not know are dropped one by one ("best effort", as
the kernel's documentation recommends) and the result says what was applied.

The process cap: the kernel ignores RLIMIT_NPROC for root, so the supervisor puts each
sandbox in a pids cgroup of its own when one is writable (`PidsCgroup`); else the
supervisor's poll is all there is.

Our own ~ctypes module rather than a PyPI binding: the `landlock` package handles file
rights only (no network, no scopes), and the rest are young; the three system calls
and their structures are small and fixed by the kernel's ABI.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path

ENV_SWITCH = "GRADE_CONFINE"  # "0": no Landlock, no cgroup, no uid drop (a debugging aid, and the cost measurement)
ENV_USER = "GRADE_SANDBOX_USER"  # the user a root grader drops the sandbox to (default: nobody)

# System call numbers: the same on x86-64 and on the generic table (aarch64, riscv64, ...).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2
_PR_SET_NO_NEW_PRIVS = 38

# File rights (linux/landlock.h), with the ABI that introduced each.
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # the rights a rule on a file may carry
READ = EXECUTE | READ_FILE | READ_DIR
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

# Where the interpreter and its tools read from, besides sys.prefix and sys.path.
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/opt")
DEVICES_RW = ("/dev/null", "/dev/zero", "/dev/full")
DEVICES_R = ("/dev/urandom", "/dev/random")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1  # packed in the kernel's header
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPort(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1") != "0"


def guards_files() -> bool:
    """Whether the kernel will keep every sandbox started here from writing outside its folder.

    Then the course need not be snapshot before a run: sandbox_child refuses to run the
    student's code in a sandbox that Landlock did not confine after all.
    """
    return enabled() and landlock_abi()[0] >= 1


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def landlock_abi() -> tuple[int, str]:
    """(ABI version, "") or (0, why Landlock cannot be used here)."""
    if not sys.platform.startswith("linux"):
        return 0, f"Landlock is Linux-only (this is {sys.platform})"
    libc = _libc()
    abi = libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_CREATE_RULESET_VERSION))
    if abi < 0:
        err = ctypes.get_errno()
        why = {38: "the kernel has no Landlock (older than 5.13)",
               95: "Landlock is built in but not enabled (boot with lsm=...,landlock)"}
        return 0, why.get(err, f"landlock_create_ruleset failed: {os.strerror(err)}")
    return int(abi), ""


def restrict(scratch: str, read_paths: list[str], network: bool) -> dict:
    """Confine this process and its future children; what was applied, as plain data.

    Never raises: a kernel without Landlock gives {"landlock_abi": 0, "why": ...}.
    """
    abi, why = landlock_abi()
    result = {"landlock_abi": abi, "fs": False, "signals": False, "net": False, "why": why}
    if abi <= 0:
        return result
    handled_fs = _FS_BY_ABI.get(abi, (1 << 16) - 1)
    handled_net = 0 if network or abi < 4 else NET_BIND_TCP | NET_CONNECT_TCP
    scoped = SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET if abi >= 6 else 0
    attr = _RulesetAttr(handled_fs, handled_net, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    libc = _libc()
    ruleset = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        result["why"] = f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}"
        return result
    try:
        rules = [(p, READ) for p in read_paths]
        rules += [(scratch, handled_fs), ("/dev/shm", handled_fs & ~EXECUTE)]
        rules += [(d, READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV) for d in DEVICES_RW]
        rules += [(d, READ_FILE | IOCTL_DEV) for d in DEVICES_R]
        for path, access in rules:
            _add_path(libc, ruleset, path, access & handled_fs)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or libc.syscall(
                _SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            result["why"] = f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"
            return result
    finally:
        os.close(ruleset)
    result.update(fs=True, signals=bool(scoped), net=bool(handled_net))
    missing = ["the exercise allows TCP (network: true)"] if network else []
    if abi < 4 and not network:
        missing.append("TCP rules need ABI 4 (Linux 6.7)")
    if abi < 6:
        missing.append("signal and socket scopes need ABI 6 (Linux 6.12)")
    result["why"] = "; ".join(missing)
    return result


def _add_path(libc, ruleset: int, path: str, access: int) -> None:
    """One path-beneath rule; a path that does not exist is simply not granted."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            access &= FILE_ONLY
        rule = _PathBeneath(access, fd)
        libc.syscall(_SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH), ctypes.byref(rule),
                     ctypes.c_uint32(0))
    finally:
        os.close(fd)


def read_paths(extra: list[str]) -> list[str]:
    """What the interpreter needs to read: its prefixes, its import path, the system's folders.

    Not "/": the scratch folders of other sandboxes (and the course itself) stay unreadable.
    """
    paths = set(SYSTEM_READ) | set(extra)
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              os.path.dirname(os.path.realpath(sys.executable)), os.path.dirname(sys.executable)):
        paths.add(p)
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.exists(entry):
            paths.add(entry)
    return sorted(p for p in paths if os.path.exists(p))


# --------------------------------------------------------------------------- the process cap


def _cgroup_roots() -> list[tuple[Path, int]]:
    """(folder, version) of writable pids hierarchies, v2 first."""
    roots = []
    try:
        mounts = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return roots
    for line in mounts:
        parts = line.split()
        if len(parts) < 4 or "rw" not in parts[3].split(","):
            continue
        if parts[2] == "cgroup2":
            controllers = Path(parts[1], "cgroup.controllers")
            if controllers.exists() and "pids" in controllers.read_text().split():
                roots.insert(0, (Path(parts[1]), 2))
        elif parts[2] == "cgroup" and "pids" in parts[3].split(","):
            roots.append((Path(parts[1]), 1))
    return [(r, v) for r, v in roots if os.access(r, os.W_OK)]


class PidsCgroup:
    """A pids cgroup for one sandbox: the kernel refuses the fork past `pids.max`."""

    def __init__(self, path: Path, version: int):
        self.path = path
        self.version = version

    @classmethod
    def create(cls, name: str, limit: int) -> PidsCgroup | None:
        if not enabled():
            return None
        for root, version in _cgroup_roots():
            _sweep(root / "grade")
            path = root / "grade" / name
            try:
                path.mkdir(parents=True)
                (path / "pids.max").write_text(str(limit))
                return cls(path, version)
            except OSError:
                try:
                    path.rmdir()
                except OSError:
                    pass
        return None

    def refused(self) -> int:
        """How many forks the kernel refused at the cap."""
        try:
            for line in (self.path / "pids.events").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except (OSError, ValueError):
            return []

    def kill(self) -> None:
        """Kill everything in the group (cgroup.kill on v2; on v1, pid by pid until empty)."""
        if self.version == 2 and (self.path / "cgroup.kill").exists():
            try:
                (self.path / "cgroup.kill").write_text("1")
            except OSError:
                pass
        for _ in range(200):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)

    def remove(self) -> None:
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)  # the last zombies are still being reaped


STALE_S = 60  # an empty sandbox cgroup this old belongs to a grader that died before removing it


def _sweep(parent: Path) -> None:
    """Remove the empty cgroups that graders killed before their clean-up left behind (rmdir
    refuses a cgroup that still holds a process, and a live sandbox's is never empty for long)."""
    try:
        stale = [p for p in parent.iterdir() if p.name.startswith("grade-") and time.time() - p.stat().st_mtime > STALE_S]
    except OSError:
        return
    for path in stale:
        try:
            if not (path / "cgroup.procs").read_text().strip():
                path.rmdir()
        except OSError:
            pass


def cgroup_available() -> str:
    """"cgroup v1"/"cgroup v2" when a pids cgroup can be made here, else ""."""
    roots = _cgroup_roots()
    return f"cgroup v{roots[0][1]}" if roots else ""


def unprivileged_can_run_python(extra: tuple[str, ...] = ()) -> bool:
    """Could a dropped uid exec this interpreter and read the grader? (no, when Python lives
    under a home folder of mode 700, as on our machines)."""
    import grader

    paths = {os.path.realpath(sys.executable), os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
             os.path.realpath(os.path.dirname(grader.__file__)), *map(os.path.realpath, extra)}
    for path in paths:
        parts = Path(path).parts
        for i in range(1, len(parts)):
            try:
                mode = os.stat(os.path.join(*parts[:i])).st_mode
            except OSError:
                return False
            if not mode & 0o001:  # "other" may not traverse
                return False
    return True


def drop_target(extra: tuple[str, ...] = ()) -> tuple[int, int] | None:
    """(uid, gid) a root grader should drop the sandbox to, or None where it cannot or need not."""
    if os.getuid() != 0 or not enabled() or not sys.platform.startswith("linux"):
        return None
    import pwd

    try:
        user = pwd.getpwnam(os.environ.get(ENV_USER, "nobody"))
    except KeyError:
        return None
    if user.pw_uid == 0 or not unprivileged_can_run_python(extra):
        return None
    return user.pw_uid, user.pw_gid


def drop_privileges(uid: int, gid: int, nproc: int | None) -> None:
    """In the sandbox child: become `uid` for good; RLIMIT_NPROC holds from here on."""
    import resource

    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if nproc:
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))


def machine_report(network: bool = False) -> dict:
    """What would protect a sandbox started now on this machine (for `grade doctor` and the verdict)."""
    abi, why = landlock_abi() if enabled() else (0, f"turned off ({ENV_SWITCH}=0)")
    cap = cgroup_available() if enabled() else ""
    drop = drop_target()
    return {
        "landlock_abi": abi, "fs": abi >= 1, "signals": abi >= 6, "net": abi >= 4 and not network,
        "uid": drop[0] if drop else os.getuid(),
        "process_cap": "cgroup" if cap else ("rlimit" if os.getuid() != 0 or drop else "poll"),
        "why": why,
    }


def weakest(reports) -> dict | None:
    """One confinement for an exercise graded in several sandboxes: what held in all of them."""
    reports = [r for r in reports if r]
    if not reports:
        return None
    merged = dict(reports[0])
    for r in reports[1:]:
        merged["landlock_abi"] = min(merged.get("landlock_abi", 0), r.get("landlock_abi", 0))
        for key in ("fs", "signals", "net"):
            merged[key] = bool(merged.get(key)) and bool(r.get(key))
        if r.get("process_cap") != merged.get("process_cap"):
            merged["process_cap"] = "poll"
        if r.get("why") and r["why"] not in merged.get("why", ""):
            merged["why"] = "; ".join(filter(None, (merged.get("why"), r["why"])))
    return merged
