"""Exercise 8 — Shared memory: Value and Array.

A child process has its own memory: change a plain list or number there, and the parent
never sees it. `Value` and `Array` put data in shared memory instead, so a child's
writes are the parent's writes:

    num = Value("d", 0.0)          # one C double
    arr = Array("i", range(10))    # ten C ints
    ... in a child:  num.value = 2.5;  arr[3] += 10
    ... in the parent, after join():  num.value == 2.5, arr[3] == 13

- The typecode fixes the C type, as in the `array` module: "d" is a double (a Python
  float), "i" a C int (a Python int). A float written into an "i" Value raises
  TypeError, so choose "d" for floats.
- The source post says that Value and Array "implement a lock inside, so they are
  process-safe". Only each single read or write is. `v.value += 1` is a read, then a
  write: two processes can both read 41 and both write 42, and an increment is lost
  (4 processes x 10,000 unprotected increments gave 25,008 instead of 40,000). Hold the
  Value's own lock around the whole read-modify-write:

    with v.get_lock():
        v.value += 1

Run `grade exercise8` to check your work, `grade hint exercise8` for a hint.
"""

from multiprocessing import Array, Process, Value

PI = 3.1415927


def make_shared():
    """Return (num, arr): a shared Value of typecode "d" holding 0.0, and a shared
    Array of typecode "i" holding 0, 1, ..., 9.
    """
    # TODO
    raise NotImplementedError


def update(num, arr):
    """Runs in a child: set num's value to PI, and add 10 to every element of arr."""
    # TODO
    raise NotImplementedError


def run_update():
    """Get (num, arr) from make_shared(), run update(num, arr) in one child, join it,
    and return (num.value, a list of arr's elements) as the parent now sees them.
    """
    # TODO
    raise NotImplementedError


def add_many(counter, times):
    """Runs in a child: add 1 to counter.value, `times` times, holding the counter's own
    lock (counter.get_lock()) around each `+=`.
    """
    # TODO
    raise NotImplementedError


def count_in_parallel(workers, times):
    """Create a shared Value of typecode "i" holding 0. Start `workers` processes, each
    running add_many(counter, times); start them all, then join them all, and return
    the counter's value.
    """
    # TODO
    raise NotImplementedError


if __name__ == "__main__":
    print(run_update())
    print(count_in_parallel(4, 10_000), "(expected 40000)")
