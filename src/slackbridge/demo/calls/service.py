"""Calls: a calling service on slackbridge, started from Slack with ``/call``.

It uses only slackbridge's public surface: signed webhooks in, the product API out.

1. ``/call`` (declared as the command ``call``, pattern ``[{who:user}...]``, so the gateway
   parses the people named after it) in any conversation: public or private channel, DM or
   group DM. The service answers through the command's ``response_url`` with an ephemeral
   link carrying a single-use key that remembers the team, the channel and the person
   (:mod:`slackbridge.demo.calls.records`). A plain ``command.invoked`` for ``/call`` (the
   command not declared at the gateway) is answered the same way.
2. ``GET /join/{key}`` spends the key and starts a session in that browser (a cookie), then on
   to ``/sessions/{id}``. The first time a person comes (per workspace), the page asks them to
   authorize with Slack: slackbridge's "Add to Slack" with the app's user scopes, which stores
   their user token. The page waits for ``workspace.installed`` (or sees the token through the
   API) and goes on by itself; next time there is no prompt.
3. The page lists the channel's members with their emails (``conversations.members`` with the
   person's token, all pages, and ``users.info``), each matched to a service account by email.
4. **Ring** starts the call (the service's own record, ringing the matched members that are
   ticked) and posts the call's link in the channel *as the person* (``as_user``: their user
   token with ``chat:write``). That is what lets the link land in every kind of conversation
   the person is in: the bot can join a public channel but can't post into a private channel,
   DM or group DM it is not a member of, and the command's ``response_url`` stops working
   after 30 minutes and five uses.

The webhooks are :mod:`slackbridge.demo.calls.webhooks`; the pages are here. Routes: ``/``
(overview), ``/install`` (Add to Slack for the account), ``/join/{key}``,
``/sessions/{id}``, ``/sessions/{id}/authorize``, ``POST /sessions/{id}/ring``,
``GET /api/sessions/{id}`` (the page polls it), ``/calls/{number}``, ``/api/state``,
``POST /webhooks/slackbridge``, ``/healthz``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.calls.pages import render
from slackbridge.demo.calls.records import (
    Account,
    CallBook,
    Directory,
    Grants,
    Keys,
    Session,
    Setup,
)
from slackbridge.demo.calls.slack_side import (
    DEAD_TOKEN_ERRORS,
    SlackProblem,
    channel_members,
    has_user_token,
)
from slackbridge.demo.calls.webhooks import COMMAND, SLASH_COMMAND, CallsWebhooks
from slackbridge.demo.product_common import WEBHOOK_PATH, ProductBase, error, product_app

__all__ = ["COMMAND", "SLASH_COMMAND", "WEBHOOK_PATH", "CallsService", "create_calls_app"]

_COOKIE_PREFIX = "calls_session_"


class CallsService(ProductBase):
    """The service's state and behaviour (one per app; ``app.state.calls``)."""

    def __init__(
        self,
        client: Slackbridge,
        accounts: Iterable[Account],
        *,
        public_url: str,
        account_ref: str,
        members_page_size: int = 200,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client, account_ref)
        self.directory = Directory(accounts)
        self.keys = Keys(clock)
        self.grants = Grants()
        self.book = CallBook()
        self.public_url = public_url.rstrip("/")
        self.members_page_size = members_page_size
        self.answers: list[dict[str, Any]] = []  # the ephemeral answers to /call, for the page

    # --- the person's pages ---------------------------------------------------------------------

    def _session(self, request: Request) -> Session | None:
        sid = request.path_params["session_id"]
        return self.keys.session(sid, request.cookies.get(_COOKIE_PREFIX + sid))

    async def join(self, request: Request) -> Response:
        """Spend the key: a session in this browser, then on to its page."""
        verdict, session = self.keys.open(request.path_params["key"])
        mine = session is not None and session.holds(
            request.cookies.get(_COOKIE_PREFIX + session.id)
        )
        if verdict == "used" and session is not None and mine:
            return RedirectResponse(f"/sessions/{session.id}", status_code=303)
        if verdict != "ok" or session is None:
            status, heading = {
                "unknown": (404, "This call link is not valid"),
                "expired": (410, "This call link has expired"),
                "used": (410, "This call link was already used"),
            }[verdict]
            return render(
                "message.html",
                status,
                title=heading,
                message="Run /call in Slack again for a new link.",
            )
        response = RedirectResponse(f"/sessions/{session.id}", status_code=303)
        response.set_cookie(
            _COOKIE_PREFIX + session.id,
            session.secret,
            max_age=int(session.expires_at - time.time()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.public_url.startswith("https://"),
        )
        return response

    async def _authorized(self, setup: Setup) -> bool:
        """Whether the person has granted their user token (cached once seen)."""
        if (setup.team_id, setup.user_id) in self.grants:
            return True
        if await has_user_token(self.client, setup.team_id, setup.user_id):
            self.grants.add(setup.team_id, setup.user_id)
            return True
        return False

    def _gone(self) -> Response:
        return render(
            "message.html",
            404,
            title="This page is not yours (any more)",
            message="Open the link from /call in the browser it was first opened in, or run "
            "/call again.",
        )

    async def session_page(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return self._gone()
        setup = session.setup
        try:
            members = await self._members(setup) if await self._authorized(setup) else None
        except SlackProblem as exc:
            if exc.code not in DEAD_TOKEN_ERRORS:
                return render(
                    "message.html",
                    502,
                    title="Slack could not be asked",
                    message=f"{exc} ({exc.code}). Reload the page to try again.",
                )
            members = None  # the token is gone (revoked, say): ask again
        except httpx.HTTPError as exc:
            return render(
                "message.html", 503, title="slackbridge is not reachable", message=str(exc)
            )
        if members is None:
            return render("authorize.html", 200, title="Authorize with Slack", session=session)
        return render(
            "members.html",
            200,
            title="Start a call",
            session=session,
            members=members,
            invited=set(setup.invited),
        )

    async def _members(self, setup: Setup) -> list[Any]:
        try:
            return await channel_members(
                self.client,
                self.directory,
                setup.team_id,
                setup.channel_id,
                setup.user_id,
                page_size=self.members_page_size,
            )
        except SlackProblem as exc:
            if exc.code in DEAD_TOKEN_ERRORS:
                self.grants.discard(setup.team_id, setup.user_id)
            raise

    async def authorize(self, request: Request) -> Response:
        """On to slackbridge's Add to Slack (user scopes), pre-set to the person's workspace."""
        session = self._session(request)
        if session is None:
            return self._gone()
        try:
            url = await self.client.workspaces.install_url(
                self.account_ref, team=session.setup.team_id, ttl_seconds=600
            )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            return render("message.html", 503, title="No authorize link", message=str(exc))
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})

    async def session_state(self, request: Request) -> Response:
        session = self._session(request)
        if session is None:
            return error(404, "session_not_found", "no such session in this browser")
        try:
            authorized = await self._authorized(session.setup)
        except (SlackProblem, httpx.HTTPError) as exc:
            return error(502, "slack_unavailable", str(exc))
        return JSONResponse({"authorized": authorized, "call": session.call_id})

    async def ring(self, request: Request) -> Response:
        """Start the call, ringing the ticked matched members, and post its link in Slack."""
        session = self._session(request)
        if session is None:
            return self._gone()
        if session.call_id is not None:
            return RedirectResponse(f"/calls/{session.call_id}", status_code=303)
        setup = session.setup
        form = await request.form()
        chosen = {str(v) for v in form.getlist("ring")}
        try:
            if not await self._authorized(setup):
                return RedirectResponse(f"/sessions/{session.id}", status_code=303)
            members = await self._members(setup)
        except SlackProblem as exc:
            if exc.code in DEAD_TOKEN_ERRORS:  # the page asks to authorize again
                return RedirectResponse(f"/sessions/{session.id}", status_code=303)
            return render("message.html", 502, title="Slack could not be asked", message=str(exc))
        except httpx.HTTPError as exc:
            return render(
                "message.html", 503, title="slackbridge is not reachable", message=str(exc)
            )
        me = next((m for m in members if m.user_id == setup.user_id), None)
        ringing = [
            m.account
            for m in members
            if m.account is not None and m.user_id != setup.user_id and m.user_id in chosen
        ]
        call = self.book.start(setup, me.account if me else None, ringing, self.public_url)
        session.call_id = call.id
        names = ", ".join(a.name for a in ringing) or "nobody yet"
        text = (
            f":telephone_receiver: I started a call: <{call.link}|join call #{call.id}>"
            f" (ringing {names})"
        )
        try:
            accepted = await self.client.messages.post(
                setup.team_id,
                setup.channel_id,
                text,
                as_user=setup.user_id,
                idempotency_key=f"calls-{session.id}",
            )
            self.book.attach(call, accepted.id)
        except (SlackbridgeError, httpx.HTTPError) as exc:
            call.announced, call.error = "failed", str(exc)
        return RedirectResponse(f"/calls/{call.id}", status_code=303)

    async def call_page(self, request: Request) -> Response:
        try:
            call = self.book.calls.get(int(request.path_params["number"]))
        except ValueError:
            call = None
        if call is None:
            return render("message.html", 404, title="No such call", message="")
        return render("call.html", 200, title=f"Call #{call.id}", call=call)

    async def state(self, _request: Request) -> Response:
        return JSONResponse(
            {
                "calls": [c.to_json() for c in self.book.calls.values()],
                "grants": self.grants.listing(),
                "answers": self.answers,
                "outstanding_keys": self.keys.outstanding,
                "accounts": [a.__dict__ for a in self.directory.accounts],
            }
        )


def create_calls_app(
    api_url: str,
    api_key: str,
    webhook_secret: str,
    accounts: Iterable[Account],
    *,
    public_url: str,
    account_ref: str = "calls",
    members_page_size: int = 200,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The Calls service as an ASGI app.

    ``api_url`` is the gateway, ``api_key`` a product API key, ``webhook_secret`` the secret
    slackbridge signs webhooks with, ``accounts`` the service's people, ``public_url`` where
    people reach this app (links in Slack point there), ``account_ref`` the ref of its Add to
    Slack links; ``members_page_size`` the ``limit`` of each ``conversations.members`` page.
    """
    service = CallsService(
        Slackbridge(api_url, api_key, transport=transport, timeout=10.0),
        accounts,
        public_url=public_url,
        account_ref=account_ref,
        members_page_size=members_page_size,
    )

    async def index(_request: Request) -> Response:
        return render("index.html", 200, title="Calls", service=service)

    app = product_app(
        service,
        CallsWebhooks(service, webhook_secret).handle,
        [
            Route("/", index),
            Route("/join/{key}", service.join),
            Route("/sessions/{session_id}", service.session_page),
            Route("/sessions/{session_id}/authorize", service.authorize),
            Route("/sessions/{session_id}/ring", service.ring, methods=["POST"]),
            Route("/api/sessions/{session_id}", service.session_state),
            Route("/calls/{number}", service.call_page),
            Route("/api/state", service.state),
        ],
    )
    app.state.calls = service
    return app
