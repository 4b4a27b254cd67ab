"""Standard Webhooks signatures for the webhooks slackbridge sends to the product.

Headers: ``webhook-id`` (stable across retries of one event, for the receiver's dedupe),
``webhook-timestamp`` (unix seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>`` of
``"{id}.{timestamp}.{body}"`` under the endpoint's ``whsec_…`` secret; computed here directly,
the same as the Standard Webhooks library's ``sign`` at a fraction of its cost per call).
Receivers verify with :func:`verify_webhook` (or any Standard Webhooks library, in any
language).

While a secret rotation overlaps, ``webhook-signature`` holds one signature per secret, separated
by spaces (``v1,<new> v1,<old>``), as the spec provides: a receiver that knows either secret
verifies, so the product can switch over whenever it likes.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

__all__ = [
    "WebhookVerificationError",
    "generate_secret",
    "sign_headers",
    "verify_webhook",
]


def generate_secret() -> str:
    """A new endpoint secret in the Standard Webhooks ``whsec_<base64>`` form."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_headers(
    secret: str | Sequence[str], webhook_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers that sign ``body`` for delivery, with one secret or several (one
    signature each, in the order given)."""
    keys = (secret,) if isinstance(secret, str) else secret
    if not keys:
        raise ValueError("a webhook needs at least one secret to be signed with")
    stamp = str(timestamp)
    signed = f"{webhook_id}.{stamp}.".encode() + body
    signatures = [
        "v1," + base64.b64encode(hmac.digest(_key(k), signed, "sha256")).decode() for k in keys
    ]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": stamp,
        "webhook-signature": " ".join(signatures),
    }


@lru_cache(maxsize=256)
def _key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_…`` secret, as the Standard Webhooks library decodes it
    (decoded once per secret, not once per webhook: every delivery is signed)."""
    if secret.startswith("whsec_"):
        secret = secret[len("whsec_") :]
    key = base64.b64decode(secret + "==")
    if not key:
        raise ValueError("webhook secret may not be empty")
    return key


def verify_webhook(secret: str, headers: Mapping[str, str], body: bytes | str) -> Any:
    """Check a slackbridge webhook and return its parsed JSON body.

    Raises :class:`WebhookVerificationError` when a header is missing, the timestamp is more than
    five minutes away from now, or no signature matches.
    """
    return Webhook(secret).verify(body, dict(headers))
