# --- hostile: connect to a TCP port on 127.0.0.1 (the test listens there) ---
import socket as _socket

try:
    _socket.create_connection(("127.0.0.1", int(_os.environ["HOSTILE_PORT"])), timeout=2).sendall(b"escaped")
except OSError:
    pass
