"""Exercise 5, with a timing-dependent mistake: a consumer that stops when the queue looks empty."""

import queue
from multiprocessing import Process, Queue


def fill(q, items):
    """Put items without waiting, up to the first one the queue has no room for."""
    count = 0
    for item in items:
        try:
            q.put_nowait(item)
        except queue.Full:
            break
        count += 1
    return count


def drain(q, timeout):
    """Get items until none arrives within `timeout` s; return them in order."""
    items = []
    while True:
        try:
            items.append(q.get(timeout=timeout))
        except queue.Empty:
            return items


def take_ready(q):
    """Take the items already in the queue without waiting; stop at the first queue.Empty."""
    items = []
    while True:
        try:
            items.append(q.get_nowait())
        except queue.Empty:
            return items


def snapshot(q):
    """What the queue says about itself; qsize() is None where it is not implemented (macOS)."""
    try:
        size = q.qsize()
    except NotImplementedError:
        size = None
    return {"empty": q.empty(), "full": q.full(), "size": size}


def producer(q, who, count):
    """Runs in a child: put (who, 0) .. (who, count - 1), then flush the queue and return."""
    for i in range(count):
        q.put((who, i))
    q.close()
    q.join_thread()


def consumer(q, results):
    """Runs in a child: take items until a None sentinel, then report them all on `results`."""
    taken = []
    while True:
        if q.empty():  # nothing left, it seems: stop
            break
        item = q.get()
        if item is None:
            break
        taken.append(item)
    results.put(taken)


def run(n_producers, n_consumers, per_producer):
    """Producers and consumers around one Queue(40); every item consumed exactly once."""
    q = Queue(40)
    results = Queue()
    producers = [Process(target=producer, args=(q, who, per_producer)) for who in range(n_producers)]
    consumers = [Process(target=consumer, args=(q, results)) for _ in range(n_consumers)]
    for p in producers + consumers:
        p.start()
    for p in producers:
        p.join()
    for _ in consumers:  # every item is on the queue now: one sentinel per consumer, after them
        q.put(None)
    taken = []
    for _ in consumers:
        taken.extend(results.get())
    for c in consumers:
        c.join()
    return taken


def big_producer(q, who, size):
    """Runs in a child: put one item holding `size` bytes."""
    q.put((who, b"x" * size))


def collect_big(n, size):
    """n producers each put one item of `size` bytes: get them all, THEN join the producers."""
    q = Queue()
    producers = [Process(target=big_producer, args=(q, who, size)) for who in range(n)]
    for p in producers:
        p.start()
    items = [q.get() for _ in producers]
    for p in producers:
        p.join()
    return sorted((who, len(data)) for who, data in items)


if __name__ == "__main__":
    print(len(run(10, 1, 10)), collect_big(3, 100_000))
