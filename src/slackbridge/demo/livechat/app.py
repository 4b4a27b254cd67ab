"""The live chat as a web app: bridge webhooks in, the bridge API out, visitors kept live.

A visitor's first message opens a chat: ``PUT /api/v1/conversations/chat-0042`` (a thread under
a card in the account's channel, or a channel of its own, as the console chose), then each of
their messages and files is ``POST …/messages`` as a persona with their name. Agents answer in
Slack; ``conversation.message.created`` (and edits and deletions) reach the visitor's page at
once over server-sent events (``GET /api/chats/{n}/events``), their files through this app
(which fetches them from the gateway with the API key). The card's **Claim** button
(``interaction.block_action``) assigns the agent and updates the card; **Close** opens a modal
(``views.open``) whose resolution note (``interaction.view_submission``) closes the chat on both
sides (``POST …/close``). Operators sign in to the console (``console.py``) with Sign in with
Slack; what a visitor may send is checked in ``visitor_input.py``.

Routes: ``/`` (front page), ``/install`` (Add to Slack: makes the account on the way),
``/site/{account}`` (a website with the widget), ``POST /api/accounts/{account}/chats``, ``POST
/api/chats/{n}/messages``, ``GET /api/chats/{n}/events``, ``GET /api/chats/{n}/files/{id}``
(those three with the chat's ``token``), ``GET /api/state``, ``/console`` with ``/console/login``,
``/console/callback``, ``POST /console/accounts/{account}``, ``POST /console/logout``,
``POST /webhooks/slackbridge`` and ``/healthz``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import orjson
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
from slackbridge.demo.livechat.chats import (
    CLAIM_ACTION,
    CLOSE_ACTION,
    CLOSE_CALLBACK,
    Account,
    Chat,
    ChatFile,
    Livechat,
    card,
    close_modal,
    note_of,
)
from slackbridge.demo.livechat.console import Console
from slackbridge.demo.livechat.pages import front_page, widget_page
from slackbridge.demo.livechat.signin import SignIn, SlackOidc
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

_log = logging.getLogger("slackbridge.demo.livechat")

_KEEPALIVE_SECONDS = 15.0
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
        self._changed: dict[int, asyncio.Event] = {}
        root = api_url.rstrip("/")
        self._gateway = root[: -len("/api/v1")] if root.endswith("/api/v1") else root
        self._files = httpx.AsyncClient(
            headers={"Authorization": f"Bearer {api_key}"}, transport=transport, timeout=30.0
        )
        self._slack_http = httpx.AsyncClient(transport=slack_transport, timeout=10.0)
        self.signin = SignIn(oidc, self._slack_http)
        self.console = Console(self.live, self.signin, client)
        self.heard: list[str] = []

    async def close(self) -> None:
        await super().close()
        await self._files.aclose()
        await self._slack_http.aclose()

    # --- live updates ---------------------------------------------------------------------------

    def _notify(self, chat: Chat) -> None:
        event = self._changed.pop(chat.number, None)
        if event is not None:
            event.set()

    async def _stream(self, chat: Chat, after: int) -> AsyncIterator[bytes]:
        last = after
        while True:
            # The waiter first, then the check: an event added in between still wakes us.
            waiter = self._changed.setdefault(chat.number, asyncio.Event())
            if last < len(chat.events):
                event = chat.events[last]
                data = orjson.dumps(event.data).decode()
                yield f"id: {event.number}\nevent: {event.kind}\ndata: {data}\n\n".encode()
                last = event.number
                continue
            if chat.state == "closed":
                return
            try:
                await asyncio.wait_for(waiter.wait(), _KEEPALIVE_SECONDS)
            except TimeoutError:
                yield b": keep-alive\n\n"

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
        self._notify(chat)
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
            self._stream(chat, min(after, len(chat.events))),
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
                self._notify(chat)
            return JSONResponse({"ok": True, "outcome": outcome})
        if event.type == "interaction.block_action":
            return self._block_action(data)
        if event.type == "interaction.view_submission":
            return self._view_submission(data)
        return JSONResponse({"ok": True, "outcome": "ignored"})

    def _block_action(self, data: Mapping[str, Any]) -> Response:
        actions = data.get("actions") or []
        action = actions[0] if isinstance(actions, list) and actions else {}
        action_id = action.get("action_id") if isinstance(action, Mapping) else None
        chat = self.live.by_key(action.get("value") if isinstance(action, Mapping) else None)
        if action_id not in (CLAIM_ACTION, CLOSE_ACTION) or chat is None:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        user = data.get("user") or {}
        team = (data.get("workspace") or {}).get("team_id")
        if action_id == CLAIM_ACTION:
            name = str(user.get("real_name") or user.get("name") or user.get("id") or "an agent")
            if self.live.claim(chat, user.get("id"), name):
                self._notify(chat)
                self.spawn(self._update_card(chat))
                return JSONResponse({"ok": True, "outcome": "claimed"})
            return JSONResponse({"ok": True, "outcome": "already_claimed"})
        trigger = data.get("trigger_id")
        if chat.state == "open" and isinstance(team, str) and isinstance(trigger, str):
            self.spawn(self._open_modal(team, trigger, chat))
            return JSONResponse({"ok": True, "outcome": "modal"})
        return JSONResponse({"ok": True, "outcome": "ignored"})

    def _view_submission(self, data: Mapping[str, Any]) -> Response:
        view = data.get("view") or {}
        if view.get("callback_id") != CLOSE_CALLBACK:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        chat = self.live.by_key(view.get("private_metadata"))
        if chat is None:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        user = data.get("user") or {}
        name = str(user.get("real_name") or user.get("name") or "an agent")
        note = note_of(view.get("values") or {})
        if self.live.close(chat, name, note):
            self._notify(chat)
            self.spawn(self._close_conversation(chat, name, note))
            return JSONResponse({"ok": True, "outcome": "closed"})
        return JSONResponse({"ok": True, "outcome": "already_closed"})

    async def _open_modal(self, team: str, trigger: str, chat: Chat) -> None:
        try:
            await self.client.views.open(team, trigger, close_modal(chat))
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not open the close modal for %s: %s", chat.key, exc)

    async def _update_card(self, chat: Chat) -> None:
        """Show who has the chat (or that it is closed) on its card."""
        body = card(chat, chat.first_text)
        try:
            if chat.mode == "noisy":
                await self.client.conversations.edit(chat.key, "card", **body)
                return
            if not chat.conversation.get("thread_ts"):
                current = await self.client.conversations.get(chat.key)
                chat.conversation = current.model_dump(mode="json")
            conv = chat.conversation
            await self.client.messages.update(
                workspace=conv.get("workspace"),
                channel=conv.get("channel"),
                ts=conv.get("thread_ts"),
                text=body["text"],
                blocks=body["blocks"],
            )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not update the card of %s: %s", chat.key, exc)

    async def _close_conversation(self, chat: Chat, name: str, note: str) -> None:
        message = f"Closed by {name}" + (f": {note}" if note else "")
        try:
            closed = await self.client.conversations.close(chat.key, message)
            chat.conversation = closed.model_dump(mode="json")
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not close %s in Slack: %s", chat.key, exc)
        await self._update_card(chat)

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
