"""The resources of :class:`slackbridge.client.Slackbridge`, one class per API area."""

from __future__ import annotations

import asyncio
import base64
import builtins
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from pydantic import BaseModel

from slackbridge.client_models import (
    Accepted,
    InstallUrl,
    MessageMetadata,
    OperationStatus,
    Permalink,
    Persona,
    SlackUser,
    ViewResult,
    Workspace,
    WorkspaceList,
)

if TYPE_CHECKING:
    from slackbridge.client import Slackbridge

__all__ = [
    "Files",
    "Messages",
    "Responses",
    "SlackPassThrough",
    "Users",
    "Views",
    "Workspaces",
]


def _body(**fields: Any) -> dict[str, Any]:
    """A JSON body without the unset (None) fields; models become their JSON."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is None:
            continue
        out[name] = value.model_dump(exclude_none=True) if isinstance(value, BaseModel) else value
    return out


def _segment(value: str) -> str:
    """``value`` as one path segment (a stray ``/`` or ``?`` can't reach another route)."""
    return quote(value, safe="")


class _Resource:
    def __init__(self, client: Slackbridge) -> None:
        self._client = client

    async def _queue(self, path: str, body: dict[str, Any], key: str | None) -> Accepted:
        """POST a queued operation (with its Idempotency-Key); the 202 answer."""
        headers = {"Idempotency-Key": key} if key else None
        data = await self._client.request("POST", path, json=body, headers=headers)
        return Accepted.model_validate(data)


class Workspaces(_Resource):
    """``/workspaces``: installations, removal and install links."""

    async def list(
        self, status: Literal["active", "disconnected", "uninstalled", "removed"] | None = None
    ) -> builtins.list[Workspace]:
        params = {"status": status} if status else None
        data = await self._client.request("GET", "/workspaces", params=params)
        return WorkspaceList.model_validate(data).workspaces

    async def get(self, team_id: str, *, app_id: str | None = None) -> Workspace:
        params = {"app_id": app_id} if app_id else None
        data = await self._client.request("GET", f"/workspaces/{_segment(team_id)}", params=params)
        return Workspace.model_validate(data)

    async def remove(self, team_id: str, *, app: str | None = None) -> builtins.list[Workspace]:
        """Remove the workspace (its tokens revoked and deleted); needs an ``admin`` key."""
        params = {"app": app} if app else None
        data = await self._client.request(
            "DELETE", f"/workspaces/{_segment(team_id)}", params=params
        )
        return WorkspaceList.model_validate(data).workspaces

    async def install_url(
        self,
        product_ref: str | None = None,
        *,
        app: str | None = None,
        team: str | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        """The "Add to Slack" link; ``product_ref`` comes back on ``workspace.installed`` (a link
        with one is signed and expires: see :meth:`install_link` for when)."""
        link = await self.install_link(product_ref, app=app, team=team, ttl_seconds=ttl_seconds)
        return link.url

    async def install_link(
        self,
        product_ref: str | None = None,
        *,
        app: str | None = None,
        team: str | None = None,
        ttl_seconds: int | None = None,
    ) -> InstallUrl:
        """The "Add to Slack" link and when it expires (``expires_at``; links with a
        ``product_ref`` only, after ``ttl_seconds``: a day by default, at most 30 days)."""
        body = _body(product_ref=product_ref, app=app, team=team, ttl_seconds=ttl_seconds)
        data = await self._client.request("POST", "/workspaces/install-url", json=body)
        return InstallUrl.model_validate(data)


class Messages(_Resource):
    """``/messages``: queued posts, edits, deletions, ephemerals; permalinks; status."""

    async def post(
        self,
        workspace: str,
        channel: str,
        text: str | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        reply_to: str | None = None,
        reply_broadcast: bool | None = None,
        persona: Persona | Mapping[str, str] | None = None,
        as_user: str | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        mrkdwn: bool | None = None,
        metadata: MessageMetadata | Mapping[str, Any] | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Queue a message (``reply_to``: the id of a message posted through the API, to reply
        in its thread even before it reached Slack)."""
        body = _body(
            workspace=workspace,
            channel=channel,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            reply_to=reply_to,
            reply_broadcast=reply_broadcast,
            persona=dict(persona) if isinstance(persona, Mapping) else persona,
            as_user=as_user,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
            mrkdwn=mrkdwn,
            metadata=dict(metadata) if isinstance(metadata, Mapping) else metadata,
            app_id=app_id,
        )
        return await self._queue("/messages", body, idempotency_key)

    async def update(
        self,
        message_id: str | None = None,
        *,
        workspace: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
        text: str | None = None,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        metadata: MessageMetadata | Mapping[str, Any] | None = None,
        as_user: str | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Queue an edit of ``message_id`` (posted through the API) or of ``workspace`` +
        ``channel`` + ``ts``."""
        body = _body(
            message_id=message_id,
            workspace=workspace,
            channel=channel,
            ts=ts,
            text=text,
            blocks=blocks,
            attachments=attachments,
            metadata=dict(metadata) if isinstance(metadata, Mapping) else metadata,
            as_user=as_user,
            app_id=app_id,
        )
        return await self._queue("/messages/update", body, idempotency_key)

    async def delete(
        self,
        message_id: str | None = None,
        *,
        workspace: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
        as_user: str | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Queue the deletion of a message (addressed like :meth:`update`)."""
        body = _body(
            message_id=message_id,
            workspace=workspace,
            channel=channel,
            ts=ts,
            as_user=as_user,
            app_id=app_id,
        )
        return await self._queue("/messages/delete", body, idempotency_key)

    async def ephemeral(
        self,
        workspace: str,
        channel: str,
        user: str,
        text: str | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        persona: Persona | Mapping[str, str] | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Queue a message only ``user`` sees."""
        body = _body(
            workspace=workspace,
            channel=channel,
            user=user,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=thread_ts,
            persona=dict(persona) if isinstance(persona, Mapping) else persona,
            app_id=app_id,
        )
        return await self._queue("/messages/ephemeral", body, idempotency_key)

    async def permalink(
        self,
        message_id: str | None = None,
        *,
        workspace: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
    ) -> Permalink:
        body = _body(message_id=message_id, workspace=workspace, channel=channel, ts=ts)
        data = await self._client.request("POST", "/messages/permalink", json=body)
        return Permalink.model_validate(data)

    async def get(self, message_id: str) -> OperationStatus:
        """Where an operation stands (``queued``, ``sending``, ``sent``, ``failed``)."""
        data = await self._client.request("GET", f"/messages/{_segment(message_id)}")
        return OperationStatus.model_validate(data)

    async def wait(
        self, message_id: str, *, within: float = 60.0, every: float = 0.25
    ) -> OperationStatus:
        """Poll until the operation is ``sent`` or ``failed`` (TimeoutError after ``within`` s).

        Webhooks (``message.delivered`` / ``message.failed``) tell the same without polling.
        """
        deadline = time.monotonic() + within
        while True:
            status = await self.get(message_id)
            if status.status in ("sent", "failed"):
                return status
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{message_id} is still {status.status}")
            await asyncio.sleep(every)


class Files(_Resource):
    """``/files``: uploads shared into a channel or thread."""

    async def upload(
        self,
        workspace: str,
        content: bytes,
        filename: str,
        *,
        channel: str | None = None,
        thread_ts: str | None = None,
        reply_to: str | None = None,
        title: str | None = None,
        alt_text: str | None = None,
        initial_comment: str | None = None,
        snippet_type: str | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        body = _body(
            workspace=workspace,
            channel=channel,
            thread_ts=thread_ts,
            reply_to=reply_to,
            filename=filename,
            title=title,
            alt_text=alt_text,
            initial_comment=initial_comment,
            snippet_type=snippet_type,
            app_id=app_id,
            content_base64=base64.b64encode(content).decode(),
        )
        return await self._queue("/files", body, idempotency_key)


class Views(_Resource):
    """``/views``: modals (open and push are immediate) and Home tabs."""

    async def open(
        self, workspace: str, trigger_id: str, view: Mapping[str, Any], *, app_id: str | None = None
    ) -> dict[str, Any]:
        """Open a modal now; returns the view as Slack answered it (with its ``id``)."""
        body = _body(workspace=workspace, trigger_id=trigger_id, view=dict(view), app_id=app_id)
        data = await self._client.request("POST", "/views/open", json=body)
        return ViewResult.model_validate(data).view

    async def push(
        self, workspace: str, trigger_id: str, view: Mapping[str, Any], *, app_id: str | None = None
    ) -> dict[str, Any]:
        body = _body(workspace=workspace, trigger_id=trigger_id, view=dict(view), app_id=app_id)
        data = await self._client.request("POST", "/views/push", json=body)
        return ViewResult.model_validate(data).view

    async def update(
        self,
        workspace: str,
        view: Mapping[str, Any],
        *,
        view_id: str | None = None,
        external_id: str | None = None,
        hash: str | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        body = _body(
            workspace=workspace,
            view=dict(view),
            view_id=view_id,
            external_id=external_id,
            hash=hash,
            app_id=app_id,
        )
        return await self._queue("/views/update", body, idempotency_key)

    async def publish(
        self,
        workspace: str,
        user_id: str,
        view: Mapping[str, Any],
        *,
        hash: str | None = None,
        app_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        body = _body(
            workspace=workspace, user_id=user_id, view=dict(view), hash=hash, app_id=app_id
        )
        return await self._queue("/views/publish", body, idempotency_key)


class Responses(_Resource):
    """``/responses``: answers through a command's or action's ``response_url``."""

    async def send(
        self,
        workspace: str,
        response_url: str,
        text: str | None = None,
        *,
        blocks: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        response_type: Literal["in_channel", "ephemeral"] | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        thread_ts: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        body = _body(
            workspace=workspace,
            response_url=response_url,
            text=text,
            blocks=blocks,
            attachments=attachments,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            thread_ts=thread_ts,
        )
        return await self._queue("/responses", body, idempotency_key)


class Users(_Resource):
    """``/workspaces/{team_id}/users``: people, cached."""

    async def info(
        self, workspace: str, user_id: str, *, refresh: bool = False, app_id: str | None = None
    ) -> SlackUser:
        params: dict[str, Any] = {"refresh": "true"} if refresh else {}
        if app_id:
            params["app_id"] = app_id
        path = f"/workspaces/{_segment(workspace)}/users/{_segment(user_id)}"
        return SlackUser.model_validate(await self._client.request("GET", path, params=params))

    async def lookup_by_email(
        self, workspace: str, email: str, *, refresh: bool = False, app_id: str | None = None
    ) -> SlackUser:
        params: dict[str, Any] = {"email": email}
        if refresh:
            params["refresh"] = "true"
        if app_id:
            params["app_id"] = app_id
        path = f"/workspaces/{_segment(workspace)}/users"
        return SlackUser.model_validate(await self._client.request("GET", path, params=params))


class SlackPassThrough(_Resource):
    """``/slack/{team_id}/{method}``: any Web API method with the workspace's token."""

    async def call(
        self,
        workspace: str,
        method: str,
        args: Mapping[str, Any] | None = None,
        *,
        as_user: str | None = None,
        app_id: str | None = None,
    ) -> dict[str, Any]:
        """Slack's JSON answer (``ok: false`` answers are returned, not raised)."""
        params = {k: v for k, v in (("as_user", as_user), ("app_id", app_id)) if v}
        path = f"/slack/{_segment(workspace)}/{_segment(method)}"
        data = await self._client.request("POST", path, json=dict(args or {}), params=params)
        assert isinstance(data, dict)
        return data
