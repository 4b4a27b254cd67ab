"""Re-encrypt every stored secret under the keyring's first key (``slackbridge secrets rotate``).

Everything happens in one transaction, so a value that can't be decrypted (its key is missing
from ``SLACKBRIDGE_SECRET_KEYS``) aborts the rotation with nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select, update

from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.models import (
    InstallationRow,
    SlackAppRow,
    UserTokenRow,
    WebhookEndpointRow,
    WebhookSecretRow,
    table_of,
)
from slackbridge.store.repositories._base import secret_purpose

__all__ = ["SECRET_COLUMNS", "RotationProgress", "RotationReport", "rotate_all"]

# Every encrypted column, per table. A new *_enc column must be listed here to be rotated.
SECRET_COLUMNS: dict[str, tuple[str, ...]] = {
    "slack_apps": (
        "client_secret_enc",
        "signing_secret_enc",
        "verification_token_enc",
        "app_token_enc",
    ),
    "installations": ("bot_token_enc", "bot_refresh_token_enc", "incoming_webhook_url_enc"),
    "user_tokens": ("token_enc", "refresh_token_enc"),
    "webhook_endpoints": ("secret_enc", "url_enc"),
    "webhook_endpoint_secrets": ("secret_enc",),
}
_TABLES = {
    "slack_apps": table_of(SlackAppRow),
    "installations": table_of(InstallationRow),
    "user_tokens": table_of(UserTokenRow),
    "webhook_endpoints": table_of(WebhookEndpointRow),
    "webhook_endpoint_secrets": table_of(WebhookSecretRow),
}

# Called as progress(table, rows_done, rows_total) after each row.
RotationProgress = Callable[[str, int, int], None]


@dataclass
class RotationReport:
    """How many stored values were looked at and how many were re-encrypted, per column."""

    checked: int = 0
    reencrypted: int = 0
    by_column: dict[str, int] = field(default_factory=dict)


async def rotate_all(
    db: Database, keyring: Keyring, *, progress: RotationProgress | None = None
) -> RotationReport:
    """Re-encrypt every value not yet under ``keyring``'s first key.

    Raises :class:`~slackbridge.store.crypto.DecryptionError` (naming the column and row) when a
    value can't be decrypted with any configured key; then nothing is changed.
    """
    report = RotationReport()
    async with db.transaction() as tx:
        for name, columns in SECRET_COLUMNS.items():
            table = _TABLES[name]
            rows = (
                (await tx.execute(select(table.c.id, *(table.c[c] for c in columns))))
                .mappings()
                .all()
            )
            for done, row in enumerate(rows, start=1):
                changes: dict[str, bytes] = {}
                for column in columns:
                    value = row[column]
                    if value is None:
                        continue
                    report.checked += 1
                    purpose = secret_purpose(name, column, int(row["id"]))
                    # Decrypt even current values: rotation doubles as a check of every secret.
                    plain = keyring.decrypt(bytes(value), purpose)
                    if not keyring.is_current(bytes(value)):
                        changes[column] = keyring.encrypt(plain, purpose)
                        label = f"{name}.{column}"
                        report.by_column[label] = report.by_column.get(label, 0) + 1
                if changes:
                    report.reencrypted += len(changes)
                    await tx.execute(update(table).where(table.c.id == row["id"]).values(changes))
                if progress is not None:
                    progress(name, done, len(rows))
    return report
