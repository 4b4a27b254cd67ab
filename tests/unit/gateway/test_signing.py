from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.product.signing import (
    WebhookVerificationError,
    generate_secret,
    sign_headers,
    verify_webhook,
)


def test_signature_follows_the_standard_webhooks_scheme() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    body = json.dumps({"type": "message.posted", "timestamp": 1, "data": {}}).encode()
    now = int(time.time())
    headers = sign_headers(secret, "msg_1", now, body)
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(
        hmac.new(key, f"msg_1.{now}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    assert headers == {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(now),
        "webhook-signature": f"v1,{expected}",
    }
    assert verify_webhook(secret, headers, body)["type"] == "message.posted"


def test_verification_rejects_tampering_wrong_secret_and_old_timestamps() -> None:
    secret = generate_secret()
    body = b'{"type":"x"}'
    now = int(time.time())
    headers = sign_headers(secret, "msg_2", now, body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, headers, body + b" ")
    with pytest.raises(WebhookVerificationError):
        verify_webhook(generate_secret(), headers, body)
    stale = sign_headers(secret, "msg_2", now - 3600, body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, stale, body)
    with pytest.raises(WebhookVerificationError):
        verify_webhook(secret, {"webhook-id": "msg_2"}, body)


def test_several_secrets_sign_once_each_and_either_verifies() -> None:
    """During a rotation's overlap every webhook carries one signature per secret (Standard
    Webhooks: space-separated ``v1,…`` entries); a receiver knowing either secret accepts it."""
    from standardwebhooks import Webhook

    new, old, other = generate_secret(), generate_secret(), generate_secret()
    body = b'{"type":"message.posted"}'
    headers = sign_headers([new, old], "msg_1", int(time.time()), body)
    signatures = headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert (
        signatures[0]
        == sign_headers(new, "msg_1", int(headers["webhook-timestamp"]), body)["webhook-signature"]
    )
    for secret in (new, old):
        assert Webhook(secret).verify(body, headers) == {"type": "message.posted"}
    with pytest.raises(WebhookVerificationError):
        Webhook(other).verify(body, headers)
    with pytest.raises(ValueError, match="at least one secret"):
        sign_headers([], "msg_1", 1, body)


@given(
    secret=st.binary(min_size=1, max_size=64).map(
        lambda key: "whsec_" + base64.b64encode(key).decode()
    ),
    webhook_id=st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40
    ),
    timestamp=st.integers(min_value=0, max_value=4_000_000_000),
    body=st.text(max_size=200).map(str.encode),
)
def test_signatures_are_the_standard_webhooks_librarys(
    secret: str, webhook_id: str, timestamp: int, body: bytes
) -> None:
    from datetime import UTC, datetime

    from standardwebhooks import Webhook

    headers = sign_headers(secret, webhook_id, timestamp, body)
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    assert headers["webhook-signature"] == Webhook(secret).sign(webhook_id, when, body)
