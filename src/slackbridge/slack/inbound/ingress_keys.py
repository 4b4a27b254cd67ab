"""The apps' signing secrets and verification tokens, kept ready for the ingress hot path.

Every Slack request is checked against every configured app, so the secrets must be at hand
without a query per request. They are read from the store (decrypted) at most every
:data:`REFRESH_SECONDS`, by one request at a time while the others go on with what is known. A
request whose signature matches no known secret makes them be read again at once (at most every
:data:`RETRY_SECONDS`, so forged requests can't turn into a query each), because an app may
just have been provisioned, as ``apps provision`` does right before Slack's url_verification.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from slackbridge.runtime import Gateway, Slot

__all__ = ["REFRESH_SECONDS", "RETRY_SECONDS", "IngressKeys", "KnownKeys", "keys_of"]

REFRESH_SECONDS = 2.0
RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class KnownKeys:
    """``(app row id, secret)`` pairs, in the order the apps were created."""

    signing: tuple[tuple[int, str], ...]
    verification: tuple[tuple[int, str], ...]  # only apps with ``outgoing_webhooks`` set
    loaded_at: float


class IngressKeys:
    """The keys of one gateway (see the module docstring)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._known: KnownKeys | None = None
        self._lock = asyncio.Lock()

    async def current(self) -> KnownKeys:
        """The keys, read again first when they are older than :data:`REFRESH_SECONDS`."""
        known = self._known
        if known is not None and time.monotonic() - known.loaded_at < REFRESH_SECONDS:
            return known
        if known is not None and self._lock.locked():
            return known  # someone is reading them already: go on with these meanwhile
        return await self._reload(REFRESH_SECONDS)

    async def after_mismatch(self) -> KnownKeys | None:
        """Fresh keys after a request matched none (None: they were read a moment ago)."""
        known = self._known
        if known is not None and time.monotonic() - known.loaded_at < RETRY_SECONDS:
            return None
        return await self._reload(RETRY_SECONDS)

    async def _reload(self, max_age: float) -> KnownKeys:
        async with self._lock:
            known = self._known
            if known is not None and time.monotonic() - known.loaded_at < max_age:
                return known  # read by whoever held the lock before us
            apps = await self._gateway.apps.apps(fresh=True)
            # A stored verification token (every provisioned app has one) opens /slack/outgoing
            # only for an app explicitly configured to take legacy outgoing webhooks.
            outgoing = {c.name for c in self._gateway.settings.apps if c.outgoing_webhooks}
            known = KnownKeys(
                signing=tuple((a.id, a.signing_secret) for a in apps if a.signing_secret),
                verification=tuple(
                    (a.id, a.verification_token)
                    for a in apps
                    if a.verification_token and a.name in outgoing
                ),
                loaded_at=time.monotonic(),
            )
            self._known = known
            return known


_KEYS: Slot[IngressKeys] = Slot("ingress keys", IngressKeys)


def keys_of(gateway: Gateway) -> IngressKeys:
    """The gateway's :class:`IngressKeys` (one per runtime)."""
    return _KEYS.of(gateway)
