"""Signed "Add to Slack" links that tie an install to one of the product's accounts (the
CLI's ``workspaces install-link`` and the API's ``POST /workspaces/install-url``)."""

from __future__ import annotations

import re
import time

from slackbridge.operations.apps import resolve_app
from slackbridge.operations.errors import InvalidInput
from slackbridge.settings import Settings
from slackbridge.slack.workspaces.install_links import (
    DEFAULT_TTL_SECONDS,
    MAX_TTL_SECONDS,
    InstallLink,
)
from slackbridge.slack.workspaces.install_links import make_install_link as _make_link
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "MAX_REF_LENGTH",
    "MAX_TTL_SECONDS",
    "MIN_TTL_SECONDS",
    "TEAM_ID",
    "InstallLink",
    "make_install_link",
]

#: The longest product account id (``ref``) a link may carry.
MAX_REF_LENGTH = 255
#: The shortest a link may stay valid (seconds).
MIN_TTL_SECONDS = 60
#: What a Slack workspace (or org) id looks like.
TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,31}")


def _check(ref: str | None, team: str | None, ttl_seconds: int) -> None:
    if ref is not None and not 0 < len(ref) <= MAX_REF_LENGTH:
        raise InvalidInput(f"the account id must be 1 to {MAX_REF_LENGTH} characters")
    if team is not None and not TEAM_ID.fullmatch(team):
        raise InvalidInput(
            f"{team!r} is not a Slack workspace id", "Workspace ids look like T0ACME0001."
        )
    if not MIN_TTL_SECONDS <= ttl_seconds <= MAX_TTL_SECONDS:
        raise InvalidInput(
            f"a link must stay valid between {MIN_TTL_SECONDS} and {MAX_TTL_SECONDS} seconds"
        )


async def make_install_link(
    db: Database,
    keyring: Keyring,
    settings: Settings,
    *,
    ref: str | None,
    app: str | None = None,
    team: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> InstallLink:
    """A link to the gateway's ``/slack/install`` for account ``ref`` (of app ``app``, the
    first app when None; preselecting workspace ``team``): signed and valid ``ttl_seconds``
    from ``now`` when it names a ``ref``, plain (tied to no account) when ``ref`` is None.
    Raises :class:`InvalidInput` and :class:`AppNotFound`."""
    _check(ref, team, ttl_seconds)
    chosen = await resolve_app(db, keyring, app)
    return _make_link(
        settings.public_url.rstrip("/") + "/slack/install",
        keyring,
        ref=ref,
        app=chosen.name if app else None,
        team=team,
        ttl_seconds=ttl_seconds,
        now=time.time() if now is None else now,
    )
