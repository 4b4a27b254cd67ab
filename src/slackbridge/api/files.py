"""``/files``: upload a file and share it into a channel or thread (queued, 202).

The body is JSON (:class:`~slackbridge.api.schemas_ops.FileUploadRequest`, the content
base64) or ``multipart/form-data`` with the same fields and the bytes in a ``file`` part. The
sender carries out Slack's external upload flow (see
:mod:`slackbridge.slack.outbound.outbox_files`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from slackbridge.api.auth import WriteCaller
from slackbridge.api.common import (
    IdempotencyKey,
    Operation,
    enqueue,
    referenced,
    request_digest,
)
from slackbridge.api.errors import ApiError, error_responses, validation_failure
from slackbridge.api.schemas import Accepted
from slackbridge.api.schemas_ops import MAX_FILE_BYTES, FileUploadRequest
from slackbridge.runtime import gateway_of
from slackbridge.store.repositories.outbox import outbox_lane

__all__ = ["UPLOAD_PATH", "router"]

#: The upload route's path (inside the API); its bodies may be larger than other routes'.
UPLOAD_PATH = "/files"
router = APIRouter(prefix=UPLOAD_PATH, tags=["files"])

_MULTIPART_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["workspace", "file"],
    "properties": {
        "workspace": {"type": "string", "pattern": r"^[TE][A-Z0-9]{2,31}$"},
        "app_id": {"type": "string", "pattern": r"^A[A-Z0-9]{2,31}$"},
        "channel": {"type": "string", "pattern": r"^[CDGUW][A-Z0-9]{2,31}$"},
        "thread_ts": {"type": "string", "pattern": r"^\d{10}\.\d{6}$"},
        "reply_to": {"type": "string", "pattern": r"^msg_[A-Za-z0-9]{1,60}$"},
        "filename": {"type": "string", "maxLength": 255},
        "title": {"type": "string", "maxLength": 255},
        "alt_text": {"type": "string", "maxLength": 1000},
        "initial_comment": {"type": "string", "maxLength": 40000},
        "snippet_type": {"type": "string", "pattern": r"^[a-z0-9_+\-]{1,40}$"},
        "file": {"type": "string", "format": "binary"},
    },
}
_FIELDS = tuple(k for k in _MULTIPART_SCHEMA["properties"] if k != "file")


# Parsing, checking and digesting a 10 MiB upload takes a good part of a second of CPU: it runs
# in a thread, so that the event loop (Slack's 3-second acks among its work) keeps going.


def _validated(data: object) -> FileUploadRequest:
    try:
        return FileUploadRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_failure(exc.errors()) from None


def _parse_json(raw: bytes) -> FileUploadRequest:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError("invalid_request", "the body is not valid JSON") from None
    return _validated(data)


def _with_content(data: dict[str, Any], content: bytes) -> FileUploadRequest:
    return _validated({**data, "content_base64": base64.b64encode(content).decode()})


def _checked_digest(body: FileUploadRequest) -> str:
    """The request's digest, once its content is known to decode and to fit."""
    try:
        size = len(base64.b64decode(body.content_base64, validate=True))
    except (binascii.Error, ValueError):
        raise ApiError("invalid_request", "content_base64: not valid base64") from None
    if size > MAX_FILE_BYTES:
        raise ApiError("payload_too_large", f"files are limited to {MAX_FILE_BYTES} bytes")
    return request_digest("files.upload", body)


async def _from_json(request: Request) -> FileUploadRequest:
    raw = await request.body()  # at most MAX_UPLOAD_BODY_BYTES (limits.BodyLimit)
    return await asyncio.to_thread(_parse_json, raw)


async def _from_form(request: Request) -> FileUploadRequest:
    async with request.form(max_files=1, max_fields=len(_FIELDS) + 1) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError("invalid_request", "file: a multipart part named 'file' is required")
        content = await upload.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise ApiError("payload_too_large", f"files are limited to {MAX_FILE_BYTES} bytes")
        data: dict[str, Any] = {}
        for name in _FIELDS:
            value = form.get(name)
            if isinstance(value, str) and value != "":
                data[name] = value
        data.setdefault("filename", upload.filename or "file")
    return await asyncio.to_thread(_with_content, data, content)


@router.post(
    "",
    status_code=202,
    summary="Upload a file",
    responses=error_responses(
        "workspace_forbidden",
        "workspace_not_found",
        "message_not_found",
        "idempotency_conflict",
        "payload_too_large",
        "unsupported_media_type",
        "workspace_disconnected",
        "workspace_uninstalled",
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/FileUploadRequest"}},
                "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
            },
        }
    },
)
async def upload_file(
    request: Request, caller: WriteCaller, idempotency_key: IdempotencyKey = None
) -> Accepted:
    """Queue a file upload, shared into ``channel`` (and ``thread_ts`` or ``reply_to``)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json":
        body = await _from_json(request)
    elif media == "multipart/form-data":
        body = await _from_form(request)
    else:
        raise ApiError(
            "unsupported_media_type", "send application/json (base64) or multipart/form-data"
        )
    digest = await asyncio.to_thread(_checked_digest, body)
    gateway = gateway_of(request)
    lane = outbox_lane(body.workspace, body.channel, body.thread_ts)
    if body.reply_to is not None:
        root = await referenced(gateway, body.reply_to, body.workspace, caller=caller)
        if root.method != "chat.postMessage" or root.payload.get("channel") != body.channel:
            raise ApiError("invalid_request", f"{body.reply_to} is not a message in {body.channel}")
        lane = root.lane_key
    spec = {
        "filename": body.filename,
        "title": body.title,
        "alt_text": body.alt_text,
        "snippet_type": body.snippet_type,
        "initial_comment": body.initial_comment,
        "content_b64": body.content_base64,
    }
    operation = Operation(
        method="files.upload",
        team_id=body.workspace,
        app_id=body.app_id,
        lane_key=lane,
        channel=body.channel,
        thread_ts=body.thread_ts,
        ref=body.reply_to,
        extra={"file": spec},
    )
    return await enqueue(
        gateway,
        caller,
        operation,
        digest=digest,
        idempotency_key=idempotency_key,
    )
