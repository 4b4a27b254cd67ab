"""The conversation bridge's product API, as the example products call it.

The routes and shapes are those of the bridge's contract (``/api/v1/conversations``, the
messages under each conversation, ``/api/v1/user-links``, ``/api/v1/watched-channels``; see
docs/bridge.md). The methods carry the names of the typed client's (``conversations.put``,
``.post``, ``.edit``, ``.delete_message``, ``.close``, …) and go through
:meth:`slackbridge.client.Slackbridge.request`, so an error answer raises the client's
:class:`~slackbridge.client.SlackbridgeError`; answers are the API's JSON objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from slackbridge.client import Slackbridge

__all__ = ["BridgeApi", "ConversationsApi", "UserLinksApi", "WatchedChannelsApi"]

Json = dict[str, Any]


def _seg(value: str) -> str:
    return quote(value, safe="")


def _drop_none(**fields: Any) -> Json:
    return {k: v for k, v in fields.items() if v is not None}


class ConversationsApi:
    """``/api/v1/conversations``: conversations and their messages."""

    def __init__(self, client: Slackbridge) -> None:
        self._client = client

    async def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Json:
        answer = await self._client.request(
            method, path, json=body, params=_drop_none(**params) or None
        )
        return dict(answer) if isinstance(answer, Mapping) else {}

    async def put(
        self,
        key: str,
        *,
        workspace: str,
        mode: Literal["still", "noisy"],
        channel: str | None = None,
        card: Mapping[str, Any] | None = None,
        channel_name: str | None = None,
        invite: Sequence[str] | None = None,
        title: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        adopt: Mapping[str, str] | None = None,
    ) -> Json:
        body = _drop_none(
            workspace=workspace,
            mode=mode,
            channel=channel,
            card=dict(card) if card is not None else None,
            channel_name=channel_name,
            invite=list(invite) if invite is not None else None,
            title=title,
            metadata=dict(metadata) if metadata is not None else None,
            adopt=dict(adopt) if adopt is not None else None,
        )
        return await self._call("PUT", f"/conversations/{_seg(key)}", body)

    async def get(self, key: str) -> Json:
        return await self._call("GET", f"/conversations/{_seg(key)}")

    async def list(
        self,
        *,
        workspace: str | None = None,
        state: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Json:
        return await self._call(
            "GET", "/conversations", workspace=workspace, state=state, limit=limit, cursor=cursor
        )

    async def close(self, key: str, message: str | None = None) -> Json:
        return await self._call("POST", f"/conversations/{_seg(key)}/close", {"message": message})

    async def reopen(self, key: str) -> Json:
        return await self._call("POST", f"/conversations/{_seg(key)}/reopen", {})

    async def post(
        self,
        key: str,
        *,
        id: str,
        author: Mapping[str, Any],
        text: str | None = None,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        files: Sequence[Mapping[str, Any]] | None = None,
        broadcast: bool = False,
    ) -> Json:
        body = _drop_none(
            id=id,
            author=dict(author),
            text=text,
            blocks=[dict(b) for b in blocks] if blocks is not None else None,
            files=[dict(f) for f in files] if files is not None else None,
        )
        body["broadcast"] = broadcast
        return await self._call("POST", f"/conversations/{_seg(key)}/messages", body)

    async def get_message(self, key: str, id: str) -> Json:
        return await self._call("GET", f"/conversations/{_seg(key)}/messages/{_seg(id)}")

    async def edit(
        self,
        key: str,
        id: str,
        *,
        text: str | None = None,
        blocks: Sequence[Mapping[str, Any]] | None = None,
    ) -> Json:
        body = {"text": text, "blocks": [dict(b) for b in blocks] if blocks is not None else None}
        return await self._call("PATCH", f"/conversations/{_seg(key)}/messages/{_seg(id)}", body)

    async def delete_message(self, key: str, id: str) -> Json:
        return await self._call("DELETE", f"/conversations/{_seg(key)}/messages/{_seg(id)}")

    async def react(self, key: str, id: str, name: str) -> Json:
        path = f"/conversations/{_seg(key)}/messages/{_seg(id)}/reactions"
        return await self._call("POST", path, {"name": name})

    async def unreact(self, key: str, id: str, name: str) -> Json:
        path = f"/conversations/{_seg(key)}/messages/{_seg(id)}/reactions/{_seg(name)}"
        return await self._call("DELETE", path)


class UserLinksApi:
    """``/api/v1/user-links``: a product user tied to a Slack user (by id or email)."""

    def __init__(self, client: Slackbridge) -> None:
        self._client = client

    async def put(
        self,
        product_user: str,
        *,
        workspace: str,
        email: str | None = None,
        slack_user: str | None = None,
    ) -> Json:
        body = {"workspace": workspace, "email": email, "slack_user": slack_user}
        answer = await self._client.request("PUT", f"/user-links/{_seg(product_user)}", json=body)
        return dict(answer) if isinstance(answer, Mapping) else {}


class WatchedChannelsApi:
    """``/api/v1/watched-channels``: channels where Slack opens conversations."""

    def __init__(self, client: Slackbridge) -> None:
        self._client = client

    async def put(
        self,
        channel: str,
        *,
        workspace: str,
        open_on: Literal["message", "reaction"] = "message",
        reaction: str | None = None,
    ) -> Json:
        body = {"workspace": workspace, "open_on": open_on, "reaction": reaction, "mode": "still"}
        answer = await self._client.request("PUT", f"/watched-channels/{_seg(channel)}", json=body)
        return dict(answer) if isinstance(answer, Mapping) else {}


class BridgeApi:
    """The bridge's resources on ``client``: ``.conversations``, ``.user_links``,
    ``.watched_channels``; :meth:`file` reads a file a webhook pointed at."""

    def __init__(self, client: Slackbridge) -> None:
        self.client = client
        self.conversations = ConversationsApi(client)
        self.user_links = UserLinksApi(client)
        self.watched_channels = WatchedChannelsApi(client)
