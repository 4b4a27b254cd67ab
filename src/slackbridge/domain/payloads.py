"""The kinds of payload Slack sends the app, named once for every layer.

``events`` (Events API envelopes), ``commands`` (slash commands), ``interactivity`` (block actions,
view submissions, shortcuts, options requests) and ``outgoing`` (legacy outgoing webhooks). The
ingress routes and Socket Mode tag each inbox row with one; the pipeline reads it back.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["PAYLOAD_KINDS", "PayloadKind"]

PayloadKind = Literal["events", "commands", "interactivity", "outgoing"]

#: Every payload kind, in a fixed order.
PAYLOAD_KINDS: tuple[PayloadKind, ...] = ("events", "commands", "interactivity", "outgoing")
