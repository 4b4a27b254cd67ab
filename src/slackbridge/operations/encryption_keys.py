"""The keys that encrypt secrets at rest (``SLACKBRIDGE_SECRET_KEYS``): make one, and
re-encrypt every stored secret under the first key."""

from __future__ import annotations

from slackbridge.store.crypto import Keyring, generate_key
from slackbridge.store.db import Database
from slackbridge.store.rotation import RotationProgress, RotationReport, rotate_all

__all__ = ["RotationProgress", "RotationReport", "new_encryption_key", "rotate_encryption_keys"]


def new_encryption_key() -> str:
    """A new random key for ``SLACKBRIDGE_SECRET_KEYS``."""
    return generate_key()


async def rotate_encryption_keys(
    db: Database, keyring: Keyring, *, progress: RotationProgress | None = None
) -> RotationReport:
    """Re-encrypt every stored secret under ``keyring``'s first key (the older keys still
    decrypt); ``progress(table, done, total)`` is told as it goes. A secret that no key
    decrypts aborts it with nothing changed (the store's DecryptionError)."""
    return await rotate_all(db, keyring, progress=progress)
