"""Tables about Slack itself: apps, installations, user tokens, OAuth states, users, audit.

Every ``*_enc`` column holds an AES-GCM envelope from :mod:`slackbridge.store.crypto`, bound to
its table, column and row id (see ``store/secret_columns.py``); plaintext secrets never reach the
database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from slackbridge.store.models_base import Base, BigId, Json, utcnow

__all__ = [
    "INSTALLATION_STATUSES",
    "AuditLogRow",
    "InstallationRow",
    "OAuthStateRow",
    "SlackAppRow",
    "UserCacheRow",
    "UserTokenRow",
]

INSTALLATION_STATUSES = ("active", "disconnected", "uninstalled", "removed")


class SlackAppRow(Base):
    """A Slack app the gateway serves (several may be configured)."""

    __tablename__ = "slack_apps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    app_id: Mapped[str | None] = mapped_column(String(32), index=True)  # Slack's A…
    client_id: Mapped[str | None] = mapped_column(String(64))
    client_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    signing_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    verification_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    app_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bot_scopes: Mapped[list[str]] = mapped_column(Json, default=list)
    user_scopes: Mapped[list[str]] = mapped_column(Json, default=list)
    socket_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    token_rotation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InstallationRow(Base):
    """One app installed into one workspace (or one Enterprise Grid org for org-wide installs).

    ``team_id`` and ``enterprise_id`` are ``''`` rather than NULL when absent, so that the unique
    key works on both engines (NULLs never collide in a unique constraint).
    """

    __tablename__ = "installations"
    __table_args__ = (
        UniqueConstraint("app_ref", "enterprise_id", "team_id"),
        CheckConstraint(
            "status IN ('active', 'disconnected', 'uninstalled', 'removed')", name="status"
        ),
        Index(None, "team_id"),
        Index(None, "bot_token_expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    app_ref: Mapped[int] = mapped_column(ForeignKey("slack_apps.id", ondelete="RESTRICT"))
    team_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    team_name: Mapped[str | None] = mapped_column(String(255))
    enterprise_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    enterprise_name: Mapped[str | None] = mapped_column(String(255))
    is_enterprise_install: Mapped[bool] = mapped_column(Boolean, default=False)
    bot_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bot_refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bot_token_expires_at: Mapped[datetime | None]
    bot_user_id: Mapped[str | None] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    bot_scopes: Mapped[list[str]] = mapped_column(Json, default=list)
    installer_user_id: Mapped[str | None] = mapped_column(String(32))
    incoming_webhook_url_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    incoming_webhook_channel: Mapped[str | None] = mapped_column(String(255))
    incoming_webhook_channel_id: Mapped[str | None] = mapped_column(String(32))
    incoming_webhook_configuration_url: Mapped[str | None] = mapped_column(Text)
    product_ref: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    last_error: Mapped[str | None] = mapped_column(Text)
    installed_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UserTokenRow(Base):
    """A user token granted by one person in one installation (user scopes)."""

    __tablename__ = "user_tokens"
    __table_args__ = (UniqueConstraint("installation_id", "user_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    refresh_token_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime | None]
    scopes: Mapped[list[str]] = mapped_column(Json, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OAuthStateRow(Base):
    """A pending "Add to Slack" flow: only hashes of the state and the browser cookie are kept."""

    __tablename__ = "oauth_states"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_hash: Mapped[str] = mapped_column(String(64))
    product_ref: Mapped[str | None] = mapped_column(String(255))
    app_ref: Mapped[int] = mapped_column(ForeignKey("slack_apps.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditLogRow(Base):
    """Something an operator or slackbridge did that someone may later ask about."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "team_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)


class UserCacheRow(Base):
    """A cached users.info answer (name and email for webhook payloads)."""

    __tablename__ = "user_cache"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    real_name: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    profile: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
