"""The queues' pure retry policy, and the in-process wake-ups."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.store.queue_policy import Backoff, RetryPolicy
from slackbridge.store.wakeups import LocalWakeups, Wakeups

_BACKOFF = Backoff(base=2.0, cap=300.0)


def test_the_ceiling_doubles_from_the_base_up_to_the_cap() -> None:
    assert [_BACKOFF.ceiling(n) for n in range(1, 10)] == [2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert _BACKOFF.ceiling(10_000) == 300  # no overflow however many attempts


@given(attempt=st.integers(min_value=0, max_value=200), seed=st.integers(0, 2**32))
def test_a_delay_is_in_the_upper_half_of_its_ceiling(attempt: int, seed: int) -> None:
    ceiling = _BACKOFF.ceiling(attempt)
    assert ceiling / 2 <= _BACKOFF.seconds(attempt, rng=random.Random(seed)) <= ceiling


def test_delays_spread_out_rather_than_coming_back_in_one_wave() -> None:
    rng = random.Random(7)
    assert len({round(_BACKOFF.seconds(5, rng=rng), 6) for _ in range(20)}) > 10


def test_the_default_jitter_leaves_the_global_random_state_alone() -> None:
    # The workers draw a delay on every settled row, from the event loop's thread: with the
    # global state, that raced a property test drawing its next example (Hypothesis checks
    # the global state does not move during a draw) and failed it by chance.
    before = random.getstate()
    policy = RetryPolicy(_BACKOFF, max_attempts=10)
    delays = [_BACKOFF.seconds(n) for n in range(1, 8)] + [policy.retry_in(n) for n in (1, 2)]
    assert random.getstate() == before
    assert all(delay is not None and delay > 0 for delay in delays)


def test_a_row_is_given_up_after_max_attempts() -> None:
    policy = RetryPolicy(_BACKOFF, max_attempts=3)
    assert [policy.gives_up(n) for n in (1, 2, 3, 4)] == [False, False, True, True]
    assert policy.retry_in(2, rng=random.Random(1)) is not None
    assert policy.retry_in(3, rng=random.Random(1)) is None


@given(attempts=st.integers(1, 11), at_least=st.floats(0, 10_000), seed=st.integers(0, 99))
def test_retry_after_and_scale_bound_the_delay(attempts: int, at_least: float, seed: int) -> None:
    scaled = RetryPolicy(_BACKOFF, max_attempts=12, scale=0.01)
    delay = scaled.retry_in(attempts, at_least=at_least, rng=random.Random(seed))
    assert delay is not None and delay >= at_least
    plain = _BACKOFF.seconds(attempts, rng=random.Random(seed))
    assert delay == max(plain * 0.01, at_least)


async def test_a_signal_before_the_wait_is_not_missed() -> None:
    wakeups: Wakeups = LocalWakeups()
    wakeups.signal("inbox")
    async with asyncio.timeout(10):  # an hour's wait would fail here
        await wakeups.wait("inbox", 3600)


async def test_a_signal_wakes_a_waiter_and_is_consumed() -> None:
    wakeups = LocalWakeups()
    waiter = asyncio.ensure_future(wakeups.wait("outbox", 3600))
    await asyncio.sleep(0)
    assert not waiter.done()
    wakeups.signal("deliveries")  # another queue: no effect
    await asyncio.sleep(0)
    assert not waiter.done()
    wakeups.signal("outbox")
    async with asyncio.timeout(10):
        await waiter
    again = asyncio.ensure_future(wakeups.wait("outbox", 3600))
    await asyncio.sleep(0)
    assert not again.done()  # consumed by the first wait
    again.cancel()


async def test_a_cancelled_wait_keeps_the_signal() -> None:
    wakeups = LocalWakeups()
    waiter = asyncio.ensure_future(wakeups.wait("inbox", 3600))
    await asyncio.sleep(0)
    wakeups.signal("inbox")
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    async with asyncio.timeout(10):
        await wakeups.wait("inbox", 3600)


async def test_without_a_signal_a_wait_ends_at_its_timeout() -> None:
    wakeups = LocalWakeups()
    async with asyncio.timeout(10):
        await wakeups.wait("inbox", 0)
        await wakeups.wait("inbox", 0.01)
