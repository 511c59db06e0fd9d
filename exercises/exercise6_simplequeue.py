"""Exercise 6 — SimpleQueue: fan-in.

`multiprocessing.SimpleQueue` is the plain version of Queue: `put(obj)`, `get()`,
`empty()`, and since Python 3.9 `close()`. (The source post lists the first three.)

- No timeouts, no `qsize()`, no `full()`, no `put_nowait()`: `get()` waits as long as
  it takes. It is unbounded, and `put()` writes straight into the pipe (there is no
  feeder thread as in Queue).
- Fan-in: several workers put their results on ONE queue, one consumer takes them.
- `empty()` says "nothing is in the queue right now", never "nothing more will come":
  a worker that has not yet put its result is invisible. So the consumer must know
  when to stop by itself: count the results it expects (every worker's!), or have each
  worker put a sentinel when it is done and count the sentinels.
- `close()` (3.9+) releases the queue's pipe: call it once nobody uses the queue.

Run `grade exercise6` to check your work, `grade hint exercise6` for a hint.
"""

import os
from multiprocessing import Process, SimpleQueue


def worker(q, func, chunk):
    """Runs in a child. For each x of `chunk`, put the tuple (os.getpid(), x, func(x)) on `q`."""
    # TODO
    raise NotImplementedError


def fan_in(func, chunks):
    """Create one SimpleQueue. Start one process per chunk running worker(q, func, chunk),
    all of them before waiting for any. Collect every report the workers put (in any
    order), join every worker, close the queue, and return the list of reports.
    Chunks may have different lengths.
    """
    # TODO: how does the consumer know it has everything? (not with empty())
    raise NotImplementedError


def square(x):
    return x * x


if __name__ == "__main__":
    print(fan_in(square, [[1, 2, 3], [4, 5], [6]]))
