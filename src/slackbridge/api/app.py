"""The product REST API: a FastAPI app mounted at ``/api/v1`` (a gateway part, via ``mounts``).

Its OpenAPI document is served at ``/api/v1/openapi.json``; docs/api.md is generated from it
(``scripts/gen_api_docs.py``). Every route needs a Bearer API
key (:mod:`slackbridge.api.auth`); every error answers ``{"error": {"code", "message"}}``
(:mod:`slackbridge.api.errors`). Writes to Slack are queued in the outbox and answered
202 with an operation id; the sender (:mod:`slackbridge.slack.outbound.sender`) delivers them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request

from slackbridge import __version__
from slackbridge.api import (
    bridge_links,
    commands,
    conversation_messages,
    conversations,
    file_content,
    files,
    messages,
    responses,
    slack,
    users,
    views,
    webhooks,
    workspaces,
)
from slackbridge.api.errors import ApiError, install_error_handlers
from slackbridge.api.limits import BodyLimit
from slackbridge.api.schemas_ops import (
    MAX_BODY_BYTES,
    MAX_UPLOAD_BODY_BYTES,
    FileUploadRequest,
)

__all__ = ["API_PREFIX", "api_app", "create_api_app", "mounts", "router"]

API_PREFIX = "/api/v1"

_DESCRIPTION = """\
slackbridge's product API: workspaces, messages, files, views, command responses, users and a
pass-through to any Slack Web API method. Authenticate with `Authorization: Bearer <API key>`.
Writes are queued (202 with an operation id) and delivered within Slack's rate limits, in order
per channel and thread; follow them at `GET /messages/{id}` or through the `message.delivered`
and `message.failed` webhooks. Errors are `{"error": {"code": "...", "message": "..."}}`.
"""


def create_api_app() -> FastAPI:
    """A new instance of the API app (the gateway mounts :data:`api_app`)."""
    app = FastAPI(
        title="slackbridge product API",
        version=__version__,
        description=_DESCRIPTION,
        openapi_url="/openapi.json",
        # No Swagger page: it loads its scripts from a CDN, and slackbridge must work offline.
        # docs/api.md is the reference, generated from the same OpenAPI document.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # A bigger body is refused (413) before it is read into memory; /files allows more.
    app.add_middleware(
        BodyLimit,
        limit=MAX_BODY_BYTES,
        limits={files.UPLOAD_PATH: MAX_UPLOAD_BODY_BYTES},
        # A conversation's message may carry files.
        pattern_limits={r"/conversations/[^/]+/messages": MAX_UPLOAD_BODY_BYTES},
    )
    for module in (
        workspaces,
        users,
        messages,
        files,
        views,
        responses,
        slack,
        webhooks,
        commands,
        file_content,
    ):
        app.include_router(module.router)
    app.include_router(conversations.router)
    app.include_router(conversation_messages.router)
    app.include_router(bridge_links.links_router)
    app.include_router(bridge_links.watched_router)

    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            # The upload route reads its body itself (JSON or multipart); publish its JSON schema.
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["FileUploadRequest"] = FileUploadRequest.model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


api_app = create_api_app()

#: Gateway part hook: the API under /api/v1.
mounts = [(API_PREFIX, api_app)]


class _PathWithNewline(Convertor[str]):
    """Matches a path only if it holds a (decoded) newline, which a mount's pattern can't."""

    regex = r"[^\n]*\n[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("path_with_newline", _PathWithNewline())

#: Gateway part hook: answers, in the API's error shape, the /api/v1 paths the mount can't match.
router = APIRouter()


@router.api_route(
    API_PREFIX + "/{rest:path_with_newline}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    include_in_schema=False,
)
async def _unroutable(request: Request, rest: str) -> JSONResponse:
    return JSONResponse(ApiError("not_found").body(), status_code=404)
