"""Exercise 10 — Pool: map and apply.

A `multiprocessing.Pool` starts a fixed set of worker processes up front; they wait
for tasks, run them, and send the results back. You hand out work, not processes:

    pool = Pool(processes=4)                          # 4 workers, started now
    squares = pool.map(square, [3, 1, 4])             # [9, 1, 16]
    value = pool.apply(power, (2,), {"exponent": 10})  # power(2, exponent=10) -> 1024
    pool.close()                                      # no more tasks: workers exit when done
    pool.join()                                       # wait until they have exited

- `map(func, iterable)` cuts the iterable into chunks, gives them to the workers, waits
  until every item is done, and returns the results in the order of the input
  (whichever worker finished first).
- `apply(func, args, kwds)` runs ONE call in a worker and waits for its result. `args`
  is a tuple, `(2,)` with a comma; `kwds` a dict. Because apply() waits, calling it in a
  loop runs the tasks one at a time: for many items, use map().
- Everything sent to a worker is pickled, the function too: it must be a module-level
  `def`. `pool.map(lambda x: x * x, ...)` fails with a PicklingError under every start
  method (a Process target lambda only gets away with it under fork).
- When you are done handing out work: `close()`, THEN `join()`. `join()` on a pool that
  is still open raises ValueError("Pool is still running").
- `with Pool(4) as pool:` is fine here too, but know what it does: leaving the block
  calls terminate() (not close()), which kills the workers at once. That is harmless
  when map() and apply() have already returned their results (exercise 11 shows where
  it is not).

The source post (Python 2) does `pool = Pool(processes=4); print pool.map(func, range(8))`
and stops there: in Python 3 it is `print(...)`, and the pool is never closed. Its 4
workers then live on until the Pool object is garbage-collected and its finalizer
terminates them (the post's "terminate is what the garbage collector calls when memory
runs low" is not quite it: it happens when the Pool object is collected, whatever the
memory). Close and join what you create.

Run `grade exercise10` to check your work, `grade hint exercise10` for a hint.
"""

from multiprocessing import Pool


def square(x):
    """Runs in a pool worker: return x * x."""
    # TODO
    raise NotImplementedError


def power(base, exponent=2):
    """Runs in a pool worker: return base ** exponent."""
    # TODO
    raise NotImplementedError


def squares_and_power(numbers, base, exponent):
    """With ONE pool of 4 worker processes:
    - squares = the squares of `numbers`, in order, computed by the workers with pool.map;
    - value = power(base, exponent=exponent), computed by a worker with pool.apply (pass
      `base` through args and `exponent` through kwds);
    then close the pool and join it. Return (squares, value).
    """
    # TODO: create the pool
    # TODO: map square over numbers; apply power once
    # TODO: close, then join
    raise NotImplementedError


if __name__ == "__main__":
    print(squares_and_power(range(8), 2, 10))
