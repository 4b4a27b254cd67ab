"""The inbox worker reads a row's payload the same whether the ingress handed it over parsed (in
memory) or the worker parses the stored body (a row claimed from the table)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

import orjson
import pytest

from slackbridge.domain.payloads import PayloadKind
from slackbridge.pipeline.inbox_worker import parse_stored
from slackbridge.slack.inbound.ingress_checks import parse_request
from slackbridge.store.repositories.inbox import InboxItem

_EVENT = {
    "token": "legacy-verification-token",
    "team_id": "T0ACME0001",
    "api_app_id": "A0APP00001",
    "type": "event_callback",
    "event_id": "Ev0001",
    "event": {"type": "message", "channel": "C0ACME0GEN", "text": "héllo", "ts": "1.000001"},
}
_INTERACTION = {"type": "block_actions", "token": "legacy", "team": {"id": "T0ACME0001"}}
_BODIES: dict[PayloadKind, bytes] = {
    "events": orjson.dumps(_EVENT),
    "commands": urlencode(
        {"token": "legacy", "command": "/ticket", "text": "", "team_id": "T0ACME0001"}
    ).encode(),
    "interactivity": urlencode({"payload": orjson.dumps(_INTERACTION).decode()}).encode(),
    "outgoing": urlencode({"token": "legacy", "text": "hi", "channel_id": "C0ACME0GEN"}).encode(),
}


def _row(kind: PayloadKind, body: bytes, payload: dict[str, object] | None) -> InboxItem:
    now = datetime.now(UTC)
    return InboxItem(
        id=1,
        dedupe_key="key",
        app_ref=None,
        team_id="T0ACME0001",
        kind=kind,
        body=body,
        headers={"transport": "http"},
        received_at=now,
        status="processing",
        attempts=1,
        not_before=now,
        lease_owner="worker",
        lease_expires_at=now,
        last_error=None,
        payload=payload,
    )


@pytest.mark.parametrize("kind", list(_BODIES))
def test_handed_over_payload_reads_like_the_stored_body(kind: PayloadKind) -> None:
    body = _BODIES[kind]
    parsed = parse_request(kind, body).payload  # what the ingress hands over
    from_memory = parse_stored(_row(kind, body, parsed))
    from_table = parse_stored(_row(kind, body, None))
    assert from_memory == from_table
    assert "token" not in from_memory[1]
    assert "token" in parsed or kind == "interactivity"  # the ingress's own copy is left alone


def test_handed_over_payload_is_used_instead_of_the_body() -> None:
    item = _row("events", b"not json: the table's copy is never read", {"type": "x", "n": 1})
    assert parse_stored(item) == ("events", {"type": "x", "n": 1})
