"""The Calls service's webhooks from slackbridge: each verified, applied once, answered at once.

- ``command.matched`` for the declared command ``call`` (the people named after ``/call`` come
  parsed as ``who``), or a plain ``command.invoked`` for ``/call``: a single-use key, and the
  ephemeral answer with its link through the command's ``response_url`` (after answering).
- ``workspace.installed`` with user scopes: the installer (the admin, or anyone who authorized
  from a call's page) has a user token now; ``workspace.uninstalled``/``disconnected``: the
  workspace's tokens are gone.
- ``message.delivered``/``message.failed``: the call's link reached Slack, or not.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from slackbridge.client import CommandMatched, SlackbridgeError, WebhookEvent
from slackbridge.demo.calls.records import KEY_TTL_SECONDS, Setup
from slackbridge.demo.product_common import SeenWebhooks, receive_webhook

if TYPE_CHECKING:
    from slackbridge.demo.calls.service import CallsService

__all__ = ["COMMAND", "SLASH_COMMAND", "CallsWebhooks"]

_log = logging.getLogger("slackbridge.demo.calls")

SLASH_COMMAND = "/call"
COMMAND = "call"


class CallsWebhooks:
    """The ``POST /webhooks/slackbridge`` endpoint of ``service`` (:meth:`handle`)."""

    def __init__(self, service: CallsService, secret: str) -> None:
        self._service = service
        self._secret = secret
        self._seen = SeenWebhooks()

    async def handle(self, request: Request) -> Response:
        """slackbridge's webhooks: verify, apply once, answer 2xx at once (work goes on after)."""
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self._seen.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "duplicate": True})
        outcome = self._apply(event.type, event.data, event)
        return JSONResponse({"ok": True, "outcome": outcome})

    def _apply(self, kind: str, data: Mapping[str, Any], event: WebhookEvent) -> str:
        team = (data.get("workspace") or {}).get("team_id")
        if kind == "command.matched":
            matched = CommandMatched.from_event(event)
            if matched is None or matched.command != COMMAND:
                return "ignored"
            who = matched.arguments.get("who") or []
            return self._command(data, tuple(str(u) for u in who))
        if kind == "command.invoked" and data.get("command") == SLASH_COMMAND:
            return self._command(data, ())
        if kind == "workspace.installed" and isinstance(team, str):
            installer = (data.get("installer") or {}).get("id")
            if data.get("user_scopes") and isinstance(installer, str):
                self._service.grants.add(team, installer)
                return "granted"
            return "installed"
        if kind in ("workspace.uninstalled", "workspace.disconnected") and isinstance(team, str):
            self._service.grants.forget_team(team)
            return "forgotten"
        if kind in ("message.delivered", "message.failed"):
            message = data.get("message") or {}
            sent = kind == "message.delivered"
            detail = message.get("ts") if sent else (data.get("error") or {}).get("code")
            known = self._service.book.settle(str(message.get("id") or ""), sent, detail)
            return "announced" if known else "noted"
        return "ignored"

    def _command(self, data: Mapping[str, Any], invited: tuple[str, ...]) -> str:
        team = (data.get("workspace") or {}).get("team_id")
        channel = data.get("channel") or {}
        user = (data.get("user") or {}).get("id")
        response_url = data.get("response_url")
        if not (isinstance(team, str) and isinstance(user, str) and channel.get("id")):
            return "ignored"
        setup = Setup(team, str(channel["id"]), channel.get("kind"), user, invited)
        key = self._service.keys.issue(setup)
        link = f"{self._service.public_url}/join/{key}"
        if isinstance(response_url, str):
            self._service.spawn(self._answer(setup, response_url, link))
        return "link"

    async def _answer(self, setup: Setup, response_url: str, link: str) -> None:
        text = (
            f"<{link}|Start a call here> (only you can see this; the link works once, "
            f"within {KEY_TTL_SECONDS // 60} minutes)"
        )
        record: dict[str, Any] = {"team_id": setup.team_id, "channel_id": setup.channel_id}
        record.update(user_id=setup.user_id, operation_id=None, error=None)
        self._service.answers.append(record)
        try:
            accepted = await self._service.client.responses.send(
                setup.team_id, response_url, text, response_type="ephemeral"
            )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not answer /call: %s", exc)
            record["error"] = str(exc)
            return
        record["operation_id"] = accepted.id
