"""Every stored Slack app, as this process last read it.

Several parts read the apps on hot paths (the ingress checks every request against every app's
signing secret, Socket Mode opens a connection per app, tokens are looked up by app), so the
apps are cached per store rather than read (and decrypted) each time. The cache is checked
against a cheap fingerprint of the table (:mod:`.apps_version`) at most every
:data:`CHECK_SECONDS`, so an app provisioned by another process is seen within moments;
:func:`save_app` makes this process see its own writes at once. It lives in the store so that
every edge can read it without importing the part that manages the apps.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppSpec, AppsRepository, SlackApp
from slackbridge.store.repositories.apps_version import apps_version

__all__ = ["CHECK_SECONDS", "cached_apps", "save_app"]

#: How often (seconds) the cached apps are checked against the table's fingerprint.
CHECK_SECONDS = 0.25


@dataclass
class _Cache:
    apps: list[SlackApp]
    version: tuple[int, int, str]
    checked_at: float


_CACHES: weakref.WeakKeyDictionary[Database, _Cache] = weakref.WeakKeyDictionary()


async def cached_apps(db: Database, keyring: Keyring, *, fresh: bool = False) -> list[SlackApp]:
    """Every stored app, in creation order (cached; ``fresh`` re-reads them)."""
    cache = _CACHES.get(db)
    now = time.monotonic()
    if not fresh and cache is not None and now - cache.checked_at < CHECK_SECONDS:
        return list(cache.apps)
    version = await apps_version(db)
    if fresh or cache is None or cache.version != version:
        cache = _Cache(await AppsRepository(db, keyring).list(), version, now)
        _CACHES[db] = cache
    else:
        cache.checked_at = now
    return list(cache.apps)


async def save_app(db: Database, keyring: Keyring, spec: AppSpec) -> SlackApp:
    """Store ``spec`` (secrets encrypted) and make every reader in this process see it at once."""
    app = await AppsRepository(db, keyring).upsert(spec)
    _CACHES.pop(db, None)
    return app
