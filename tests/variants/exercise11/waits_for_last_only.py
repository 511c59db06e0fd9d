"""Exercise 11, with a timing-dependent mistake: waits for the last result only, reads the rest after the pool ended."""

import multiprocessing
from multiprocessing import Pool


def square(x):
    return x * x


def inverse(x):
    return 1 / x


def wait_for(gate):
    gate.wait()
    return "released"


def squares_with_callback(pool, numbers, on_result):
    """Submit every task first, then collect: the tasks run side by side."""
    pending = [pool.apply_async(square, (x,), callback=on_result) for x in numbers]
    return [result.get() for result in pending]


def squares_map_async(pool, numbers, on_done):
    """One map_async; its callback receives the whole list, once."""
    result = pool.map_async(square, numbers, callback=on_done)
    return result.get()


def inverses(pool, numbers, on_error):
    """A failing task: error_callback gets its exception, get() raises it again."""
    pending = [pool.apply_async(inverse, (x,), error_callback=on_error) for x in numbers]
    out = []
    for result in pending:
        try:
            out.append(result.get())
        except Exception as error:
            out.append(type(error).__name__)
    return out


def watch_result(pool, gate):
    """ready, get(timeout), successful and wait on one task that waits for the gate."""
    result = pool.apply_async(wait_for, (gate,))
    report = {"ready_before": result.ready()}
    try:
        result.get(timeout=0.1)
        report["timed_out"] = False
    except multiprocessing.TimeoutError:
        report["timed_out"] = True
    try:
        result.successful()
        report["early_successful"] = None
    except ValueError as error:
        report["early_successful"] = type(error).__name__
    gate.set()
    result.wait()
    report["ready_after"] = result.ready()
    report["successful"] = result.successful()
    report["value"] = result.get()
    return report


def squares_in_with_block(numbers):
    """Every get() inside the block: leaving it terminates the pool."""
    with Pool(processes=4) as pool:
        pending = [pool.apply_async(square, (x,)) for x in numbers]
        pending[-1].wait()  # the last one submitted is done, so all of them are (it seems)
    return [result.get() for result in pending]


if __name__ == "__main__":
    with Pool(processes=4) as pool:
        print(squares_with_callback(pool, range(8), print))
        print(squares_map_async(pool, range(8), print))
        print(inverses(pool, [4, 0, 2], print))
        with multiprocessing.Manager() as manager:
            print(watch_result(pool, manager.Event()))
    print(squares_in_with_block(range(8)))
