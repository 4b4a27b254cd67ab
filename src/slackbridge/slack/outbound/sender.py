"""The outbox sender: delivers the product's operations to Slack, in order, within the limits.

A gateway part (``workers``). One loop claims outbox rows with a lease: at most one per lane
(workspace + channel + thread), the oldest unfinished, so every lane is served in order while
lanes proceed side by side. Each claimed row is carried out in a task of its own
(:mod:`slackbridge.slack.outbound.outbox_ops`), which waits for the shared rate limiter (holding
the row for short waits, handing it back with ``not_before`` for long ones), calls Slack, and
settles the row:

* done → ``message.delivered`` is told (the ``notify`` port), then the row is marked sent (with
  the ts);
* Slack said 429, or the limiter asks for a long wait → handed back; the attempt does not count
  and only that lane waits;
* transient failure (5xx, timeout, connection) → retried with backoff, up to
  :data:`~slackbridge.slack.outbound.outcomes.MAX_ATTEMPTS`, then failed;
* permanent failure, or the workspace's token died (reported through the
  ``report_token_error`` port, which marks the workspace disconnected) → ``message.failed`` is
  told and the row is marked failed.

Tokens come through the ``bot_token`` and ``user_token`` ports (:mod:`slackbridge.ports`).

Leases are renewed while a row is worked on; a sender that dies leaves its rows to be claimed
again when their leases expire, and the marker search in ``outbox_ops`` keeps a post that reached
Slack before the crash from being posted twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.domain.events import DomainEvent, channel_kind
from slackbridge.ports import TokenRefreshError, WorkspaceUnavailable
from slackbridge.slack.outbound.outbox_channels import CHANNEL_OPERATIONS
from slackbridge.slack.outbound.outbox_files import FILE_OPERATIONS
from slackbridge.slack.outbound.outbox_ops import MESSAGE_OPERATIONS, Attempt, Operation
from slackbridge.slack.outbound.outbox_retention import (
    elected_outbox_retention,
    without_file_content,
)
from slackbridge.slack.outbound.outcomes import BACKOFF, MAX_ATTEMPTS, Outcome, error_message
from slackbridge.slack.outbound.web_api import CALL_TIMEOUT, Outbound, outbound_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.queue_policy import RetryPolicy
from slackbridge.store.queue_worker import QueueWorker, WorkerPolicy
from slackbridge.store.repositories.outbox import OutboxMessage, OutboxRepository

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway, Worker

__all__ = ["OPERATIONS", "OutboxSender", "message_event", "workers"]

_log = logging.getLogger("slackbridge.sender")

#: Every operation the outbox carries out, by the name stored in the row's ``method``.
OPERATIONS: dict[str, Operation] = {**MESSAGE_OPERATIONS, **FILE_OPERATIONS, **CHANNEL_OPERATIONS}

_WORKSPACE_CODES = {
    "not_installed": "workspace_not_found",
    "disconnected": "workspace_disconnected",
    "uninstalled": "workspace_uninstalled",
    "removed": "workspace_removed",
}
# Parts of a failed call's answer worth keeping on the row (the rest can be large).
_KEEP_ON_FAILURE = ("error", "needed", "provided", "warning", "response_metadata", "join_error")


def message_event(
    row: OutboxMessage, outcome: Outcome, app_id: str | None, *, attempts: int
) -> DomainEvent:
    """The ``message.delivered`` / ``message.failed`` event for a settled row."""
    delivered = outcome.disposition == "done"
    channel = outcome.data.get("channel") or row.payload.get("channel")
    message: dict[str, Any] = {
        "id": row.message_id,
        "operation": row.method,
        "channel": channel,
        "ts": outcome.data.get("ts") or outcome.data.get("message_ts"),
        "thread_ts": outcome.data.get("thread_ts") or row.payload.get("thread_ts"),
        "attempts": attempts,
    }
    for key in ("file_id", "view_id"):
        if outcome.data.get(key):
            message[key] = outcome.data[key]
    data: dict[str, Any] = {
        "workspace": {"team_id": row.team_id, "enterprise_id": None, "app_id": app_id},
        "channel": {"id": channel, "kind": channel_kind(channel)} if channel else None,
        "message": message,
    }
    if not delivered:
        code = outcome.code or "unknown_error"
        data["error"] = {"code": code, "message": error_message(code)}
    return DomainEvent(
        type="message.delivered" if delivered else "message.failed",
        team_id=row.team_id,
        app_id=app_id,
        data=data,
        ordering_key=f"{row.team_id}:{channel or '-'}",
        dedupe_key=f"outbox:{row.message_id}",
        occurred_at=time.time(),
    )


class OutboxSender:
    """The worker that empties the outbox (see the module docstring)."""

    name = "outbox-sender"

    def __init__(
        self,
        gateway: Gateway,
        *,
        concurrency: int = 64,
        lease_seconds: float = 30.0,
        poll_seconds: float = 1.0,
        hold_seconds: float = 5.0,
        retry_scale: float = 1.0,
    ) -> None:
        self.gateway = gateway
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self.hold_seconds = hold_seconds
        self.retry_scale = retry_scale
        self.repo = OutboxRepository(gateway.db, gateway.keyring)
        self.outbound: Outbound = outbound_of(gateway)
        self.retry = RetryPolicy(BACKOFF, MAX_ATTEMPTS, scale=retry_scale)
        self.worker: QueueWorker[OutboxMessage] = QueueWorker(
            self,
            WorkerPolicy(
                "outbox",
                poll_seconds=poll_seconds,
                units=concurrency,
                heartbeat_seconds=max(0.5, lease_seconds / 3),
                grace_seconds=3.0,
            ),
            gateway.wakeups,
            on_health=self._report,
        )

    @property
    def owner(self) -> str:
        return self.gateway.instance_id

    # --- the queue (store/queue_worker.py runs the loop) ---------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self.outbound.session = session
            try:
                await self.worker.run(stop)
            finally:
                self.outbound.session = None

    def _report(self, ok: bool, detail: str) -> None:
        self.gateway.health.report(f"worker:{self.name}", ok, detail)

    async def claim(self, limit: int) -> Sequence[OutboxMessage]:
        """The heads of lanes (workspace + channel + thread) that are due, oldest first (after a
        wake-up, without first looking whether any is: rows were just added)."""
        return await self.repo.claim(
            self.owner, limit=limit, lease_seconds=self.lease_seconds, probe=not self.worker.woken
        )

    async def handle(self, items: Sequence[OutboxMessage]) -> bool:
        for row in items:
            await self._process(row)
        return True  # the row's lane may go on: its next row is claimed at once

    async def extend(self, items: Sequence[OutboxMessage]) -> None:
        await self.repo.extend([row.id for row in items], self.owner, self.lease_seconds)

    async def give_back(self, items: Sequence[OutboxMessage]) -> None:
        """Nothing to do: a cancelled attempt hands its row back itself (``_interrupted``)."""

    # --- one row ------------------------------------------------------------------------------

    async def _process(self, row: OutboxMessage) -> None:
        attempt = Attempt(
            gateway=self.gateway,
            outbound=self.outbound,
            repo=self.repo,
            row=row,
            owner=self.owner,
            hold=self.hold_seconds,
            app_id=row.payload.get("app_id"),
        )
        try:
            outcome = await self._attempt(attempt)
        except asyncio.CancelledError:
            await asyncio.shield(self._interrupted(attempt))
            raise
        except Exception:
            _log.exception("outbox row %s (%s) failed unexpectedly", row.message_id, row.method)
            outcome = Outcome("retry", code="internal_error", sent=attempt.touched)
        try:
            await self._settle(attempt, outcome)
        except Exception:
            # The lease runs out and the row is tried again (the marker prevents a repeat).
            _log.exception("settling outbox row %s failed", row.message_id)
        # Whoever follows operations' results (the bridge) looks again.
        self.gateway.wakeups.signal("outbox-settled")

    async def _interrupted(self, attempt: Attempt) -> None:
        """Hand back a row whose attempt was cut short by a shutdown."""
        row = attempt.row
        try:
            if attempt.touched:
                # Slack may have acted: count the attempt so the next one checks first.
                await self.repo.retry_later(row.id, self.owner, utcnow(), error="interrupted")
            else:
                await self.repo.release(row.id, self.owner)
        except Exception:
            _log.exception("handing back outbox row %s failed", row.message_id)

    async def _client(self, attempt: Attempt) -> AsyncWebClient | None:
        row = attempt.row
        if row.method == "response_url":
            return self.gateway.slack_client(None)
        app_id = row.payload.get("app_id")
        ports = self.gateway.ports
        if row.as_user:
            user = await ports.user_token(row.team_id, row.as_user, app_id)
            if user is None:
                return None
            attempt.app_id = user.app_id
            return self.outbound.client(self.gateway, user.token)
        creds = await ports.bot_token(row.team_id, app_id)
        attempt.app_id = creds.app_id
        return self.outbound.client(self.gateway, creds.token)

    async def _attempt(self, attempt: Attempt) -> Outcome:
        row = attempt.row
        operation = OPERATIONS.get(row.method)
        if operation is None:
            return Outcome.failed("unknown_operation")
        try:
            client = await self._client(attempt)
        except WorkspaceUnavailable as exc:
            return Outcome.failed(_WORKSPACE_CODES.get(exc.status, "workspace_disconnected"))
        except TokenRefreshError:
            return Outcome("retry", code="token_refresh_failed")
        if client is None:
            return Outcome.failed("user_token_missing")
        outcome = await operation(attempt, client)
        if outcome.disposition == "token":
            code = outcome.code or "invalid_auth"
            if not row.as_user and await self.gateway.ports.report_token_error(
                row.team_id, attempt.app_id, code
            ):
                return Outcome.failed("workspace_disconnected", {"error": code})
            return Outcome.failed(code, outcome.data)
        if outcome.disposition == "join":
            return Outcome.failed("not_in_channel", outcome.data)
        return outcome

    async def _settle(self, attempt: Attempt, outcome: Outcome) -> None:
        row, repo, owner = attempt.row, self.repo, self.owner
        now = utcnow()
        if outcome.disposition == "ratelimited":
            await repo.release(row.id, owner, now + timedelta(seconds=outcome.retry_after))
            return
        # Slack may still be working on a call that timed out; give it time to land before
        # the next attempt looks for it.
        floor = CALL_TIMEOUT * self.retry_scale if outcome.sent else 0.0
        delay = self.retry.retry_in(row.attempts, at_least=floor)
        if outcome.disposition == "retry" and delay is not None:
            _log.info("outbox row %s: %s; retrying in %.1fs", row.message_id, outcome.code, delay)
            await repo.retry_later(
                row.id, owner, now + timedelta(seconds=delay), error=outcome.code
            )
            return
        if outcome.disposition == "done":
            await self._emit(row, outcome, attempt.app_id)
            marked = await repo.mark_sent(
                row.id, owner, result=_kept(outcome.data), payload=without_file_content(row)
            )
            if not marked:
                _log.warning("outbox row %s was sent but its lease had moved on", row.message_id)
            return
        failure = (
            outcome
            if outcome.disposition == "fail"
            else Outcome.failed(outcome.code or "retries_exhausted", outcome.data)
        )
        code = failure.code or "unknown_error"
        _log.warning("outbox row %s (%s) failed: %s", row.message_id, row.method, code)
        await self._emit(row, failure, attempt.app_id)
        result = {
            "error": {"code": code, "message": error_message(code)},
            "slack": {k: v for k, v in failure.data.items() if k in _KEEP_ON_FAILURE},
        }
        await repo.mark_failed(
            row.id, owner, error=code, result=result, payload=without_file_content(row)
        )

    async def _emit(self, row: OutboxMessage, outcome: Outcome, app_id: str | None) -> None:
        event = message_event(row, outcome, app_id, attempts=row.attempts)
        await self.gateway.ports.notify([event])


def _kept(data: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "ts",
        "channel",
        "thread_ts",
        "message_ts",
        "file_id",
        "view_id",
        "found",
        "status",
        "name",
    )
    return {k: data[k] for k in keep if data.get(k) is not None}


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the outbox sender, and the retention of settled rows."""
    settings = gateway.settings
    return [
        OutboxSender(
            gateway,
            lease_seconds=settings.outbox_lease_seconds,
            concurrency=settings.outbox_concurrency,
            retry_scale=settings.outbox_retry_scale,
        ),
        elected_outbox_retention(gateway),
    ]
