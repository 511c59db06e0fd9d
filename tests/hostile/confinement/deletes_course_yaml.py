# --- hostile: delete the course's manifest ---
for _root in _hostile_roots():
    try:
        _os.remove(_os.path.join(_root, "course.yaml"))
    except OSError:
        pass
