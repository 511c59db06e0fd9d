"""A snapshot of the course's own files, to undo what a submission's code changes.

Where the kernel confines the sandbox (grader/confinement.py) the course cannot be written
at all; this is the fallback where it cannot (macOS, old kernels, containers without
Landlock). Before a run the grader notes the course's files; afterwards every one whose
content changed, or that is gone, is put back, files that appeared are set aside, and all
are named in the verdict. The student's own folder (exercises/) is left out on purpose:
the student may be editing it while the grader runs, and their edits must never be undone.

Bytecode is not kept, only noted: Python reads a valid .pyc in __pycache__ instead of its
source, so a .pyc planted for the probe or a hidden check would run in the next grading.
The grader brings its own up to date before the snapshot (grader/bytecode.py); any .pyc
under grader/ that appears or changes during the run is deleted afterwards, which is
always safe (Python compiles the source again).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

GUARDED = ("grader", "solutions", "tests", "course.yaml", "pyproject.toml", "README.md")
SKIPPED_DIRS = {"__pycache__", ".git", ".pytest_cache", "node_modules"}
MAX_FILE_BYTES = 1 << 20
MAX_TOTAL_BYTES = 64 << 20


@dataclass
class Snapshot:
    root: Path
    files: dict[str, tuple[int, int, bytes]] = field(default_factory=dict)  # relative path -> (size, mtime_ns, data)
    skipped: set[str] = field(default_factory=set)  # guarded files too big to keep: never taken for new ones
    bytecode: dict[str, tuple[int, int]] = field(default_factory=dict)  # .pyc under grader/ -> (size, mtime_ns)

    @classmethod
    def take(cls, root: Path) -> Snapshot:
        snapshot = cls(Path(root))
        total = 0
        for path in snapshot._guarded_files():
            try:
                stat = path.stat()
                if stat.st_size > MAX_FILE_BYTES or total + stat.st_size > MAX_TOTAL_BYTES:
                    snapshot.skipped.add(str(path.relative_to(snapshot.root)))
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            total += len(data)
            snapshot.files[str(path.relative_to(snapshot.root))] = (stat.st_size, stat.st_mtime_ns, data)
        snapshot.bytecode = dict(snapshot._bytecode_files())
        return snapshot

    def _bytecode_files(self):
        for folder, dirs, files in os.walk(self.root / "grader"):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS - {"__pycache__"}]
            if os.path.basename(folder) != "__pycache__":
                continue
            for name in files:
                path = os.path.join(folder, name)
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                yield path, (stat.st_size, stat.st_mtime_ns)

    def drop_new_bytecode(self) -> list[str]:
        """Delete every .pyc under grader/ that appeared or changed since the snapshot; their paths."""
        dropped = []
        for path, seen in self._bytecode_files():
            if self.bytecode.get(path) != seen:
                try:
                    os.unlink(path)
                    dropped.append(path)
                except OSError:
                    pass
        return dropped

    def _guarded_files(self):
        for name in GUARDED:
            top = self.root / name
            if top.is_file():
                yield top
            elif top.is_dir():
                for folder, dirs, files in os.walk(top):
                    dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info")]
                    for f in files:
                        yield Path(folder) / f

    def restore_changes(self, written: set[str] | None = None) -> list[str]:
        """Put back every noted file whose content changed or that is gone, and set aside Python
        files that appeared in grader/ (a planted conftest.py or check); the relative paths.

        By content, not by what the probe saw: a write at import time, through ctypes or by a
        shell is caught too. (`written`, the probe's list, is no longer needed; kept for callers.)
        The replaced versions are kept under .grade/replaced/.
        """
        restored = []
        keep = self.root / ".grade" / "replaced" / time.strftime("%Y%m%d-%H%M%S")
        for relative, (size, mtime, data) in self.files.items():
            path = self.root / relative
            try:
                stat = path.stat()
                if stat.st_size == size and stat.st_mtime_ns == mtime and path.read_bytes() == data:
                    continue
                if path.read_bytes() == data:
                    continue
            except OSError:
                pass
            try:
                if path.exists():
                    (keep / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, keep / relative)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                os.utime(path, ns=(mtime, mtime))
                restored.append(relative)
            except OSError:
                restored.append(relative + " (could not be restored)")
        for path in self._guarded_files():
            relative = str(path.relative_to(self.root))
            if relative in self.files or relative in self.skipped or not _plantable(relative):
                continue
            try:  # a new file (a hidden check planted beside the real ones): moved aside
                (keep / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, keep / relative)
                restored.append(relative + " (added; removed)")
            except OSError:
                restored.append(relative + " (added; could not be removed)")
        return restored


def _plantable(relative: str) -> bool:
    """A new file pytest or the grader would load: set aside. Others are left (an author's new notes)."""
    return relative.startswith("grader" + os.sep) and relative.endswith(".py")
