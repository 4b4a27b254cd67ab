"""Slack's budgets shared by several gateways through PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from slackbridge.slack.outbound.ratelimits import RatePolicy
from slackbridge.slack.outbound.ratelimits_shared import SharedRateLimiter
from slackbridge.store.db import Database
from slackbridge.store.repositories.rate_buckets import RateBucketsRepository

# Refills so slow that none happens during a test: every grant is counted against the burst.
_SLOW = RatePolicy(
    tier_per_minute={1: 1, 2: 20, 3: 50, 4: 100},
    post_per_second_per_channel=0.0001,
    post_burst_per_channel=2,
)


@pytest.fixture
async def gateways(database: Database) -> AsyncIterator[list[SharedRateLimiter]]:
    if not database.is_postgres:
        pytest.skip("shared buckets are PostgreSQL's (one process keeps its own)")
    yield [SharedRateLimiter(RateBucketsRepository(database), _SLOW) for _ in range(3)]


async def test_the_gateways_together_keep_one_channels_burst(
    gateways: list[SharedRateLimiter],
) -> None:
    waits = await asyncio.gather(
        *(g.reserve("T1", "chat.postMessage", "C1") for g in gateways for _ in range(4))
    )
    assert sum(1 for w in waits if w == 0) == 2  # the burst, across all three
    assert all(w > 0 for w in waits if w != 0)
    # Another channel has its own bucket.
    assert await gateways[1].reserve("T1", "chat.postMessage", "C2") == 0


async def test_a_method_tier_is_shared(gateways: list[SharedRateLimiter]) -> None:
    # Tier 1 (apps.connections.open, per app): one call, then a minute's wait, cluster-wide.
    waits = [await gateways[i % 3].reserve("A1", "apps.connections.open", None) for i in range(6)]
    assert waits.count(0.0) == 1
    assert all(w > 30 for w in waits if w)


async def test_retry_after_holds_the_lane_back_everywhere(
    gateways: list[SharedRateLimiter],
) -> None:
    await gateways[0].penalize("T1", "chat.postMessage", "C9", 30)
    wait = await gateways[2].reserve("T1", "chat.postMessage", "C9")
    assert 20 < wait <= 30
    assert await gateways[1].reserve("T1", "chat.postMessage", "C8") == 0
    assert await gateways[1].reserve("T1", "users.info", None) == 0
