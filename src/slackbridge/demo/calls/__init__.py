"""Calls: the calling-service example (``/call`` in Slack → a page → Ring → the call's link
posted back in the channel). See :mod:`slackbridge.demo.calls.service`."""

from __future__ import annotations

from slackbridge.demo.calls.records import Account
from slackbridge.demo.calls.service import (
    COMMAND,
    SLASH_COMMAND,
    WEBHOOK_PATH,
    CallsService,
    create_calls_app,
)

__all__ = [
    "COMMAND",
    "SLASH_COMMAND",
    "WEBHOOK_PATH",
    "Account",
    "CallsService",
    "create_calls_app",
]
