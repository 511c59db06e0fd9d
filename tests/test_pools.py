"""Ending a pool (grader/pools.py): its workers finish what they have before it is finalized."""

from __future__ import annotations

import multiprocessing
import time

from grader import pools

BIG = 20 * 1024 * 1024  # a result that takes its worker a while to send


def _slow_big(n):
    time.sleep(0.2)
    return b"x" * n


def _forever():
    while True:
        time.sleep(1)


def test_a_task_running_when_its_pool_is_ended_still_delivers_its_result():
    # terminate() at this point would kill the worker mid-task (or mid-send, holding the result
    # queue's lock, and then the finalizer hangs): the result would never arrive.
    pool = multiprocessing.get_context("fork").Pool(1)
    result = pool.apply_async(_slow_big, (BIG,))
    pools.end(pool)
    assert result.ready() and len(result.get(0)) == BIG
    assert all(p.exitcode is not None for p in pool._pool)
    assert not multiprocessing.active_children()


def test_a_task_that_never_ends_is_stopped_after_the_patience():
    pool = multiprocessing.get_context("fork").Pool(1)
    result = pool.apply_async(_forever)
    pools.end(pool)
    assert not result.ready()
    assert not multiprocessing.active_children()


def test_end_open_ends_only_running_pools():
    ctx = multiprocessing.get_context("fork")
    running, closed = ctx.Pool(1), ctx.Pool(1)
    closed.close()
    pools.end_open()
    assert running._state == "TERMINATE"
    assert closed._state == "CLOSE"  # the student's close() is theirs to join
    closed.join()
    assert not multiprocessing.active_children()
