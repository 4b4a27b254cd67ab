"""A "direct" Slack app for the ingress tests that post to the gateway themselves: its app id,
its signing secret, signed headers and an event body as Slack sends one."""

from __future__ import annotations

import time
from typing import Any

import orjson

from slackbridge.slack.inbound.verify import compute_signature

__all__ = ["APP_ID", "SIGNING", "event_body", "signed"]

SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
APP_ID = "A0DIRECT01"


def signed(
    body: bytes, *, secret: str = SIGNING, at: int | None = None, **extra: str
) -> dict[str, str]:
    """Slack's signature headers for ``body`` (now, or at ``at``), plus ``extra`` headers."""
    stamp = str(int(time.time()) if at is None else at)
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": compute_signature(secret, stamp, body),
        **extra,
    }


def event_body(event_id: str = "Ev0001", text: str = "hi", **fields: Any) -> bytes:
    """An ``event_callback`` with a message from alice in Acme's #general; ``fields`` are more
    top-level fields (the legacy ``token``, say)."""
    return orjson.dumps(
        {
            **fields,
            "type": "event_callback",
            "team_id": "T0ACME0001",
            "api_app_id": APP_ID,
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": "C0ACME0GEN",
                "channel_type": "channel",
                "user": "U0ACME0001",
                "text": text,
                "ts": f"{time.time():.6f}",
            },
        }
    )
