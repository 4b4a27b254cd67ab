"""Conversation webhooks: a :class:`~slackbridge.bridge.routing.Route` → a domain event. Pure.

The bodies are those of docs/webhooks.md (``conversation.*``). Webhook ids are stable per Slack
message, not per Slack request: a reply heard live and the same reply found again by catch-up
(``bridge/catchup.py``) make the same ``webhook-id``, so the deliveries table keeps one of
them; the tombstone of a deleted parent and its later ``message_deleted`` make one deletion.
Every conversation webhook of a channel shares the channel's lane (``team:channel``), so they
reach the product in Slack's order, after the channel's other webhooks of the same moment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slackbridge.bridge.noise import is_broadcast
from slackbridge.bridge.routing import Place, Route
from slackbridge.domain.events import DomainEvent

__all__ = [
    "Author",
    "Source",
    "conversation_event",
    "download_url",
    "message_body",
    "route_event_body",
    "webhook_files",
]


@dataclass(frozen=True, slots=True)
class Source:
    """Where the Slack event came from (the workspace fields of every webhook)."""

    team_id: str
    enterprise_id: str | None
    app_id: str | None
    dedupe_key: str
    occurred_at: float

    def workspace(self) -> dict[str, Any]:
        return {"team_id": self.team_id, "enterprise_id": self.enterprise_id, "app_id": self.app_id}


Author = dict[str, Any]


def download_url(base_url: str, team_id: str, file_id: str) -> str:
    """The gateway's URL streaming a Slack file (Slack's ``url_private`` needs the bot token)."""
    return f"{base_url.rstrip('/')}/api/v1/files/{team_id}/{file_id}/content"


def webhook_files(base_url: str, team_id: str, message: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The files of ``message`` as webhooks show them (never Slack's private URLs)."""
    files = []
    for item in message.get("files") or []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        files.append(
            {
                "id": item["id"],
                "name": item.get("name"),
                "mimetype": item.get("mimetype"),
                "size": item.get("size"),
                "download_url": download_url(base_url, team_id, str(item["id"])),
            }
        )
    return files


def message_body(
    message: Mapping[str, Any],
    *,
    team_id: str,
    base_url: str,
    author: Author,
    product_message_id: str | None = None,
) -> dict[str, Any]:
    """``data.message`` of created, edited and opened webhooks."""
    return {
        "ts": message.get("ts"),
        "thread_ts": message.get("thread_ts"),
        "text": message.get("text") or "",
        "blocks": message.get("blocks"),
        "files": webhook_files(base_url, team_id, message),
        "author": author,
        "product_message_id": product_message_id,
        "broadcast": is_broadcast(message),
    }


def conversation_event(
    type_: str,
    place: Place,
    source: Source,
    data: Mapping[str, Any],
    *,
    dedupe_key: str | None = None,
) -> DomainEvent:
    """A ``conversation.*`` domain event about ``place`` (``data`` adds to ``workspace``,
    ``channel`` and ``conversation``). The outbound side uses it for closes and reopens by the
    product too."""
    body: dict[str, Any] = {
        "workspace": source.workspace(),
        "channel": {"id": place.channel_id, "kind": _kind(place.channel_id)},
        "conversation": place.payload(),
    }
    body.update(data)
    return DomainEvent(
        type=type_,
        team_id=source.team_id,
        app_id=source.app_id,
        data=body,
        ordering_key=f"{source.team_id}:{place.channel_id}",
        dedupe_key=dedupe_key or source.dedupe_key,
        occurred_at=source.occurred_at,
    )


def _kind(channel_id: str) -> str:
    return {"C": "public", "G": "private", "D": "im"}.get(channel_id[:1], "public")


def message_key(team_id: str, channel_id: str, ts: str, what: str) -> str:
    """The dedupe key of a webhook about one Slack message (stable across live and catch-up)."""
    return f"bridge:{team_id}:{channel_id}:{ts}:{what}"


def route_event_body(
    route: Route,
    source: Source,
    *,
    base_url: str,
    authors: Mapping[str, Author],
    product_ids: Mapping[str, str],
    fallback_author: Author | None = None,
) -> DomainEvent:
    """The webhook of one route. ``authors`` maps Slack user ids (or ``bot:<bot_id>``) to the
    author objects the caller resolved; ``product_ids`` maps ts to the product's message id."""
    place, ts = route.place, route.ts
    team = source.team_id
    if route.type in ("conversation.message.created", "conversation.opened"):
        message = route.message or {"ts": ts, "thread_ts": None}
        body = message_body(
            message,
            team_id=team,
            base_url=base_url,
            author=author_of(message, authors, fallback_author),
            product_message_id=product_ids.get(str(ts)),
        )
        what = "created" if route.type == "conversation.message.created" else "opened"
        key = message_key(team, place.channel_id, str(ts), what)
        data: dict[str, Any] = {"message": body}
        if route.reaction is not None:
            data["trigger"] = {"reaction": route.reaction, "user": authors.get(route.actor or "")}
        return conversation_event(route.type, place, source, data, dedupe_key=key)
    if route.type == "conversation.message.edited":
        message = route.message or {}
        previous = route.previous or {}
        body = message_body(
            message,
            team_id=team,
            base_url=base_url,
            author=author_of(message, authors, fallback_author),
            product_message_id=product_ids.get(str(ts)),
        )
        edited = message.get("edited") or {}
        stamp = edited.get("ts") if isinstance(edited, dict) else None
        key = message_key(team, place.channel_id, str(ts), f"edited:{stamp or source.dedupe_key}")
        data = {
            "message": body,
            "previous": {"text": previous.get("text"), "blocks": previous.get("blocks")},
        }
        return conversation_event(route.type, place, source, data, dedupe_key=key)
    if route.type == "conversation.message.deleted":
        data = {"message": {"ts": ts, "product_message_id": product_ids.get(str(ts))}}
        key = message_key(team, place.channel_id, str(ts), "deleted")
        return conversation_event(route.type, place, source, data, dedupe_key=key)
    if route.type in ("conversation.reaction.added", "conversation.reaction.removed"):
        data = {
            "reaction": {
                "name": route.reaction,
                "user": authors.get(route.actor or "") or _bare(route.actor),
                "message_ts": ts,
                "product_message_id": product_ids.get(str(ts)),
            }
        }
        return conversation_event(route.type, place, source, data)
    # conversation.closed / conversation.reopened from Slack (a noisy channel (un)archived)
    data = {"closed_by" if route.type == "conversation.closed" else "reopened_by": "slack"}
    return conversation_event(route.type, place, source, data)


def _bare(user_id: str | None) -> Author:
    return {
        "slack_user": user_id,
        "name": None,
        "real_name": None,
        "email": None,
        "product_user": None,
        "bot_id": None,
    }


def author_of(
    message: Mapping[str, Any], authors: Mapping[str, Author], fallback: Author | None = None
) -> Author:
    """The author object of a message: the resolved person, or the bot as Slack names it."""
    user = message.get("user")
    if isinstance(user, str) and user in authors:
        found = dict(authors[user])
        if message.get("bot_id"):
            found["bot_id"] = message["bot_id"]
        return found
    bot_id = message.get("bot_id")
    if isinstance(bot_id, str) and bot_id:
        profile = message.get("bot_profile") or {}
        name = message.get("username") or (
            profile.get("name") if isinstance(profile, dict) else None
        )
        return {**_bare(user if isinstance(user, str) else None), "name": name, "bot_id": bot_id}
    if fallback is not None:
        return fallback
    return _bare(user if isinstance(user, str) else None)


def author_ids(routes: Sequence[Route]) -> set[str]:
    """The Slack users whose names the webhooks of ``routes`` need."""
    ids: set[str] = set()
    for route in routes:
        for candidate in ((route.message or {}).get("user"), route.actor):
            if isinstance(candidate, str) and candidate:
                ids.add(candidate)
    return ids
