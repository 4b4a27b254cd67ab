"""Every stored Slack app, as one process last read it.

Several parts read the apps on hot paths (the ingress checks every request against every app's
signing secret, Socket Mode opens a connection per app, tokens are looked up by app), so the
apps are cached rather than read (and decrypted) each time. The cache is checked against a
cheap fingerprint of the table (:mod:`.apps_version`) at most every :data:`CHECK_SECONDS`, so an
app stored by another process (or a CLI command) is seen within moments, and
:meth:`AppsCache.forget` makes the owning process see its own writes at once. One cache
belongs to one runtime (``gateway.apps``); it lives in the store so that every edge can read
it without importing the part that manages the apps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppsRepository, SlackApp
from slackbridge.store.repositories.apps_version import apps_version

__all__ = ["CHECK_SECONDS", "AppsCache"]

#: How often (seconds) the cached apps are checked against the table's fingerprint.
CHECK_SECONDS = 0.25


@dataclass
class _Read:
    apps: list[SlackApp]
    version: tuple[int, int, str]
    checked_at: float


class AppsCache:
    """The apps of one store as this runtime last read them."""

    def __init__(self, db: Database, keyring: Keyring) -> None:
        self._db = db
        self._keyring = keyring
        self._read: _Read | None = None

    async def apps(self, *, fresh: bool = False) -> list[SlackApp]:
        """Every stored app, in creation order (cached; ``fresh`` re-reads them)."""
        read = self._read
        now = time.monotonic()
        if not fresh and read is not None and now - read.checked_at < CHECK_SECONDS:
            return list(read.apps)
        version = await apps_version(self._db)
        if fresh or read is None or read.version != version:
            read = _Read(await AppsRepository(self._db, self._keyring).list(), version, now)
            self._read = read
        else:
            read.checked_at = now
        return list(read.apps)

    def forget(self) -> None:
        """Make the next read go to the store (after this process stored an app)."""
        self._read = None
