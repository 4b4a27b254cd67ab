"""What catch-up finds in a conversation's history against what the bridge recorded. Pure.

Given one read (every page of a still thread's ``conversations.replies``, or of a noisy
channel's ``conversations.history`` and its threads) and the messages the bridge recorded in
the same window, decide what the product never heard:

* :func:`missed`: messages the bridge has never seen (by ts): ``conversation.message.created``;
* :func:`edited`: messages the bridge recorded whose text, blocks or files now differ from the
  content digest it last recorded (the live path's own test, ``noise.is_edit``):
  ``conversation.message.edited``;
* :func:`deleted`: messages the bridge recorded that a complete read of their thread (a noisy
  channel's top-level message: of its history) no longer returns, strictly inside the span it
  covered, or that came back as a ``tombstone``: ``conversation.message.deleted``. A noisy
  channel's message is judged by the thread the bridge recorded it in (:func:`thread_of`);
  one recorded before the bridge kept threads never.

Only messages Slack users wrote count (``origin='slack'`` rows): the product's own posts never
come back as edits or deletions (the live path's loop guard skips them the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slackbridge.bridge.noise import content_digest, is_edit, is_tombstone
from slackbridge.bridge.routing import Place
from slackbridge.store.repositories.bridge_inbound import RecordedMessage

__all__ = ["Edit", "Read", "deleted", "edited", "missed", "thread_of"]

# Message subtypes a person (or another app) wrote.
_WRITTEN = frozenset({"", "bot_message", "thread_broadcast", "file_share", "me_message"})

Own = Callable[[Mapping[str, Any]], bool]


def _time(ts: Any) -> float | None:
    if not isinstance(ts, str):
        return None
    try:
        return float(ts)
    except ValueError:
        return None


@dataclass(frozen=True)
class Read:
    """Every page one history request returned: ``thread_ts`` names the thread of a
    ``conversations.replies`` read (None: a channel's ``conversations.history``), ``oldest``
    the bound it was asked from, ``complete`` whether its last page said there was no more
    (a read cut short, or one that failed, proves no absence)."""

    messages: Sequence[Mapping[str, Any]]
    oldest: str | None
    thread_ts: str | None
    complete: bool


def missed(
    messages: Sequence[Mapping[str, Any]],
    place: Place,
    *,
    seen: set[str],
    after: str | None,
    before: float,
    own: Own,
) -> list[Mapping[str, Any]]:
    """What of ``messages`` (a history or replies page) the product has not heard: written by
    someone (not the gateway), in the conversation, newer than ``after``, older than
    ``before`` (unix seconds), not ``seen``; oldest first."""
    found: dict[str, Mapping[str, Any]] = {}
    for message in messages:
        ts = message.get("ts")
        if not isinstance(ts, str) or ts in seen or (after is not None and ts <= after):
            continue
        if (message.get("subtype") or "") not in _WRITTEN or own(message):
            continue
        at = _time(ts)
        if at is None or at >= before:
            continue
        if place.mode == "still" and (
            ts == place.thread_ts or message.get("thread_ts") != place.thread_ts
        ):
            continue  # the card (or the opening message), or not of this thread
        found[ts] = message
    return [found[ts] for ts in sorted(found, key=float)]


def _heard(recorded: Mapping[str, RecordedMessage], ts: Any) -> RecordedMessage | None:
    """The recorded Slack message (not deleted) of ``ts``, or None."""
    found = recorded.get(ts) if isinstance(ts, str) else None
    if found is None or found.origin != "slack" or found.deleted:
        return None
    return found


@dataclass(frozen=True)
class Edit:
    """A recorded message whose content changed: ``message`` as Slack has it now, ``known``
    the digest recorded (the store's record is replaced only if it still holds it)."""

    message: Mapping[str, Any]
    known: str
    digest: str

    @property
    def ts(self) -> str:
        return str(self.message["ts"])

    @property
    def stamp(self) -> str | None:
        """The edit's own ts (``edited.ts``), which the webhook id is made of."""
        edit = self.message.get("edited")
        stamp = edit.get("ts") if isinstance(edit, Mapping) else None
        return stamp if isinstance(stamp, str) and stamp else None


def edited(
    messages: Iterable[Mapping[str, Any]],
    recorded: Mapping[str, RecordedMessage],
    *,
    before: float,
    own: Own,
) -> list[Edit]:
    """The recorded messages of ``messages`` (the conversation's, as a read returned them)
    whose text, blocks or files differ from the digest recorded; oldest first. An edit made
    after ``before`` (unix seconds) is left to the live path, whose event may be on the way.
    A message recorded without a digest (an opening whose message could not be fetched) has
    nothing to compare with and is skipped."""
    found: dict[str, Edit] = {}
    for message in messages:
        ts = message.get("ts")
        known = _heard(recorded, ts)
        if known is None or known.content_digest is None or not isinstance(ts, str):
            continue
        if (message.get("subtype") or "") not in _WRITTEN or own(message):
            continue
        if not is_edit(message, None, known_digest=known.content_digest):
            continue
        edit = Edit(message, known.content_digest, content_digest(message))
        at = _time(edit.stamp or ts)
        if at is None or at >= before:
            continue
        found[ts] = edit
    return [found[ts] for ts in sorted(found, key=float)]


def thread_of(message: Mapping[str, Any] | None) -> str | None:
    """The thread ``message`` lives in, as the bridge records it: a reply's ``thread_ts`` (its
    parent's ts), a top-level message's (or thread parent's) own ts; None when unknown."""
    if message is None:
        return None
    for key in ("thread_ts", "ts"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _judges(read: Read, place: Place, known: RecordedMessage) -> bool:
    """Whether ``read``, complete, proves by its silence that the recorded message is gone:
    a still conversation's message by a read of its thread (not the card, which is the
    conversation's own); a noisy channel's reply by a read of the thread it was recorded in,
    its top-level message by the channel's history; never one recorded without its thread."""
    if place.mode == "still":
        return (
            place.thread_ts is not None
            and read.thread_ts == place.thread_ts
            and known.ts != place.thread_ts
        )
    if known.thread_ts is None:
        return False
    if read.thread_ts is None:
        return known.thread_ts == known.ts
    return known.thread_ts == read.thread_ts and known.ts != read.thread_ts


def deleted(
    reads: Iterable[Read],
    place: Place,
    recorded: Mapping[str, RecordedMessage],
) -> list[str]:
    """The ts of recorded messages that are gone; oldest first.

    A message shown as a ``tombstone`` (a thread parent deleted while it had replies) is gone
    in any read. A message missing from a read is gone only when the read is complete (a read
    cut short, or one that failed, proves nothing), is the read that would hold it, and the
    message's ts lies strictly between the bound the read was asked from (``Read.oldest``) and
    the newest ts it returned: nothing outside what Slack was seen to cover counts as absent
    (so the newest message of a thread can't be proved gone until a newer one shows up).

    The read that would hold it: for a still conversation, ``conversations.replies`` of its
    thread (the card, the thread's parent, is never judged); for a noisy channel, a reply is
    judged by ``conversations.replies`` of the thread it was recorded in (never by another
    thread's read, nor by history, which holds no replies but thread broadcasts), a top-level
    message or thread parent (recorded with its own ts as its thread) by
    ``conversations.history``, and a message recorded without its thread (before the bridge
    kept it) never."""
    gone: set[str] = set()
    for read in reads:
        for message in read.messages:
            ts = message.get("ts")
            if is_tombstone(message) and _heard(recorded, ts) is not None:
                gone.add(str(ts))
        if not read.complete:
            continue
        low = _time(read.oldest)
        returned = {m.get("ts") for m in read.messages}
        times = [t for t in map(_time, returned) if t is not None]
        if low is None or not times:
            continue
        high = max(times)
        for ts in recorded:
            known = _heard(recorded, ts)
            at = _time(ts)
            if known is None or at is None or ts in returned:
                continue
            if low < at < high and _judges(read, place, known):
                gone.add(ts)
    return sorted(gone, key=float)
