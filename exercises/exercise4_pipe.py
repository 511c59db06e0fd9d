"""Exercise 4 — Pipe: two ends, one conversation.

`Pipe()` returns two `Connection` objects, the two ends of one channel:

    a, b = Pipe()                  # duplex (the default): both ends send and receive
    recv_end, send_end = Pipe(duplex=False)   # one-way: the FIRST end only receives,
                                              # the SECOND only sends (as the post says)

- `conn.send(obj)` pickles obj and writes it; `conn.recv()` waits for the next whole
  message and returns it. Messages arrive complete and in the order they were sent.
  Using the wrong end of a one-way pipe raises OSError ("connection is read-only").
- `recv()` raises `EOFError` once the pipe is empty AND every copy of the other end is
  closed. Every process holding a copy counts: a child gets its own copy of the end you
  pass it, so after `start()` the parent must `close()` its copy of that end, or its
  own `recv()` waits forever (it is still, in theory, able to send to itself).
- The source post's receiver is `while True: print(pipe.recv())`: it never ends, so its
  program never exits. End the loop on a sentinel (e.g. None) or on EOFError — and only
  EOFError still works when the sender dies before it could send the sentinel.
- At most one process should use one end at a time (the post is right about that).
  (The post is Python 2: in Python 3 it is `range`, and `print(...)` is a function.)

Run `grade exercise4` to check your work, `grade hint exercise4` for a hint.
"""

from multiprocessing import Pipe, Process


def echo_server(conn):
    """Runs in a child. Receive numbers from `conn`; answer each number x by sending
    back x * x. When it receives None, stop, close `conn` and return.
    """
    # TODO: loop: x = conn.recv(); stop at None; otherwise conn.send(x * x)
    raise NotImplementedError


def ping_pong(numbers):
    """Start a child running echo_server on one end of a duplex Pipe(). For each number,
    send it and wait for the answer before sending the next (ping, pong, ping, pong...).
    Then send None, join the child, and return the answers in order.
    """
    # TODO: create the pipe, start the server on one end, talk on the other
    raise NotImplementedError


def sender(conn, items):
    """Runs in a child. Send every item of `items` on `conn`, then close `conn`."""
    # TODO
    raise NotImplementedError


def one_way(items, sender_func=sender):
    """Create a one-way pipe with Pipe(duplex=False). Start a child running
    sender_func(<the sending end>, items) and receive, in this process, every message
    it sends until there are no more: return them as a list, in order.

    It must end even when the sender dies before it sent everything (the grader passes
    a sender_func that crashes midway): receive until recv() raises EOFError, and make
    sure that can happen. Join the child before returning.
    """
    # TODO: which end receives? which copies of the sending end must be closed, and when?
    raise NotImplementedError


if __name__ == "__main__":
    print(ping_pong([1, 2, 3]))
    print(one_way(["a", "b", "c"]))
