"""The durable queues: the inbox (Slack → slackbridge), product deliveries and the outbox.

All three share :class:`~slackbridge.store.models_base.QueueColumns` and one claiming mechanism
(``store/queue.py``). Deliveries and outbox rows belong to lanes (endpoint + channel, or
workspace + channel + thread); a partial index over the lane's unfinished rows lets the claim find
each lane's head cheaply however many finished rows accumulate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from slackbridge.store.models_base import Base, BigId, Json, QueueColumns, utcnow

__all__ = [
    "DELIVERY_STATUSES",
    "INBOX_KINDS",
    "INBOX_STATUSES",
    "OUTBOX_STATUSES",
    "DeliveryRow",
    "InboxRow",
    "OutboxRow",
    "WebhookEndpointRow",
    "WebhookSecretRow",
]

INBOX_KINDS = ("events", "commands", "interactivity", "outgoing", "socket")
INBOX_STATUSES = ("pending", "processing", "done", "failed")
DELIVERY_STATUSES = ("pending", "delivering", "delivered", "dead")
OUTBOX_STATUSES = ("queued", "sending", "sent", "failed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class InboxRow(QueueColumns, Base):
    """One request accepted from Slack, committed before the 200 answer."""

    __tablename__ = "inbox"
    __table_args__ = (
        CheckConstraint(_in("kind", INBOX_KINDS), name="kind"),
        CheckConstraint(_in("status", INBOX_STATUSES), name="status"),
        Index("ix_inbox_claim", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    app_ref: Mapped[int | None] = mapped_column(ForeignKey("slack_apps.id", ondelete="SET NULL"))
    team_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    headers: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookEndpointRow(Base):
    """A product URL that receives signed webhooks.

    The URL may carry credentials, so it is stored encrypted (``url_enc``); ``url_key``, a keyed
    digest of it, keeps each URL stored once. A row from before revision 0003 holds the
    URL itself in ``url_key`` (``url_enc`` NULL) until the next start encrypts it.
    ``secret_enc`` is the current signing secret; older ones still in use during a rotation are
    :class:`WebhookSecretRow` rows.
    """

    __tablename__ = "webhook_endpoints"
    # The constraint keeps the name it had when the column was called ``url``.
    __table_args__ = (UniqueConstraint("url_key", name="uq_webhook_endpoints_url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url_key: Mapped[str] = mapped_column(String(2000))
    url_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    event_types: Mapped[list[str]] = mapped_column(Json, default=list)
    synchronous: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class WebhookSecretRow(Base):
    """A previous signing secret of an endpoint, still signing while a rotation overlaps
    (since ``replaced_at``), until it is retired (the row deleted)."""

    __tablename__ = "webhook_endpoint_secrets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)


_DELIVERY_OPEN = text("status IN ('pending', 'delivering')")
_OUTBOX_OPEN = text("status IN ('queued', 'sending')")


class DeliveryRow(QueueColumns, Base):
    """One webhook to one endpoint; ``webhook_id`` is stable across retries (receivers dedupe)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        Index("ix_deliveries_claim", "status", "not_before"),
        Index(
            "ix_deliveries_lane_open",
            "endpoint_id",
            "ordering_key",
            "id",
            postgresql_where=_DELIVERY_OPEN,
            sqlite_where=_DELIVERY_OPEN,
        ),
        Index("ix_deliveries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(String(64), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(64))
    ordering_key: Mapped[str | None] = mapped_column(String(160))
    payload: Mapped[str] = mapped_column(Text)  # the exact JSON body that is signed and sent
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class OutboxRow(QueueColumns, Base):
    """One Web API call the product asked for; ``message_id`` is its public id (``msg_…``)."""

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        UniqueConstraint("idempotency_scope", "idempotency_key"),
        Index("ix_outbox_claim", "status", "not_before"),
        Index(
            "ix_outbox_lane_open",
            "lane_key",
            "id",
            postgresql_where=_OUTBOX_OPEN,
            sqlite_where=_OUTBOX_OPEN,
        ),
        Index("ix_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_scope: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    team_id: Mapped[str] = mapped_column(String(32))
    installation_id: Mapped[int | None] = mapped_column(
        ForeignKey("installations.id", ondelete="SET NULL")
    )
    method: Mapped[str] = mapped_column(String(64))
    lane_key: Mapped[str | None] = mapped_column(String(160))
    payload: Mapped[dict[str, Any]] = mapped_column(Json, default=dict)
    as_user: Mapped[str | None] = mapped_column(String(32))
    # The API key that queued the call (its idempotency scope); NULL for the gateway's own.
    created_by: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
