"""Exercise 4, with a classic mistake that no check provoked: a receiver that takes a quiet pipe for its end."""

from multiprocessing import Pipe, Process


def echo_server(conn):
    """Runs in a child: answer each number x with x * x; stop at None, then close conn."""
    while True:
        x = conn.recv()
        if x is None:
            break
        conn.send(x * x)
    conn.close()


def ping_pong(numbers):
    """Ask a child for the square of each number, one question at a time; return the answers."""
    parent_end, child_end = Pipe()
    server = Process(target=echo_server, args=(child_end,))
    server.start()
    child_end.close()
    replies = []
    for x in numbers:
        parent_end.send(x)
        replies.append(parent_end.recv())
    parent_end.send(None)
    server.join()
    parent_end.close()
    return replies


def sender(conn, items):
    """Runs in a child: send every item, then close this end of the pipe."""
    for item in items:
        conn.send(item)
    conn.close()


def one_way(items, sender_func=sender):
    """Receive in the parent what a child running sender_func(send_end, items) sends."""
    recv_end, send_end = Pipe(duplex=False)
    child = Process(target=sender_func, args=(send_end, items))
    child.start()
    send_end.close()  # the child has its own copy: keep none here, or recv() never sees EOF
    received = []
    while recv_end.poll(1):  # wait up to a second for each message; nothing for that long: done
        try:
            received.append(recv_end.recv())
        except EOFError:
            break
    recv_end.close()
    child.join()
    return received


if __name__ == "__main__":
    print(ping_pong([1, 2, 3]))
    print(one_way(["a", "b", "c"]))
