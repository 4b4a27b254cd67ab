"""Helpdesk: a tiny help desk built on slackbridge, the way a product team would build one.

It uses only slackbridge's public surface: signed webhooks in (verified with
:func:`slackbridge.client.parse_webhook`), the product API out (:class:`slackbridge.client.
Slackbridge`). Every Slack thread is a ticket (:mod:`slackbridge.demo.tickets`): a question posted
in a channel the bot is in opens one, and the Helpdesk marks it 👀 in Slack; replies, edits and
deletions update it; a ✅ reaction resolves it. Agents answer from the web page, and the answer is
posted in the Slack thread as the bot or as the "Helpdesk agent" persona. The app's slash command
(``/helpdesk`` in the demo) answers the person who ran it with the open tickets.

Routes: ``/`` (the page), ``POST /webhooks/slackbridge`` (slackbridge's webhooks),
``GET /api/state`` (tickets, workspaces, commands, the Add to Slack link), ``POST
/api/tickets/{number}/replies`` (``{"text", "as": "agent"|"bot"}``), ``GET /healthz`` and
``GET /favicon.ico`` (the page's icon, which the page also carries inline).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from importlib import resources

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.product_common import (
    WEBHOOK_PATH,
    ProductBase,
    error,
    product_app,
    receive_webhook,
)
from slackbridge.demo.tickets import CommandLog, Desk, Ticket, WorkspaceInfo, command_answer

__all__ = [
    "ACK_REACTION",
    "AGENT_PERSONA",
    "FAVICON_SVG",
    "WEBHOOK_PATH",
    "Helpdesk",
    "create_helpdesk_app",
]

_log = logging.getLogger("slackbridge.demo.helpdesk")

AGENT_PERSONA = "Helpdesk agent"
ACK_REACTION = "eyes"
_PERSONA = {"username": AGENT_PERSONA, "icon_emoji": ":technologist:"}
_MAX_REPLY = 4000
_API_RETRY_SECONDS = 10.0
#: A ticket, drawn: the page inlines it as a data: URL; /favicon.ico serves it too.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#0f766e"/>'
    '<path d="M6 10h20v4a2 2 0 0 0 0 4v4H6v-4a2 2 0 0 0 0-4z" fill="#fff"/>'
    '<path d="M19 11v10" stroke="#0f766e" stroke-width="1.6" stroke-dasharray="2 1.6"/></svg>'
)


class Helpdesk(ProductBase):
    """The Helpdesk's state and behaviour (one per app; ``app.state.helpdesk``)."""

    def __init__(self, client: Slackbridge, webhook_secret: str, account_ref: str) -> None:
        super().__init__(client, account_ref)
        self.desk = Desk()
        self._secret = webhook_secret
        self.install_url: str | None = None
        self._api_tried_at = float("-inf")

    # --- background work ------------------------------------------------------------------------

    async def start(self) -> None:
        await self.sync_from_api()

    async def sync_from_api(self) -> None:
        """Learn the Add to Slack link and the workspaces (at most every few seconds)."""
        now = time.monotonic()
        if now - self._api_tried_at < _API_RETRY_SECONDS:
            return
        self._api_tried_at = now
        try:
            if self.install_url is None:
                self.install_url = await self.client.workspaces.install_url(self.account_ref)
            for ws in await self.client.workspaces.list():
                if ws.team_id and ws.team_id not in self.desk.workspaces:
                    self.desk.workspaces[ws.team_id] = WorkspaceInfo(
                        ws.team_id, ws.team_name, ws.status
                    )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.info("slackbridge's API is not answering yet (%s); will try again", exc)

    async def _acknowledge(self, ticket: Ticket) -> None:
        """Mark the question 👀 in Slack and learn the channel's name."""
        team, channel = ticket.team_id, ticket.channel_id
        try:
            added = await self.client.slack.call(
                team,
                "reactions.add",
                {"channel": channel, "timestamp": ticket.root_ts, "name": ACK_REACTION},
            )
            ticket.acknowledged = bool(added.get("ok"))
            if ticket.channel_name is None:
                info = await self.client.slack.call(
                    team, "conversations.info", {"channel": channel}
                )
                name = (info.get("channel") or {}).get("name")
                ticket.channel_name = name if isinstance(name, str) else None
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not acknowledge ticket #%s: %s", ticket.number, exc)

    async def _answer_command(self, log: CommandLog, response_url: str, page_url: str) -> None:
        """Tell the person who ran ``/helpdesk`` which tickets are open (only they see it)."""
        text = command_answer(self.desk, log.team_id, page_url)
        try:
            accepted = await self.client.responses.send(
                log.team_id, response_url, text, response_type="ephemeral"
            )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not answer %s: %s", log.command, exc)
            self.desk.record_answer(log, text, None)
            log.error = str(exc)
            return
        self.desk.record_answer(log, text, accepted.id)

    # --- HTTP -----------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """slackbridge's webhooks: verify, apply once, answer 2xx quickly."""
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self.desk.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "duplicate": True})
        outcome = self.desk.apply(event.type, event.data)
        if outcome.kind == "opened" and outcome.ticket is not None:
            self.spawn(self._acknowledge(outcome.ticket))
        elif outcome.kind == "command" and outcome.command is not None:
            response_url = event.data.get("response_url")
            if isinstance(response_url, str):
                page = str(request.base_url).rstrip("/") + "/"
                self.spawn(self._answer_command(outcome.command, response_url, page))
        return JSONResponse({"ok": True, "outcome": outcome.kind, "reason": outcome.reason})

    async def state(self, request: Request) -> Response:
        await self.sync_from_api()
        install = "/install" if self.install_url is not None else None
        return JSONResponse({**self.desk.snapshot(), "install_url": install})

    async def reply(self, request: Request) -> Response:
        """An agent's answer, posted in the ticket's Slack thread through the product API."""
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return error(404, "ticket_not_found", "no such ticket")
        ticket = self.desk.tickets.get(number)
        if ticket is None:
            return error(404, "ticket_not_found", f"no ticket #{number}")
        try:
            payload = await request.json()
        except ValueError:
            return error(400, "invalid_body", 'send JSON: {"text": "...", "as": "agent"}')
        text = payload.get("text") if isinstance(payload, Mapping) else None
        as_who = payload.get("as", "agent") if isinstance(payload, Mapping) else None
        if not isinstance(text, str) or not text.strip() or len(text) > _MAX_REPLY:
            return error(400, "invalid_text", f"text: 1 to {_MAX_REPLY} characters")
        if as_who not in ("agent", "bot"):
            return error(400, "invalid_as", 'as: "agent" (the persona) or "bot"')
        try:
            accepted = await self.client.messages.post(
                ticket.team_id,
                ticket.channel_id,
                text.strip(),
                thread_ts=ticket.root_ts,
                persona=_PERSONA if as_who == "agent" else None,
                idempotency_key=f"helpdesk-{uuid.uuid4()}",
            )
        except SlackbridgeError as exc:
            return error(502, exc.code, f"slackbridge refused the reply: {exc.message}")
        except httpx.HTTPError as exc:
            return error(503, "slackbridge_unreachable", f"slackbridge is not reachable: {exc}")
        author = AGENT_PERSONA if as_who == "agent" else "Helpdesk bot"
        entry = self.desk.add_agent_reply(number, text.strip(), author, accepted.id)
        return JSONResponse(
            {"operation_id": accepted.id, "message": entry.to_json()}, status_code=202
        )


def _page() -> str:
    return resources.files("slackbridge.demo").joinpath("static/helpdesk.html").read_text("utf-8")


def create_helpdesk_app(
    api_url: str,
    api_key: str,
    webhook_secret: str,
    *,
    account_ref: str = "demo",
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The Helpdesk as an ASGI app.

    ``api_url`` is the gateway (``http://127.0.0.1:8000``; ``/api/v1`` may be included),
    ``api_key`` a product API key, ``webhook_secret`` the ``whsec_…`` secret slackbridge signs
    the Helpdesk's webhooks with. ``account_ref`` goes into the Add to Slack link;
    ``transport`` replaces the network for API calls (tests).
    """
    helpdesk = Helpdesk(
        Slackbridge(api_url, api_key, transport=transport, timeout=10.0),
        webhook_secret,
        account_ref,
    )
    page = _page()

    async def index(_request: Request) -> Response:
        return HTMLResponse(page)

    async def favicon(_request: Request) -> Response:
        return Response(FAVICON_SVG, media_type="image/svg+xml")

    app = product_app(
        helpdesk,
        helpdesk.webhook,
        [
            Route("/", index),
            Route("/favicon.ico", favicon),
            Route("/api/state", helpdesk.state),
            Route("/api/tickets/{number}/replies", helpdesk.reply, methods=["POST"]),
        ],
    )
    app.state.helpdesk = helpdesk
    return app
