"""Exercise 10 variant: terminate() then join() instead of close() then join() (lifecycle)."""

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
    squares = pool.map(square, numbers)
    value = pool.apply(power, (base,), {"exponent": exponent})
    pool.terminate()
    pool.join()
    return squares, value


if __name__ == "__main__":
    print(squares_and_power(range(8), 2, 10))
