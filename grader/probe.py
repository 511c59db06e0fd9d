"""The probe: records what multiprocessing did inside the sandbox, and never judges.

It runs inside the student's processes. `install()` wraps the lifecycle calls of
multiprocessing (Process, Pool, Queue, JoinableQueue, SimpleQueue, Lock/Semaphore,
Pipe connections, Manager, Value/Array) so that each call appends one JSON line to
`<probe dir>/events/<pid>.jsonl`, and registers faulthandler on SIGUSR1 so that the
supervisor can ask any process for its Python stack (written to `stacks/<pid>.txt`).

It reaches every process of the tree: forked children inherit the patched classes and
re-open their files in an at-fork hook; spawn and forkserver children import
`grader/_site/sitecustomize.py` (on PYTHONPATH), which calls `install_from_env()`.

Calls made by multiprocessing itself (a Pool's internal queues, a Value's lock) are not
recorded for queue, lock and pipe operations; for process lifecycle they are recorded with
`internal: true`, so that checks can tell the student's calls from the library's.
Only this module's standard-library imports run at start-up: it must stay light, since
every spawned child pays for it.
"""

from __future__ import annotations

import faulthandler
import functools
import json
import os
import signal
import sys
import time

from . import schedule

ENV_DIR = "GRADER_PROBE_DIR"
ENV_STUDENT_FILE = "GRADER_STUDENT_FILE"
STACK_SIGNAL = signal.SIGUSR1

_MP_DIR = os.path.dirname(os.path.abspath(signal.__file__)) + os.sep + "multiprocessing" + os.sep
_THIS_FILE = os.path.abspath(__file__).removesuffix("c")
_CONTEXT_FILE = _MP_DIR + "context.py"

_TRANSPARENT: set = set()  # code objects of the grader's own wrappers, which _caller looks through
_state: dict = {"dir": None, "student": None, "fd": None, "pid": None, "stack_file": None, "patched": False,
                "serial": 0}  # serial: numbers this process's waits and pipes (diagnosis pairs them)


# --------------------------------------------------------------------------- set-up


def install(probe_dir: str, student_file: str) -> None:
    """Start recording in this process and in every process it starts."""
    os.environ[ENV_DIR] = probe_dir
    os.environ[ENV_STUDENT_FILE] = student_file
    _state["dir"] = probe_dir
    _state["student"] = student_file
    _open_files()
    if not _state["patched"]:
        _state["patched"] = True
        os.register_at_fork(after_in_child=_open_files)
        _patch_all()


def install_from_env() -> None:
    """Called by sitecustomize in spawn and forkserver children."""
    probe_dir = os.environ.get(ENV_DIR)
    if probe_dir and os.path.isdir(probe_dir):
        install(probe_dir, os.environ.get(ENV_STUDENT_FILE, ""))


def _open_files() -> None:
    pid = os.getpid()
    if _state["pid"] == pid or _state["dir"] is None:
        return
    _state["pid"] = pid
    schedule.reload(_state["dir"])  # a forkserver child must see the schedule set after the server started
    old_fd = _state["fd"]
    if old_fd is not None:
        try:
            os.close(old_fd)
        except OSError:
            pass
    try:
        _state["fd"] = os.open(
            os.path.join(_state["dir"], "events", f"{pid}.jsonl"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600
        )
        stack_file = open(os.path.join(_state["dir"], "stacks", f"{pid}.txt"), "w")  # noqa: SIM115
        faulthandler.register(STACK_SIGNAL, file=stack_file, all_threads=True, chain=False)
        old_stack_file = _state["stack_file"]
        _state["stack_file"] = stack_file
        if old_stack_file is not None:
            old_stack_file.close()
    except OSError:
        _state["fd"] = None


# --------------------------------------------------------------------------- recording


def _caller() -> tuple[bool, str | None]:
    """(called by multiprocessing itself?, "file.py:line" of the nearest student frame)."""
    frame = sys._getframe(2)
    # Skip our own wrappers, and the context methods (multiprocessing.Pipe() is context.Pipe()).
    while frame is not None and (frame.f_code.co_filename.startswith(_THIS_FILE[:-3])
                                 or frame.f_code.co_filename == _CONTEXT_FILE or frame.f_code in _TRANSPARENT):
        frame = frame.f_back
    # multiprocessing's own code, including the Value/Array accessors sharedctypes makes with
    # exec() (file "<string>", globals without a __name__).
    internal = frame is not None and (
        frame.f_code.co_filename.startswith(_MP_DIR)
        or (frame.f_code.co_filename == "<string>" and "__name__" not in frame.f_globals))
    student = _state["student"]
    where = None
    depth = 0
    while frame is not None and depth < 12:
        if frame.f_code.co_filename == student:
            where = f"{os.path.basename(student)}:{frame.f_lineno}"
            break
        frame = frame.f_back
        depth += 1
    return internal, where


def emit(kind: str, internal: bool = False, where: str | None = None, **data) -> None:
    """Append one event to this process's log. Never raises."""
    fd = _state["fd"]
    if fd is None:
        return
    record = {"t": time.monotonic(), "pid": os.getpid(), "kind": kind, "internal": internal, "where": where}
    record.update(data)
    try:
        os.write(fd, (json.dumps(record, default=repr) + "\n").encode())
    except (OSError, ValueError):
        pass


def _pause(kind: str, who: str | None = None, k: int | None = None) -> None:
    """A synchronisation point: sleep if the explored schedule says so, and log the sleep."""
    slept = schedule.point(kind, who, k)
    if slept:
        emit("schedule.delay", at=kind, ms=slept)


def record(kind: str, **data) -> None:
    """For drivers' own instrumented objects: log an event at the nearest student line.

    A hidden module can hand the student an object (a counter, a gate) whose methods call
    record("counter.read", value=v); the event joins the probe's log like any other.
    """
    _, where = _caller()
    emit(kind, False, where, **data)


def transparent(func):
    """Mark a hidden module's wrapper of a multiprocessing method as the grader's: calls made
    through it are attributed to whoever called the wrapper (multiprocessing itself, or the student)."""
    _TRANSPARENT.add(func.__code__)
    return func


def _func_name(func) -> str:
    return getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or type(func).__name__


def _next_serial() -> int:
    _state["serial"] += 1
    return _state["serial"]


def _brief(value) -> str:
    """A short, cheap account of a value put or sent: sentinels shown, payloads only typed."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str) and len(value) <= 24:
        return repr(value)
    return type(value).__name__


def _wrap(cls, name: str, kind: str, *, skip_internal: bool, after=None, before=None, wait: bool = False):
    """Replace cls.name by a wrapper that records `kind` at the call (and after, if asked).

    With `wait`, a "wait" event is logged before a call that may block, and the call's own
    event (logged when it returns) carries the same `wid`: a wait left without its event is
    what a process was blocked in when the run hung.
    """
    original = cls.__dict__.get(name)
    if original is None:
        return

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        internal, where = _caller()
        if skip_internal and internal:
            return original(self, *args, **kwargs)
        extra = before(self, *args, **kwargs) if before else {}
        if not internal:
            _pause(kind)
        if after is None:
            emit(kind, internal, where, **extra)
            return original(self, *args, **kwargs)
        called = time.monotonic()
        if wait:
            extra = dict(extra, wid=_next_serial())
            emit("wait", internal, where, call=kind, **extra)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as error:  # a call that raised still happened: log it, then re-raise
            emit(kind, internal, where, called=called, raised=type(error).__name__, **extra)
            raise
        emit(kind, internal, where, called=called, **extra, **after(self, result))
        return result

    setattr(cls, name, wrapper)


# --------------------------------------------------------------------------- the patches


def _patch_all() -> None:
    """Patch each multiprocessing module now if it is loaded, else right after its first import.

    Patching lazily keeps every spawned child cheap: a Pool worker never imports managers.
    """
    _patch_file_writes()
    patchers = {
        "multiprocessing.process": _patch_process,
        "multiprocessing.pool": _patch_pool,
        "multiprocessing.queues": _patch_queues,
        "multiprocessing.synchronize": _patch_synchronize,
        "multiprocessing.connection": _patch_connection,
        "multiprocessing.managers": _patch_managers,
        "multiprocessing.sharedctypes": _patch_sharedctypes,
        "multiprocessing.resource_tracker": _patch_resource_tracker,
        "socket": _patch_socket,
    }
    for name, patch in patchers.items():
        if name in sys.modules:
            patch()
        else:
            _PatchOnImport.pending[name] = patch
    if _PatchOnImport.pending:
        sys.meta_path.insert(0, _PatchOnImport())


class _PatchOnImport:
    """A meta-path finder: lets the normal finder load a module, then patches it."""

    pending: dict = {}

    def find_spec(self, name, path=None, target=None):
        patch = self.pending.pop(name, None)
        if patch is None:
            return None
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader, patch)
        return spec


class _PatchingLoader:
    def __init__(self, loader, patch):
        self._loader, self._patch = loader, patch

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        try:
            self._patch()
        except Exception:  # the probe must never break the student's program
            pass


_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


def _note_write(path) -> None:
    """Record a file opened for writing outside the sandbox's folder (the grader undoes it)."""
    try:
        absolute = os.path.abspath(os.fspath(path))
    except TypeError:
        return
    if not absolute.startswith(_state["dir"] or "\0"):
        emit("file.write", path=absolute)


def _patch_file_writes() -> None:
    import builtins
    import io

    original_open, original_os_open = io.open, os.open

    @functools.wraps(original_open)
    def probed_open(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
            _note_write(file)
            with _noting_refusal("write", file):
                return original_open(file, mode, *args, **kwargs)
        return original_open(file, mode, *args, **kwargs)

    @functools.wraps(original_os_open)
    def probed_os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS:
            _note_write(path)
            with _noting_refusal("write", path):
                return original_os_open(path, flags, *args, **kwargs)
        return original_os_open(path, flags, *args, **kwargs)

    builtins.open = io.open = probed_open
    os.open = probed_os_open
    for name, what in (("rename", "rename"), ("replace", "rename"), ("remove", "remove"), ("unlink", "remove"),
                       ("rmdir", "remove"), ("truncate", "truncate"), ("link", "link"), ("symlink", "link"), ("mkdir", "create"),
                       ("kill", "signal"), ("killpg", "signal")):
        if hasattr(os, name):
            setattr(os, name, _refusal_noted(getattr(os, name), what))
    sys.addaudithook(_audit)


class _noting_refusal:
    """Around a call the kernel may refuse (Landlock): log the refusal, let the error go on."""

    def __init__(self, what: str, target):
        self.what, self.target = what, target

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if kind is not None and issubclass(kind, PermissionError):
            _, where = _caller()
            if where is not None:
                emit("sandbox.refused", False, where, what=self.what, target=_plain_target(self.target))
        return False


def _plain_target(target):
    if isinstance(target, tuple):  # a socket address
        return ":".join(str(part) for part in target[:2])
    try:
        return os.path.abspath(os.fspath(target))
    except TypeError:
        return target if isinstance(target, (int, str)) else repr(target)


def _refusal_noted(original, what: str):
    @functools.wraps(original)
    def wrapper(target, *args, **kwargs):
        with _noting_refusal(what, target):
            return original(target, *args, **kwargs)

    return wrapper


def _patch_socket() -> None:
    """A TCP connect or bind the sandbox refused (Landlock) is logged with the student's line."""
    import socket

    for name in ("connect", "bind"):
        original = getattr(socket.socket, name)

        def wrapper(self, address, *, _original=original, _what=name):
            with _noting_refusal(_what, address):
                return _original(self, address)

        functools.update_wrapper(wrapper, original)
        setattr(socket.socket, name, wrapper)


_SHELLS = ("sh", "bash", "dash", "zsh", "ksh")
_LIBC_CALLS = {"open", "open64", "openat", "creat", "write", "pwrite", "pwrite64", "rename", "renameat", "unlink",
               "unlinkat", "truncate", "ftruncate", "link", "symlink", "kill", "killpg", "connect", "bind", "system",
               "execve", "execv", "syscall"}


def _audit(event: str, args: tuple) -> None:
    """Ways around Python's own functions (a shell, libc through ctypes): logged, with the student's line."""
    try:
        if event == "subprocess.Popen":
            argv = [os.fsdecode(a) for a in (args[1] or ())] if isinstance(args[1], (list, tuple)) else [str(args[1])]
            if len(argv) >= 3 and os.path.basename(argv[0]) in _SHELLS and argv[1] == "-c":
                command = argv[2]
            else:
                return
        elif event == "os.system":
            command = os.fsdecode(args[0])
        elif event == "ctypes.dlsym" and isinstance(args[1], str) and args[1] in _LIBC_CALLS:
            command = None
        else:
            return
        _, where = _caller()
        if where is None:
            return
        if command is None:
            emit("sandbox.bypass", False, where, what="ctypes", target=args[1])
        else:
            emit("sandbox.bypass", False, where, what="shell", target=command[:300])
    except Exception:  # the probe must never break the student's program
        pass


def _proc(self) -> dict:
    return {"child": self._popen.pid if getattr(self, "_popen", None) else None, "name": self.name}


def _patch_process() -> None:
    from multiprocessing import process

    cls = process.BaseProcess
    _wrap(cls, "start", "process.start", skip_internal=False,
          before=lambda self: {"name": self.name, "daemon": self.daemon,
                               "target": _func_name(self._target) if self._target else None},
          after=lambda self, _: {"child": self.pid})
    _wrap(cls, "join", "process.join", skip_internal=False, before=lambda self, *a, **k: _proc(self),
          after=lambda self, _: {"exitcode": self._popen.poll() if getattr(self, "_popen", None) else None},
          wait=True)
    _wrap(cls, "terminate", "process.terminate", skip_internal=False, before=lambda self: _proc(self))
    _wrap(cls, "kill", "process.kill", skip_internal=False, before=lambda self: _proc(self))
    _wrap(cls, "close", "process.close", skip_internal=False, before=lambda self: _proc(self))

    original_bootstrap = cls._bootstrap

    @functools.wraps(original_bootstrap)
    def _bootstrap(self, *args, **kwargs):
        _pause("process.begin", self.name)  # a child that starts late: a late consumer
        emit("process.begin", name=self.name, daemon=self.daemon, ppid=os.getppid(),
             target=_func_name(self._target) if self._target else None)
        exitcode = None
        _patch_print_exc()
        try:
            exitcode = original_bootstrap(self, *args, **kwargs)
            return exitcode
        finally:
            times = os.times()
            emit("process.end", name=self.name, exitcode=exitcode, cpu=times.user + times.system)

    cls._bootstrap = _bootstrap


def _patch_print_exc() -> None:
    """BaseProcess._bootstrap prints a child's uncaught exception with traceback.print_exc(): log it
    there too. (Seen from the outside, so that no frame of the probe joins the child's traceback.)"""
    import traceback

    original = traceback.print_exc
    if getattr(original, "_probe", False):
        return

    def print_exc(*args, **kwargs):
        error, caller = sys.exc_info()[1], sys._getframe(1)
        if isinstance(error, Exception) and caller.f_code.co_name == "_bootstrap" \
                and caller.f_code.co_filename.startswith(_MP_DIR):
            _emit_error(getattr(caller.f_locals.get("self"), "name", "?"), error)
        return original(*args, **kwargs)

    print_exc._probe = True
    traceback.print_exc = print_exc


def _emit_error(name: str, error: BaseException) -> None:
    """A child's uncaught exception: its type, message and the student's frames (innermost last)."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    student = _state["student"]
    mine = [(f.lineno, f.name, (f.line or "").strip()) for f in frames if f.filename == student][-8:]
    last = frames[-1] if frames else None
    raised_at = None
    if last is not None and last.filename != student:  # where it was raised, when not on the student's line
        grader = os.path.dirname(_THIS_FILE) + os.sep
        raised_at = ("the grader's code" if last.filename.startswith(grader) else
                     "multiprocessing/" + last.filename[len(_MP_DIR):] if last.filename.startswith(_MP_DIR)
                     else f"{os.path.basename(last.filename)}:{last.lineno}")
    emit("process.error", False, f"{os.path.basename(student)}:{mine[-1][0]}" if mine else None, name=name,
         error=type(error).__name__, message=str(error)[:300], frames=mine, raised_at=raised_at)


class _TaskRecordingQueue:
    """Stands in for a Pool worker's inqueue: times every task the worker runs."""

    def __init__(self, queue):
        self._queue = queue

    def __getattr__(self, name):
        return getattr(self._queue, name)

    def get(self):
        task = self._queue.get()
        if task is not None:
            job, i, func, args, kwds = task
            # The student's function is called as func(*args, **kwds) inside `run`, so that
            # errors name it (not the probe) exactly as they would without the probe.
            task = (job, i, _timed_task(func, args, job, i), (func, args, kwds), {})
        return task


def _timed_task(func, args, job: int, index: int):
    from multiprocessing import pool

    where = schedule.task_point(job, index)
    if func in (pool.mapstar, pool.starmapstar) and args:
        name, items = _func_name(args[0][0]), len(args[0][1])
    else:
        name, items = _func_name(func), 1

    def run(func, args, kwds):
        # A slow task: results out of order, or after the pool ended. Its delay is the task's, not
        # its worker's: which worker takes which task is a race, and a replay must slow the same task.
        held = schedule.hold_first(job, index)
        if held:
            emit("schedule.hold", True, at="pool.task", ended_by=held)
        _pause("pool.task", *where)
        begin, cpu = time.monotonic(), time.process_time()
        ok = False
        try:
            result = func(*args, **kwds)
            ok = True
            return result
        finally:
            emit("pool.task", func=name, items=items, begin=begin, ok=ok, cpu=time.process_time() - cpu)

    return run


class _ResultSendingQueue:
    """Stands in for a Pool worker's outqueue: once a task other than its job's first has sent its
    result, that job's first task may go (schedule.hold_first)."""

    def __init__(self, queue):
        self._queue = queue

    def __getattr__(self, name):
        return getattr(self._queue, name)

    def put(self, obj):
        self._queue.put(obj)
        try:
            job, index = obj[0], obj[1]
        except (TypeError, IndexError, KeyError):
            return
        if index and schedule.holding():
            schedule.release(job)


def _patch_pool() -> None:
    from multiprocessing import pool

    original_worker = pool.worker

    @functools.wraps(original_worker)
    def worker(inqueue, outqueue, *args, **kwargs):
        emit("pool.worker")
        return original_worker(_TaskRecordingQueue(inqueue), _ResultSendingQueue(outqueue), *args, **kwargs)

    pool.worker = worker
    cls = pool.Pool
    _wrap(cls, "__init__", "pool.create", skip_internal=False,
          after=lambda self, _: {"processes": self._processes, "pool": _pool_id(self),
                                 "workers": [getattr(p, "pid", None) for p in self._pool]})
    for name in ("close", "terminate", "__exit__"):
        _wrap(cls, name, "pool." + name.strip("_"), skip_internal=False, before=lambda self, *a: {"pool": _pool_id(self)})
    _wrap(cls, "join", "pool.join", skip_internal=False, after=lambda self, _: {},
          before=lambda self: {"pool": _pool_id(self)}, wait=True)
    for name in ("apply", "apply_async", "map", "map_async", "imap", "imap_unordered", "starmap", "starmap_async"):
        _wrap(cls, name, "pool." + name, skip_internal=True,
              before=lambda self, func=None, *a, **k: {"func": _func_name(func)})
    for name in ("get", "wait"):
        _wrap(pool.ApplyResult, name, "result." + name, skip_internal=True, after=lambda self, _: {},
              before=lambda self, *a, **k: {"pool": _pool_id(getattr(self, "_pool", None))}, wait=True)
    for name in ("ready", "successful"):
        _wrap(pool.ApplyResult, name, "result." + name, skip_internal=True)
    _wrap(pool.IMapIterator, "next", "result.next", skip_internal=True, after=lambda self, _: {},
          before=lambda self, *a, **k: {"pool": _pool_id(getattr(self, "_pool", None))}, wait=True)
    pool.IMapIterator.__next__ = pool.IMapIterator.next
    _patch_first_task_last(pool)


def _patch_first_task_last(pool) -> None:
    """The parent's side of schedule.hold_first: release a job that holds nothing (one task, one worker)."""

    def one_worker(result) -> bool:
        return getattr(getattr(result, "_pool", None), "_processes", 2) <= 1

    def after(original, single):
        @functools.wraps(original)
        def wrapper(self, *args, **kwargs):
            value = original(self, *args, **kwargs)
            if schedule.holding() and (single(self, *args) or one_worker(self)):
                schedule.release(self._job)
            return value

        return wrapper

    pool.ApplyResult.__init__ = after(pool.ApplyResult.__init__, lambda self, *a: type(self) is pool.ApplyResult)
    pool.MapResult.__init__ = after(pool.MapResult.__init__, lambda self, *a: self._number_left <= 1)
    pool.IMapIterator.__init__ = after(pool.IMapIterator.__init__, lambda self, *a: False)
    pool.IMapIterator._set_length = after(pool.IMapIterator._set_length, lambda self, length=2, *a: length <= 1)


def _pool_id(pool) -> str | None:
    return f"{os.getpid()}.{id(pool):x}" if pool is not None else None


def _patch_queues() -> None:
    from multiprocessing import queues

    for cls, prefix in ((queues.Queue, "queue"), (queues.JoinableQueue, "queue"), (queues.SimpleQueue, "simplequeue")):
        _wrap(cls, "__init__", f"{prefix}.create", skip_internal=True, after=lambda self, _: _queue_id(self))
        for name in ("close", "join_thread", "cancel_join_thread", "task_done"):
            _wrap(cls, name, f"{prefix}.{name}", skip_internal=True, before=lambda self, *a, **k: _queue_id(self))
        for name in ("put", "put_nowait"):
            _wrap(cls, name, f"{prefix}.{name}", skip_internal=True,
                  before=lambda self, obj=None, *a, **k: dict(_queue_id(self), value=_brief(obj)))
        for name in ("get", "get_nowait"):
            _wrap(cls, name, f"{prefix}.{name}", skip_internal=True,
                  before=lambda self, *a, **k: _queue_id(self), after=lambda self, _: {}, wait=name == "get")
    _wrap(queues.JoinableQueue, "join", "queue.join", skip_internal=True, after=lambda self, _: {},
          before=lambda self: _queue_id(self), wait=True)


def _queue_id(queue) -> dict:
    """A queue is known by its read lock, which every process that holds the queue shares."""
    rlock = getattr(queue, "_rlock", None)
    return {"queue": type(queue).__name__, "q": _lock_id(rlock)["lock"] if rlock is not None else None}


def _lock_id(self) -> dict:
    """Spawned children know a lock by its name; forked ones share the probe id set at creation
    (under fork a lock has no name, and locks made in different children can share an address)."""
    semlock = getattr(self, "_semlock", None)
    name = getattr(semlock, "name", None) if semlock is not None else None
    return {"lock": name or getattr(self, "_probe_id", None) or id(self), "type": type(self).__name__}


def _patch_synchronize() -> None:
    from multiprocessing import sharedctypes, synchronize

    # `with value:` on a Value or Array is the student taking its lock: sharedctypes' own
    # __enter__/__exit__ only pass the call on (its accessors' locking stays multiprocessing's).
    _TRANSPARENT.update({sharedctypes.SynchronizedBase.__enter__.__code__,
                         sharedctypes.SynchronizedBase.__exit__.__code__})
    cls = synchronize.SemLock
    original_make_methods = cls._make_methods
    original_init = cls.__init__
    made_inside = (_MP_DIR + "synchronize.py", _CONTEXT_FILE)

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename in made_inside:  # Lock() is context -> Lock -> SemLock
            frame = frame.f_back
        internal = frame is not None and frame.f_code.co_filename.startswith(_MP_DIR)
        original_init(self, *args, **kwargs)
        if not internal:
            _, where = _caller()
            emit("lock.create", False, where, **_lock_id(self))

    cls.__init__ = __init__

    def _make_methods(self):
        original_make_methods(self)
        if not hasattr(self, "_probe_id"):
            self._probe_id = f"{os.getpid()}:{self._semlock.handle}"
        acquire, release = self.acquire, self.release

        def probed_acquire(*args, **kwargs):
            internal, where = _caller()
            if not internal:
                _pause("lock.acquire")
            called = time.monotonic()
            blocking = (args[0] if args else kwargs.get("block", kwargs.get("blocking", True))) is not False
            wid = _next_serial() if not internal and blocking else None
            if wid is not None:
                emit("wait", False, where, call="lock.acquire", wid=wid, **_lock_id(self))
            got = acquire(*args, **kwargs)
            if not internal:
                emit("lock.acquire", False, where, called=called, acquired=bool(got), wid=wid, **_lock_id(self))
            return got

        def probed_release():
            internal, where = _caller()
            if not internal:
                _pause("lock.release")
                emit("lock.release", False, where, **_lock_id(self))
            return release()

        self.acquire, self.release = probed_acquire, probed_release

    cls._make_methods = _make_methods

    def __enter__(self):
        internal, where = _caller()
        if not internal:
            _pause("lock.acquire")
        called = time.monotonic()
        wid = None if internal else _next_serial()
        if wid is not None:
            emit("wait", False, where, call="lock.acquire", wid=wid, **_lock_id(self))
        got = self._semlock.__enter__()
        if not internal:
            emit("lock.acquire", False, where, called=called, acquired=True, wid=wid, **_lock_id(self))
        return got

    def __exit__(self, *args):
        internal, where = _caller()
        if not internal:
            _pause("lock.release")
            emit("lock.release", False, where, **_lock_id(self))
        return self._semlock.__exit__(*args)

    cls.__enter__, cls.__exit__ = __enter__, __exit__


def _patch_connection() -> None:
    from multiprocessing import connection

    original_pipe = connection.Pipe

    @functools.wraps(original_pipe)
    def Pipe(duplex=True):  # noqa: N802 - the name multiprocessing gives it
        internal, where = _caller()
        ends = original_pipe(duplex)
        if not internal:
            pipe = f"{os.getpid()}.{_next_serial()}"
            ends[0]._probe_end, ends[1]._probe_end = pipe + ":0", pipe + ":1"
            emit("pipe.create", internal, where, duplex=duplex, pipe=pipe)
        return ends

    connection.Pipe = Pipe
    cls = connection._ConnectionBase

    def end(self, *a, **k):
        return {"end": getattr(self, "_probe_end", None)}

    _wrap(cls, "send", "pipe.send", skip_internal=True, before=lambda self, obj=None: dict(end(self), value=_brief(obj)))
    _wrap(cls, "close", "pipe.close", skip_internal=True, before=end)
    _wrap(cls, "recv", "pipe.recv", skip_internal=True, after=lambda self, _: {}, before=end, wait=True)
    reducer = connection.reduction.ForkingPickler._extra_reducers.get(connection.Connection)
    if reducer is not None:

        def reduce_tagged(conn):
            rebuild, args = reducer(conn)
            return _rebuild_tagged, (rebuild, args, getattr(conn, "_probe_end", None))

        connection.reduction.register(connection.Connection, reduce_tagged)


def _rebuild_tagged(rebuild, args, tag):
    """A pipe end passed to a spawned child keeps its tag, and the child says it holds it."""
    conn = rebuild(*args)
    if tag is not None:
        conn._probe_end = tag
        emit("pipe.hold", end=tag)
    return conn


def _patch_managers() -> None:
    from multiprocessing import managers

    cls = managers.BaseManager
    original_start = cls.start

    @functools.wraps(original_start)
    def start(self, *args, **kwargs):
        internal, where = _caller()
        result = original_start(self, *args, **kwargs)
        child = self._process.pid
        emit("manager.start", internal, where, child=child, name=self._process.name)
        shutdown = self.shutdown  # a Finalize: it holds no reference to the manager, and neither may we

        def probed_shutdown():
            inner_internal, inner_where = _caller()
            emit("manager.shutdown", inner_internal, inner_where, child=child)
            return shutdown()

        self.shutdown = probed_shutdown
        return result

    cls.start = start

    # A Manager's Lock, RLock, Semaphore and BoundedSemaphore are proxies: the lock lives in the
    # manager's process, so SemLock never sees them. Their acquire/release are logged like a
    # SemLock's, under the referent's id, which every process's proxy of it shares.
    proxy = managers.AcquirerProxy
    for name in ("acquire", "__enter__"):
        _wrap(proxy, name, "lock.acquire", skip_internal=True, before=lambda self, *a, **k: _proxy_lock_id(self),
              after=lambda self, got: {"acquired": True if got is None else bool(got)}, wait=True)
    for name in ("release", "__exit__"):
        _wrap(proxy, name, "lock.release", skip_internal=True, before=lambda self, *a, **k: _proxy_lock_id(self))


def _proxy_lock_id(proxy) -> dict:
    token = getattr(proxy, "_token", None)
    return {"lock": f"managed:{getattr(token, 'id', id(proxy))}", "type": f"{getattr(token, 'typeid', '?')}Proxy",
            "managed": True}


HELPERS_LOG = "helpers.log"  # in the probe dir: what multiprocessing's own helper processes print


def _patch_resource_tracker() -> None:
    """Start the resource tracker with its stderr in HELPERS_LOG, not in the student's output.

    After a kill it warns about "leaked semaphore objects" it then cleans up: the library
    talking about the grader's kill, not anything the student printed. The tracker inherits
    fd 2 when it is launched, so fd 2 points at the log for just that moment.
    """
    import threading
    from multiprocessing import resource_tracker

    cls = resource_tracker.ResourceTracker
    original = cls.ensure_running
    swapping = threading.Lock()

    @functools.wraps(original)
    def ensure_running(self):
        if _state["dir"] is None or (getattr(self, "_fd", None) is not None and getattr(self, "_pid", None)):
            return original(self)  # running already (or not ours to redirect): nothing is launched
        with swapping:
            try:
                log = os.open(os.path.join(_state["dir"], HELPERS_LOG), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                              0o600)
                saved = os.dup(2)
            except OSError:
                return original(self)
            try:
                os.dup2(log, 2)
                return original(self)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                os.close(log)

    cls.ensure_running = ensure_running


def _patch_sharedctypes() -> None:
    from multiprocessing import sharedctypes

    for name in ("Value", "Array", "RawValue", "RawArray"):
        original = getattr(sharedctypes, name)

        def make(original=original, name=name):
            @functools.wraps(original)
            def wrapper(typecode_or_type, *args, **kwargs):
                internal, where = _caller()
                made = original(typecode_or_type, *args, **kwargs)
                if not internal:
                    code = typecode_or_type if isinstance(typecode_or_type, str) else _func_name(typecode_or_type)
                    lock = getattr(made, "get_lock", None)
                    emit(f"shared.{name}", internal, where, typecode=code, lock=kwargs.get("lock", True),
                         lock_id=_lock_id(lock())["lock"] if lock is not None else None)
                return made

            return wrapper

        setattr(sharedctypes, name, make())
