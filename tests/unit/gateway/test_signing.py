from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

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
