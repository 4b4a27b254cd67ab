"""What the delivery engine records: deliveries, their attempts, and Slack's retry schedule."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

__all__ = [
    "RETRY_DELAYS",
    "Attempt",
    "CallResult",
    "Delivery",
    "Kind",
    "Status",
    "retry_delay",
]

# Delay before retry n (1-based): nearly immediately, then 1 minute, then 5 minutes.
RETRY_DELAYS: tuple[float, ...] = (0.0, 60.0, 300.0)

Kind = Literal["event", "command", "interactive", "options", "url_verification"]
Status = Literal["pending", "delivered", "failed"]


def retry_delay(retry_num: int, speed: float = 1.0) -> float | None:
    """Seconds to wait before retry ``retry_num`` (1..3), or None when retries are exhausted."""
    if not 1 <= retry_num <= len(RETRY_DELAYS):
        return None
    return RETRY_DELAYS[retry_num - 1] / speed


@dataclass
class Attempt:
    at: float
    retry_num: int
    status: int | None = None
    latency_ms: float = 0.0
    error: str | None = None  # http_timeout, http_error, connection_failed, ...

    def to_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "retry_num": self.retry_num,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 3),
            "error": self.error,
        }


@dataclass
class Delivery:
    """One payload sent to one app, with every attempt."""

    id: str
    kind: Kind
    app_id: str
    team_id: str | None
    url: str  # the request URL, or "socket" for Socket Mode
    body: str
    content_type: str
    created_at: float
    event_id: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    status: Status = "pending"
    response_status: int | None = None
    response_body: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "app_id": self.app_id,
            "team_id": self.team_id,
            "url": self.url,
            "transport": "socket" if self.url == "socket" else "http",
            "event_id": self.event_id,
            "status": self.status,
            "created_at": self.created_at,
            "attempts": [a.to_json() for a in self.attempts],
            "response_status": self.response_status,
            "body": self.body,
            "content_type": self.content_type,
        }


@dataclass
class CallResult:
    """An app's answer to a synchronous delivery (command, interaction, handshake)."""

    ok: bool
    status: int | None
    body: bytes
    content_type: str
    error: str | None
    # For Socket Mode: the ack's payload (None when the ack carried none).
    payload: dict[str, Any] | None = None

    def json(self) -> Any:
        """The answer as JSON, or None when it is empty or not JSON."""
        if self.payload is not None:
            return self.payload
        if not self.body.strip():
            return None
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
