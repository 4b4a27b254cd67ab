"""Settled operations are not kept forever: an upload's bytes go once it is settled, and settled
rows go after the retention (queued ones stay)."""

from __future__ import annotations

import base64
from datetime import timedelta

from slackbridge.slack.outbound.outbox_retention import purge_outbox
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.outbox import NewOutboxMessage, OutboxRepository
from tests.integration.gateway.api.conftest import ACME, SUPPORT, ApiStack


def _outbox(stack: ApiStack) -> OutboxRepository:
    gateway = stack.gateway.gateway
    return OutboxRepository(gateway.db, gateway.keyring)


async def test_an_uploads_bytes_leave_the_store_once_it_is_settled(stack: ApiStack) -> None:
    content = b"\x00\x01 log line\n" * 1000
    body = {
        "workspace": ACME,
        "channel": SUPPORT,
        "filename": "app.log",
        "content_base64": base64.b64encode(content).decode(),
    }
    headers = {"Idempotency-Key": "upload-1"}
    first = await stack.api.post("/files", json=body, headers=headers)
    assert first.status_code == 202, first.text
    upload_id = first.json()["id"]
    assert (await stack.wait_status(upload_id))["status"] == "sent"
    row = await _outbox(stack).get(upload_id)
    assert row is not None
    assert "content_b64" not in row.payload["file"]
    assert row.payload["file"]["size"] == len(content)
    assert row.payload["file"]["filename"] == "app.log"
    # The request is still recognised: a retry with the same key is the same operation.
    again = await stack.api.post("/files", json=body, headers=headers)
    assert again.status_code == 202 and again.json()["replayed"] is True
    assert again.json()["id"] == upload_id
    failed = await stack.api.post("/files", json={**body, "channel": "C0NOSUCHCH"})
    failed_id = failed.json()["id"]
    assert (await stack.wait_status(failed_id))["status"] == "failed"
    failed_row = await _outbox(stack).get(failed_id)
    assert failed_row is not None and "content_b64" not in failed_row.payload["file"]


async def test_settled_operations_go_after_the_retention(stack: ApiStack) -> None:
    sent = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": SUPPORT, "text": "kept a week"}
    )
    sent_id = sent.json()["id"]
    assert (await stack.wait_status(sent_id))["status"] == "sent"
    gateway = stack.gateway.gateway
    waiting = await _outbox(stack).enqueue(
        NewOutboxMessage(
            team_id=ACME,
            method="chat.postMessage",
            payload={"channel": SUPPORT, "args": {"text": "not yet"}},
            lane_key="retention-test",
            not_before=utcnow() + timedelta(days=365),
        )
    )
    assert await purge_outbox(gateway) == 0  # younger than the retention
    assert (await stack.api.get(f"/messages/{sent_id}")).status_code == 200
    later = utcnow() + timedelta(days=gateway.settings.retention_days, minutes=1)
    assert await purge_outbox(gateway, now=later) >= 1
    gone = await stack.api.get(f"/messages/{sent_id}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "message_not_found"
    still = await stack.api.get(f"/messages/{waiting.message.message_id}")
    assert still.status_code == 200 and still.json()["status"] == "queued"
