"""Control API endpoints for acting toward apps and watching what was delivered to them.

``POST /_emulator/commands``, ``/actions``, ``/views/submit``, ``/views/close``, ``/shortcuts``,
``/options``; ``GET /_emulator/deliveries`` (filters ``app_id``, ``kind``, ``status``,
``team_id``) and ``GET /_emulator/deliveries/{id}``; ``POST /_emulator/apps/{app_id}/uninstall``
and ``POST /_emulator/apps/{app_id}/app_tokens``. Bodies are JSON; errors are
``{"ok": false, "error", "detail"}`` with a 4xx status.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.installs import uninstall
from slackbridge.emulator.interaction_common import ControlError
from slackbridge.emulator.interactive import click_action, run_command
from slackbridge.emulator.interactive_views import (
    close_modal,
    load_options,
    run_shortcut,
    submit_view,
)
from slackbridge.emulator.outbound import Outbound, outbound_of
from slackbridge.emulator.state import AppToken

__all__ = ["routes"]

_KINDS = ("event", "command", "interactive", "options", "url_verification")
_STATUSES = ("pending", "delivered", "failed")


def _error(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error, "detail": detail}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ControlError(400, "invalid_json", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise ControlError(400, "invalid_json", "the body must be a JSON object")
    return body


def _acting(
    action: Callable[[Outbound, dict[str, Any]], Awaitable[dict[str, Any]]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        out = outbound_of(request)
        if out.state.base_url is None:
            # Response URLs handed to apps must point where this emulator is reached.
            out.state.base_url = str(request.base_url).rstrip("/")
        try:
            body = await _json_body(request)
            return JSONResponse(await action(out, body))
        except ControlError as exc:
            return _error(exc.status, exc.error, exc.detail)

    return endpoint


async def _deliveries(request: Request) -> Response:
    q = request.query_params
    kind, status = q.get("kind") or None, q.get("status") or None
    if kind is not None and kind not in _KINDS:
        return _error(400, "invalid_kind", f"kind must be one of {', '.join(_KINDS)}")
    if status is not None and status not in _STATUSES:
        return _error(400, "invalid_status", f"status must be one of {', '.join(_STATUSES)}")
    records = outbound_of(request).deliverer.records(
        app_id=q.get("app_id") or None, kind=kind, status=status, team_id=q.get("team_id") or None
    )
    return JSONResponse({"ok": True, "deliveries": [d.to_json() for d in records]})


async def _delivery(request: Request) -> Response:
    found = outbound_of(request).deliverer.get(request.path_params["delivery_id"])
    if found is None:
        return _error(404, "delivery_not_found", "no delivery with that id")
    return JSONResponse({"ok": True, "delivery": found.to_json()})


async def _uninstall(request: Request) -> Response:
    out = outbound_of(request)
    app_id = request.path_params["app_id"]
    try:
        body = await _json_body(request)
    except ControlError as exc:
        return _error(exc.status, exc.error, exc.detail)
    if app_id not in out.state.apps:
        return _error(404, "app_not_found", f"no app {app_id}")
    team_id = body.get("team_id")
    if not isinstance(team_id, str):
        return _error(400, "invalid_arguments", "team_id is required")
    try:
        inst = uninstall(out.state, app_id, team_id)
    except LookupError:
        return _error(404, "not_installed", f"{app_id} is not installed in {team_id}")
    return JSONResponse({"ok": True, "app_id": app_id, "team_id": team_id, "status": inst.status})


async def _app_token(request: Request) -> Response:
    out = outbound_of(request)
    app = out.state.apps.get(request.path_params["app_id"])
    if app is None:
        return _error(404, "app_not_found", f"no app {request.path_params['app_id']}")
    try:
        body = await _json_body(request)
    except ControlError as exc:
        return _error(exc.status, exc.error, exc.detail)
    scopes = body.get("scopes", ["connections:write"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        return _error(400, "invalid_scopes", "scopes must be a list of scope names")
    digits = f"{secrets.randbelow(10**13):013d}"
    token = f"xapp-1-{app.id}-{digits}-{secrets.token_hex(32)}"
    out.state.app_tokens[token] = AppToken(token=token, app_id=app.id, scopes=list(scopes))
    app.app_tokens.append(token)
    return JSONResponse({"ok": True, "app_id": app.id, "token": token, "scopes": scopes})


def routes() -> list[BaseRoute]:
    """The control endpoints for commands, interactivity, deliveries and app lifecycle."""
    return [
        Route("/_emulator/commands", _acting(run_command), methods=["POST"]),
        Route("/_emulator/actions", _acting(click_action), methods=["POST"]),
        Route("/_emulator/views/submit", _acting(submit_view), methods=["POST"]),
        Route("/_emulator/views/close", _acting(close_modal), methods=["POST"]),
        Route("/_emulator/shortcuts", _acting(run_shortcut), methods=["POST"]),
        Route("/_emulator/options", _acting(load_options), methods=["POST"]),
        Route("/_emulator/deliveries", _deliveries, methods=["GET"]),
        Route("/_emulator/deliveries/{delivery_id}", _delivery, methods=["GET"]),
        Route("/_emulator/apps/{app_id}/uninstall", _uninstall, methods=["POST"]),
        Route("/_emulator/apps/{app_id}/app_tokens", _app_token, methods=["POST"]),
    ]
