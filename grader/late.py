"""Late producers: the schedule in which a queue *looks* empty while items are still coming.

A consumer that stops when the queue looks empty (check-then-act on empty() or qsize(),
`while not q.empty(): ...`) is wrong only when a producer is late, and whether one is late
is up to the machine: the same file passed on one run and lost items, or hung, on the next.
Drivers that give a student's consumers a queue arrange it every time, so that the verdict
is the file's alone: the consumers' processes have their Queue calls watched (`consumer`),
and whoever produces first waits (`await_consumers`) until every consumer is waiting in a
blocking get() on the empty queue (a correct consumer), has looked and seen it empty (the
mistake), or has ended (a crash, a stub). Events, not times: empty files in a folder of the sandbox's working folder, which
every process of the run shares, whatever the start method.

Imported inside the sandbox: standard library only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from multiprocessing import queues

FOLDER = "late-producers"  # in the sandbox's working folder (the current one of every process of a run)
WAIT_S = 3.0  # longest a producer waits: only consumers that never wait nor look make it wait this long

_originals: dict[str, object] = {}  # the student's functions a run replaced (fork children see them here)
_watching = {"on": False}


def _note(name: str) -> None:
    try:
        with open(os.path.join(FOLDER, name), "w"):
            pass
    except OSError:
        pass


@contextlib.contextmanager
def run(student, consumers: int, **replaced):
    """For one call of the student's code: a fresh folder, the number of consumers to wait for,
    and the student's functions `replaced` by the grader's wrappers (put back afterwards).
    Yields a dict whose "saw_empty" says, once the block has ended, whether a consumer looked
    at the queue and saw it empty."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    os.mkdir(FOLDER)
    _note(f"consumers-{consumers}")
    _originals.update({name: getattr(student, name) for name in replaced})
    for name, wrapper in replaced.items():
        setattr(student, name, wrapper)
    seen = {"saw_empty": False}
    try:
        yield seen
    finally:
        for name in replaced:
            setattr(student, name, _originals.pop(name))
        with contextlib.suppress(OSError):
            seen["saw_empty"] = any(name.startswith("empty-") for name in os.listdir(FOLDER))
        shutil.rmtree(FOLDER, ignore_errors=True)


def original(name: str):
    """The student's own function `name`: the one a run replaced (fork), or a fresh import's
    (spawn and forkserver children import the student's module anew, unreplaced)."""
    if name in _originals:
        return _originals[name]
    import importlib

    module = os.path.splitext(os.path.basename(os.environ.get("GRADER_STUDENT_FILE", "")))[0]
    return getattr(importlib.import_module(module), name)


def consumer(name: str, *args):
    """In a consumer's process: watch its Queue calls, then run the student's function `name`.
    A consumer that ends (a crash, a stub) is no longer waited for."""
    _watch_queues()
    _watching["on"] = True
    try:
        return original(name)(*args)
    finally:
        _watching["on"] = False
        _note(f"ended-{os.getpid()}")


def await_consumers(limit: float = WAIT_S) -> None:
    """Until every consumer waits in get() on the empty queue, has seen it empty, or has ended: at
    most `limit` s, and never more than a share of the run's deadline (a consumer that never
    waits nor looks must not turn a correct file into a hang)."""
    from grader.drivers import budget

    deadline = time.monotonic() + min(limit, budget(0.4, limit))
    while time.monotonic() < deadline:
        try:
            names = os.listdir(FOLDER)
        except OSError:
            return
        wanted = max([int(n.split("-", 1)[1]) for n in names if n.startswith("consumers-")], default=1)
        if len({n.split("-", 1)[1] for n in names if n.startswith(("waiting-", "empty-", "ended-"))}) >= wanted:
            return
        time.sleep(0.002)


def _watch_queues() -> None:
    """Note a blocking get() on an empty queue, and an empty queue seen (JoinableQueue included)."""
    if getattr(queues.Queue, "_late_watched", False):
        return
    get, empty, qsize = queues.Queue.get, queues.Queue.empty, queues.Queue.qsize

    def watched_get(self, block=True, timeout=None):
        if _watching["on"] and block and empty(self):
            _note(f"waiting-{os.getpid()}")
        return get(self, block, timeout)

    def watched_empty(self):
        result = empty(self)
        if _watching["on"] and result:
            _note(f"empty-{os.getpid()}")
        return result

    def watched_qsize(self):
        result = qsize(self)
        if _watching["on"] and result == 0:
            _note(f"empty-{os.getpid()}")
        return result

    queues.Queue.get, queues.Queue.empty, queues.Queue.qsize = watched_get, watched_empty, watched_qsize
    queues.Queue._late_watched = True
