# --- hostile: write a fake hidden check beside the real one, then rename it over ---
for _root in _hostile_roots():
    _check = _os.path.join(_root, "grader", "hidden", "test_exercise1_process.py")
    try:
        with open(_check + ".new", "w") as _f:
            _f.write("def test_nothing():\n    pass\n")
        _os.rename(_check + ".new", _check)
    except OSError:
        pass
