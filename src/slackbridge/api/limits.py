"""A limit on the size of the API's request bodies (pure ASGI middleware).

A body over the limit is refused with 413 ``payload_too_large`` in the API's error shape: at
once when its ``Content-Length`` says so, else as soon as the bytes received pass the limit
(a chunked body), so an oversized request is never read into memory whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fastapi import HTTPException
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slackbridge.api.errors import ApiError

__all__ = ["BodyLimit", "BodyTooLarge"]


class BodyTooLarge(HTTPException):
    """Raised while the body is read (FastAPI passes HTTP exceptions on to the handlers)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))


def _message(limit: int) -> str:
    return f"the request body is larger than this route's limit of {limit} bytes"


def _declared_length(scope: Scope) -> int | None:
    raw = Headers(scope=scope).get("content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


class BodyLimit:
    """Refuse bodies over ``limit`` bytes; ``limits`` sets other limits per route path (the path
    inside the app, e.g. ``/files``), ``pattern_limits`` per path pattern (a regular expression the
    whole path matches)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        limits: Mapping[str, int] | None = None,
        pattern_limits: Mapping[str, int] | None = None,
    ):
        self.app = app
        self.limit = limit
        self.limits = dict(limits or {})
        self.pattern_limits = [(re.compile(p), n) for p, n in (pattern_limits or {}).items()]

    def limit_for(self, scope: Scope) -> int:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        inner = path[len(root) :] if root and path.startswith(root) else path
        inner = inner.rstrip("/") or "/"
        for pattern, limit in self.pattern_limits:
            if pattern.fullmatch(inner):
                return limit
        return self.limits.get(inner, self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            body = ApiError("payload_too_large", _message(limit)).body()
            await JSONResponse(body, status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)
