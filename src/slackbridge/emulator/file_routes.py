"""File bytes over HTTP: the upload URL and the ``url_private`` downloads.

- ``POST /upload/v1/{file_id}/{ticket}``: the URL ``files.getUploadURLExternal`` hands out. Takes
  the raw body (or the first part of a multipart form) and answers ``200 OK - <bytes>`` as
  Slack's upload host does; an unknown or used URL answers 404.
- ``GET /files-pri/{team_id}-{file_id}/{name}`` (``url_private``) and
  ``…/download/{name}`` (``url_private_download``): need ``Authorization: Bearer`` with a token of
  the file's workspace that holds ``files:read`` and can see the file. Without a valid token
  Slack redirects to its sign-in page, and so does the emulator (302 to ``/?redirect=…``): a
  client that follows redirects gets an HTML page instead of the file, exactly the surprise
  Slack gives. A valid token that may not see the file gets 403.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.ops import base_url
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.webapi.common import can_see
from slackbridge.emulator.webapi.files import can_read_file

__all__ = ["routes"]


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emulator
    return state


async def _upload(request: Request) -> Response:
    state = _state(request)
    file = state.files.get(request.path_params["file_id"])
    ticket = request.path_params["ticket"]
    if file is None or file.upload_ticket is None or file.upload_ticket != ticket:
        return PlainTextResponse("Not Found", status_code=404)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form()
        try:
            part = next((v for _, v in form.multi_items() if isinstance(v, UploadFile)), None)
            data = await part.read() if part is not None else b""
        finally:
            await form.close()
    else:
        data = await request.body()
    file.content = data
    file.completed = True
    return PlainTextResponse(f"OK - {len(data)}")


async def _download(request: Request) -> Response:
    state = _state(request)
    team_id = request.path_params["team_id"]
    file = state.files.get(request.path_params["file_id"])
    if file is None or file.team_id != team_id or not file.completed:
        return PlainTextResponse("Not Found", status_code=404)
    header = request.headers.get("authorization", "")
    scheme, _, raw = header.partition(" ")
    token = state.tokens.get(raw.strip()) if scheme.lower() == "bearer" else None
    usable = (
        token is not None
        and not token.revoked
        and (token.expires_at is None or token.expires_at > state.now())
    )
    if token is None or not usable:
        target = quote(request.url.path)
        return RedirectResponse(f"{base_url(state)}/?redirect={target}", status_code=302)
    ws = state.workspaces.get(team_id)
    user = ws.users.get(token.user_id or "") if ws else None
    if ws is None or user is None or "files:read" not in token.scopes:
        return PlainTextResponse("Forbidden", status_code=403)
    visible = [can_see(ws.channels[c], user) for c in file.channels if c in ws.channels]
    if not can_read_file(file, user, visible):
        return PlainTextResponse("Forbidden", status_code=403)
    headers = {}
    if request.path_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{quote(file.name)}"'
    return Response(file.content, media_type=file.mimetype, headers=headers)


async def _download_attachment(request: Request) -> Response:
    request.path_params["download"] = True
    return await _download(request)


def routes() -> list[BaseRoute]:
    return [
        Route("/upload/v1/{file_id}/{ticket}", _upload, methods=["POST"]),
        Route(
            "/files-pri/{team_id}-{file_id}/download/{name}",
            _download_attachment,
            methods=["GET"],
        ),
        Route("/files-pri/{team_id}-{file_id}/{name}", _download, methods=["GET"]),
    ]
