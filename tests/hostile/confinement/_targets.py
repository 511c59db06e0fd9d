# --- hostile: the course files to attack, found by walking up from here and from sys.path ---
import os as _os
import sys as _sys


def _hostile_roots():
    target = _os.environ["HOSTILE_TARGET"]
    roots = {target}
    for start in [_os.getcwd(), *_sys.path]:
        folder = _os.path.abspath(start or ".")
        while folder != _os.path.dirname(folder):
            if _os.path.isfile(_os.path.join(folder, "course.yaml")) and folder == target:
                roots.add(folder)  # only the copy: these tests never aim at the real course
            folder = _os.path.dirname(folder)
    return sorted(roots)


def _hostile_files():
    names = _os.environ.get("HOSTILE_FILES", "course.yaml").split("\n")
    return [_os.path.join(root, name) for root in _hostile_roots() for name in names]
