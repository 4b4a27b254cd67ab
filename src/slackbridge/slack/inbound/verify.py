"""Checks on requests Slack sends to the app, each a small pure step.

Order at the edge: size limit → signature (over the raw bytes, before any parsing) → parse →
url_verification / ssl_check → dedupe. Nothing here does I/O.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

__all__ = [
    "REPLAY_WINDOW_SECONDS",
    "SignatureError",
    "compute_signature",
    "verify_signature",
]

REPLAY_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class SignatureError(Exception):
    """Why a request's signature was refused; ``reason`` is safe to show the caller."""

    reason: str

    def __str__(self) -> str:
        return self.reason


def compute_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    """Slack's ``v0=`` signature of ``body`` sent at ``timestamp``."""
    return "v0=" + _digest(signing_secret, timestamp, body).hex()


def _digest(signing_secret: str, timestamp: str, body: bytes) -> bytes:
    # hmac.digest: the one-shot C implementation (no HMAC object per request).
    return hmac.digest(signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + body, "sha256")


def verify_signature(
    signing_secrets: list[str],
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    window: int = REPLAY_WINDOW_SECONDS,
) -> int:
    """Check a request against each candidate signing secret.

    Returns the index of the secret that matched (several apps may share one endpoint).
    Raises :class:`SignatureError` on a missing header, a stale or malformed timestamp, or a
    signature no secret produces. Comparison is constant-time.
    """
    if not timestamp or not signature:
        raise SignatureError("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError("X-Slack-Request-Timestamp is not an integer") from None
    if abs(now - sent_at) > window:
        raise SignatureError("request timestamp is outside the 5-minute window")
    if not signature.startswith("v0="):
        raise SignatureError("unsupported signature version")
    given = signature.encode()
    matched = -1
    for index, secret in enumerate(signing_secrets):
        expected = compute_signature(secret, timestamp, body).encode()
        # Compare against every secret so timing does not reveal which one matched.
        if hmac.compare_digest(expected, given) and matched < 0:
            matched = index
    if matched < 0:
        raise SignatureError("signature does not match")
    return matched
