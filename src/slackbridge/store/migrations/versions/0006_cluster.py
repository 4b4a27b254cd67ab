"""Several gateways on one PostgreSQL: leases, periodic runs, shared rate buckets.

Revision ID: 0006
Revises: 0005

See ``store/models_cluster.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_TS = sa.DateTime(timezone=True)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_leases",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("acquired_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cluster_leases")),
    )
    op.create_table(
        "cluster_runs",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("fence", sa.BigInteger(), nullable=False),
        sa.Column("ran_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("name", "period", name=op.f("pk_cluster_runs")),
    )
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )


def downgrade() -> None:
    op.drop_table("rate_buckets")
    op.drop_table("cluster_runs")
    op.drop_table("cluster_leases")
