# --- hostile: at import, append a line to every course file (hidden checks, solutions, course.yaml) ---
for _path in _hostile_files():
    try:
        with open(_path, "a") as _f:
            _f.write("\n# tampered\n")
    except OSError:
        pass
