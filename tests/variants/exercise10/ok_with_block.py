"""Exercise 10 variant: correct: `with Pool(4) as pool:` (terminate() at the end of the block, after every result is in)."""

from multiprocessing import Pool


def square(x):
    """Runs in a pool worker."""
    return x * x


def power(base, exponent=2):
    """Runs in a pool worker."""
    return base**exponent


def squares_and_power(numbers, base, exponent):
    """One pool of 4 workers: map square over numbers, apply power once, then close and join."""
    with Pool(4) as pool:
        squares = pool.map(square, numbers)
        value = pool.apply(power, (base,), {"exponent": exponent})
    return squares, value


if __name__ == "__main__":
    print(squares_and_power(range(8), 2, 10))
