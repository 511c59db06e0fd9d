"""Exercise 10 variant: correct: map_async and apply_async, then get(), then close and join."""

from multiprocessing import Pool


def square(x):
    """Runs in a pool worker."""
    return x * x


def power(base, exponent=2):
    """Runs in a pool worker."""
    return base**exponent


def squares_and_power(numbers, base, exponent):
    """One pool of 4 workers: map square over numbers, apply power once, then close and join."""
    pool = Pool(processes=4)
    pending_squares = pool.map_async(square, numbers)
    pending_value = pool.apply_async(power, (base,), {"exponent": exponent})
    squares = pending_squares.get(timeout=10)
    value = pending_value.get(timeout=10)
    pool.close()
    pool.join()
    return squares, value


if __name__ == "__main__":
    print(squares_and_power(range(8), 2, 10))
