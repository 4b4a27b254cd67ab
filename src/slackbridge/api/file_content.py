"""``GET /api/v1/files/{team_id}/{file_id}/content``: a Slack file's bytes, for the product.

Slack serves a file's bytes at its ``url_private`` only to a request carrying a token of the
workspace; the product has none, so the conversation webhooks name this route instead
(``download_url``). The gateway asks ``files.info`` for the file (within the shared rate limits,
with the workspace's bot token), then streams ``url_private`` to the caller chunk by chunk:
``Content-Type`` and ``Content-Length`` pass through, and the file is never held in memory
whole. A file Slack doesn't know (or that the app can't see) is 404 ``file_not_found``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse

from slackbridge.api.auth import ReadCaller
from slackbridge.api.common import call_slack, slack_refusal
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import TeamId
from slackbridge.runtime import gateway_of
from slackbridge.slack.workspaces.tokens import bot_token

__all__ = ["CHUNK_BYTES", "router"]

_log = logging.getLogger("slackbridge.bridge.files")

#: Bytes read from Slack and written to the caller at a time.
CHUNK_BYTES = 64 * 1024
_NOT_FOUND = frozenset({"file_not_found", "file_deleted"})
_PASSED_HEADERS = ("content-type", "content-length", "content-disposition", "last-modified")

router = APIRouter(prefix="/files", tags=["files"])

FileIdPath = Annotated[
    str,
    Path(
        pattern=r"^F[A-Z0-9]{2,40}$",
        description="the Slack file id (F…), as in a webhook's files[].id",
    ),
]


@router.get(
    "/{team_id}/{file_id}/content",
    summary="Download a Slack file",
    response_class=StreamingResponse,
    responses={
        200: {"description": "the file's bytes", "content": {"application/octet-stream": {}}},
        **error_responses(
            "file_not_found",
            "workspace_forbidden",
            "workspace_not_found",
            "rate_limited",
            "slack_unavailable",
            "workspace_disconnected",
            "workspace_uninstalled",
        ),
    },
)
async def file_content(
    request: Request,
    caller: ReadCaller,
    team_id: Annotated[TeamId, Path(description="the Slack workspace id (T…)")],
    file_id: FileIdPath,
) -> StreamingResponse:
    """The bytes of a file shared in Slack (``download_url`` in the conversation webhooks),
    streamed from Slack's ``url_private`` with the workspace's bot token."""
    gateway = gateway_of(request)
    outcome = await call_slack(
        gateway, team_id, "files.info", {"file": file_id}, caller=caller, form=True
    )
    if outcome.disposition != "done":
        if outcome.code in _NOT_FOUND:
            raise ApiError("file_not_found", f"Slack knows no file {file_id} in {team_id}")
        raise slack_refusal(outcome, "files.info")
    info = outcome.data.get("file")
    url = (
        info.get("url_private_download") or info.get("url_private")
        if isinstance(info, dict)
        else None
    )
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ApiError("file_not_found", f"{file_id} has no downloadable content")
    creds = await bot_token(gateway, team_id)
    client = httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=60.0), follow_redirects=False)
    try:
        upstream = await client.send(
            client.build_request("GET", url, headers={"Authorization": f"Bearer {creds.token}"}),
            stream=True,
        )
    except httpx.HTTPError as exc:
        await client.aclose()
        _log.info("downloading %s from Slack failed: %r", file_id, exc)
        raise ApiError("slack_unavailable", "Slack's file host could not be reached") from None
    if upstream.status_code != 200:
        await upstream.aclose()
        await client.aclose()
        if upstream.status_code in (403, 404, 410):
            raise ApiError("file_not_found", f"Slack refused {file_id} ({upstream.status_code})")
        # A redirect is Slack's sign-in page: the token was not accepted for this file.
        raise ApiError("slack_unavailable", f"Slack's file host answered {upstream.status_code}")
    headers = {k: upstream.headers[k] for k in _PASSED_HEADERS if k in upstream.headers}

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw(CHUNK_BYTES):
                yield chunk
        finally:
            await upstream.aclose()
            await client.aclose()

    media = headers.pop("content-type", "application/octet-stream")
    return StreamingResponse(body(), media_type=media, headers=headers)
