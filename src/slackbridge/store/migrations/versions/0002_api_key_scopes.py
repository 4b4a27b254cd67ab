"""API key scopes, and the key that queued each outbox row.

Revision ID: 0002
Revises: 0001

``api_keys`` gains ``permissions`` (a comma list of read, write, admin), ``team_ids`` and
``product_refs`` (what the key may touch; both NULL means every workspace). Keys that existed
before get every permission everywhere, so they keep working exactly as before, including
removing workspaces. ``outbox.created_by`` records the key that queued a call, so that other
keys can't read, edit or delete it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written out here rather than imported from the models (see 0001).
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column(
                "permissions",
                sa.String(length=64),
                nullable=False,
                server_default="read,write,admin",
            )
        )
        batch.add_column(sa.Column("team_ids", _JSON, nullable=True))
        batch.add_column(sa.Column("product_refs", _JSON, nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("created_by", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("created_by")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("product_refs")
        batch.drop_column("team_ids")
        batch.drop_column("permissions")
