"""Errors of the product API: one JSON shape, stable codes, the right HTTP status.

Every error answer is ``{"error": {"code": "stable_code", "message": "…"}}`` (validation errors
add ``details``, one entry per bad field). Handlers raise :class:`ApiError`; the exception
handlers installed by :func:`install_error_handlers` also turn FastAPI's own errors (validation,
unknown route, wrong method) and anything unexpected into that shape.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from slackbridge.api.schemas import ErrorResponse
from slackbridge.operations.errors import NotFound, OperationError

__all__ = [
    "ERROR_CODES",
    "ApiError",
    "error_responses",
    "install_error_handlers",
    "refusal",
    "validation_failure",
]

_log = logging.getLogger("slackbridge.api")

#: Every code the API itself answers with (HTTP status, meaning); docs/api.md lists them.
ERROR_CODES: dict[str, tuple[int, str]] = {
    "missing_api_key": (401, "no `Authorization: Bearer <key>` header"),
    "invalid_api_key": (401, "the API key is unknown or revoked"),
    "permission_denied": (403, "the API key lacks the permission (read, write, admin) needed"),
    "workspace_forbidden": (403, "the workspace is outside the API key's workspaces and refs"),
    "method_forbidden": (403, "the pass-through refuses this Web API method"),
    "response_url_forbidden": (403, "the response_url does not point at Slack"),
    "not_found": (404, "no such route"),
    "workspace_not_found": (404, "slackbridge has no installation for this workspace"),
    "app_not_found": (404, "no Slack app with this name is configured"),
    "message_not_found": (404, "no message (operation) with this id"),
    "user_not_found": (404, "Slack knows no such user in the workspace"),
    "endpoint_not_found": (404, "no webhook endpoint with this id"),
    "secret_not_found": (404, "the endpoint has no previous secret with this id"),
    "file_not_found": (404, "Slack knows no such file in the workspace (or the app can't see it)"),
    "conversation_not_found": (404, "no conversation with this key (in the key's workspaces)"),
    "method_not_allowed": (405, "the route exists but not with this HTTP method"),
    "idempotency_conflict": (409, "the Idempotency-Key was used before with a different body"),
    "secret_configured": (
        409,
        "the endpoint's secret is set in the configuration; change it there",
    ),
    "conversation_conflict": (
        409,
        "the conversation exists with another workspace, mode or channel (or its place is taken)",
    ),
    "conversation_closed": (409, "the conversation is closed; reopen it first"),
    "conversation_failed": (409, "the conversation could not be created in Slack"),
    "message_deleted": (409, "the message was deleted"),
    "user_link_conflict": (409, "the email is linked to another product user"),
    "message_not_sent": (409, "the message this refers to has not reached Slack (yet)"),
    "payload_too_large": (413, "the request body (or the file) is larger than the limit"),
    "unsupported_media_type": (415, "the body's Content-Type is not accepted here"),
    "invalid_request": (422, "the request failed validation; see details"),
    "invalid_command": (422, "a declared command can't be used; details say where"),
    "author_not_found": (422, "Slack knows no such user or email; give a persona to post as"),
    "user_token_missing": (422, "the user has not granted the app a user token"),
    "rate_limited": (429, "Slack's rate limit for this call is exhausted; see Retry-After"),
    "slack_error": (422, "Slack refused the call; details[0].slack_error is Slack's code"),
    "slack_unavailable": (503, "Slack could not be reached or failed; try again"),
    "workspace_disconnected": (503, "Slack rejected the workspace's token; reinstall the app"),
    "workspace_uninstalled": (503, "the app was uninstalled from the workspace"),
    "workspace_removed": (503, "the workspace was removed from slackbridge"),
    "internal_error": (500, "an unexpected error; the gateway's log has the details"),
}


class ApiError(Exception):
    """An error answer: ``status``, a stable ``code`` and a human ``message``."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        known_status, meaning = ERROR_CODES.get(code, (500, code))
        super().__init__(message or meaning)
        self.code = code
        self.message = message or meaning
        self.status = status or known_status
        self.headers = dict(headers or {})
        self.details = details

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers or None)


def refusal(exc: OperationError) -> ApiError:
    """The answer to an operator action's refusal: its code when the API has one (with its
    status), else ``not_found`` (404) for what doesn't exist and ``invalid_request`` (422)."""
    if exc.code in ERROR_CODES:
        return ApiError(exc.code, str(exc))
    return ApiError("not_found" if isinstance(exc, NotFound) else "invalid_request", str(exc))


async def _refused(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperationError)
    return _response(refusal(exc))


def _location(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")] or [
        str(p) for p in loc
    ]
    return ".".join(parts) or "body"


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _response(exc)


def _problem(err: Mapping[str, Any]) -> dict[str, str]:
    """One validation problem as ``{"field", "message"}``, said plainly for the body itself."""
    loc = tuple(err.get("loc", ()))
    kind = err.get("type")
    if kind == "json_invalid":
        position = f" (at character {loc[1]})" if len(loc) > 1 else ""
        reason = (err.get("ctx") or {}).get("error") or "JSON decode error"
        return {"field": "body", "message": f"the body is not valid JSON: {reason}{position}"}
    if loc == ("body",) and kind in ("model_attributes_type", "dict_type", "missing"):
        return {
            "field": "body",
            "message": "the body must be a JSON object (Content-Type: application/json)",
        }
    return {"field": _location(loc), "message": str(err.get("msg", "invalid"))}


def validation_failure(errors: Sequence[Mapping[str, Any]]) -> ApiError:
    """The 422 ``invalid_request`` for pydantic's (or FastAPI's) validation ``errors``."""
    details = [_problem(err) for err in errors]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details[:5])
    return ApiError("invalid_request", summary or None, details=details)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _response(validation_failure(exc.errors()))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    code = codes.get(exc.status_code, "invalid_request")
    # A body FastAPI cannot even parse (not UTF-8, say) is as invalid as any other: 422.
    status = 422 if exc.status_code == 400 else exc.status_code
    return _response(ApiError(code, str(exc.detail), status=status, headers=exc.headers or None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return _response(ApiError("internal_error"))


def install_error_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` answer in the API's error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(OperationError, _refused)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)


def error_responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for routes that can answer with these error ``codes``."""
    by_status: dict[int, list[str]] = {}
    always = (
        "missing_api_key",
        "invalid_api_key",
        "permission_denied",
        "invalid_request",
        "payload_too_large",
    )
    for code in dict.fromkeys((*always, *codes)):
        by_status.setdefault(ERROR_CODES[code][0], []).append(code)
    return {
        status: {
            "model": ErrorResponse,
            "description": "Error codes: " + ", ".join(f"`{c}`" for c in sorted(found)),
        }
        for status, found in sorted(by_status.items())
    }
