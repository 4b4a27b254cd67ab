"""Tables about the product side: API keys and declared commands."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from slackbridge.store.models_base import Base, BigId, Json, utcnow

__all__ = ["ApiKeyRow", "CommandSetRow"]


class ApiKeyRow(Base):
    """A product API key; only its SHA-256 is stored (the key itself is shown once)."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # A comma list of read, write, admin; keys older than scopes had all three.
    permissions: Mapped[str] = mapped_column(String(64), server_default="read,write,admin")
    # The workspaces (team ids) and install refs the key may touch; both NULL: every workspace.
    team_ids: Mapped[list[str] | None] = mapped_column(Json)
    product_refs: Mapped[list[str] | None] = mapped_column(Json)


class CommandSetRow(Base):
    """The product's declared commands (docs/commands.md), one row per source: ``config``
    (slackbridge.toml, written at start-up) and ``api`` (``PUT /api/v1/commands``)."""

    __tablename__ = "command_sets"

    source: Mapped[str] = mapped_column(String(16), primary_key=True)
    commands: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
