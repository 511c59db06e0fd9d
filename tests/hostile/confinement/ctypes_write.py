# --- hostile: the same append, through libc's open(2)/write(2), which Python's open() never sees ---
import ctypes as _ctypes

_libc = _ctypes.CDLL(None, use_errno=True)
for _path in _hostile_files():
    _fd = _libc.open(_path.encode(), _os.O_WRONLY | _os.O_APPEND)
    if _fd >= 0:
        _libc.write(_fd, b"\n# tampered\n", 12)
        _libc.close(_fd)
