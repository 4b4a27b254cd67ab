"""The inbox worker: inbox rows → normalized domain events → deliveries.

It claims batches of rows with a lease (``store/queue.py``; a crashed worker's rows are claimed
again once their lease expires), normalizes each payload with the pure functions of
``pipeline/normalize.py``, runs the control actions itself (``app_uninstalled`` and
``tokens_revoked`` go to the install part's ``uninstall`` / ``revoke_user_tokens``), and stores
the batch's deliveries and the rows' completion in ONE transaction. Processing is idempotent:
a row processed twice yields the same webhook ids, which the deliveries table stores once.
Rows are handled in inbox order, so deliveries keep Slack's order within each channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import orjson

from slackbridge import metrics
from slackbridge.pipeline.dispatch import build_deliveries
from slackbridge.pipeline.enrich import enrich_users
from slackbridge.pipeline.events import ControlAction, DomainEvent, Normalized
from slackbridge.pipeline.normalize import OwnIdentity, PayloadKind, normalize
from slackbridge.product.endpoints import enabled_endpoints
from slackbridge.product.sync import SYNC_HOLD_SECONDS
from slackbridge.server import Gateway, Worker
from slackbridge.slack.workspaces import own_identity, revoke_user_tokens, uninstall
from slackbridge.store.repositories.deliveries import DeliveriesRepository, NewDelivery
from slackbridge.store.repositories.inbox import InboxItem, InboxRepository

__all__ = ["MAX_ATTEMPTS", "InboxWorker", "parse_stored", "workers"]

_log = logging.getLogger("slackbridge.inbox")

#: Attempts before a row that keeps failing is set aside as ``failed``.
MAX_ATTEMPTS = 10
_PAYLOAD_KINDS: tuple[PayloadKind, ...] = ("events", "commands", "interactivity", "outgoing")


def parse_stored(item: InboxItem) -> tuple[PayloadKind, dict[str, Any]]:
    """The payload of an inbox row, as the ingress (HTTP body) or Socket Mode (JSON) stored it,
    without Slack's verification token.

    Raises ValueError for a row that can't be read (it is then failed, not retried)."""
    kind = item.kind
    if kind not in _PAYLOAD_KINDS:
        raise ValueError(f"unknown inbox kind {kind!r}")
    try:
        if kind == "events" or item.headers.get("transport") == "socket":
            value = orjson.loads(item.body)
        else:
            form = dict(parse_qsl(item.body.decode("utf-8"), keep_blank_values=True))
            value = orjson.loads(form.get("payload", "")) if kind == "interactivity" else form
    except (orjson.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"unreadable {kind} body: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{kind} body is not an object")
    # Slack's (legacy) verification token authenticates outgoing webhooks: not the product's.
    value.pop("token", None)
    return kind, value


def _received_at(item: InboxItem) -> float:
    stamp = item.headers.get("received_at")
    return float(stamp) if isinstance(stamp, int | float) else item.received_at.timestamp()


@dataclass
class _Prepared:
    item: InboxItem
    normalized: Normalized
    received_at: float
    reason: str  # the Slack event type, for the control actions' audit


def _retry_delay(attempts: int) -> timedelta:
    ceiling = min(300.0, 2.0**attempts)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class InboxWorker:
    """Claims inbox rows and turns them into deliveries (a supervised gateway worker)."""

    name = "inbox-worker"

    def __init__(
        self,
        gateway: Gateway,
        *,
        batch: int = 100,
        lease_seconds: float | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        self._gateway = gateway
        self._batch = batch
        self._lease = lease_seconds or gateway.settings.inbox_lease_seconds
        self._poll = poll_seconds
        self._inbox = InboxRepository(gateway.db, gateway.keyring)
        self._deliveries = DeliveriesRepository(gateway.db, gateway.keyring)
        self._owner = f"inbox:{gateway.instance_id}"[:64]

    async def run(self, stop: asyncio.Event) -> None:
        wake = self._gateway.wakeup("inbox")
        self._gateway.health.report("inbox", True, "processing")
        while not stop.is_set():
            wake.clear()
            items = await self._inbox.claim(
                self._owner, limit=self._batch, lease_seconds=self._lease
            )
            if items:
                await self.process(items)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._poll)

    async def process(self, items: Sequence[InboxItem]) -> None:
        """Handle claimed rows: control actions, then deliveries and completion together."""
        prepared: list[_Prepared] = []
        identities: dict[str | None, OwnIdentity] = {}
        for item in items:
            try:
                kind, payload = parse_stored(item)
            except ValueError as exc:
                await self._inbox.fail(item.id, self._owner, str(exc))
                metrics.INBOX_PROCESSED.labels("failed").inc()
                _log.error("inbox row %d can't be processed: %s", item.id, exc)
                continue
            if item.team_id not in identities:
                identities[item.team_id] = await own_identity(self._gateway, item.team_id)
            received = _received_at(item)
            normalized = normalize(
                kind,
                payload,
                dedupe_key=item.dedupe_key,
                received_at=received,
                own=identities[item.team_id],
            )
            event = payload.get("event") if kind == "events" else None
            reason = str(event.get("type")) if isinstance(event, dict) else kind
            prepared.append(_Prepared(item, normalized, received, reason))
        ready: list[_Prepared] = []
        for entry in prepared:
            try:
                for action in entry.normalized.actions:
                    await self._act(action, entry.reason)
            except Exception as exc:
                await self._retry(entry.item, f"control action failed: {exc!r}")
                continue
            ready.append(entry)
        if ready:
            await self._deliver(ready)

    async def _act(self, action: ControlAction, reason: str) -> None:
        if action.kind == "uninstall":
            await uninstall(
                self._gateway, action.team_id, action.app_id, action.enterprise_id, reason
            )
        else:
            await revoke_user_tokens(
                self._gateway, action.team_id, action.app_id, list(action.user_ids)
            )

    async def _deliver(self, ready: Sequence[_Prepared]) -> None:
        endpoints = await enabled_endpoints(self._gateway)
        events: list[DomainEvent] = [e for entry in ready for e in entry.normalized.events]
        enriched = iter(await enrich_users(self._gateway, events) if endpoints else events)
        per_row: list[tuple[_Prepared, list[NewDelivery]]] = []
        for entry in ready:
            row_events = [next(enriched) for _ in entry.normalized.events]
            per_row.append((entry, build_deliveries(endpoints, row_events, hold=_hold(entry))))
        try:
            async with self._gateway.db.transaction() as tx:
                await self._deliveries.enqueue([d for _, ds in per_row for d in ds], session=tx)
                for entry, _ in per_row:
                    await self._inbox.complete(entry.item.id, self._owner, session=tx)
        except Exception as exc:
            if len(per_row) == 1:
                await self._retry(per_row[0][0].item, f"storing deliveries failed: {exc!r}")
                return
            _log.warning("inbox batch failed (%r); storing row by row", exc)
            for entry, deliveries in per_row:
                await self._deliver_one(entry, deliveries)
        else:
            for entry, _ in per_row:
                _count(entry)
        self._gateway.wakeup("deliveries").set()

    async def _deliver_one(self, entry: _Prepared, deliveries: list[NewDelivery]) -> None:
        try:
            async with self._gateway.db.transaction() as tx:
                await self._deliveries.enqueue(deliveries, session=tx)
                await self._inbox.complete(entry.item.id, self._owner, session=tx)
        except Exception as exc:
            await self._retry(entry.item, f"storing deliveries failed: {exc!r}")
        else:
            _count(entry)

    async def _retry(self, item: InboxItem, error: str) -> None:
        try:
            if item.attempts >= MAX_ATTEMPTS:
                await self._inbox.fail(item.id, self._owner, error)
                metrics.INBOX_PROCESSED.labels("failed").inc()
                _log.error("inbox row %d failed for good: %s", item.id, error)
                return
            when = datetime.now(UTC) + _retry_delay(item.attempts)
            await self._inbox.retry_later(item.id, self._owner, when, error)
            metrics.INBOX_PROCESSED.labels("retry").inc()
            _log.warning("inbox row %d will be retried: %s", item.id, error)
        except Exception as exc:
            # The lease runs out and the row is claimed again: nothing is lost.
            _log.warning("could not reschedule inbox row %d: %r", item.id, exc)


def _hold(entry: _Prepared) -> dict[int, datetime] | None:
    endpoint_id = entry.item.headers.get("sync_endpoint")
    if not isinstance(endpoint_id, int):
        return None
    until = datetime.fromtimestamp(entry.received_at, UTC) + timedelta(seconds=SYNC_HOLD_SECONDS)
    return {endpoint_id: until}


def _count(entry: _Prepared) -> None:
    normalized = entry.normalized
    done = normalized.events or normalized.actions
    metrics.INBOX_PROCESSED.labels("done" if done else "ignored").inc()


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: one inbox worker per process."""
    return [InboxWorker(gateway)]
