"""Exercise 1, deadlocked: every child waits for a message nobody sends, and the parent joins them."""
from multiprocessing import Process, Queue


def greet(results, greeting, punctuation="!"):
    results.put(Queue().get())  # waits forever


def start_named(names, results):
    children = [Process(target=greet, args=(results, "hello"), name=n) for n in names]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return [child.pid for child in children]


def exit_codes():
    raise NotImplementedError


def watch_lifecycle():
    raise NotImplementedError
