"""The webhook the Helpdesk's tests send most: bob's message in Acme's #support, as slackbridge
delivers it (``message.posted``)."""

from __future__ import annotations

import orjson

__all__ = ["TEAM", "message_posted"]

TEAM = "T0ACME0001"


def message_posted(
    text: str = "The printer is jammed",
    ts: str = "1700000000.000100",
    thread_ts: str | None = None,
) -> bytes:
    """The ``message.posted`` body for bob's ``text`` at ``ts`` (in ``thread_ts``'s thread)."""
    return orjson.dumps(
        {
            "type": "message.posted",
            "timestamp": "2026-11-21T10:00:00Z",
            "data": {
                "workspace": {"team_id": TEAM, "enterprise_id": None, "app_id": "A1"},
                "channel": {"id": "C0ACME0SUP", "kind": "public"},
                "user": {"id": "U0ACME0002", "name": "bob", "real_name": "Bob Baker"},
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
            },
        }
    )
