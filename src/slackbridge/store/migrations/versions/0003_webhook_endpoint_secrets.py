"""Webhook URLs encrypted at rest; several signing secrets per webhook endpoint.

Revision ID: 0003
Revises: 0002

A webhook URL may carry credentials (``https://user:pw@host/…``, ``…?token=…``), so it is
stored like a secret: ``webhook_endpoints.url_enc`` holds it encrypted, and the old ``url``
column, renamed ``url_key``, holds a keyed digest of it (what keeps each URL stored once). The
keys are not available here: rows stored before this revision keep their URL in ``url_key`` with
``url_enc`` NULL until the gateway's next start encrypts them
(``EndpointsRepository.seal_plaintext_urls``); until then the repository reads them as they are.

``webhook_endpoint_secrets`` holds an endpoint's previous signing secrets while a rotation
overlaps: webhooks are signed with the current secret (``webhook_endpoints.secret_enc``) and
each of these until they are retired.

The column is renamed, not rebuilt: on SQLite a rebuild drops the old table, and with foreign
keys on that deletes every delivery of every endpoint.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Written out here rather than imported from the models (see 0001).
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain SQL on both engines (SQLite >= 3.25); the unique constraint keeps its name.
    op.execute("ALTER TABLE webhook_endpoints RENAME COLUMN url TO url_key")
    op.add_column("webhook_endpoints", sa.Column("url_enc", sa.LargeBinary(), nullable=True))
    op.create_table(
        "webhook_endpoint_secrets",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("endpoint_id", _ID, nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=False),
        sa.Column("replaced_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_webhook_endpoint_secrets_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoint_secrets")),
    )
    op.create_index(
        "ix_webhook_endpoint_secrets_endpoint_id",
        "webhook_endpoint_secrets",
        ["endpoint_id"],
        unique=False,
    )


def downgrade() -> None:
    # Encrypted URLs can't be decrypted here: those endpoints are disabled (their history stays)
    # and the configured ones are stored afresh at the next start.
    op.drop_index("ix_webhook_endpoint_secrets_endpoint_id", table_name="webhook_endpoint_secrets")
    op.drop_table("webhook_endpoint_secrets")
    op.execute(
        sa.text("UPDATE webhook_endpoints SET enabled = :no WHERE url_enc IS NOT NULL").bindparams(
            no=False
        )
    )
    op.execute("ALTER TABLE webhook_endpoints DROP COLUMN url_enc")
    op.execute("ALTER TABLE webhook_endpoints RENAME COLUMN url_key TO url")
