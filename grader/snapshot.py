"""A snapshot of the course's own files, to undo what a submission's code changes.

Student code runs on a copy of the submission, but it runs with the user's rights: it
could write into the course (its hidden checks, the solutions, course.yaml). Before a
run the grader notes these files; afterwards any that changed are put back and named
in the verdict. The student's own folder (exercises/) is left out on purpose: the
student may be editing it while the grader runs, and their edits must never be undone.
"""

from __future__ import annotations

import os
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

    def restore_changes(self) -> list[str]:
        """Put back every noted file that changed or vanished; the relative paths restored."""
        restored = []
        for relative, (size, mtime, data) in self.files.items():
            path = self.root / relative
            try:
                stat = path.stat()
                if stat.st_size == size and stat.st_mtime_ns == mtime:
                    continue
                if path.read_bytes() == data:
                    continue
            except OSError:
                pass
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                restored.append(relative)
            except OSError:
                restored.append(relative + " (could not be restored)")
        return restored
