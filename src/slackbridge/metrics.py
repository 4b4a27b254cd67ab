"""Prometheus metrics shared by the gateway's parts (exposed on ``/metrics``).

Metric objects live in the process-wide default registry, so they are created once here and
imported wherever they are updated. Label values are small closed sets (routes, outcomes,
queue names), never ids, so the number of series stays bounded.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "DELIVERIES",
    "DELIVERY_SECONDS",
    "INBOX_PROCESSED",
    "INGRESS_ACK_SECONDS",
    "INGRESS_BATCH_ROWS",
    "INGRESS_COMMIT_SECONDS",
    "INGRESS_REQUESTS",
    "QUEUE_DEPTH",
    "QUEUE_OLDEST_SECONDS",
    "SOCKET_CONNECTIONS",
    "SOCKET_ENVELOPES",
    "SYNC_CALLS",
]

_FAST = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

INGRESS_REQUESTS = Counter(
    "slackbridge_ingress_requests_total",
    "Requests from Slack by route and outcome (accepted, duplicate, rejected_*, unavailable, ...).",
    ["route", "outcome"],
)
INGRESS_ACK_SECONDS = Histogram(
    "slackbridge_ingress_ack_seconds",
    "Time from receiving a Slack request to answering it.",
    ["route"],
    buckets=_FAST,
)
INGRESS_COMMIT_SECONDS = Histogram(
    "slackbridge_ingress_commit_seconds",
    "Duration of one group commit of inbox rows.",
    buckets=_FAST,
)
INGRESS_BATCH_ROWS = Histogram(
    "slackbridge_ingress_batch_rows",
    "Inbox rows written per group commit.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
INBOX_PROCESSED = Counter(
    "slackbridge_inbox_processed_total",
    "Inbox rows processed by outcome (done, ignored, retry, failed).",
    ["outcome"],
)
DELIVERIES = Counter(
    "slackbridge_deliveries_total",
    "Product webhook attempts by outcome (delivered, retry, dead).",
    ["outcome"],
)
DELIVERY_SECONDS = Histogram(
    "slackbridge_delivery_seconds",
    "Duration of one product webhook attempt.",
    buckets=_SLOW,
)
SYNC_CALLS = Counter(
    "slackbridge_sync_webhook_calls_total",
    "Calls to synchronous product endpoints by outcome (answered, late, failed).",
    ["outcome"],
)
SOCKET_CONNECTIONS = Gauge(
    "slackbridge_socket_connections",
    "Open Socket Mode connections.",
)
SOCKET_ENVELOPES = Counter(
    "slackbridge_socket_envelopes_total",
    "Socket Mode envelopes by outcome (acked, duplicate, unavailable, ignored).",
    ["outcome"],
)
QUEUE_DEPTH = Gauge(
    "slackbridge_queue_depth",
    "Unfinished rows (waiting or being worked on) by queue: inbox, deliveries, outbox.",
    ["queue"],
)
QUEUE_OLDEST_SECONDS = Gauge(
    "slackbridge_queue_oldest_seconds",
    "Age of the oldest unfinished row by queue (0 when the queue is empty).",
    ["queue"],
)
