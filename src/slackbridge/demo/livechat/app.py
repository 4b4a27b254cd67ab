"""The live chat as a web app: bridge webhooks in, the bridge API out, visitors kept live.

A visitor's first message opens a chat: ``PUT /api/v1/conversations/chat-0042`` (a thread under
a card in the account's channel, or a channel of its own, as the console chose), then each of
their messages and files is ``POST …/messages`` as a persona with their name. Agents answer in
Slack; ``conversation.message.created`` (and edits and deletions) reach the visitor's page at
once over server-sent events (``GET /api/chats/{n}/events``, ``updates.py``), their files
through this app (which fetches them from the gateway with the API key). The card's **Claim**
and **Close** buttons and the close modal are ``card_actions.py``. Operators sign in to the
console (``console.py``) with Sign in with Slack; what a visitor may send is checked in
``visitor_input.py``.

Routes: ``/`` (front page), ``/install`` (Add to Slack: makes the account on the way),
``/site/{account}`` (a website with the widget), ``POST /api/accounts/{account}/chats``, ``POST
/api/chats/{n}/messages``, ``GET /api/chats/{n}/events``, ``GET /api/chats/{n}/files/{id}``
(those three with the chat's ``token``), ``GET /api/state``, ``/console`` with ``/console/login``,
``/console/callback``, ``POST /console/accounts/{account}``, ``POST /console/logout``,
``POST /webhooks/slackbridge`` and ``/healthz``.
"""

from __future__ import annotations

import secrets
import uuid

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.livechat.card_actions import CardActions
from slackbridge.demo.livechat.chats import Account, Chat, ChatFile, Livechat, card
from slackbridge.demo.livechat.console import Console
from slackbridge.demo.livechat.pages import front_page, widget_page
from slackbridge.demo.livechat.signin import SignIn, SlackOidc
from slackbridge.demo.livechat.updates import LiveUpdates
from slackbridge.demo.livechat.visitor_input import InvalidInput, visitor_content
from slackbridge.demo.product_common import (
    WEBHOOK_PATH,
    ProductBase,
    SeenWebhooks,
    error,
    json_object,
    product_app,
    receive_webhook,
)

__all__ = ["WEBHOOK_PATH", "LivechatApp", "SlackOidc", "create_livechat_app"]

_CARD_PERSONA = {"name": "Live chat", "icon_emoji": ":speech_balloon:"}


class LivechatApp(ProductBase):
    """The live chat's behaviour (one per app; ``app.state.livechat``)."""

    def __init__(
        self,
        client: Slackbridge,
        api_url: str,
        api_key: str,
        webhook_secret: str,
        oidc: SlackOidc | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        slack_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(client, "")
        self.live = Livechat()
        self._secret = webhook_secret
        self._seen = SeenWebhooks()
        self._tokens: dict[int, str] = {}
        root = api_url.rstrip("/")
        self._gateway = root[: -len("/api/v1")] if root.endswith("/api/v1") else root
        self._files = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}"}, transport=transport, timeout=30.0
        )
        self._slack_http = httpx.AsyncClient(transport=slack_transport, timeout=10.0)
        self.signin = SignIn(oidc, self._slack_http)
        self.console = Console(self.live, self.signin, client)
        self.updates = LiveUpdates()
        self.actions = CardActions(self.live, client, self.spawn, self.updates.notify)
        self.heard: list[str] = []

    async def close(self) -> None:
        await super().close()
        await self._files.aclose()
        await self._slack_http.aclose()

    # --- Add to Slack ---------------------------------------------------------------------------

    async def install(self, _request: Request) -> Response:
        """Add to Slack makes the account on the way: its id rides the signed install link."""
        account = self.live.new_account()
        try:
            url = await self.client.workspaces.install_url(account.id)
        except (SlackbridgeError, httpx.HTTPError) as exc:
            del self.live.accounts[account.id]
            return error(503, "slackbridge_unreachable", f"no install link: {exc}")
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})

    # --- visitors -------------------------------------------------------------------------------

    def _chat(self, request: Request) -> Chat | Response:
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return error(404, "chat_not_found", "no such chat")
        chat = self.live.chats.get(number)
        token = request.query_params.get("token", "")
        if chat is None or not secrets.compare_digest(self._tokens.get(number, ""), token):
            return error(404, "chat_not_found", "no such chat (or not your token)")
        return chat

    async def start_chat(self, request: Request) -> Response:
        account = self.live.accounts.get(request.path_params["account"])
        if account is None or account.team_id is None:
            return error(404, "account_not_found", "no such account (or not installed yet)")
        if not account.ready:
            return error(409, "not_configured", "the team has not chosen where chats go yet")
        payload = await json_object(request)
        visitor = payload.get("visitor") if payload else None
        try:
            text, files = visitor_content(payload)
        except InvalidInput as exc:
            return error(400, exc.code, exc.message)
        if not isinstance(visitor, str):
            visitor = "Visitor"
        chat = self.live.open_chat(account, visitor[:80])
        self._tokens[chat.number] = secrets.token_urlsafe(16)
        try:
            await self._open_conversation(account, chat, text or "(a file)")
        except (SlackbridgeError, httpx.HTTPError) as exc:
            self.live.close(chat, "error", None)
            return error(502, "not_opened", f"slackbridge refused the chat: {exc}")
        sent = await self._visitor_says(chat, text, files)
        if isinstance(sent, Response):
            return sent
        body = {**chat.to_json(), "token": self._tokens[chat.number]}
        return JSONResponse({"chat": body}, status_code=201)

    async def _open_conversation(self, account: Account, chat: Chat, first: str) -> None:
        assert account.team_id is not None
        title = f"Chat {chat.number:04d} with {chat.visitor}"
        chat.first_text = first
        if chat.mode == "still":
            opened = await self.client.conversations.put(
                chat.key,
                workspace=account.team_id,
                mode="still",
                channel=account.channel_id,
                card=card(chat, first),
                title=title,
                metadata={"account": account.id},
            )
            chat.conversation = opened.model_dump(mode="json")
            chat.card_posted = True
            return
        opened = await self.client.conversations.put(
            chat.key,
            workspace=account.team_id,
            mode="noisy",
            channel_name="{key}",
            invite=account.operators or None,
            title=title,
            metadata={"account": account.id},
        )
        chat.conversation = opened.model_dump(mode="json")
        body = card(chat, first)
        await self.client.conversations.post(
            chat.key, id="card", author={"persona": _CARD_PERSONA}, **body
        )
        chat.card_posted = True

    async def _visitor_says(
        self, chat: Chat, text: str, files: list[tuple[str, bytes]]
    ) -> Response | None:
        shown = []
        for name, content in files:
            file_id = f"v{uuid.uuid4().hex[:12]}"
            chat.own_files[file_id] = content
            shown.append(ChatFile(file_id, name, None, len(content)))
        message = self.live.visitor_said(chat, text, shown)
        self.updates.notify(chat)
        try:
            await self.client.conversations.post(
                chat.key,
                id=message.id,
                author={"persona": {"name": chat.visitor, "icon_emoji": ":bust_in_silhouette:"}},
                text=text or None,
                files=list(files) or None,
            )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            return error(502, "not_sent", f"slackbridge refused the message: {exc}")
        return None

    async def say(self, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        if chat.state != "open":
            return error(409, "chat_closed", "this chat is closed")
        try:
            text, files = visitor_content(await json_object(request))
        except InvalidInput as exc:
            return error(400, exc.code, exc.message)
        sent = await self._visitor_says(chat, text, files)
        if isinstance(sent, Response):
            return sent
        return JSONResponse({"message": chat.message_json(chat.messages[-1])}, status_code=202)

    async def events(self, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        raw = request.headers.get("last-event-id") or request.query_params.get("after") or "0"
        after = int(raw) if raw.isdigit() else 0
        return StreamingResponse(
            self.updates.stream(chat, min(after, len(chat.events))),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def file(self, request: Request) -> Response:
        chat = self._chat(request)
        if isinstance(chat, Response):
            return chat
        found = self.live.file(chat, request.path_params["file_id"])
        if found is None:
            return error(404, "file_not_found", "no such file in this chat")
        headers = {"Content-Disposition": f'attachment; filename="{found.name}"'}
        if found.id in chat.own_files:
            return Response(
                chat.own_files[found.id], media_type="application/octet-stream", headers=headers
            )
        if not found.download_url:
            return error(404, "file_not_found", "the file has no content")
        url = found.download_url
        if url.startswith("/"):
            url = self._gateway + url
        try:
            got = await self._files.get(url)
        except httpx.HTTPError as exc:
            return error(503, "slackbridge_unreachable", f"the file could not be fetched: {exc}")
        if got.status_code != 200:
            return error(502, "file_unavailable", f"the gateway answered {got.status_code}")
        media = found.mimetype or got.headers.get("content-type", "application/octet-stream")
        return Response(got.content, media_type=media, headers=headers)

    # --- Slack side (webhooks) ------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self._seen.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "outcome": "duplicate"})
        self.heard.append(event.type)
        data = event.data
        if event.type == "workspace.installed":
            ws = data.get("workspace") or {}
            account = self.live.installed(ws.get("ref"), ws.get("team_id"), ws.get("team_name"))
            return JSONResponse({"ok": True, "outcome": "account" if account else "ignored"})
        if event.type.startswith("conversation."):
            outcome, chat = self.live.apply(event.type, data)
            if chat is not None:
                self.updates.notify(chat)
            return JSONResponse({"ok": True, "outcome": outcome})
        if event.type == "interaction.block_action":
            return self.actions.block_action(data)
        if event.type == "interaction.view_submission":
            return self.actions.view_submission(data)
        return JSONResponse({"ok": True, "outcome": "ignored"})

    # --- pages and state ------------------------------------------------------------------------

    async def front(self, _request: Request) -> Response:
        return HTMLResponse(front_page(list(self.live.accounts.values())))

    async def site(self, request: Request) -> Response:
        account = self.live.accounts.get(request.path_params["account"])
        if account is None:
            return HTMLResponse("<h1>No such account</h1>", status_code=404)
        return HTMLResponse(widget_page(account))

    async def state(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "accounts": [a.to_json() for a in self.live.accounts.values()],
                "chats": [c.to_json() for c in self.live.chats.values()],
                "operators": [o.to_json() for o in self.signin.sessions.values()],
            }
        )


def create_livechat_app(
    api_url: str,
    api_key: str,
    webhook_secret: str,
    *,
    oidc: SlackOidc | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    slack_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The live chat as an ASGI app. ``oidc`` (Slack's addresses and the app's client id and
    secret) turns on the console's Sign in with Slack; ``transport`` replaces the network for
    the gateway's API, ``slack_transport`` for Slack's (tests)."""
    live = LivechatApp(
        Slackbridge(api_url, api_key, transport=transport, timeout=10.0),
        api_url,
        api_key,
        webhook_secret,
        oidc,
        transport=transport,
        slack_transport=slack_transport,
    )
    app = product_app(
        live,
        live.webhook,
        [
            Route("/", live.front),
            Route("/site/{account}", live.site),
            Route("/api/state", live.state),
            Route("/api/accounts/{account}/chats", live.start_chat, methods=["POST"]),
            Route("/api/chats/{number}/messages", live.say, methods=["POST"]),
            Route("/api/chats/{number}/events", live.events),
            Route("/api/chats/{number}/files/{file_id}", live.file),
            *live.console.routes(),
        ],
    )
    app.state.livechat = live
    return app
