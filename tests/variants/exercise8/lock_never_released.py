"""Exercise 8, hangs: each increment takes the Value's lock and never releases it."""

from multiprocessing import Array, Process, Value

PI = 3.1415927


def make_shared():
    """A Value of C doubles holding 0.0, and an Array of C ints holding 0..9."""
    return Value("d", 0.0), Array("i", range(10))


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
    for _ in range(times):
        counter.get_lock().acquire()  # BUG: never released
        counter.value += 1


def count_in_parallel(workers, times):
    """`workers` children each add `times` to one shared counter; the total."""
    counter = Value("i", 0)
    children = [Process(target=add_many, args=(counter, times)) for _ in range(workers)]
    for child in children:
        child.start()
    for child in children:
        child.join()
    return counter.value


if __name__ == "__main__":
    print(run_update())
    print(count_in_parallel(4, 10_000), "(expected 40000)")
