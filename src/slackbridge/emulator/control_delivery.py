"""Control API endpoints for acting toward apps and watching what was delivered to them.

``POST /_emulator/commands``, ``/actions``, ``/views/submit``, ``/views/close``, ``/shortcuts``,
``/options``; ``GET /_emulator/deliveries`` (filters ``app_id``, ``kind``, ``status``,
``team_id``) and ``GET /_emulator/deliveries/{id}``; ``POST /_emulator/apps/{app_id}/uninstall``
and ``POST /_emulator/apps/{app_id}/app_tokens``. Bodies are JSON; errors are
``{"ok": false, "error", "detail"}`` with a 4xx status (5xx for the unexpected).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.control_common import ControlError, endpoint, read_body
from slackbridge.emulator.installs import uninstall
from slackbridge.emulator.interactive import click_action, run_command
from slackbridge.emulator.interactive_views import (
    close_modal,
    load_options,
    run_shortcut,
    submit_view,
)
from slackbridge.emulator.outbound import Outbound, outbound_of
from slackbridge.emulator.state import App, AppToken

__all__ = ["routes"]

_KINDS = ("event", "command", "interactive", "options", "url_verification")
_STATUSES = ("pending", "delivered", "failed")


def _acting(
    action: Callable[[Outbound, dict[str, Any]], Awaitable[dict[str, Any]]],
) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    async def handler(request: Request) -> dict[str, Any]:
        out = outbound_of(request)
        if out.state.base_url is None:
            # Response URLs handed to apps must point where this emulator is reached.
            out.state.base_url = str(request.base_url).rstrip("/")
        return await action(out, await read_body(request))

    return handler


async def _deliveries(request: Request) -> dict[str, Any]:
    q = request.query_params
    kind, status = q.get("kind") or None, q.get("status") or None
    if kind is not None and kind not in _KINDS:
        raise ControlError("invalid_kind", f"kind: one of {', '.join(_KINDS)}")
    if status is not None and status not in _STATUSES:
        raise ControlError("invalid_status", f"status: one of {', '.join(_STATUSES)}")
    records = outbound_of(request).deliverer.records(
        app_id=q.get("app_id") or None, kind=kind, status=status, team_id=q.get("team_id") or None
    )
    return {"deliveries": [d.to_json() for d in records]}


async def _delivery(request: Request) -> dict[str, Any]:
    found = outbound_of(request).deliverer.get(request.path_params["delivery_id"])
    if found is None:
        raise ControlError("delivery_not_found", "no delivery with that id", status=404)
    return {"delivery": found.to_json()}


def _app(request: Request) -> App:
    app_id = request.path_params["app_id"]
    app = outbound_of(request).state.apps.get(app_id)
    if app is None:
        raise ControlError("app_not_found", f"no app {app_id} (see GET /_emulator/state)", 404)
    return app


async def _uninstall(request: Request) -> dict[str, Any]:
    app = _app(request)
    team_id = (await read_body(request)).get("team_id")
    if not isinstance(team_id, str) or not team_id:
        raise ControlError("invalid_arguments", "team_id: required")
    try:
        inst = uninstall(outbound_of(request).state, app.id, team_id)
    except LookupError:
        raise ControlError(
            "not_installed", f"{app.id} is not installed in {team_id}", 404
        ) from None
    return {"app_id": app.id, "team_id": team_id, "status": inst.status}


async def _app_token(request: Request) -> dict[str, Any]:
    app = _app(request)
    scopes = (await read_body(request)).get("scopes", ["connections:write"])
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        raise ControlError("invalid_scopes", "scopes: a list of scope names")
    token = f"xapp-1-{app.id}-{secrets.randbelow(10**13):013d}-{secrets.token_hex(32)}"
    outbound_of(request).state.app_tokens[token] = AppToken(token, app.id, list(scopes))
    app.app_tokens.append(token)
    return {"app_id": app.id, "token": token, "scopes": scopes}


async def _distribution(request: Request) -> dict[str, Any]:
    """Turn public distribution on or off, as Slack's "Manage Distribution" page does."""
    app = _app(request)
    enabled = (await read_body(request)).get("enabled")
    if not isinstance(enabled, bool):
        raise ControlError("invalid_arguments", "enabled: required, true or false")
    app.distributed = enabled
    return {"app_id": app.id, "distributed": app.distributed}


def routes() -> list[BaseRoute]:
    """The control endpoints for commands, interactivity, deliveries and app lifecycle."""
    p = "/_emulator"
    return [
        Route(f"{p}/commands", endpoint(_acting(run_command)), methods=["POST"]),
        Route(f"{p}/actions", endpoint(_acting(click_action)), methods=["POST"]),
        Route(f"{p}/views/submit", endpoint(_acting(submit_view)), methods=["POST"]),
        Route(f"{p}/views/close", endpoint(_acting(close_modal)), methods=["POST"]),
        Route(f"{p}/shortcuts", endpoint(_acting(run_shortcut)), methods=["POST"]),
        Route(f"{p}/options", endpoint(_acting(load_options)), methods=["POST"]),
        Route(f"{p}/deliveries", endpoint(_deliveries), methods=["GET"]),
        Route(p + "/deliveries/{delivery_id}", endpoint(_delivery), methods=["GET"]),
        Route(p + "/apps/{app_id}/uninstall", endpoint(_uninstall), methods=["POST"]),
        Route(p + "/apps/{app_id}/app_tokens", endpoint(_app_token), methods=["POST"]),
        Route(p + "/apps/{app_id}/distribution", endpoint(_distribution), methods=["POST"]),
    ]
