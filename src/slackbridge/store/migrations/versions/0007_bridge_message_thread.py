"""The thread each bridged Slack message lives in.

Revision ID: 0007
Revises: 0006

``bridge_messages.thread_ts``: a reply's ``thread_ts`` (its thread's parent), a top-level
message's (or thread parent's) own ts. Catch-up needs it to prove a noisy channel's message
deleted (docs/bridge.md "### Catch-up"): a reply by a complete read of its own thread, a
top-level message by a complete read of the channel's history. Rows recorded before stay NULL
(the thread is unknown: no deletion is ever inferred for them); the live path fills it in when
it hears such a message again (an edit).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bridge_messages") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bridge_messages") as batch:
        batch.drop_column("thread_ts")
