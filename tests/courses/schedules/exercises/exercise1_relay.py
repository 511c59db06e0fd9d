"""A child puts numbers on a queue; the parent gets them all."""

from multiprocessing import Process, Queue


def produce(q, n):
    for i in range(n):
        q.put(i)


def relay(n):
    q = Queue()
    child = Process(target=produce, args=(q, n))
    child.start()
    got = [q.get() for _ in range(n)]
    child.join()
    return got
