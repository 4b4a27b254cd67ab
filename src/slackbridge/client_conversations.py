"""The conversation bridge's resources of :class:`slackbridge.client.Slackbridge`
(docs/bridge.md): ``sb.conversations``, ``sb.user_links``, ``sb.watched_channels``.

::

    conv = await sb.conversations.put(
        "ticket-42", workspace="T0ACME0001", mode="still", channel="C0ACME0SUP",
        card={"text": "Ticket 42: the printer is on fire"},
    )
    conv = await sb.conversations.wait_open("ticket-42")        # channel and thread_ts known
    await sb.conversations.post(
        "ticket-42", id="m-1", author={"persona": {"name": "Dana (support)"}}, text="On it"
    )
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel

from slackbridge.api.schemas_bridge import (
    Author,
    BridgeMessage,
    Card,
    Conversation,
    ConversationList,
    MessageFile,
    UserLink,
    WatchedChannel,
    WatchedChannelList,
)

if TYPE_CHECKING:
    from slackbridge.client import Slackbridge

__all__ = [
    "Author",
    "BridgeMessage",
    "Card",
    "Conversation",
    "Conversations",
    "MessageFile",
    "UserLink",
    "UserLinks",
    "WatchedChannel",
    "WatchedChannels",
]

FileSpec = MessageFile | Mapping[str, Any] | tuple[str, bytes]


def _seg(value: str) -> str:
    """``value`` as one URL path segment (``.`` and ``..`` would be resolved away, reaching
    another route)."""
    if value in ("", ".", ".."):
        raise ValueError(f"{value!r} can't be a key or an id")
    return quote(value, safe="")


def _json(value: Any) -> Any:
    return value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value


def _file(spec: FileSpec) -> dict[str, Any]:
    """A file for a message: a :class:`MessageFile`, its JSON, or ``(filename, bytes)``."""
    if isinstance(spec, tuple):
        filename, content = spec
        return {"filename": filename, "content_base64": base64.b64encode(content).decode()}
    return dict(_json(spec))


class _Bridge:
    def __init__(self, client: Slackbridge) -> None:
        self._client = client


class Conversations(_Bridge):
    """``/conversations``: conversations and their messages."""

    async def put(
        self,
        key: str,
        *,
        workspace: str,
        mode: Literal["still", "noisy"] = "still",
        channel: str | None = None,
        card: Card | Mapping[str, Any] | None = None,
        channel_name: str | None = None,
        invite: Sequence[str] | None = None,
        private: bool | None = None,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        adopt: Mapping[str, Any] | None = None,
    ) -> Conversation:
        """Create the conversation under ``key``, or get it when it exists (idempotent)."""
        fields = {
            "workspace": workspace,
            "mode": mode,
            "channel": channel,
            "card": _json(card),
            "channel_name": channel_name,
            "invite": list(invite) if invite is not None else None,
            "private": private,
            "title": title,
            "metadata": dict(metadata) if metadata is not None else None,
            "adopt": dict(adopt) if adopt is not None else None,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        data = await self._client.request("PUT", f"/conversations/{_seg(key)}", json=body)
        return Conversation.model_validate(data)

    async def get(self, key: str) -> Conversation:
        data = await self._client.request("GET", f"/conversations/{_seg(key)}")
        return Conversation.model_validate(data)

    async def list(
        self,
        *,
        workspace: str | None = None,
        state: Literal["creating", "open", "closed", "failed"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ConversationList:
        """One page (``next_cursor`` names the next)."""
        params = {"workspace": workspace, "state": state, "limit": limit, "cursor": cursor}
        data = await self._client.request(
            "GET", "/conversations", params={k: v for k, v in params.items() if v is not None}
        )
        return ConversationList.model_validate(data)

    async def close(self, key: str, message: str | None = None) -> Conversation:
        body = {"message": message} if message is not None else {}
        data = await self._client.request("POST", f"/conversations/{_seg(key)}/close", json=body)
        return Conversation.model_validate(data)

    async def reopen(self, key: str) -> Conversation:
        data = await self._client.request("POST", f"/conversations/{_seg(key)}/reopen", json={})
        return Conversation.model_validate(data)

    async def wait_open(self, key: str, *, within: float = 30.0) -> Conversation:
        """Poll until Slack has answered (``open`` or ``failed``; or a close that came first)."""
        deadline = time.monotonic() + within
        while True:
            conversation = await self.get(key)
            placed = conversation.channel is not None and (
                conversation.mode == "noisy" or conversation.thread_ts is not None
            )
            if conversation.state == "failed" or (conversation.state != "creating" and placed):
                return conversation
            if time.monotonic() > deadline:
                raise TimeoutError(f"conversation {key!r} is still {conversation.state}")
            await asyncio.sleep(0.1)

    async def post(
        self,
        key: str,
        *,
        id: str,
        author: Author | Mapping[str, Any],
        text: str | None = None,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        files: Sequence[FileSpec] | None = None,
        broadcast: bool = False,
    ) -> BridgeMessage:
        """Queue the product's message ``id`` (idempotent) in the conversation."""
        body: dict[str, Any] = {"id": id, "author": _json(author), "broadcast": broadcast}
        if text is not None:
            body["text"] = text
        if blocks is not None:
            body["blocks"] = [dict(b) for b in blocks]
        if files:
            body["files"] = [_file(f) for f in files]
        data = await self._client.request("POST", f"/conversations/{_seg(key)}/messages", json=body)
        return BridgeMessage.model_validate(data)

    def _message_path(self, key: str, id: str) -> str:
        return f"/conversations/{_seg(key)}/messages/{_seg(id)}"

    async def get_message(self, key: str, id: str) -> BridgeMessage:
        data = await self._client.request("GET", self._message_path(key, id))
        return BridgeMessage.model_validate(data)

    async def wait_message(self, key: str, id: str, *, within: float = 30.0) -> BridgeMessage:
        """Poll until the message is ``sent`` (with its ts) or ``failed``."""
        deadline = time.monotonic() + within
        while True:
            message = await self.get_message(key, id)
            if message.state != "queued":
                return message
            if time.monotonic() > deadline:
                raise TimeoutError(f"message {id!r} of {key!r} is still queued")
            await asyncio.sleep(0.1)

    async def edit(
        self,
        key: str,
        id: str,
        *,
        text: str | None = None,
        blocks: Sequence[Mapping[str, Any]] | None = None,
    ) -> BridgeMessage:
        body: dict[str, Any] = {}
        if text is not None:
            body["text"] = text
        if blocks is not None:
            body["blocks"] = [dict(b) for b in blocks]
        data = await self._client.request("PATCH", self._message_path(key, id), json=body)
        return BridgeMessage.model_validate(data)

    async def delete_message(self, key: str, id: str) -> BridgeMessage:
        data = await self._client.request("DELETE", self._message_path(key, id))
        return BridgeMessage.model_validate(data)

    async def react(self, key: str, id: str, name: str) -> BridgeMessage:
        data = await self._client.request(
            "POST", self._message_path(key, id) + "/reactions", json={"name": name}
        )
        return BridgeMessage.model_validate(data)

    async def unreact(self, key: str, id: str, name: str) -> BridgeMessage:
        data = await self._client.request(
            "DELETE", self._message_path(key, id) + f"/reactions/{_seg(name)}"
        )
        return BridgeMessage.model_validate(data)


class UserLinks(_Bridge):
    """``/user-links``: the product's users linked to Slack users."""

    async def put(
        self,
        product_user: str,
        *,
        workspace: str,
        email: str | None = None,
        slack_user: str | None = None,
    ) -> UserLink:
        body = {"workspace": workspace, "email": email, "slack_user": slack_user}
        data = await self._client.request(
            "PUT",
            f"/user-links/{_seg(product_user)}",
            json={k: v for k, v in body.items() if v is not None},
        )
        return UserLink.model_validate(data)

    async def get(self, product_user: str, *, workspace: str) -> UserLink:
        data = await self._client.request(
            "GET", f"/user-links/{_seg(product_user)}", params={"workspace": workspace}
        )
        return UserLink.model_validate(data)


class WatchedChannels(_Bridge):
    """``/watched-channels``: channels whose messages open conversations."""

    async def put(
        self,
        channel: str,
        *,
        workspace: str,
        open_on: Literal["message", "reaction"] = "message",
        reaction: str | None = None,
    ) -> WatchedChannel:
        body = {"workspace": workspace, "open_on": open_on, "reaction": reaction}
        data = await self._client.request(
            "PUT",
            f"/watched-channels/{_seg(channel)}",
            json={k: v for k, v in body.items() if v is not None},
        )
        return WatchedChannel.model_validate(data)

    async def remove(self, channel: str, *, workspace: str) -> None:
        await self._client.request_empty(
            "DELETE", f"/watched-channels/{_seg(channel)}", params={"workspace": workspace}
        )

    async def list(self, *, workspace: str | None = None) -> builtins.list[WatchedChannel]:
        params = {"workspace": workspace} if workspace else None
        data = await self._client.request("GET", "/watched-channels", params=params)
        return WatchedChannelList.model_validate(data).watched_channels
