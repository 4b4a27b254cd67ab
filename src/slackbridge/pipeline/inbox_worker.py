"""The inbox worker: inbox rows → normalized domain events → deliveries.

It takes the rows the group commit stored leased to it (``gateway.handoff``) and claims the
others in batches with a lease (``store/queue.py``; a crashed worker's rows are claimed again
once their lease expires), normalizes each payload with the pure functions of
``pipeline/normalize.py``, runs the control actions itself (``app_uninstalled`` and
``tokens_revoked`` go to the workspace's life: ``uninstall`` / ``revoke_user_tokens``), and
stores the batch's deliveries and the rows' completion in ONE transaction. Processing is
idempotent: a row processed twice yields the same webhook ids, which the deliveries table
stores once. Rows are handled in inbox order, so deliveries keep Slack's order within each
channel. Everything of an edge it calls (the workspace's life, the declared commands, the
bridge's listener, the product's fan-out, Slack's users.info) is a port of
:class:`~slackbridge.pipeline.inbox_ports.InboxPorts`, wired at composition
(``compose_inbox.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import orjson

from slackbridge import metrics
from slackbridge.domain.events import ControlAction, DomainEvent, Normalized, Received
from slackbridge.domain.payloads import PAYLOAD_KINDS, PayloadKind
from slackbridge.pipeline.enrich import enrich_users
from slackbridge.pipeline.inbox_ports import InboxPorts
from slackbridge.pipeline.normalize import OwnIdentity, normalize
from slackbridge.pipeline.sync_answer import SYNC_HOLD_SECONDS
from slackbridge.runtime import Gateway
from slackbridge.store.queue_policy import Backoff, RetryPolicy
from slackbridge.store.queue_worker import QueueWorker, WorkerPolicy
from slackbridge.store.repositories.deliveries import DeliveriesRepository, NewDelivery
from slackbridge.store.repositories.inbox import InboxItem, InboxRepository

__all__ = ["LISTENER_ATTEMPTS", "MAX_ATTEMPTS", "InboxWorker", "parse_stored"]

_log = logging.getLogger("slackbridge.inbox")

#: Attempts before a row that keeps failing is set aside as ``failed``.
MAX_ATTEMPTS = 10
#: Attempts after which a row goes on without the events of a listener that keeps failing on it.
LISTENER_ATTEMPTS = 3
# Retries from 2 s, doubling up to 5 minutes (store/queue_policy.py).
_RETRY = RetryPolicy(Backoff(base=2.0, cap=300.0), MAX_ATTEMPTS)
# How long the loop guard's view of our own bots and apps is reused (a new install's bot is
# recognised within this; it takes longer than that for an install to post anything anyway).
_IDENTITY_SECONDS = 5.0
# Rows normalized between two yields to the event loop, so that a big batch never delays the
# ingress's answers to Slack by more than a fraction of a millisecond.
_YIELD_EVERY = 16
# Inbox rows per job of the write path when storing their deliveries and completion.
_SETTLE_CHUNK = 32


def parse_stored(item: InboxItem) -> tuple[PayloadKind, dict[str, Any]]:
    """The payload of an inbox row, as the ingress (HTTP body) or Socket Mode (JSON) stored it,
    without Slack's verification token (it authenticates outgoing webhooks: not the product's).
    A row handed over in memory by the ingress comes with its body parsed already.

    Raises ValueError for a row that can't be read (it is then failed, not retried)."""
    kind = item.kind
    if kind not in PAYLOAD_KINDS:
        raise ValueError(f"unknown inbox kind {kind!r}")
    if item.payload is not None:
        return kind, {k: v for k, v in item.payload.items() if k != "token"}
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
    value.pop("token", None)
    return kind, value


def _received_at(item: InboxItem) -> float:
    stamp = item.headers.get("received_at")
    return float(stamp) if isinstance(stamp, int | float) else item.received_at.timestamp()


@dataclass(slots=True)
class _Prepared:
    item: InboxItem
    normalized: Normalized
    received_at: float
    reason: str  # the Slack event type, for the control actions' audit
    received: Received  # what listeners (the bridge) read


class InboxWorker:
    """Claims inbox rows and turns them into deliveries (a supervised gateway worker)."""

    name = "inbox-worker"

    def __init__(
        self,
        gateway: Gateway,
        ports: InboxPorts,
        *,
        batch: int = 500,
        lease_seconds: float | None = None,
        poll_seconds: float = 1.0,
        linger_seconds: float = 0.005,
    ) -> None:
        self._gateway = gateway
        self._ports = ports
        self._listeners = tuple(ports.listeners)
        self._batch = batch
        self._lease = lease_seconds or gateway.settings.inbox_lease_seconds
        self._poll = poll_seconds
        self._linger = linger_seconds
        self._identities: dict[str | None, tuple[float, OwnIdentity]] = {}
        self._inbox = InboxRepository(gateway.db, gateway.keyring)
        self._deliveries = DeliveriesRepository(gateway.db, gateway.keyring)
        self._owner = f"inbox:{gateway.instance_id}"[:64]
        self._handoff = gateway.handoff
        self._last_claim = 0.0
        self._refused_seen = 0
        # One batch in flight at a time: rows are handled in inbox order.
        self._worker: QueueWorker[InboxItem] = QueueWorker(
            self,
            WorkerPolicy("inbox", poll_seconds=poll_seconds, units=1, per_unit=batch),
            gateway.wakeups,
            on_health=self._report,
        )

    @property
    def owner(self) -> str:
        """The lease owner of this worker's rows."""
        return self._owner

    async def run(self, stop: asyncio.Event) -> None:
        self._handoff.open(self._owner, self._lease)
        # Running (again): clears what the supervisor reported if an earlier run crashed.
        self._report(True, "")
        try:
            await self._worker.run(stop)
        finally:
            await self.give_back(self._handoff.close())

    def _report(self, ok: bool, detail: str) -> None:
        self._gateway.health.report(f"worker:{self.name}", ok, detail or "processing the inbox")

    # --- the queue (store/queue_worker.py runs the loop) ---------------------------------------

    async def claim(self, limit: int) -> Sequence[InboxItem]:
        """Up to ``limit`` rows in inbox (id) order: those the ingress handed over leased to
        us (``gateway.handoff``), and rows claimed from the table: stored pending (on
        PostgreSQL; with SQLite when the handoff was full), due for a retry, or left by a
        crashed process. The table is read when nothing was handed over, once per poll, and
        whenever rows were stored pending since it was last read to the end: until then a
        handed-over row may not overtake a pending row with a lower id (Slack's order per
        channel). On SQLite the claim runs only after a read finds a row (off the write lock)."""
        refused = self._handoff.refused
        items = self._handoff.take(limit)
        spilled = refused != self._refused_seen
        if items and not spilled and time.monotonic() - self._last_claim <= self._poll:
            return items
        self._last_claim = time.monotonic()
        claimed = await self._inbox.claim(self._owner, limit=limit, lease_seconds=self._lease)
        if len(claimed) < limit:
            # Every pending row committed before the handed-over ones were taken is here.
            self._refused_seen = refused
        if not claimed:
            return items
        merged = sorted([*items, *claimed], key=lambda item: item.id)
        if len(claimed) >= limit:
            # More pending rows may come before some handed-over ones: those wait their turn.
            last = max(item.id for item in claimed)
            merged = [item for item in merged if item.id <= last]
            self._handoff.put_back([item for item in items if item.id > last])
        self._handoff.put_back(merged[limit:])
        return merged[:limit]

    async def handle(self, items: Sequence[InboxItem]) -> bool:
        await self.process(items)
        if len(items) < self._batch:
            if self._linger:
                # Under a steady stream, let rows gather a moment: one transaction per batch
                # instead of per row, at the cost of a few ms of delay.
                await asyncio.sleep(self._linger)
            return False  # new rows come with a wake-up
        return True  # a full batch: more are likely waiting

    async def extend(self, items: Sequence[InboxItem]) -> None:
        """Not used: a batch is settled well within its lease."""

    async def give_back(self, items: Sequence[InboxItem]) -> None:
        """Release rows leased to us that we won't process (stopping): pending again now,
        rather than when their lease expires."""
        if not items:
            return
        try:
            await self._inbox.release_many([item.id for item in items], self._owner)
        except Exception as exc:
            _log.warning(
                "could not release %d inbox rows (%r); their leases expire", len(items), exc
            )

    def _known(self, team_id: str | None) -> OwnIdentity | None:
        """slackbridge's own bots in ``team_id`` (the loop guard's input), if read lately."""
        cached = self._identities.get(team_id)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    async def _load(self, team_id: str | None) -> OwnIdentity:
        """Read (and cache briefly) slackbridge's own bots in ``team_id``."""
        identity = await self._ports.own_identity(team_id)
        self._identities[team_id] = (time.monotonic() + _IDENTITY_SECONDS, identity)
        return identity

    async def process(self, items: Sequence[InboxItem]) -> None:
        """Handle claimed rows: control actions, then deliveries and completion together."""
        prepared: list[_Prepared] = []
        for count, item in enumerate(items, 1):
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let the ingress answer Slack between rows
            try:
                kind, payload = parse_stored(item)
            except ValueError as exc:
                await self._inbox.fail(item.id, self._owner, str(exc))
                metrics.INBOX_PROCESSED.labels("failed").inc()
                _log.error("inbox row %d can't be processed: %s", item.id, exc)
                continue
            received = _received_at(item)
            own = self._known(item.team_id) or await self._load(item.team_id)
            try:
                normalized = normalize(
                    kind, payload, dedupe_key=item.dedupe_key, received_at=received, own=own
                )
            except Exception as exc:
                # A payload shaped like nothing Slack sends: set it aside, don't crash-loop.
                await self._inbox.fail(item.id, self._owner, f"can't normalize: {exc!r}")
                metrics.INBOX_PROCESSED.labels("failed").inc()
                _log.error("inbox row %d can't be normalized: %r", item.id, exc)
                continue
            if item.app_ref is not None and any(e.app_id is None for e in normalized.events):
                normalized = await self._with_app_id(normalized, item.app_ref)
            event = payload.get("event") if kind == "events" else None
            reason = str(event.get("type")) if isinstance(event, dict) else kind
            heard = Received(kind, payload, item.dedupe_key, received, own.authored)
            prepared.append(_Prepared(item, normalized, received, reason, heard))
        prepared = await self._tell_listeners(prepared)
        ready: list[_Prepared] = []
        for entry in prepared:
            try:
                for action in entry.normalized.actions:
                    await self._act(action, entry.reason)
                entry.normalized = await self._ports.route(entry.normalized)
            except Exception as exc:
                await self._retry(entry.item, f"control action failed: {exc!r}")
                continue
            ready.append(entry)
        if ready:
            await self._deliver(ready)

    async def _tell_listeners(self, prepared: list[_Prepared]) -> list[_Prepared]:
        """Add what the listeners (the bridge) make of the batch to its rows' events; the rows
        to go on with. When a listener fails, its rows are retried (listeners are idempotent),
        but a row that has failed :data:`LISTENER_ATTEMPTS` times goes on without the
        listener's events: a broken listener must not hold up every other webhook."""
        for listener in self._listeners:
            try:
                extra = await listener([entry.received for entry in prepared])
            except Exception as exc:
                later = [e for e in prepared if e.item.attempts < LISTENER_ATTEMPTS]
                _log.warning(
                    "a listener failed on %d inbox rows (%d retried): %r",
                    len(prepared),
                    len(later),
                    exc,
                )
                for entry in later:
                    await self._retry(entry.item, f"listener failed: {exc!r}")
                prepared = [e for e in prepared if e.item.attempts >= LISTENER_ATTEMPTS]
                continue
            for entry, events in zip(prepared, extra, strict=True):
                if events:
                    normalized = entry.normalized
                    entry.normalized = replace(
                        normalized, events=[*normalized.events, *events], ignored_reason=None
                    )
        return prepared

    async def _with_app_id(self, normalized: Normalized, app_ref: int) -> Normalized:
        """Fill in the app where Slack's payload doesn't name it (shortcuts, legacy outgoing
        webhooks): the app whose signing secret (or token) the request carried."""
        app_id = await self._ports.app_id_of(app_ref)
        if not app_id:
            return normalized
        events = []
        for event in normalized.events:
            if event.app_id is None:
                workspace = {**event.data.get("workspace", {}), "app_id": app_id}
                event = replace(event, app_id=app_id, data={**event.data, "workspace": workspace})
            events.append(event)
        return replace(normalized, events=events)

    async def _act(self, action: ControlAction, reason: str) -> None:
        if action.kind == "uninstall":
            await self._ports.uninstall(action.team_id, action.app_id, action.enterprise_id, reason)
        else:
            await self._ports.revoke_user_tokens(
                action.team_id, action.app_id, list(action.user_ids)
            )

    async def _deliver(self, ready: Sequence[_Prepared]) -> None:
        ports = self._ports
        endpoints = await ports.endpoints()
        events: list[DomainEvent] = [e for entry in ready for e in entry.normalized.events]
        if endpoints:
            events = await enrich_users(self._gateway, events, ports.lookup_user)
        enriched = iter(events)
        per_row: list[tuple[_Prepared, list[NewDelivery]]] = []
        for count, entry in enumerate(ready, 1):
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            row_events = [next(enriched) for _ in entry.normalized.events]
            per_row.append((entry, ports.fan_out(endpoints, row_events, _hold(entry))))
        try:
            # In chunks, each its own job of the write path: one job never holds the event
            # loop (where the SQLite writer runs) for long. Submitted together, they commit in
            # order, and usually in one transaction.
            chunks = [per_row[i : i + _SETTLE_CHUNK] for i in range(0, len(per_row), _SETTLE_CHUNK)]
            settled = [
                asyncio.ensure_future(
                    self._settle([e for e, _ in chunk], [d for _, ds in chunk for d in ds])
                )
                for chunk in chunks
            ]
            outcomes = await asyncio.gather(*settled, return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        except Exception as exc:
            if len(per_row) == 1:
                await self._retry(per_row[0][0].item, f"storing deliveries failed: {exc!r}")
                return
            _log.warning("inbox batch failed (%r); storing row by row", exc)
            for entry, deliveries in per_row:
                try:
                    await self._settle([entry], deliveries)
                except Exception as one:
                    await self._retry(entry.item, f"storing deliveries failed: {one!r}")
                else:
                    _count(entry)
        else:
            _count(*[entry for entry, _ in per_row])

    async def _settle(self, entries: Sequence[_Prepared], deliveries: list[NewDelivery]) -> None:
        """Store ``deliveries`` and mark the rows done, in one transaction."""
        ids = [entry.item.id for entry in entries]
        also = self._deliveries.enqueue_job(deliveries) if deliveries else None
        await self._inbox.complete_many(ids, self._owner, with_job=also)
        if deliveries:
            self._gateway.wakeups.signal("deliveries")

    async def _retry(self, item: InboxItem, error: str) -> None:
        try:
            delay = _RETRY.retry_in(item.attempts)
            if delay is None:
                await self._inbox.fail(item.id, self._owner, error)
                metrics.INBOX_PROCESSED.labels("failed").inc()
                _log.error("inbox row %d failed for good: %s", item.id, error)
                return
            when = datetime.now(UTC) + timedelta(seconds=delay)
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


def _count(*entries: _Prepared) -> None:
    done = sum(1 for e in entries if e.normalized.events or e.normalized.actions)
    if done:
        metrics.INBOX_PROCESSED.labels("done").inc(done)
    if len(entries) > done:
        metrics.INBOX_PROCESSED.labels("ignored").inc(len(entries) - done)
