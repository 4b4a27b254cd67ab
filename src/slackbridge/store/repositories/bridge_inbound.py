"""What the bridge's inbound side reads about a batch of Slack events, in a few queries.

For the channels a batch is about: the conversations living there (still threads and noisy
channels, open or closed), the watched channels, and what the bridge knows of the messages the
batch names by ts (their conversation's thread, the product's message id, the content digest
last seen), and the conversations there whose place is still being made.
One query each, whatever the batch's size, and all of them in one read session
(:meth:`InboundRepository.batch_view`): a session costs several hops to the SQLite driver's
thread, each waiting for the event loop, so four sessions per batch were most of the bridge's
share of a Slack message's latency (measured: p50 14 ms, p90 40 ms per batch under the bridge
bench; one session: see bench/RESULTS.md "## Bridge"). A batch without message, reaction or
channel events reads nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Select, and_, or_, select, tuple_
from sqlalchemy.engine import Connection

from slackbridge.store.models import (
    BridgeConversationRow,
    BridgeMessageRow,
    BridgeWatchedChannelRow,
    table_of,
)
from slackbridge.store.repositories._base import Repository
from slackbridge.store.repositories.bridge_conversations import Conversation, _to_conversation
from slackbridge.store.repositories.watched_channels import WatchedChannel, _to_watched

__all__ = ["BatchView", "InboundRepository", "KnownMessage", "RecordedMessage"]

_C = table_of(BridgeConversationRow)
_M = table_of(BridgeMessageRow)
_W = table_of(BridgeWatchedChannelRow)

#: Conversation states in which Slack's messages still reach the product.
_HEARD = ("open", "closed")


@dataclass(frozen=True)
class KnownMessage:
    """A message of a conversation the bridge has seen or posted."""

    team_id: str
    channel_id: str
    ts: str
    conversation_id: int
    thread_ts: str | None  # the conversation's thread (None: a noisy channel)
    product_message_id: str | None
    content_digest: str | None
    deleted: bool


@dataclass(frozen=True)
class RecordedMessage:
    """What the bridge recorded of one message of a conversation (what catch-up compares
    Slack's history with): ``origin`` ``slack`` for a message heard from Slack, ``product``
    for the product's own post."""

    ts: str
    origin: str
    content_digest: str | None
    deleted: bool
    # The thread it lives in: a reply's parent, a top-level message's own ts; None when unknown
    # (recorded before the bridge kept it): catch-up then never infers its deletion.
    thread_ts: str | None = None


@dataclass(frozen=True)
class BatchView:
    """What one read session found about a batch's channels (see
    :meth:`InboundRepository.batch_view`)."""

    conversations: list[Conversation]  # open and closed, living in the channels
    unplaced: list[Conversation]  # whose Slack place was still being made
    watched: list[WatchedChannel]
    known: list[KnownMessage]  # of the messages named


def _conversations_stmt(places: Collection[tuple[str, str]]) -> Select[Any]:
    return select(_C).where(
        tuple_(_C.c.team_id, _C.c.channel_id).in_(sorted(places)),
        _C.c.state.in_(_HEARD),
    )


def _unplaced_stmt(places: Collection[tuple[str, str]]) -> Select[Any]:
    unplaced = or_(
        _C.c.state == "creating",
        and_(_C.c.mode == "still", _C.c.thread_ts.is_(None)),
    )
    return select(_C).where(
        tuple_(_C.c.team_id, _C.c.channel_id).in_(sorted(places)),
        _C.c.create_operation_id.is_not(None),
        _C.c.state != "failed",
        unplaced,
    )


def _watched_stmt(places: Collection[tuple[str, str]]) -> Select[Any]:
    return select(_W).where(tuple_(_W.c.team_id, _W.c.channel_id).in_(sorted(places)))


def _known_stmt(messages: Collection[tuple[str, str, str]]) -> Select[Any]:
    return (
        select(
            _C.c.team_id,
            _C.c.channel_id,
            _C.c.thread_ts,
            _M.c.ts,
            _M.c.conversation_id,
            _M.c.product_message_id,
            _M.c.content_digest,
            _M.c.deleted_at,
        )
        .join(_C, _C.c.id == _M.c.conversation_id)
        .where(tuple_(_C.c.team_id, _C.c.channel_id, _M.c.ts).in_(sorted(messages)))
    )


def _known(rows: Sequence[RowMapping]) -> list[KnownMessage]:
    return [
        KnownMessage(
            team_id=r["team_id"],
            channel_id=r["channel_id"],
            ts=r["ts"],
            conversation_id=int(r["conversation_id"]),
            thread_ts=r["thread_ts"],
            product_message_id=r["product_message_id"],
            content_digest=r["content_digest"],
            deleted=r["deleted_at"] is not None,
        )
        for r in rows
    ]


class InboundRepository(Repository):
    """Batch reads for routing Slack's events to conversations."""

    async def batch_view(
        self,
        places: Collection[tuple[str, str]],
        messages: Collection[tuple[str, str, str]] = (),
    ) -> BatchView:
        """In one read session: the conversations living in these (team, channel) pairs (open
        and closed), those whose Slack place was still being made (as :meth:`unplaced_in`),
        the watched channels among them, and what the bridge knows of ``messages``."""
        if not places:
            return BatchView([], [], [], [])

        def read(conn: Connection) -> BatchView:
            conversations = conn.execute(_conversations_stmt(places)).mappings().all()
            unplaced = conn.execute(_unplaced_stmt(places)).mappings().all()
            watched = conn.execute(_watched_stmt(places)).mappings().all()
            known = conn.execute(_known_stmt(messages)).mappings().all() if messages else []
            return BatchView(
                [_to_conversation(r) for r in conversations],
                [_to_conversation(r) for r in unplaced],
                [_to_watched(r) for r in watched],
                _known(known),
            )

        # Every inbox batch reads this: at once on SQLite (see Repository._read_quick).
        return await self._read_quick(read)

    async def unplaced_in(self, places: Collection[tuple[str, str]]) -> list[Conversation]:
        """The conversations of these (team, channel) pairs whose Slack place was still being
        made when last settled (``creating``, or closed meanwhile: a still conversation's card
        not known sent): it may have been sent since, and Slack's events about the new thread
        may come before the settler."""
        if not places:
            return []
        async with self._db.session() as s:
            rows = (await s.execute(_unplaced_stmt(places))).mappings().all()
        return [_to_conversation(r) for r in rows]

    async def known_messages(
        self, messages: Collection[tuple[str, str, str]]
    ) -> list[KnownMessage]:
        """What the bridge knows of these (team, channel, ts) messages."""
        if not messages:
            return []
        async with self._db.session() as s:
            rows = (await s.execute(_known_stmt(messages))).mappings().all()
        return _known(rows)

    async def recorded(
        self, conversation_id: int, after: str | None = None
    ) -> dict[str, RecordedMessage]:
        """The conversation's messages the bridge knows (either way, deleted ones too) after
        ``after``, by ts: what catch-up must not send again, and what it compares Slack's
        history with to find edits and deletions."""
        columns = (_M.c.ts, _M.c.origin, _M.c.content_digest, _M.c.deleted_at, _M.c.thread_ts)
        stmt = select(*columns).where(_M.c.conversation_id == conversation_id, _M.c.ts.is_not(None))
        if after is not None:
            stmt = stmt.where(_M.c.ts > after)
        async with self._db.session() as s:
            rows = (await s.execute(stmt)).mappings().all()
        return {
            str(r["ts"]): RecordedMessage(
                ts=str(r["ts"]),
                origin=r["origin"],
                content_digest=r["content_digest"],
                deleted=r["deleted_at"] is not None,
                thread_ts=r["thread_ts"],
            )
            for r in rows
        }
