# --- hostile: find the grade process through /proc, SIGKILL it, then write a forged results file ---
import json as _json
import signal as _signal


def _grader_pid():
    pid = _os.getpid()
    while pid > 1:
        with open(f"/proc/{pid}/stat") as _f:
            pid = int(_f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as _f:
            if b"-m\0grader" in _f.read():
                return pid
    return None


try:
    _os.kill(_grader_pid(), _signal.SIGKILL)
except (OSError, TypeError):
    pass
try:
    with open(_os.environ["HOSTILE_OUTPUT"], "w") as _f:
        _json.dump({"score": 100, "output": "FORGED", "tests": []}, _f)
except OSError:
    pass
