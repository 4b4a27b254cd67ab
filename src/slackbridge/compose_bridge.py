"""The bridge's inbound side, composed: the listener the inbox worker hands its batches to
(``compose_inbox.py`` gives it to the worker), and the catch-up worker (a gateway part:
``workers``).

The bridge (``bridge/inbound.py``) gets its ports here: the user cache and ``users.info``
(``slack/outbound/user_lookup.py``) through the pipeline's enrichment (so authors have the
same names and emails as every other webhook), the forgetting of a changed user, the
workspace's Slack client for the message an opening by reaction names, the settling of a
conversation whose creating operation was sent (``bridge/settle.py``), the product's
webhooks for the catch-up (``product/dispatch.py``), and the gateway's public URL for file
download links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slackbridge.bridge.authors import Identities
from slackbridge.bridge.catchup import Budget, CatchUp, CatchUpWorker, HistoryPage, RateLimited
from slackbridge.bridge.closing import reply_to_closed
from slackbridge.bridge.events import Author
from slackbridge.bridge.inbound import InboundBridge
from slackbridge.bridge.settle import settle_conversation
from slackbridge.cluster import singleton
from slackbridge.domain.events import DomainEvent, SlackListener
from slackbridge.pipeline.enrich import enrich_users, forget_user
from slackbridge.product.dispatch import dispatch
from slackbridge.runtime import Gateway, Worker
from slackbridge.slack.outbound.user_lookup import user_lookup
from slackbridge.slack.outbound.web_api import outbound_of
from slackbridge.slack.workspaces.tokens import bot_token
from slackbridge.store.repositories.bridge_conversations import (
    Conversation,
    ConversationsRepository,
)
from slackbridge.store.repositories.bridge_inbound import InboundRepository
from slackbridge.store.repositories.bridge_messages import MessagesRepository
from slackbridge.store.repositories.bridge_users import UserLinksRepository
from slackbridge.store.repositories.users import UsersRepository
from slackbridge.store.store import Store

__all__ = ["bridge_listeners", "catch_up", "inbound_bridge", "workers"]


def _identities(gateway: Gateway) -> Identities:
    db, keyring = gateway.db, gateway.keyring
    lookup_user = user_lookup(gateway)

    async def lookup(
        team_id: str, app_id: str | None, user_ids: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        probes = [
            DomainEvent(
                type="message.posted",
                team_id=team_id,
                app_id=app_id,
                data={"user": {"id": user_id}},
                ordering_key="",
                dedupe_key="",
                occurred_at=0.0,
            )
            for user_id in user_ids
        ]
        enriched = await enrich_users(gateway, probes, lookup_user)
        return {e.data["user"]["id"]: dict(e.data["user"]) for e in enriched}

    return Identities(
        UsersRepository(db, keyring),
        UserLinksRepository(db, keyring),
        lookup,
        forget=lambda team, user: forget_user(gateway, team, user),
    )


#: Seconds a read of one message (an event that names a message the bridge hasn't seen) waits
#: for the rate limiter; the catch-up's pages wait longer (nobody is waiting on them).
_FETCH_WAIT = 5.0
_CATCHUP_WAIT = 30.0


class HistoryCallFailed(RuntimeError):
    """Slack (or the network) did not answer a history read with its messages."""


async def _history_call(
    gateway: Gateway,
    team_id: str,
    token: str,
    method: str,
    args: Mapping[str, Any],
    *,
    max_wait: float,
) -> dict[str, Any]:
    """``conversations.history`` / ``conversations.replies`` through the gateway's rate limiter
    (the one the outbox and every other call go through: a 429 holds back that method's lane).
    Raises :class:`~slackbridge.bridge.catchup.RateLimited` while the limiter or Slack says
    wait, :class:`HistoryCallFailed` on any other error."""
    outbound = outbound_of(gateway)
    outcome = await outbound.call(
        outbound.client(gateway, token),
        team_id,
        method,
        args,
        channel=None,
        max_wait=max_wait,
        form=True,
    )
    if outcome.disposition == "ratelimited":
        raise RateLimited(outcome.retry_after or 60.0)
    if outcome.disposition != "done":
        raise HistoryCallFailed(f"{method}: {outcome.code or outcome.disposition}")
    return outcome.data


def inbound_bridge(gateway: Gateway) -> InboundBridge:
    """The bridge's inbound side wired to ``gateway``'s store, user cache and Slack."""
    db, keyring = gateway.db, gateway.keyring

    async def fetch(
        team_id: str, app_id: str | None, channel: str, ts: str
    ) -> Mapping[str, Any] | None:
        creds = await bot_token(gateway, team_id, app_id=app_id)
        answer = await _history_call(
            gateway,
            team_id,
            creds.token,
            "conversations.history",
            {"channel": channel, "latest": ts, "oldest": ts, "inclusive": True, "limit": 1},
            max_wait=_FETCH_WAIT,
        )
        messages = answer.get("messages") or []
        return messages[0] if messages and isinstance(messages[0], dict) else None

    async def closed_reply(conversation_id: int, user: str) -> str:
        store = Store(db, keyring)
        conversation = await store.conversations.get_by_id(conversation_id)
        if conversation is None:
            return "ignored"
        link = await store.user_links.by_slack_user(conversation.team_id, user)
        creds = await bot_token(gateway, conversation.team_id, app_id=conversation.app_id)
        settings = gateway.settings
        outcome = await reply_to_closed(
            store,
            conversation,
            user=user,
            setting=settings.bridge_reply_after_close,
            closed_message=settings.bridge_closed_message,
            reaction=settings.bridge_closed_reaction,
            from_product_user=link is not None and link.product_user is not None,
            installation_id=creds.installation_id,
        )
        if outcome != "ignored":
            gateway.wakeups.signal("outbox")
        return outcome

    async def settle(conversation: Conversation, card: Mapping[str, Any] | None) -> Conversation:
        return await settle_conversation(Store(db, keyring), conversation, posted=card)

    return InboundBridge(
        InboundRepository(db, keyring),
        ConversationsRepository(db, keyring),
        MessagesRepository(db, keyring),
        _identities(gateway),
        base_url=gateway.settings.public_url,
        fetch_message=fetch,
        closed_reply=closed_reply,
        settle=settle,
    )


def bridge_listeners(gateway: Gateway) -> list[SlackListener]:
    """The listeners the inbox worker tells about every batch."""
    return [inbound_bridge(gateway)]


def catch_up(gateway: Gateway) -> CatchUp:
    """The catch-up wired to ``gateway``: Slack's history with the workspace's bot token, the
    product's webhooks, the settings' budget."""
    db, keyring, settings = gateway.db, gateway.keyring, gateway.settings
    identities = _identities(gateway)
    lookup_user = user_lookup(gateway)

    async def fetch(
        team_id: str, app_id: str | None, method: str, args: dict[str, Any]
    ) -> HistoryPage:
        creds = await bot_token(gateway, team_id, app_id=app_id)
        answer = await _history_call(
            gateway, team_id, creds.token, method, args, max_wait=_CATCHUP_WAIT
        )
        messages = [m for m in answer.get("messages") or [] if isinstance(m, dict)]
        cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
        more = answer.get("has_more", True) or (answer.get("response_metadata") or {}).get(
            "next_cursor"
        )
        return HistoryPage(
            messages,
            cursor if more else None,
            bot_id=creds.bot_id,
            bot_user_id=creds.bot_user_id,
        )

    async def authors(team_id: str, app_id: str | None, ids: set[str]) -> dict[str, Author]:
        return await identities.authors(team_id, app_id, ids)

    return CatchUp(
        conversations=ConversationsRepository(db, keyring),
        messages=MessagesRepository(db, keyring),
        inbound=InboundRepository(db, keyring),
        fetch=fetch,
        dispatch=lambda events: dispatch(gateway, events, lookup_user=lookup_user),
        authors=authors,
        budget=Budget(settings.bridge_history_per_minute),
        base_url=settings.public_url,
        page_size=settings.bridge_history_page_size,
        lookback=settings.bridge_catchup_lookback,
    )


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the bridge's catch-up (one per cluster)."""
    return [
        CatchUpWorker(
            lambda stop: singleton(gateway, "bridge-catchup", stop),
            catch_up(gateway),
            interval=gateway.settings.bridge_catchup_interval,
        )
    ]
