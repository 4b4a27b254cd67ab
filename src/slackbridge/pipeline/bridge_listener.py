"""The bridge's listener on the inbox, composed: what the inbox worker hands its batches to.

The bridge (``bridge/inbound.py``) gets its ports here: the user cache and ``users.info``
through the pipeline's enrichment (so authors have the same names and emails as every other
webhook), the forgetting of a changed user, the workspace's Slack client for the message an
opening by reaction names, and the gateway's public URL for file download links.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slackbridge.bridge.authors import Identities
from slackbridge.bridge.inbound import InboundBridge
from slackbridge.domain.events import DomainEvent, SlackListener
from slackbridge.pipeline.enrich import enrich_users, forget_user
from slackbridge.server import Gateway
from slackbridge.slack.workspaces.tokens import bot_token
from slackbridge.store.repositories.bridge_conversations import ConversationsRepository
from slackbridge.store.repositories.bridge_inbound import InboundRepository
from slackbridge.store.repositories.bridge_messages import MessagesRepository
from slackbridge.store.repositories.bridge_users import UserLinksRepository
from slackbridge.store.repositories.users import UsersRepository

__all__ = ["bridge_listeners", "inbound_bridge"]


def inbound_bridge(gateway: Gateway) -> InboundBridge:
    """The bridge's inbound side wired to ``gateway``'s store, user cache and Slack."""
    db, keyring = gateway.db, gateway.keyring

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
        enriched = await enrich_users(gateway, probes)
        return {e.data["user"]["id"]: dict(e.data["user"]) for e in enriched}

    async def fetch(
        team_id: str, app_id: str | None, channel: str, ts: str
    ) -> Mapping[str, Any] | None:
        creds = await bot_token(gateway, team_id, app_id=app_id)
        answer = await gateway.slack_client(creds.token).conversations_history(
            channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
        )
        messages = answer.get("messages") or []
        return messages[0] if messages and isinstance(messages[0], dict) else None

    identities = Identities(
        UsersRepository(db, keyring),
        UserLinksRepository(db, keyring),
        lookup,
        forget=lambda team, user: forget_user(gateway, team, user),
    )
    return InboundBridge(
        InboundRepository(db, keyring),
        ConversationsRepository(db, keyring),
        MessagesRepository(db, keyring),
        identities,
        base_url=gateway.settings.public_url,
        fetch_message=fetch,
    )


def bridge_listeners(gateway: Gateway) -> list[SlackListener]:
    """The listeners the inbox worker tells about every batch."""
    return [inbound_bridge(gateway)]
