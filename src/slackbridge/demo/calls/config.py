"""The Calls example's Slack app, its declared command and the demo's accounts."""

from __future__ import annotations

from typing import Any

from slackbridge.demo.calls.records import Account
from slackbridge.demo.calls.service import COMMAND, SLASH_COMMAND
from slackbridge.settings import SlackAppConfig

__all__ = ["CALLS_APP", "CALL_COMMAND", "DEMO_ACCOUNTS", "USER_SCOPES"]

#: What each person grants with "Authorize with Slack": reading the members of the
#: conversations they are in (every kind), their emails, and posting there as them.
USER_SCOPES = [
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
    "users:read",
    "users:read.email",
    "chat:write",
]

#: The Slack app: ``/call``, and user scopes on top of the default bot scopes.
CALLS_APP = SlackAppConfig(
    name="calls",
    display_name="Calls",
    slash_commands=[SLASH_COMMAND],
    user_scopes=USER_SCOPES,
)

#: The command the gateway parses for the service (slackbridge.toml's ``[[commands]]``).
CALL_COMMAND: dict[str, Any] = {
    "name": COMMAND,
    "pattern": "[{who:user}...]",
    "description": "Start a call with the people here (name some to ring only them)",
    "examples": ["<@U0ACME0002> <@U0ACME0003>"],
    "slash": SLASH_COMMAND,
}

#: The calling service's own people in the demo: Acme's alice, bob and carol (dave has no
#: account, so the page shows him unmatched) and Globex's erin.
DEMO_ACCOUNTS = (
    Account("acct-alice", "Alice Archer", "alice@acme.test"),
    Account("acct-bob", "Bob Baker", "bob@acme.test"),
    Account("acct-carol", "Carol Chen", "carol@acme.test"),
    Account("acct-erin", "Erin Evans", "erin@globex.test"),
)
