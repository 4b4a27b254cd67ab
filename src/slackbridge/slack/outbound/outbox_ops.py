"""How each kind of outbox row is carried out against Slack: one attempt, one :class:`Outcome`.

An outbox row names an *operation* (``chat.postMessage``, ``chat.update``, ``files.upload``, …)
and holds in its payload the Slack arguments plus what slackbridge needs around them:
``channel``/``thread_ts`` (the lane and the rate-limit bucket), ``ref`` (another row, ``msg_…``,
whose message this one replies to, edits or deletes; its ts is known only once it is sent, which
the lane order guarantees has happened) and ``app_id``.

Crash safety for posts: every ``chat.postMessage`` carries a marker in its message metadata
(``event_payload.slackbridge_message_id``). An attempt after the first may follow one whose post
reached Slack without being recorded (a crash, a timeout, a 5xx from a proxy), so before posting
again it looks for its marker in the channel's (or thread's) recent history; finding it means the
message is already there, and it is not posted twice. Edits and deletions are idempotent by
nature; file uploads note their progress (:mod:`slackbridge.slack.outbound.outbox_files`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.slack.outbound.outcomes import Outcome
from slackbridge.slack.outbound.web_api import Outbound
from slackbridge.store.repositories.outbox import OutboxMessage, OutboxRepository

if TYPE_CHECKING:
    from slackbridge.runtime import Gateway

__all__ = [
    "MARKER_EVENT_TYPE",
    "MARKER_KEY",
    "MESSAGE_OPERATIONS",
    "Attempt",
    "Operation",
    "channel_of",
    "find_marker",
    "join_and_retry",
    "resolve_ref",
    "thread_of",
    "with_marker",
]

_log = logging.getLogger("slackbridge.sender")

#: The metadata event type of posts whose product gave no metadata of its own.
MARKER_EVENT_TYPE = "slackbridge_message"
#: The key in ``metadata.event_payload`` that carries the operation id.
MARKER_KEY = "slackbridge_message_id"
# How far back (before the row was created) and how deep the marker search looks.
_LOOKBACK = timedelta(minutes=2)
_LOOKUP_PAGES = 5


@dataclass
class Attempt:
    """One try at one leased outbox row."""

    gateway: Gateway
    outbound: Outbound
    repo: OutboxRepository
    row: OutboxMessage
    owner: str
    hold: float  # the longest rate-limit wait spent holding the row (longer: release it)
    app_id: str | None = None
    touched: bool = False  # a call that may have changed Slack has begun
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.row.payload

    @property
    def team_id(self) -> str:
        return self.row.team_id

    def args(self) -> dict[str, Any]:
        return dict(self.payload.get("args") or {})

    async def call(
        self,
        client: AsyncWebClient,
        method: str,
        args: Mapping[str, Any],
        *,
        channel: str | None = None,
        changes_slack: bool = True,
        form: bool = False,
    ) -> Outcome:
        """A rate-limited call; remembers whether Slack may have been changed."""
        wait = await self.outbound.acquire(self.team_id, method, channel, max_wait=self.hold)
        if wait > 0:
            return Outcome("ratelimited", code="ratelimited", retry_after=wait)
        if changes_slack:
            self.touched = True
        return await self.outbound.send(
            client, self.team_id, method, args, channel=channel, form=form
        )


Operation = Callable[[Attempt, AsyncWebClient], Awaitable[Outcome]]


def with_marker(metadata: Mapping[str, Any] | None, message_id: str) -> dict[str, Any]:
    """``metadata`` with the operation id added (or a marker-only metadata when none)."""
    if not metadata:
        return {"event_type": MARKER_EVENT_TYPE, "event_payload": {MARKER_KEY: message_id}}
    payload = dict(metadata.get("event_payload") or {})
    payload[MARKER_KEY] = message_id
    return {**metadata, "event_payload": payload}


def _marked(message: Mapping[str, Any], message_id: str) -> bool:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping):
        return False
    payload = metadata.get("event_payload")
    return isinstance(payload, Mapping) and payload.get(MARKER_KEY) == message_id


async def find_marker(
    attempt: Attempt, client: AsyncWebClient, channel: str, thread_ts: str | None
) -> Outcome | None:
    """Look for this row's post in Slack: ``done`` (with its ts) when found, ``None`` when not
    there, or a ``retry``/``ratelimited`` outcome when the search itself could not be made."""
    row = attempt.row
    oldest = f"{(row.created_at - _LOOKBACK).timestamp():.6f}"
    method = "conversations.replies" if thread_ts else "conversations.history"
    args: dict[str, Any] = {
        "channel": channel,
        "oldest": oldest,
        "limit": 200,
        "include_all_metadata": True,
    }
    if thread_ts:
        args["ts"] = thread_ts
    for _ in range(_LOOKUP_PAGES):
        outcome = await attempt.call(client, method, args, changes_slack=False, form=True)
        if outcome.disposition in ("retry", "ratelimited"):
            return outcome
        if outcome.disposition != "done":
            # Can't look (no history scope, say): posting again risks a duplicate, but not
            # posting at all would lose the message.
            _log.warning(
                "cannot check %s for an earlier post of %s (%s); posting it",
                channel,
                row.message_id,
                outcome.code,
            )
            return None
        for message in outcome.data.get("messages") or []:
            if isinstance(message, Mapping) and _marked(message, row.message_id):
                return Outcome.ok({"ts": message.get("ts"), "channel": channel, "found": True})
        cursor = (outcome.data.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
        args["cursor"] = cursor
    return None


async def resolve_ref(attempt: Attempt) -> tuple[Mapping[str, Any] | None, Outcome | None]:
    """The result (ts, channel, thread_ts) of the row this one refers to, or a failure."""
    ref_id = attempt.payload.get("ref")
    if not ref_id:
        return None, None
    ref = await attempt.repo.get(str(ref_id))
    if ref is None or ref.status == "failed" or (ref.status == "sent" and not ref.result):
        return None, Outcome.failed("original_failed")
    if ref.status != "sent":
        # Only possible if the two rows were put in different lanes; wait for it.
        return None, Outcome("retry", code="original_pending")
    return ref.result, None


async def channel_of(attempt: Attempt) -> tuple[str | None, Outcome | None]:
    """The channel an operation acts in: its own ``channel``, or the one of the operation its
    ``ref`` names (a channel the outbox created, say); or a failure."""
    channel = attempt.payload.get("channel")
    if channel:
        return str(channel), None
    ref, failure = await resolve_ref(attempt)
    if failure is not None:
        return None, failure
    found = (ref or {}).get("channel")
    return (str(found) if found else None), None


async def thread_of(attempt: Attempt) -> tuple[str | None, Outcome | None]:
    """The thread a post or upload goes into: its own ``thread_ts``, or the thread of the
    message its ``ref`` names (the root's ts when that one is not a reply); or a failure."""
    ref, failure = await resolve_ref(attempt)
    if failure is not None:
        return None, failure
    if ref is not None:
        return ref.get("thread_ts") or ref.get("ts"), None
    thread_ts = attempt.payload.get("thread_ts")
    return (str(thread_ts) if thread_ts else None), None


async def join_and_retry(
    attempt: Attempt,
    client: AsyncWebClient,
    outcome: Outcome,
    channel: str,
    retry: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """``not_in_channel``: join a public channel once (as the bot) and try again."""
    if outcome.disposition != "join":
        return outcome
    if not channel.startswith("C") or attempt.row.as_user:
        return Outcome.failed("not_in_channel", outcome.data)
    joined = await attempt.call(
        client, "conversations.join", {"channel": channel}, changes_slack=False
    )
    if joined.disposition in ("retry", "ratelimited", "token"):
        return joined
    if joined.disposition != "done":
        return Outcome.failed("not_in_channel", {"join_error": joined.code})
    again = await retry()
    return Outcome.failed("not_in_channel", again.data) if again.disposition == "join" else again


async def _post(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    args = attempt.args()
    in_channel, failure = await channel_of(attempt)
    if failure is not None:
        return failure
    if not in_channel:
        return Outcome.failed("channel_not_found")
    channel = in_channel
    thread_ts, failure = await thread_of(attempt)
    if failure is not None:
        return failure
    if thread_ts:
        args["thread_ts"] = thread_ts
    args["channel"] = channel
    args["metadata"] = with_marker(args.get("metadata"), attempt.row.message_id)
    if attempt.row.attempts > 1:
        found = await find_marker(attempt, client, channel, thread_ts)
        if found is not None:
            if found.disposition == "done":
                return Outcome.ok({**found.data, "thread_ts": thread_ts})
            return found

    async def post() -> Outcome:
        return await attempt.call(client, "chat.postMessage", args, channel=channel)

    outcome = await join_and_retry(attempt, client, await post(), channel, post)
    if outcome.disposition != "done":
        return outcome
    return Outcome.ok(
        {
            "ts": outcome.data.get("ts"),
            "channel": outcome.data.get("channel", channel),
            "thread_ts": thread_ts,
        }
    )


async def _target(attempt: Attempt) -> tuple[str, str, Outcome | None]:
    """The (channel, ts) an update or deletion is about."""
    ref, failure = await resolve_ref(attempt)
    if failure is not None:
        return "", "", failure
    if ref is not None:
        return str(ref.get("channel") or attempt.payload.get("channel")), str(ref.get("ts")), None
    return str(attempt.payload["channel"]), str(attempt.payload["ts"]), None


async def _update(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    channel, ts, failure = await _target(attempt)
    if failure is not None:
        return failure
    args = {**attempt.args(), "channel": channel, "ts": ts}
    outcome = await attempt.call(client, "chat.update", args)
    if outcome.disposition == "join":
        return Outcome.failed("not_in_channel", outcome.data)
    if outcome.disposition != "done":
        return outcome
    return Outcome.ok({"ts": ts, "channel": outcome.data.get("channel", channel)})


async def _delete(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    channel, ts, failure = await _target(attempt)
    if failure is not None:
        return failure
    if ts in ("", "None"):
        # The operation referred to left no message (an upload shared nowhere): nothing to do.
        return Outcome.ok({"channel": channel})
    outcome = await attempt.call(client, "chat.delete", {"channel": channel, "ts": ts})
    if outcome.code == "message_not_found" and attempt.row.attempts > 1:
        # An earlier attempt deleted it and was not recorded.
        return Outcome.ok({"ts": ts, "channel": channel})
    if outcome.disposition == "join":
        return Outcome.failed("not_in_channel", outcome.data)
    if outcome.disposition != "done":
        return outcome
    return Outcome.ok({"ts": ts, "channel": channel})


async def _ephemeral(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    channel = str(attempt.payload["channel"])
    args = {**attempt.args(), "channel": channel}

    async def post() -> Outcome:
        return await attempt.call(client, "chat.postEphemeral", args)

    outcome = await join_and_retry(attempt, client, await post(), channel, post)
    if outcome.disposition != "done":
        return outcome
    return Outcome.ok({"message_ts": outcome.data.get("message_ts"), "channel": channel})


async def _view(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    outcome = await attempt.call(client, attempt.row.method, attempt.args())
    if outcome.disposition != "done":
        return outcome
    view = outcome.data.get("view") or {}
    return Outcome.ok({"view_id": view.get("id"), "view": view})


#: The message and view operations, by the name stored in the row's ``method``.
MESSAGE_OPERATIONS: dict[str, Operation] = {
    "chat.postMessage": _post,
    "chat.update": _update,
    "chat.delete": _delete,
    "chat.postEphemeral": _ephemeral,
    "views.update": _view,
    "views.publish": _view,
}
