"""Declared commands.

Revision ID: 0004
Revises: 0003

The product's declared commands (docs/commands.md), one row per source: the configuration file
and the API.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "command_sets",
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("commands", _JSON, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_command_sets")),
    )


def downgrade() -> None:
    op.drop_table("command_sets")
