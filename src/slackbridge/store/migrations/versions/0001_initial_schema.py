"""Initial schema.

Revision ID: 0001
Revises: (none)

Every table of the first release: Slack apps, installations and user tokens, OAuth
states, the audit log, the three queues (inbox, deliveries, outbox), webhook endpoints, API
keys, the user cache and the bridge's links.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Written out here rather than imported from the models: a migration must keep meaning what it
# meant when it was written.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TS = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("prefix", sa.String(length=32), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("last_used_at", _TS, nullable=True),
        sa.Column("revoked_at", _TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("hash", name=op.f("uq_api_keys_hash")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("detail", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_team_id"), "audit_log", ["team_id"], unique=False)

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
    op.create_table(
        "slack_apps",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("client_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("signing_secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("verification_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("app_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("bot_scopes", _JSON, nullable=False),
        sa.Column("user_scopes", _JSON, nullable=False),
        sa.Column("socket_mode", sa.Boolean(), nullable=False),
        sa.Column("token_rotation", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_apps")),
        sa.UniqueConstraint("name", name=op.f("uq_slack_apps_name")),
    )
    op.create_index(op.f("ix_slack_apps_app_id"), "slack_apps", ["app_id"], unique=False)

    op.create_table(
        "user_cache",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("real_name", sa.String(length=255), nullable=True),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("profile", _JSON, nullable=False),
        sa.Column("fetched_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("team_id", "user_id", name=op.f("pk_user_cache")),
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("event_types", _JSON, nullable=False),
        sa.Column("synchronous", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        sa.UniqueConstraint("url", name=op.f("uq_webhook_endpoints_url")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", _ID, nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("ordering_key", sa.String(length=160), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("delivered_at", _TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'delivering', 'delivered', 'dead')",
            name=op.f("ck_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_deliveries_endpoint_id_webhook_endpoints"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("webhook_id", name=op.f("uq_deliveries_webhook_id")),
    )
    op.create_index("ix_deliveries_claim", "deliveries", ["status", "not_before"], unique=False)
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"], unique=False)
    op.create_index(
        "ix_deliveries_lane_open",
        "deliveries",
        ["endpoint_id", "ordering_key", "id"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'delivering')"),
        sqlite_where=sa.text("status IN ('pending', 'delivering')"),
    )

    op.create_table(
        "inbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("app_ref", _ID, nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", _JSON, nullable=False),
        sa.Column("received_at", _TS, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('events', 'commands', 'interactivity', 'outgoing', 'socket')",
            name=op.f("ck_inbox_kind"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'done', 'failed')", name=op.f("ck_inbox_status")
        ),
        sa.ForeignKeyConstraint(
            ["app_ref"],
            ["slack_apps.id"],
            name=op.f("fk_inbox_app_ref_slack_apps"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbox_dedupe_key")),
    )
    op.create_index("ix_inbox_claim", "inbox", ["status", "not_before"], unique=False)

    op.create_table(
        "installations",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("app_ref", _ID, nullable=False),
        sa.Column("team_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_name", sa.String(length=255), nullable=True),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("enterprise_name", sa.String(length=255), nullable=True),
        sa.Column("is_enterprise_install", sa.Boolean(), nullable=False),
        sa.Column("bot_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("bot_refresh_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("bot_token_expires_at", _TS, nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", _JSON, nullable=False),
        sa.Column("installer_user_id", sa.String(length=32), nullable=True),
        sa.Column("incoming_webhook_url_enc", sa.LargeBinary(), nullable=True),
        sa.Column("incoming_webhook_channel", sa.String(length=255), nullable=True),
        sa.Column("incoming_webhook_channel_id", sa.String(length=32), nullable=True),
        sa.Column("incoming_webhook_configuration_url", sa.Text(), nullable=True),
        sa.Column("product_ref", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("installed_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'disconnected', 'uninstalled', 'removed')",
            name=op.f("ck_installations_status"),
        ),
        sa.ForeignKeyConstraint(
            ["app_ref"],
            ["slack_apps.id"],
            name=op.f("fk_installations_app_ref_slack_apps"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installations")),
        sa.UniqueConstraint(
            "app_ref",
            "enterprise_id",
            "team_id",
            name=op.f("uq_installations_app_ref_enterprise_id_team_id"),
        ),
    )
    op.create_index(
        op.f("ix_installations_bot_token_expires_at"),
        "installations",
        ["bot_token_expires_at"],
        unique=False,
    )
    op.create_index(op.f("ix_installations_team_id"), "installations", ["team_id"], unique=False)

    op.create_table(
        "oauth_states",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("product_ref", sa.String(length=255), nullable=True),
        sa.Column("app_ref", _ID, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["app_ref"],
            ["slack_apps.id"],
            name=op.f("fk_oauth_states_app_ref_slack_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.create_index(
        op.f("ix_oauth_states_expires_at"), "oauth_states", ["expires_at"], unique=False
    )

    op.create_table(
        "outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_scope", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("installation_id", _ID, nullable=True),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("lane_key", sa.String(length=160), nullable=True),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("as_user", sa.String(length=32), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("sent_at", _TS, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("not_before", _TS, nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", _TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'failed')", name=op.f("ck_outbox_status")
        ),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_outbox_installation_id_installations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint(
            "idempotency_scope",
            "idempotency_key",
            name=op.f("uq_outbox_idempotency_scope_idempotency_key"),
        ),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index("ix_outbox_claim", "outbox", ["status", "not_before"], unique=False)
    op.create_index("ix_outbox_created_at", "outbox", ["created_at"], unique=False)
    op.create_index(
        "ix_outbox_lane_open",
        "outbox",
        ["lane_key", "id"],
        unique=False,
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
        sqlite_where=sa.text("status IN ('queued', 'sending')"),
    )

    op.create_table(
        "user_tokens",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("installation_id", _ID, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("refresh_token_enc", sa.LargeBinary(), nullable=True),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("scopes", _JSON, nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["installation_id"],
            ["installations.id"],
            name=op.f("fk_user_tokens_installation_id_installations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_tokens")),
        sa.UniqueConstraint(
            "installation_id", "user_id", name=op.f("uq_user_tokens_installation_id_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("user_tokens")
    op.drop_index("ix_outbox_lane_open", table_name="outbox")
    op.drop_index("ix_outbox_created_at", table_name="outbox")
    op.drop_index("ix_outbox_claim", table_name="outbox")

    op.drop_table("outbox")
    op.drop_index(op.f("ix_oauth_states_expires_at"), table_name="oauth_states")

    op.drop_table("oauth_states")
    op.drop_index(op.f("ix_installations_team_id"), table_name="installations")
    op.drop_index(op.f("ix_installations_bot_token_expires_at"), table_name="installations")

    op.drop_table("installations")
    op.drop_index("ix_inbox_claim", table_name="inbox")

    op.drop_table("inbox")
    op.drop_index("ix_deliveries_lane_open", table_name="deliveries")
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
    op.drop_index("ix_deliveries_claim", table_name="deliveries")

    op.drop_table("deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("user_cache")
    op.drop_index(op.f("ix_slack_apps_app_id"), table_name="slack_apps")

    op.drop_table("slack_apps")
    op.drop_table("message_links")
    op.drop_table("conversation_links")
    op.drop_index(op.f("ix_audit_log_team_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")

    op.drop_table("audit_log")
    op.drop_table("api_keys")
