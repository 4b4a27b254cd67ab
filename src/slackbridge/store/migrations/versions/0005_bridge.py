"""The conversation bridge.

Revision ID: 0005_bridge
Revises: 0004

Conversations, their messages, user links and watched channels (docs/bridge.md). They replace
``conversation_links`` and ``message_links``, which nothing ever wrote.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0005_bridge"
down_revision = "0004"
branch_labels = None
depends_on = None


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    op.drop_table("message_links")
    op.drop_table("conversation_links")
    op.create_table(
        "bridge_conversations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("product_metadata", _JSON, nullable=True),
        sa.Column("spec", _JSON, nullable=False),
        sa.Column("create_operation_id", sa.String(length=64), nullable=True),
        sa.Column("state_operation_id", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("last_activity_at", _TS, nullable=False),
        sa.Column("last_seen_ts", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            _in("mode", ("still", "noisy")), name=op.f("ck_bridge_conversations_mode")
        ),
        sa.CheckConstraint(
            _in("state", ("creating", "open", "closed", "failed")),
            name=op.f("ck_bridge_conversations_state"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridge_conversations")),
        sa.UniqueConstraint("key", name=op.f("uq_bridge_conversations_key")),
        sa.UniqueConstraint(
            "team_id",
            "channel_id",
            "thread_ts",
            name=op.f("uq_bridge_conversations_team_id_channel_id_thread_ts"),
        ),
    )
    op.create_index(
        "ix_bridge_conversations_list", "bridge_conversations", ["team_id", "state", "id"]
    )
    op.create_index(
        "ix_bridge_conversations_activity", "bridge_conversations", ["state", "last_activity_at"]
    )
    op.create_index(
        "ix_bridge_conversations_create_op", "bridge_conversations", ["create_operation_id"]
    )
    op.create_table(
        "bridge_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("conversation_id", _ID, nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("product_message_id", sa.String(length=255), nullable=True),
        sa.Column("operation_id", sa.String(length=64), nullable=True),
        sa.Column("last_operation_id", sa.String(length=64), nullable=True),
        sa.Column("file_operation_ids", _JSON, nullable=False),
        sa.Column("file_ids", _JSON, nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("author", _JSON, nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=True),
        sa.Column("content_digest", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.Column("deleted_at", _TS, nullable=True),
        sa.CheckConstraint(
            _in("state", ("queued", "sent", "failed")), name=op.f("ck_bridge_messages_state")
        ),
        sa.CheckConstraint(
            _in("origin", ("product", "slack")), name=op.f("ck_bridge_messages_origin")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["bridge_conversations.id"],
            name=op.f("fk_bridge_messages_conversation_id_bridge_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridge_messages")),
        sa.UniqueConstraint(
            "conversation_id",
            "product_message_id",
            name=op.f("uq_bridge_messages_conversation_id_product_message_id"),
        ),
        sa.UniqueConstraint(
            "conversation_id", "ts", name=op.f("uq_bridge_messages_conversation_id_ts")
        ),
    )
    op.create_index(
        "ix_bridge_messages_operation_id", "bridge_messages", ["operation_id"], unique=True
    )
    op.create_index("ix_bridge_messages_pending", "bridge_messages", ["state", "id"])
    op.create_table(
        "bridge_user_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("product_user", sa.String(length=255), nullable=True),
        sa.Column("slack_user", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("avatar_url", sa.Text(), nullable=True),
        sa.Column("fetched_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridge_user_links")),
        sa.UniqueConstraint(
            "team_id", "product_user", name=op.f("uq_bridge_user_links_team_id_product_user")
        ),
        sa.UniqueConstraint("team_id", "email", name=op.f("uq_bridge_user_links_team_id_email")),
    )
    op.create_index(
        "ix_bridge_user_links_slack_user", "bridge_user_links", ["team_id", "slack_user"]
    )
    op.create_table(
        "bridge_watched_channels",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("open_on", sa.String(length=16), nullable=False),
        sa.Column("reaction", sa.String(length=100), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            _in("open_on", ("message", "reaction")), name=op.f("ck_bridge_watched_channels_open_on")
        ),
        sa.CheckConstraint(
            _in("mode", ("still", "noisy")), name=op.f("ck_bridge_watched_channels_mode")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bridge_watched_channels")),
        sa.UniqueConstraint(
            "team_id", "channel_id", name=op.f("uq_bridge_watched_channels_team_id_channel_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("bridge_watched_channels")
    op.drop_table("bridge_user_links")
    op.drop_index("ix_bridge_messages_pending", table_name="bridge_messages")
    op.drop_index("ix_bridge_messages_operation_id", table_name="bridge_messages")
    op.drop_table("bridge_messages")
    op.drop_table("bridge_conversations")
    op.create_table(
        "conversation_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("product_ref", sa.String(length=255), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), server_default="", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_links")),
        sa.UniqueConstraint("product_ref", name=op.f("uq_conversation_links_product_ref")),
        sa.UniqueConstraint(
            "team_id",
            "channel_id",
            "thread_ts",
            name=op.f("uq_conversation_links_team_id_channel_id_thread_ts"),
        ),
    )
    op.create_table(
        "message_links",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("product_ref", sa.String(length=255), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_links")),
        sa.UniqueConstraint("product_ref", name=op.f("uq_message_links_product_ref")),
        sa.UniqueConstraint(
            "team_id", "channel_id", "ts", name=op.f("uq_message_links_team_id_channel_id_ts")
        ),
    )
