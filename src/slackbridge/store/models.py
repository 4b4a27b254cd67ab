"""Every slackbridge table, importable from one place (the metadata Alembic compares against)."""

from __future__ import annotations

from slackbridge.store.models_base import Base, QueueColumns, UtcDateTime, table_of, utcnow
from slackbridge.store.models_bridge import (
    BridgeConversationRow,
    BridgeMessageRow,
    BridgeUserLinkRow,
    BridgeWatchedChannelRow,
)
from slackbridge.store.models_product import ApiKeyRow, CommandSetRow
from slackbridge.store.models_queues import (
    DELIVERY_STATUSES,
    INBOX_KINDS,
    INBOX_STATUSES,
    OUTBOX_STATUSES,
    DeliveryRow,
    InboxRow,
    OutboxRow,
    WebhookEndpointRow,
    WebhookSecretRow,
)
from slackbridge.store.models_slack import (
    INSTALLATION_STATUSES,
    AuditLogRow,
    InstallationRow,
    OAuthStateRow,
    SlackAppRow,
    UserCacheRow,
    UserTokenRow,
)

__all__ = [
    "DELIVERY_STATUSES",
    "INBOX_KINDS",
    "INBOX_STATUSES",
    "INSTALLATION_STATUSES",
    "OUTBOX_STATUSES",
    "ApiKeyRow",
    "AuditLogRow",
    "Base",
    "BridgeConversationRow",
    "BridgeMessageRow",
    "BridgeUserLinkRow",
    "BridgeWatchedChannelRow",
    "CommandSetRow",
    "DeliveryRow",
    "InboxRow",
    "InstallationRow",
    "OAuthStateRow",
    "OutboxRow",
    "QueueColumns",
    "SlackAppRow",
    "UserCacheRow",
    "UserTokenRow",
    "UtcDateTime",
    "WebhookEndpointRow",
    "WebhookSecretRow",
    "metadata",
    "table_of",
    "utcnow",
]

metadata = Base.metadata
