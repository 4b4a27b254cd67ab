"""Outbox operations on channels and reactions: ``conversations.create`` (trying names in turn),
``conversations.invite``, ``conversations.archive``/``unarchive``, ``reactions.add``/``remove``.

The channel (or message) an operation acts on is its payload's ``channel`` (and ``ts``), or the
result of the operation its ``ref`` names (a created channel, a posted message): the lane order
guarantees that one has settled first. Answers meaning "already so" (``already_reacted``,
``already_archived``, ``already_in_channel``, …) count as done, so that a retry after a lost
answer does not fail.

``conversations.create`` is not idempotent. Before each try the name is written down on the row
(its ``result``); a later attempt that meets ``name_taken`` for the name an earlier attempt tried
looks the channel up and, when this app's bot created it, takes it instead of making another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.slack.outbound.outbox_ops import Attempt, Operation, channel_of, resolve_ref
from slackbridge.slack.outbound.outcomes import Outcome
from slackbridge.store.repositories.outbox_progress import OutboxProgressRepository

__all__ = ["CHANNEL_OPERATIONS"]

_ALREADY = {
    "conversations.invite": frozenset({"already_in_channel", "cant_invite_self"}),
    "conversations.archive": frozenset({"already_archived"}),
    "conversations.unarchive": frozenset({"not_archived"}),
    "reactions.add": frozenset({"already_reacted"}),
    "reactions.remove": frozenset({"no_reaction"}),
}
_LIST_PAGES = 10


async def _save(attempt: Attempt, progress: dict[str, Any]) -> None:
    repo = OutboxProgressRepository(attempt.gateway.db, attempt.gateway.keyring)
    await repo.save(attempt.row.id, attempt.owner, progress)


async def _find_own_channel(
    attempt: Attempt, client: AsyncWebClient, name: str, private: bool
) -> Outcome | None:
    """The channel ``name`` when this app's bot created it (an earlier attempt's), else None."""
    who = await attempt.call(client, "auth.test", {}, changes_slack=False)
    if who.disposition != "done":
        return who if who.disposition in ("retry", "ratelimited", "token") else None
    bot_user = who.data.get("user_id")
    args: dict[str, Any] = {
        "types": "private_channel" if private else "public_channel",
        "exclude_archived": True,
        "limit": 1000,
    }
    for _ in range(_LIST_PAGES):
        found = await attempt.call(
            client, "conversations.list", args, changes_slack=False, form=True
        )
        if found.disposition != "done":
            return found if found.disposition in ("retry", "ratelimited") else None
        for channel in found.data.get("channels") or []:
            if isinstance(channel, Mapping) and channel.get("name") == name:
                if bot_user and channel.get("creator") == bot_user:
                    return Outcome.ok({"channel": channel.get("id"), "name": name})
                return None
        cursor = (found.data.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return None
        args["cursor"] = cursor
    return None


async def _create(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    names = [str(n) for n in attempt.payload.get("names") or []]
    private = bool(attempt.payload.get("is_private"))
    tried = (attempt.row.result or {}).get("trying")
    if not names:
        return Outcome.failed("invalid_name")
    start = names.index(tried) if tried in names else 0
    last: Outcome = Outcome.failed("name_taken")
    for name in names[start:]:
        await _save(attempt, {"trying": name})
        outcome = await attempt.call(
            client, "conversations.create", {"name": name, "is_private": private}
        )
        if outcome.disposition == "done":
            channel = outcome.data.get("channel") or {}
            return Outcome.ok({"channel": channel.get("id"), "name": channel.get("name", name)})
        if outcome.code != "name_taken":
            return outcome
        if name == tried and attempt.row.attempts > 1:
            # An earlier attempt may have made it and lost the answer.
            own = await _find_own_channel(attempt, client, name, private)
            if own is not None:
                return own
        last = outcome
    return last


async def _on_channel(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    channel, failure = await channel_of(attempt)
    if failure is not None:
        return failure
    if not channel:
        return Outcome.failed("channel_not_found")
    method = attempt.row.method
    args = {**attempt.args(), "channel": channel}
    outcome = await attempt.call(client, method, args, channel=channel)
    if outcome.disposition == "done" or outcome.code in _ALREADY.get(method, ()):
        return Outcome.ok({"channel": channel})
    if outcome.disposition == "join":
        return Outcome.failed("not_in_channel", outcome.data)
    return outcome


async def _reaction(attempt: Attempt, client: AsyncWebClient) -> Outcome:
    ref, failure = await resolve_ref(attempt)
    if failure is not None:
        return failure
    target = ref if ref is not None else attempt.payload
    channel, ts = target.get("channel") or attempt.payload.get("channel"), target.get("ts")
    if not channel or not ts:
        return Outcome.failed("message_not_found")
    method = attempt.row.method
    args = {**attempt.args(), "channel": str(channel), "timestamp": str(ts)}
    outcome = await attempt.call(client, method, args)
    if outcome.disposition == "done" or outcome.code in _ALREADY.get(method, ()):
        return Outcome.ok({"channel": channel, "ts": ts})
    if outcome.disposition == "join":
        return Outcome.failed("not_in_channel", outcome.data)
    return outcome


#: The operations of this module, by the name stored in the row's ``method``.
CHANNEL_OPERATIONS: dict[str, Operation] = {
    "conversations.create": _create,
    "conversations.invite": _on_channel,
    "conversations.archive": _on_channel,
    "conversations.unarchive": _on_channel,
    "reactions.add": _reaction,
    "reactions.remove": _reaction,
}
