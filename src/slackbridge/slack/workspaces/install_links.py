"""Signed "Add to Slack" links: an install tied to one of the product's accounts, safely.

``/slack/install?ref=<account id>`` ties the workspace installed to the product account ``ref``
(it comes back on ``workspace.installed``). Anyone can write such a link, so a link that names a
``ref`` must be made by slackbridge for the product (``POST /api/v1/workspaces/install-url``):
it then carries ``expires`` (unix seconds) and ``sig``, an HMAC-SHA256 over the ref, the app and
the team the link names and its expiry, under a key derived from the gateway's keyring
(``SLACKBRIDGE_SECRET_KEYS``; every key is accepted, so a rotation keeps the links already handed
out valid). Changing any of them, or using the link after it expired, makes it refused; a link
without a signature is refused unless ``SLACKBRIDGE_ALLOW_UNSIGNED_REF`` says otherwise.

Pure functions: no I/O, the clock is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlencode

import orjson

from slackbridge.store.crypto import Keyring

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "LINK_PURPOSE",
    "MAX_TTL_SECONDS",
    "InstallLink",
    "LinkVerdict",
    "check_install_link",
    "make_install_link",
    "signed_install_query",
]

#: The keyring purpose of the links' signing key.
LINK_PURPOSE = "install-link"
#: How long a link is valid when the product doesn't say (a day: long enough for an email).
DEFAULT_TTL_SECONDS = 86_400
#: The longest a link may be valid (30 days).
MAX_TTL_SECONDS = 30 * 86_400

LinkVerdict = Literal["signed", "unsigned", "expired", "forged"]


@dataclass(frozen=True)
class InstallLink:
    """A link to hand out, and when it stops working (None: it names no ref, never expires)."""

    url: str
    expires_at: datetime | None


def _sign(key: bytes, ref: str, app: str | None, team: str | None, expires: int) -> str:
    # A JSON array: no choice of ref, app or team can be read as another combination.
    message = orjson.dumps(["slackbridge-install-link/1", ref, app or "", team or "", expires])
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def signed_install_query(
    keyring: Keyring, *, ref: str, app: str | None, team: str | None, expires: int
) -> dict[str, str]:
    """The query of a link to ``/slack/install`` for ``ref`` (and ``app``/``team`` when given),
    valid until ``expires`` (unix seconds)."""
    query = {"ref": ref}
    if app:
        query["app"] = app
    if team:
        query["team"] = team
    query["expires"] = str(expires)
    query["sig"] = _sign(keyring.derived_keys(LINK_PURPOSE)[0], ref, app, team, expires)
    return query


def make_install_link(
    base_url: str,
    keyring: Keyring,
    *,
    ref: str | None,
    app: str | None = None,
    team: str | None = None,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float,
) -> InstallLink:
    """The "Add to Slack" link at ``base_url`` (the gateway's ``/slack/install``): signed and
    expiring when it names a ``ref``, plain otherwise (an install tied to no account)."""
    if ref is None:
        plain = {k: v for k, v in (("app", app), ("team", team)) if v}
        return InstallLink(base_url + ("?" + urlencode(plain) if plain else ""), None)
    expires = int(now) + ttl_seconds
    query = signed_install_query(keyring, ref=ref, app=app, team=team, expires=expires)
    return InstallLink(f"{base_url}?{urlencode(query)}", datetime.fromtimestamp(expires, UTC))


def check_install_link(
    keyring: Keyring,
    *,
    ref: str,
    app: str | None,
    team: str | None,
    expires: str | None,
    sig: str | None,
    now: float,
) -> LinkVerdict:
    """Whether the link's ``ref`` can be trusted: ``signed`` (and not expired), ``unsigned``
    (neither ``expires`` nor ``sig``), ``expired`` (signed, too late) or ``forged`` (anything
    else: a signature that matches no key, a missing half, an expiry that isn't a number)."""
    if expires is None and sig is None:
        return "unsigned"
    if expires is None or sig is None or not expires.isdigit() or len(expires) > 12:
        return "forged"
    when = int(expires)
    matched = False
    for key in keyring.derived_keys(LINK_PURPOSE):
        expected = _sign(key, ref, app, team, when)
        matched |= hmac.compare_digest(expected.encode(), sig.encode("utf-8", "replace"))
    if not matched:
        return "forged"
    return "signed" if now < when else "expired"
