"""What HTTP ingress and Socket Mode share: committing an accepted payload to the inbox.

:func:`accept` writes the payload's inbox row through the gateway's group committer and returns
only once the row is committed (the caller then acks Slack), raising
:class:`~slackbridge.slack.inbound.group_commit.CommitUnavailable` when the store can't commit in
time (the
caller then answers so that Slack retries). For commands and interactions that a synchronous
product endpoint handles, it then has that endpoint called and returns its answer for Slack:
the deciding and the calling are the pipeline's :class:`~slackbridge.pipeline.sync_answer.
SyncAnswers`, which the composition gives the gateway's committer (:func:`answer_with`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from slackbridge.domain.payloads import PayloadKind
from slackbridge.pipeline.sync_answer import SyncAnswer, SyncAnswers
from slackbridge.runtime import Gateway, Slot
from slackbridge.slack.inbound.group_commit import GroupCommitter
from slackbridge.store.repositories.inbox import InboxInsertResult, NewInboxItem
from slackbridge.store.repositories.inbox_writer import InboxIngest

__all__ = [
    "Accepted",
    "InboxCommitter",
    "Intake",
    "accept",
    "answer_with",
    "committer",
    "team_of",
]


@dataclass
class Intake:
    """One payload accepted from Slack (over HTTP or Socket Mode), ready for the inbox."""

    kind: PayloadKind
    body: bytes  # what is stored: the HTTP body, or the Socket Mode payload as JSON (no token)
    payload: Mapping[str, Any]
    dedupe_key: str
    app_ref: int | None
    headers: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)  # for the synchronous deadline
    received_at: float = field(default_factory=time.time)  # the webhook body's timestamp

    @property
    def team_id(self) -> str | None:
        return team_of(self.kind, self.payload)


def team_of(kind: PayloadKind, payload: Mapping[str, Any]) -> str | None:
    """The workspace a payload belongs to, wherever its kind keeps it."""
    team: Any
    if kind == "interactivity":
        team = payload.get("team")
        if isinstance(team, dict) and team.get("id"):
            return str(team["id"])
        user = payload.get("user")
        team = user.get("team_id") if isinstance(user, dict) else None
    else:
        team = payload.get("team_id")
    return str(team) if team else None


class InboxCommitter:
    """The gateway's group committer of inbox rows, run as a supervised worker.

    Each batch of rows is one urgent job of the store's write path (it goes before the workers'
    jobs waiting there, and never waits behind a transaction of theirs). Where the store can
    (a SQLite file), new rows are leased to the local inbox worker and handed to it in memory
    (``store/inbox_handoff.py``); elsewhere they are stored pending for the workers to claim.
    ``answers`` are the synchronous answers of commands and interactions (none: Slack always
    gets the plain ack).
    """

    name = "ingress-group-commit"

    def __init__(self, gateway: Gateway, answers: SyncAnswers | None = None) -> None:
        self._gateway = gateway
        self.answers = answers
        self._ingest = InboxIngest(gateway.db, gateway.keyring)
        self._handoff = gateway.handoff
        window = max(0.0, gateway.settings.ingress_group_commit_ms / 1000)
        self.group: GroupCommitter[NewInboxItem, InboxInsertResult] = GroupCommitter(
            self._write_handing_off, window=window
        )

    async def _write_handing_off(
        self, items: Sequence[NewInboxItem]
    ) -> Sequence[InboxInsertResult]:
        # New rows go straight to the local inbox worker when it has room (no claim needed).
        results, leased = await self._ingest.insert_leased(items, self._handoff.lease())
        if leased:
            self._handoff.push(leased)
            self._gateway.wakeups.signal("inbox")
        return results

    async def run(self, stop: asyncio.Event) -> None:
        # Running (again): clears what the supervisor reported if an earlier run crashed.
        self._gateway.health.report(f"worker:{self.name}", True, "committing inbox rows")
        await self.group.run(stop)


_COMMITTER: Slot[InboxCommitter] = Slot("inbox committer", InboxCommitter)


def committer(gateway: Gateway) -> InboxCommitter:
    """The gateway's :class:`InboxCommitter` (one per runtime)."""
    return _COMMITTER.of(gateway)


def answer_with(gateway: Gateway, answers: SyncAnswers) -> None:
    """Composition: ``gateway``'s intake has synchronous endpoints answer through ``answers``
    (before any payload is accepted: called at start-up)."""
    committer(gateway).answers = answers


def _row(item: Intake) -> NewInboxItem:
    return NewInboxItem(
        dedupe_key=item.dedupe_key,
        kind=item.kind,
        body=item.body,
        app_ref=item.app_ref,
        team_id=item.team_id,
        headers={**item.headers, "received_at": item.received_at},
        payload=item.payload,
    )


@dataclass(slots=True)
class Accepted:
    """The outcome of :func:`accept`: whether the row was new (not a Slack retry of a payload
    already stored) and a synchronous endpoint's answer, if one was called and answered."""

    new: bool
    answer: SyncAnswer | None = None


async def accept(gateway: Gateway, item: Intake) -> Accepted:
    """Commit ``item`` to the inbox; then, when a synchronous endpoint takes it, call it.

    Raises :class:`~slackbridge.slack.inbound.group_commit.CommitUnavailable` when the row could
    not be
    committed within ``ingress_commit_timeout``: never ack Slack then.
    """
    inbox = committer(gateway)
    answers = inbox.answers
    plan = None
    if answers is not None and item.kind in ("commands", "interactivity"):
        plan = await answers.plan(item.kind, item.payload, item.dedupe_key, item.received_at)
        if plan is not None:
            item.headers["sync_endpoint"] = plan.endpoint.id
    stored = await inbox.group.commit(_row(item), gateway.settings.ingress_commit_timeout)
    if stored.inserted:
        gateway.wakeups.signal("inbox")
    if answers is None or plan is None:
        return Accepted(stored.inserted)
    return Accepted(stored.inserted, await answers.answer(plan, item.started))
