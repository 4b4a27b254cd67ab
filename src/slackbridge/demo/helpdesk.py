"""Helpdesk: a tiny help desk built on slackbridge, the way a product team would build one.

It uses only slackbridge's public surface: signed webhooks in (verified with
:func:`slackbridge.client.parse_webhook`), the product API out (:class:`slackbridge.client.
Slackbridge`), and it keeps no Slack thread bookkeeping of its own: every ticket is a
conversation of slackbridge's bridge under the key ``ticket-<number>``
(:mod:`slackbridge.demo.tickets`). The Helpdesk watches each workspace's #support: a question
posted there opens a conversation (``conversation.opened``), which the Helpdesk adopts as a
ticket and acknowledges in the thread. Replies, edits, deletions and files come as
``conversation.*`` webhooks; a ✅ reaction on the question resolves the ticket and closes the
conversation. Agents answer from the web page (as the "Helpdesk agent" persona, with files),
edit and delete their answers, resolve tickets, and open urgent tickets that get a channel of
their own (the bridge's noisy mode). The app's slash command (``/helpdesk`` in the demo) answers
the person who ran it with the open tickets.

Routes: ``/`` (the page), ``POST /webhooks/slackbridge`` (slackbridge's webhooks),
``GET /api/state`` (tickets, workspaces, commands, the Add to Slack link), ``POST /api/tickets``
(``{"team_id", "text", "requester", "invite"}``: an urgent ticket in a channel of its own),
``POST /api/tickets/{number}/replies`` (``{"text", "as": "agent"|"bot", "files"}``), ``PATCH``
and ``DELETE /api/tickets/{number}/replies/{id}``, ``POST /api/tickets/{number}/resolve``,
``GET /api/tickets/{number}/files/{file_id}`` (a file shared in Slack, through slackbridge),
``GET /healthz`` and ``GET /favicon.ico``. The follow-up work these start (watching #support,
adopting, posting, closing) is :mod:`slackbridge.demo.helpdesk_bridge`.
"""

from __future__ import annotations

import uuid
from importlib import resources

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.helpdesk_bridge import (
    AGENT_PERSONA,
    AUTHORS,
    BOT_PERSONA,
    FAILURES,
    SUPPORT_CHANNEL,
    TicketBridge,
    resolved_note,
)
from slackbridge.demo.helpdesk_input import files_of, json_body, text_of
from slackbridge.demo.product_common import (
    WEBHOOK_PATH,
    ProductBase,
    error,
    product_app,
    receive_webhook,
)
from slackbridge.demo.tickets import Desk, Ticket

__all__ = [
    "AGENT_PERSONA",
    "BOT_PERSONA",
    "FAVICON_SVG",
    "SUPPORT_CHANNEL",
    "WEBHOOK_PATH",
    "Helpdesk",
    "create_helpdesk_app",
]

#: A ticket, drawn: the page inlines it as a data: URL; /favicon.ico serves it too.
FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="7" fill="#0f766e"/>'
    '<path d="M6 10h20v4a2 2 0 0 0 0 4v4H6v-4a2 2 0 0 0 0-4z" fill="#fff"/>'
    '<path d="M19 11v10" stroke="#0f766e" stroke-width="1.6" stroke-dasharray="2 1.6"/></svg>'
)


def _api_error(exc: Exception) -> Response:
    if isinstance(exc, SlackbridgeError):
        return error(502, exc.code, f"slackbridge refused it: {exc.message}")
    return error(503, "slackbridge_unreachable", f"slackbridge is not reachable: {exc}")


class Helpdesk(ProductBase):
    """The Helpdesk's state and its HTTP side (one per app; ``app.state.helpdesk``)."""

    def __init__(
        self,
        client: Slackbridge,
        webhook_secret: str,
        account_ref: str,
        files: httpx.AsyncClient,
        support_channel: str = SUPPORT_CHANNEL,
    ) -> None:
        super().__init__(client, account_ref)
        self.desk = Desk()
        self._secret = webhook_secret
        self._files = files
        self.bridge = TicketBridge(client, self.desk, account_ref, self.spawn, support_channel)

    async def start(self) -> None:
        await self.bridge.sync_from_api()

    async def close(self) -> None:
        await super().close()
        await self._files.aclose()

    # --- HTTP -----------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """slackbridge's webhooks: verify, apply once, answer 2xx quickly."""
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self.desk.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "duplicate": True})
        outcome = self.desk.apply(event.type, event.data)
        ticket = outcome.ticket
        if outcome.kind == "opened" and ticket is not None:
            self.spawn(self.bridge.adopt(ticket))
        elif outcome.kind == "resolved" and ticket is not None:
            self.spawn(self.bridge.close(ticket, resolved_note(ticket)))
        elif outcome.kind == "workspace":
            self.bridge.resync()
        elif outcome.kind == "command" and outcome.command is not None:
            response_url = event.data.get("response_url")
            if isinstance(response_url, str):
                page = str(request.base_url).rstrip("/") + "/"
                self.spawn(self.bridge.answer_command(outcome.command, response_url, page))
        return JSONResponse({"ok": True, "outcome": outcome.kind, "reason": outcome.reason})

    async def state(self, request: Request) -> Response:
        await self.bridge.sync_from_api()
        install = "/install" if self.bridge.install_url is not None else None
        return JSONResponse({**self.desk.snapshot(), "install_url": install})

    def _ticket(self, request: Request) -> Ticket | Response:
        raw = str(request.path_params["number"])
        ticket = self.desk.tickets.get(int(raw)) if raw.isdigit() else None
        if ticket is None:
            return error(404, "ticket_not_found", f"no ticket #{raw}")
        return ticket

    async def open_ticket(self, request: Request) -> Response:
        """An urgent ticket an agent opens (a phone call, say): a Slack channel of its own
        (the bridge's noisy mode) with the people to involve invited."""
        payload = await json_body(request)
        if isinstance(payload, Response):
            return payload
        text, requester = payload.get("text"), payload.get("requester") or "a caller"
        team_id, invite = payload.get("team_id"), payload.get("invite") or []
        if not isinstance(team_id, str) or team_id not in self.desk.workspaces:
            return error(400, "invalid_team", "team_id: a workspace the Helpdesk is installed in")
        text = text_of(text)
        if isinstance(text, Response):
            return text
        if not isinstance(requester, str) or not isinstance(invite, list):
            return error(400, "invalid_body", "requester: a name; invite: Slack user ids")
        ticket = self.desk.open_ticket(team_id, text, requester, "noisy")
        card = f"Ticket #{ticket.number} from {requester}: {text}"
        try:
            await self.bridge.open_channel(ticket, [str(u) for u in invite], card)
        except FAILURES as exc:
            return _api_error(exc)
        self.spawn(self.bridge.placed(ticket))
        return JSONResponse(ticket.to_json(), status_code=201)

    async def reply(self, request: Request) -> Response:
        """An agent's answer, posted in the ticket's conversation through the bridge."""
        ticket = self._ticket(request)
        if isinstance(ticket, Response):
            return ticket
        payload = await json_body(request)
        if isinstance(payload, Response):
            return payload
        as_who = payload.get("as", "agent")
        text = text_of(payload.get("text"))
        if isinstance(text, Response):
            return text
        if as_who not in AUTHORS:
            return error(400, "invalid_as", 'as: "agent" (the persona) or "bot"')
        files = files_of(payload.get("files"))
        if isinstance(files, Response):
            return files
        message_id = f"r-{uuid.uuid4().hex[:12]}"
        try:
            operation_id, name = await self.bridge.post(ticket, message_id, text, as_who, files)
        except FAILURES as exc:
            return _api_error(exc)
        entry = self.desk.add_agent_reply(
            ticket.number,
            text,
            name,
            operation_id,
            message_id=message_id,
            files=[{"name": filename, "size": len(content)} for filename, content in files],
        )
        return JSONResponse(
            {"operation_id": operation_id, "message": entry.to_json()}, status_code=202
        )

    async def edit_reply(self, request: Request) -> Response:
        """An agent corrects an answer: edited in Slack too."""
        ticket = self._ticket(request)
        if isinstance(ticket, Response):
            return ticket
        entry = self.desk.agent_entry(ticket.number, str(request.path_params["message_id"]))
        if entry is None or entry.id is None or entry.deleted:
            return error(404, "message_not_found", "no such answer in this ticket")
        payload = await json_body(request)
        if isinstance(payload, Response):
            return payload
        text = text_of(payload.get("text"))
        if isinstance(text, Response):
            return text
        try:
            await self.client.conversations.edit(ticket.key, entry.id, text=text)
        except FAILURES as exc:
            return _api_error(exc)
        entry.text, entry.edited = text, True
        return JSONResponse({"message": entry.to_json()}, status_code=202)

    async def delete_reply(self, request: Request) -> Response:
        """An agent takes an answer back: deleted in Slack too."""
        ticket = self._ticket(request)
        if isinstance(ticket, Response):
            return ticket
        entry = self.desk.agent_entry(ticket.number, str(request.path_params["message_id"]))
        if entry is None or entry.id is None:
            return error(404, "message_not_found", "no such answer in this ticket")
        try:
            await self.client.conversations.delete_message(ticket.key, entry.id)
        except FAILURES as exc:
            return _api_error(exc)
        entry.deleted = True
        return JSONResponse({"message": entry.to_json()}, status_code=202)

    async def resolve(self, request: Request) -> Response:
        """An agent resolves a ticket: the conversation is closed (a ✅ on the thread's question,
        or the ticket's channel archived)."""
        ticket = self._ticket(request)
        if isinstance(ticket, Response):
            return ticket
        try:
            await self.client.conversations.close(ticket.key, message=resolved_note(ticket))
        except FAILURES as exc:
            return _api_error(exc)
        ticket.status = "resolved"
        return JSONResponse(ticket.to_json())

    async def file(self, request: Request) -> Response:
        """A file someone shared in a ticket's conversation, fetched through slackbridge (only
        it holds the bot token that Slack's url_private needs)."""
        ticket = self._ticket(request)
        if isinstance(ticket, Response):
            return ticket
        file_id = str(request.path_params["file_id"])
        found = next((f for e in ticket.entries for f in e.files if f.get("id") == file_id), None)
        url = found.get("download_url") if found else None
        if not isinstance(url, str):
            return error(404, "file_not_found", f"ticket #{ticket.number} has no file {file_id}")
        try:
            answer = await self._files.get(url)
        except httpx.HTTPError as exc:
            return _api_error(exc)
        if answer.status_code != 200:
            return error(502, "file_unavailable", f"slackbridge answered {answer.status_code}")
        media = answer.headers.get("content-type", "application/octet-stream")
        return Response(answer.content, media_type=media)


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
        httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}"}, transport=transport, timeout=30.0
        ),
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
            Route("/api/tickets", helpdesk.open_ticket, methods=["POST"]),
            Route("/api/tickets/{number}/replies", helpdesk.reply, methods=["POST"]),
            Route(
                "/api/tickets/{number}/replies/{message_id}",
                helpdesk.edit_reply,
                methods=["PATCH"],
            ),
            Route(
                "/api/tickets/{number}/replies/{message_id}",
                helpdesk.delete_reply,
                methods=["DELETE"],
            ),
            Route("/api/tickets/{number}/resolve", helpdesk.resolve, methods=["POST"]),
            Route("/api/tickets/{number}/files/{file_id}", helpdesk.file),
        ],
    )
    app.state.helpdesk = helpdesk
    return app
