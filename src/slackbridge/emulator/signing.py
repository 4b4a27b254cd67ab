"""Slack's request signing (v0), as the emulator applies it to everything it POSTs to an app."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["signature", "signed_headers"]


def signature(signing_secret: str, timestamp: int | str, body: bytes) -> str:
    """``v0=`` + hex HMAC-SHA256 of ``v0:<timestamp>:<body>`` keyed by the app's signing secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(signing_secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers Slack adds to every signed request."""
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(signing_secret, timestamp, body),
    }
