from __future__ import annotations

import json
import random

from slackbridge.domain.events import DomainEvent
from slackbridge.product.webhook_policy import (
    backoff_seconds,
    endpoint_wants,
    render_body,
    webhook_id,
)


def event(type_: str = "message.posted", key: str = "Ev1") -> DomainEvent:
    return DomainEvent(type_, "T1", "A1", {"text": "hi"}, "T1:C1", key, 1700000000.5)


def test_filters() -> None:
    assert endpoint_wants([], "message.posted")
    assert not endpoint_wants([], "slack.event")
    assert endpoint_wants(["slack.event"], "slack.event")
    assert not endpoint_wants(["*"], "slack.event")
    assert endpoint_wants(["message.*"], "message.edited")
    assert not endpoint_wants(["message.*"], "reaction.added")
    assert endpoint_wants(["reaction.added", "app.mentioned"], "app.mentioned")


def test_webhook_id_is_stable_and_distinct() -> None:
    assert webhook_id(event()) == webhook_id(event())
    assert webhook_id(event()) != webhook_id(event(key="Ev2"))
    assert webhook_id(event()) != webhook_id(event("message.edited"))
    assert webhook_id(event()).startswith("msg_")


def test_body_shape() -> None:
    body = json.loads(render_body(event()))
    assert body == {
        "type": "message.posted",
        "timestamp": "2023-11-14T22:13:20.500Z",
        "data": {"text": "hi"},
    }


def test_backoff_grows_with_jitter_and_caps() -> None:
    rng = random.Random(7)
    delays = [backoff_seconds(n, rng=rng) for n in range(1, 20)]
    assert 1.0 <= delays[0] <= 2.0
    assert 8.0 <= delays[3] <= 16.0
    assert all(d <= 3600 for d in delays)
    assert delays[-1] >= 1800
    assert len({round(d, 6) for d in delays}) == len(delays)
