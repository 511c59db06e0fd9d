"""Hostile: overwrites the course's hidden checks and manifest, then claims success."""
import os

import grader


def start_named(names, results):
    # The project's tests point this at a copy of the course (HOSTILE_TARGET), never at the real one.
    root = os.environ.get("HOSTILE_TARGET") or os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
    for relative in ("grader/hidden/test_exercise1_process.py", "course.yaml", "solutions/exercise1_process.py"):
        try:
            with open(os.path.join(root, relative), "w") as f:
                f.write("# tampered\n")
        except OSError:
            pass
    return [1, 2, 3]


exit_codes = watch_lifecycle = start_named
