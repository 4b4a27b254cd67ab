"""Webhook endpoint configuration and per-endpoint webhook ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbridge.domain.events import DomainEvent
from slackbridge.product.dispatch import build_deliveries
from slackbridge.product.endpoints import (
    EndpointConfigError,
    configured_endpoints,
    endpoint_webhook_id,
)
from slackbridge.product.webhooks import retry_after_seconds
from slackbridge.settings import Settings, WebhookEndpointConfig
from slackbridge.store.repositories.endpoints import WebhookEndpoint


def _event(type_: str = "message.posted", key: str = "ev:A1:Ev1") -> DomainEvent:
    return DomainEvent(
        type=type_,
        team_id="T1",
        app_id="A1",
        data={"workspace": {"team_id": "T1"}, "text": "hi"},
        ordering_key="T1:C1",
        dedupe_key=key,
        occurred_at=1_700_000_000.0,
    )


def test_single_url_and_list_combine(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        webhook_url="https://a.example/hooks",
        webhook_secret="whsec_x",
        webhooks=[WebhookEndpointConfig(url="https://b.example/hooks", synchronous=True)],
    )
    first, second = configured_endpoints(settings)
    assert first.url == "https://a.example/hooks" and first.event_types == []
    assert first.secret is not None and first.secret.get_secret_value() == "whsec_x"
    assert second.synchronous is True


@pytest.mark.parametrize(
    ("url", "webhooks", "message"),
    [
        ("ftp://a.example", [], "must start with http"),
        (
            "https://a.example/hooks",
            [WebhookEndpointConfig(url="https://a.example/hooks")],
            "configured twice",
        ),
    ],
)
def test_bad_configuration_is_explained(
    tmp_path: Path, url: str, webhooks: list[WebhookEndpointConfig], message: str
) -> None:
    settings = Settings(data_dir=tmp_path, webhook_url=url, webhooks=webhooks)
    with pytest.raises(EndpointConfigError, match=message):
        configured_endpoints(settings)


def test_webhook_ids_are_stable_per_event_and_endpoint() -> None:
    one, again = _event(), _event()
    assert endpoint_webhook_id(one, 1) == endpoint_webhook_id(again, 1)
    assert endpoint_webhook_id(one, 1) != endpoint_webhook_id(one, 2)
    assert endpoint_webhook_id(one, 1) != endpoint_webhook_id(_event(key="ev:A1:Ev2"), 1)
    assert endpoint_webhook_id(one, 1).startswith("msg_")


def test_deliveries_follow_filters_order_and_holds() -> None:
    from datetime import UTC, datetime

    everything = WebhookEndpoint(1, "https://a", "whsec_a", (), False, True)
    reactions = WebhookEndpoint(2, "https://b", "whsec_b", ("reaction.*",), False, True)
    raw = WebhookEndpoint(3, "https://c", "whsec_c", ("slack.event",), False, True)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    events = [_event("message.posted", "k1"), _event("reaction.added", "k2"), _event("slack.event")]
    items = build_deliveries([everything, reactions, raw], events, hold={2: later})
    assert [(d.endpoint_id, d.event_type) for d in items] == [
        (1, "message.posted"),
        (1, "reaction.added"),
        (2, "reaction.added"),
        (3, "slack.event"),
    ]
    assert [d.not_before for d in items] == [None, None, later, None]
    assert {d.ordering_key for d in items} == {"T1:C1"}
    assert items[1].payload == items[2].payload  # one body, rendered once


def test_retry_after_header() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("999999") == 3600.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None
