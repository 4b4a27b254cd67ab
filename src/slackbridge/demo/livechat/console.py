"""The live chat's operator console: Sign in with Slack, and where each account's chats go.

An operator signs in with Slack (OpenID Connect, ``signin.py``); the console then lists the
accounts of their workspace with the channels the bot can see (``conversations.list`` through
the gateway), and lets them choose a mode for each: ``still`` (a thread under a card in one
channel) or ``noisy`` (a channel per chat). Routes: ``/console``, ``/console/login``,
``/console/callback``, ``POST /console/logout`` and ``POST /console/accounts/{account}``.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.livechat.chats import Account, Livechat
from slackbridge.demo.livechat.pages import console_page
from slackbridge.demo.livechat.signin import SESSION_COOKIE, SignIn, SignInError
from slackbridge.demo.product_common import error, form_or_json

__all__ = ["Console"]


class Console:
    """The console's routes over the live chat's accounts and its sign-in."""

    def __init__(self, live: Livechat, signin: SignIn, client: Slackbridge) -> None:
        self.live = live
        self.signin = signin
        self.client = client

    def routes(self) -> list[Route]:
        return [
            Route("/console", self.page),
            Route("/console/login", self.login),
            Route("/console/callback", self.callback, name="console_callback"),
            Route("/console/logout", self.logout, methods=["POST"]),
            Route("/console/accounts/{account}", self.account, methods=["POST"]),
        ]

    def _redirect_uri(self, request: Request) -> str:
        return str(request.url_for("console_callback"))

    async def page(self, request: Request) -> Response:
        operator = self.signin.operator(request.cookies.get(SESSION_COOKIE))
        accounts = self.live.accounts_of(operator.team_id) if operator else []
        channels: dict[str, list[dict[str, Any]]] = {}
        for account in accounts:
            channels[account.id] = await self._channels(account)
        chats = list(self.live.chats.values())
        return HTMLResponse(
            console_page(operator, accounts, channels, chats, request.query_params.get("note"))
        )

    async def _channels(self, account: Account) -> list[dict[str, Any]]:
        try:
            listed = await self.client.slack.call(
                account.team_id or "",
                "conversations.list",
                {"types": "public_channel", "exclude_archived": True, "limit": 200},
            )
        except (SlackbridgeError, httpx.HTTPError):
            return []
        return [c for c in listed.get("channels") or [] if isinstance(c, dict) and "id" in c]

    async def login(self, request: Request) -> Response:
        try:
            url = self.signin.authorize_url(self._redirect_uri(request))
        except SignInError as exc:
            return HTMLResponse(console_page(None, [], {}, [], str(exc)), status_code=503)
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})

    async def callback(self, request: Request) -> Response:
        try:
            session = await self.signin.finish(request.query_params, self._redirect_uri(request))
        except SignInError as exc:
            return HTMLResponse(console_page(None, [], {}, [], str(exc)), status_code=400)
        operator = self.signin.sessions[session]
        for account in self.live.accounts_of(operator.team_id):
            if operator.user_id not in account.operators:
                account.operators.append(operator.user_id)
        response = RedirectResponse("/console", status_code=303)
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="lax")
        return response

    async def logout(self, request: Request) -> Response:
        self.signin.sign_out(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/console", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def account(self, request: Request) -> Response:
        """Where an account's chats go (only its workspace's operators may change it)."""
        operator = self.signin.operator(request.cookies.get(SESSION_COOKIE))
        if operator is None:
            return error(401, "not_signed_in", "sign in with Slack first")
        account = self.live.accounts.get(request.path_params["account"])
        if account is None or account.team_id != operator.team_id:
            return error(404, "account_not_found", "no such account in your workspace")
        form = await form_or_json(request) or {}
        mode = form.get("mode")
        channel = form.get("channel_id") or None
        if mode not in ("still", "noisy"):
            return error(400, "invalid_mode", 'mode: "still" or "noisy"')
        if mode == "still" and not isinstance(channel, str):
            return error(400, "invalid_channel", "a still chat needs a channel")
        account.mode = mode
        account.channel_id = channel if isinstance(channel, str) else account.channel_id
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/console?note=Saved", status_code=303)
        return JSONResponse({"account": account.to_json()})
