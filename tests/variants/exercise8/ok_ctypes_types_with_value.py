"""Exercise 8 variant: correct: ctypes types instead of typecodes, `with counter:` (the Value is its own lock's context manager), and the lock held around each worker's whole loop."""

from ctypes import c_double, c_int
from multiprocessing import Array, Process, Value

PI = 3.1415927


def make_shared():
    """A Value of C doubles holding 0.0, and an Array of C ints holding 0..9."""
    return Value(c_double, 0.0), Array(c_int, list(range(10)))


def update(num, arr):
    """In a child: set the Value, add 10 to each element of the Array."""
    num.value = PI
    for i in range(len(arr)):
        arr[i] += 10


def run_update():
    """One child updates the shared objects; the parent then reads what it wrote."""
    num, arr = make_shared()
    child = Process(target=update, args=(num, arr))
    child.start()
    child.join()
    return num.value, arr[:]


def add_many(counter, times):
    """In a child: `times` increments, each under the Value's own lock."""
    with counter:
        for _ in range(times):
            counter.value += 1


def count_in_parallel(workers, times):
    """`workers` children each add `times` to one shared counter; the total."""
    counter = Value(c_int, 0)
    children = [Process(target=add_many, args=(counter, times)) for _ in range(workers)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return counter.value


if __name__ == "__main__":
    print(run_update())
    print(count_in_parallel(4, 10_000), "(expected 40000)")
