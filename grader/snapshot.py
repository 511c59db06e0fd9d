"""A snapshot of the course's own files, to undo what a submission's code changes.

Student code runs on a copy of the submission, but it runs with the user's rights: it
could write into the course (its hidden checks, the solutions, course.yaml). Before a
run the grader notes these files; afterwards those that the student's code opened for
writing (the probe records it) and that changed are put back and named in the verdict. The student's own folder (exercises/) is left out on purpose: the
student may be editing it while the grader runs, and their edits must never be undone.
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

    @classmethod
    def take(cls, root: Path) -> Snapshot:
        snapshot = cls(Path(root))
        total = 0
        for path in snapshot._guarded_files():
            try:
                stat = path.stat()
                if stat.st_size > MAX_FILE_BYTES or total + stat.st_size > MAX_TOTAL_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            total += len(data)
            snapshot.files[str(path.relative_to(snapshot.root))] = (stat.st_size, stat.st_mtime_ns, data)
        return snapshot

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

    def restore_changes(self, written: set[str]) -> list[str]:
        """Put back the noted files that the student's code wrote (`written`: absolute paths
        the probe saw opened for writing) and that changed; the relative paths restored.

        Only those: a person may be editing the course while it grades, and their edits
        must stand. The replaced version is kept under .grade/replaced/ all the same.
        """
        restored = []
        written = {os.path.realpath(p) for p in written}
        keep = self.root / ".grade" / "replaced" / time.strftime("%Y%m%d-%H%M%S")
        for relative, (size, mtime, data) in self.files.items():
            path = self.root / relative
            if os.path.realpath(path) not in written:
                continue
            try:
                stat = path.stat()
                if stat.st_size == size and stat.st_mtime_ns == mtime:
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
                restored.append(relative)
            except OSError:
                restored.append(relative + " (could not be restored)")
        return restored
