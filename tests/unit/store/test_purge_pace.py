"""A purge's chunks follow the time they take: towards the target, at most doubled or halved at
a time, within bounds."""

from __future__ import annotations

from slackbridge.store.purge_pace import FIRST, LEAST, MOST, TARGET_SECONDS, next_chunk


def test_a_chunk_on_target_keeps_its_size() -> None:
    assert next_chunk(500, TARGET_SECONDS) == 500


def test_a_slow_chunk_shrinks_the_next_but_at_most_by_half() -> None:
    assert next_chunk(500, TARGET_SECONDS * 1.25) == 400
    assert next_chunk(500, TARGET_SECONDS * 10) == 250


def test_a_fast_chunk_grows_the_next_but_at_most_twice() -> None:
    assert next_chunk(500, TARGET_SECONDS / 1.25) == 625
    assert next_chunk(500, TARGET_SECONDS / 10) == 1000
    assert next_chunk(500, 0.0) == 1000  # too fast to measure


def test_the_size_stays_within_its_bounds() -> None:
    assert next_chunk(LEAST, 1.0) == LEAST
    assert next_chunk(MOST, 0.0) == MOST
    assert LEAST <= FIRST <= MOST


def test_a_long_purge_settles_near_the_target() -> None:
    """With a statement that costs 10 µs a row, the sizes converge to the target's 200 rows."""
    size = FIRST
    for _ in range(10):
        size = next_chunk(size, size * 10e-6)
    assert size == round(TARGET_SECONDS / 10e-6)
