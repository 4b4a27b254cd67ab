"""The service desk as a web app: slackbridge's webhooks in, the product API out, the desk page.

``message.posted`` webhooks feed the sessions (:mod:`~slackbridge.demo.servicedesk.sessions`);
an agent's answer from the desk goes back to the same place through ``POST /api/v1/messages``:
in the session's thread in a channel, as a plain message in a DM. A sweeper closes idle sessions
(and says so where the person wrote); the idle time can be changed on the desk while it runs.
The bot's own user id in each workspace comes from ``GET /api/v1/workspaces``, so that nothing
it says could open a session even if it came back.

Routes: ``/`` (the desk), ``POST /webhooks/slackbridge``, ``GET /api/state``, ``POST
/api/sessions/{number}/answer`` (``{"text"}``), ``POST /api/sessions/{number}/close``, ``POST
/api/settings`` (``{"idle_seconds"}``), ``GET /install`` (Add to Slack) and ``GET /healthz``.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.product_common import (
    WEBHOOK_PATH,
    ProductBase,
    SeenWebhooks,
    error,
    form_or_json,
    product_app,
    receive_webhook,
)
from slackbridge.demo.servicedesk.sessions import (
    DEFAULT_IDLE_SECONDS,
    Desk,
    Incoming,
    Session,
)

__all__ = ["CLOSING_NOTE", "WEBHOOK_PATH", "ServiceDesk", "create_servicedesk_app"]

_log = logging.getLogger("slackbridge.demo.servicedesk")

_MAX_ANSWER = 4000
_SWEEP_SECONDS = 0.5
_RETRY_SECONDS = 2.0
#: What the bot says where the person wrote when their session closes.
CLOSING_NOTE = "This conversation with the service desk is closed. Write again any time."


class ServiceDesk(ProductBase):
    """The desk's state and behaviour (one per app; ``app.state.servicedesk``)."""

    def __init__(
        self,
        client: Slackbridge,
        webhook_secret: str,
        account_ref: str,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(client, account_ref)
        self.desk = Desk(idle_seconds=idle_seconds)
        self._secret = webhook_secret
        self._seen = SeenWebhooks()
        self._clock = clock
        self.workspaces: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []  # what the desk posted, for the page and tests

    # --- background work ------------------------------------------------------------------------

    async def start(self) -> None:
        self.spawn(self._learn_workspaces(retry=True))
        self.spawn(self._sweep())

    async def _learn_workspaces(self, *, retry: bool = False) -> None:
        """The workspaces and our bot user in each (once the gateway answers)."""
        while True:
            try:
                for ws in await self.client.workspaces.list():
                    if ws.team_id:
                        self.desk.learn_bot(ws.team_id, ws.bot_user_id)
                        self.workspaces[ws.team_id] = {
                            "team_id": ws.team_id,
                            "team_name": ws.team_name,
                            "status": ws.status,
                            "bot_user_id": ws.bot_user_id,
                        }
                return
            except (SlackbridgeError, httpx.HTTPError) as exc:
                _log.info("slackbridge's API is not answering yet (%s)", exc)
            if not retry:
                return
            await asyncio.sleep(_RETRY_SECONDS)

    async def _sweep(self) -> None:
        """Close idle sessions as time passes, and tell the person."""
        while True:
            for session in self.desk.idle(self._clock()):
                await self._say(session, CLOSING_NOTE, who="desk")
            await asyncio.sleep(_SWEEP_SECONDS)

    async def _say(self, session: Session, text: str, *, who: str) -> str | None:
        """Post ``text`` where ``session`` lives; the operation id (None when refused)."""
        try:
            accepted = await self.client.messages.post(
                session.team_id,
                session.channel_id,
                text,
                thread_ts=session.thread_ts,
                idempotency_key=f"servicedesk-{uuid.uuid4()}",
            )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not post in session #%s: %s", session.number, exc)
            return None
        self.sent.append(
            {
                "session": session.number,
                "who": who,
                "channel_id": session.channel_id,
                "thread_ts": session.thread_ts,
                "text": text,
                "operation_id": accepted.id,
            }
        )
        return accepted.id

    # --- HTTP -----------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """slackbridge's webhooks: verify, apply once, answer 2xx at once."""
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self._seen.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "outcome": "duplicate"})
        if event.type in ("workspace.installed", "workspace.uninstalled"):
            self.spawn(self._learn_workspaces())
            return JSONResponse({"ok": True, "outcome": "workspace"})
        if event.type != "message.posted":
            return JSONResponse({"ok": True, "outcome": "ignored"})
        message = Incoming.from_data(event.data)
        if message is None:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        session = self.desk.receive(message, self._clock())
        if session is None:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        return JSONResponse({"ok": True, "outcome": "session", "session": session.number})

    async def state(self, _request: Request) -> Response:
        return JSONResponse(self.snapshot())

    def snapshot(self) -> dict[str, Any]:
        return {
            "idle_seconds": self.desk.idle_seconds,
            "sessions": [s.to_json() for s in self.desk.listing()],
            "ignored": self.desk.ignored,
            "workspaces": list(self.workspaces.values()),
            "sent": self.sent,
        }

    def _session(self, request: Request) -> Session | Response:
        try:
            number = int(request.path_params["number"])
        except ValueError:
            return error(404, "session_not_found", "no such session")
        session = self.desk.sessions.get(number)
        if session is None:
            return error(404, "session_not_found", f"no session #{number}")
        return session

    async def answer(self, request: Request) -> Response:
        """An agent's answer, in the same place the person wrote."""
        session = self._session(request)
        if isinstance(session, Response):
            return session
        payload = await form_or_json(request)
        text = payload.get("text") if payload is not None else None
        if not isinstance(text, str) or not text.strip() or len(text) > _MAX_ANSWER:
            return error(400, "invalid_text", f"text: 1 to {_MAX_ANSWER} characters")
        if session.status != "open":
            return error(409, "session_closed", f"session #{session.number} is closed")
        operation = await self._say(session, text.strip(), who="agent")
        if operation is None:
            return error(502, "not_sent", "slackbridge did not take the answer")
        self.desk.answered(session, text.strip(), self._clock())
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse(
            {"operation_id": operation, "session": session.to_json()}, status_code=202
        )

    async def close_session(self, request: Request) -> Response:
        session = self._session(request)
        if isinstance(session, Response):
            return session
        if self.desk.close(session, self._clock(), "agent"):
            await self._say(session, CLOSING_NOTE, who="desk")
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse({"session": session.to_json()})

    async def settings(self, request: Request) -> Response:
        """Change the idle time (seconds, at least 1)."""
        payload = await form_or_json(request)
        raw = payload.get("idle_seconds") if payload is not None else None
        try:
            idle = float(raw) if isinstance(raw, (int, float, str)) else 0.0
        except ValueError:
            idle = 0.0
        if not 1 <= idle <= 7 * 24 * 3600:
            return error(400, "invalid_idle_seconds", "idle_seconds: 1 to 604800")
        self.desk.idle_seconds = idle
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse({"idle_seconds": idle})

    def page(self) -> str:
        """The desk: the sessions with what was said, a box to answer each open one."""
        esc = html.escape
        parts = []
        for s in self.desk.listing():
            person = esc(s.user_name or s.user_id)
            lines = "".join(
                f"<li class='{e.who}'><b>{person if e.who == 'customer' else e.who}:</b> "
                f"{esc(e.text)}</li>"
                for e in s.entries
            )
            form = (
                f"<form method='post' action='/api/sessions/{s.number}/answer'>"
                f"<input name='text' placeholder='Answer {esc(s.place)}' size='50'>"
                "<button>Send</button></form>"
                f"<form method='post' action='/api/sessions/{s.number}/close'>"
                "<button>Close</button></form>"
                if s.status == "open"
                else f"<p>closed ({esc(s.closed_reason or '')})</p>"
            )
            parts.append(
                f"<section class='{s.status}' id='session-{s.number}'>"
                f"<h2>#{s.number} {esc(s.user_name or s.user_id)} — {esc(s.kind)} "
                f"{esc(s.channel_id)} <small>{esc(s.key)}</small></h2>"
                f"<ul>{lines}</ul>{form}</section>"
            )
        sessions = "".join(parts) or (
            "<p>No sessions yet: write to the bot in a DM or a channel it is in.</p>"
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Service desk</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem}"
            "section{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}"
            ".closed{color:#888}.agent{color:#0f766e}form{display:inline}</style></head><body>"
            "<h1>Service desk</h1>"
            "<form method='post' action='/api/settings'>Close sessions after "
            f"<input name='idle_seconds' value='{self.desk.idle_seconds:g}' size='6'> s idle "
            "<button>Save</button></form>"
            f"{sessions}<p><a href='/install'>Add to Slack</a></p></body></html>"
        )


def create_servicedesk_app(
    api_url: str,
    api_key: str,
    webhook_secret: str,
    *,
    account_ref: str = "demo",
    idle_seconds: float = DEFAULT_IDLE_SECONDS,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """The service desk as an ASGI app (arguments as for the Helpdesk's
    ``create_helpdesk_app``; ``idle_seconds`` closes quiet sessions, ``clock`` is for tests)."""
    desk = ServiceDesk(
        Slackbridge(api_url, api_key, transport=transport, timeout=10.0),
        webhook_secret,
        account_ref,
        idle_seconds=idle_seconds,
        clock=clock,
    )

    async def index(_request: Request) -> Response:
        return HTMLResponse(desk.page())

    app = product_app(
        desk,
        desk.webhook,
        [
            Route("/", index),
            Route("/api/state", desk.state),
            Route("/api/sessions/{number}/answer", desk.answer, methods=["POST"]),
            Route("/api/sessions/{number}/close", desk.close_session, methods=["POST"]),
            Route("/api/settings", desk.settings, methods=["POST"]),
        ],
    )
    app.state.servicedesk = desk
    return app
