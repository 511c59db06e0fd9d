"""Exercise 10, with a timing-dependent mistake: imap_unordered() where map()'s order is promised."""

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
    squares = list(pool.imap_unordered(square, numbers))  # the same results, it seems
    value = pool.apply(power, (base,), {"exponent": exponent})
    pool.close()
    pool.join()
    return squares, value


if __name__ == "__main__":
    print(squares_and_power(range(8), 2, 10))
