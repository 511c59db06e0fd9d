"""Knowing when the student saved a file: file events (watchfiles), or polling.

An editor may save in place or by writing a new file and renaming it over the old one
(vim, many IDEs): the watcher watches the file's folder, not the file, and keeps only
events about that file's name, so both ways are seen. watchfiles groups a burst of
events (a save by rename makes several) and yields once about `STEP_MS` after the last
one, never later than `DEBOUNCE_MS`.

Some folders never send events (network and container file systems, some WSL mounts):
`poll=True` polls instead. Independently of events, `stat_changed()` lets the caller
notice a save that no event reported, and suggest polling.

The environment variable GRADER_WATCH_NO_EVENTS=1 turns file events off (as on such a
file system); the tests use it to prove the fallback.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

DEBOUNCE_MS = 200  # the longest a burst of events is held back
STEP_MS = 20  # quiet time after the last event of a burst before it is reported (a save's burst takes ~1 ms)
POLL_MS = 100  # how often --poll looks at the folder
NO_EVENTS_ENV = "GRADER_WATCH_NO_EVENTS"


class FileWatcher:
    """Reports saves of one file, as timestamps on `self.saves` (a queue)."""

    def __init__(self, path: Path, poll: bool = False):
        self.path = Path(path).resolve()
        self.poll = poll
        self.saves: queue.Queue[float] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.events_enabled = poll or os.environ.get(NO_EVENTS_ENV, "") in ("", "0")
        self._seen_stat = self._stat()
        # Readable once a save is reported: a loop that waits in select() wakes at once, not at its next tick.
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def fileno(self) -> int:
        return self._wake_r

    def start(self) -> FileWatcher:
        if self.events_enabled:
            self._thread = threading.Thread(target=self._watch, name="grade-watch", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def retarget(self, path: Path) -> None:
        """Watch another file from now on (the next exercise)."""
        self.stop()
        self.path = Path(path).resolve()
        self._stop = threading.Event()
        self.saves = queue.Queue()
        self._seen_stat = self._stat()
        self.start()

    def close(self) -> None:
        self.stop()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def drain(self) -> bool:
        """True when at least one save was reported since the last call."""
        try:
            while os.read(self._wake_r, 512):
                pass
        except OSError:  # nothing (more) to read
            pass
        saved = False
        while True:
            try:
                self.saves.get_nowait()
            except queue.Empty:
                break
            saved = True
        if saved:
            self._seen_stat = self._stat()
        return saved

    def stat_changed(self) -> bool:
        """True once per change of the file's mtime/size that no event has reported."""
        now = self._stat()
        if now != self._seen_stat:
            self._seen_stat = now
            return True
        return False

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _watch(self) -> None:
        import watchfiles  # here: only watch mode pays for it

        name = self.path.name
        folder = self.path.parent

        def only_this_file(change, path: str) -> bool:
            return os.path.basename(path) == name

        try:
            for _changes in watchfiles.watch(folder, watch_filter=only_this_file, debounce=DEBOUNCE_MS,
                                             step=STEP_MS, stop_event=self._stop, rust_timeout=500,
                                             raise_interrupt=False, force_polling=self.poll or None,
                                             poll_delay_ms=POLL_MS, recursive=False):
                self.saves.put(time.monotonic())
                try:
                    os.write(self._wake_w, b"!")
                except OSError:  # full: the loop has yet to drain the earlier ones
                    pass
        except Exception:  # no watcher could be set up here: saves are then noticed by stat
            self.events_enabled = False
