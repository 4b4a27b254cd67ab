"""The task bot as a web app: slackbridge's webhooks in, the product API out, and a page.

It declares its commands through the API when it starts (``PUT /api/v1/commands``, retried in
the background until the gateway answers), then lives on ``command.matched``: a command from a
mention is answered in its thread (``list`` and refusals only to the person, as an ephemeral),
one from a DM in the DM, one from ``/tasks`` through its ``response_url``. ``workspace.*``
webhooks keep the workspaces' status; a disconnected or removed workspace's commands are
ignored and nothing is sent to it. Removing a workspace here calls ``DELETE
/api/v1/workspaces/{team_id}``, which revokes the app's token in Slack.

Routes: ``/`` (the page: tasks and workspaces), ``POST /webhooks/slackbridge``, ``GET
/api/state``, ``POST /api/workspaces/{team_id}/remove``, ``GET /install`` (Add to Slack) and
``GET /healthz``. The API key needs ``admin`` (declaring commands, removing workspaces).
"""

from __future__ import annotations

import asyncio
import html
import logging
import uuid
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbridge.client import CommandMatched, Slackbridge, SlackbridgeError
from slackbridge.demo.product_common import (
    WEBHOOK_PATH,
    ProductBase,
    error,
    product_app,
    receive_webhook,
)
from slackbridge.demo.tasks.board import COMMANDS, Answer, Board

__all__ = ["WEBHOOK_PATH", "TaskBot", "create_tasks_app"]

_log = logging.getLogger("slackbridge.demo.tasks")

_DECLARE_RETRY_SECONDS = 1.0


class TaskBot(ProductBase):
    """The task bot's behaviour (one per app; ``app.state.tasks``)."""

    def __init__(self, client: Slackbridge, webhook_secret: str, account_ref: str) -> None:
        super().__init__(client, account_ref)
        self.board = Board()
        self._secret = webhook_secret
        self.commands_declared = asyncio.Event()
        self.answers: list[dict[str, Any]] = []  # what was sent, for the page and the tests
        self.heard: list[str] = []  # the types of the webhooks applied, in order

    # --- background work ------------------------------------------------------------------------

    async def start(self) -> None:
        self.spawn(self._declare_commands())

    async def _declare_commands(self) -> None:
        """Declare the commands (until the gateway takes them), then learn the workspaces."""
        while True:
            try:
                await self.client.commands.replace(COMMANDS)
                break
            except httpx.HTTPError as exc:
                _log.info("slackbridge's API is not answering yet (%s); will try again", exc)
            except SlackbridgeError as exc:
                _log.error("slackbridge refused the task bot's commands: %s", exc)
                return
            await asyncio.sleep(_DECLARE_RETRY_SECONDS)
        self.commands_declared.set()
        try:
            for ws in await self.client.workspaces.list():
                if ws.team_id:
                    self.board.learn_workspace(ws.team_id, ws.team_name, ws.status)
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not list the workspaces: %s", exc)

    async def _answer(self, matched: CommandMatched, answer: Answer) -> None:
        """Say ``answer`` where the command came from, through the product API."""
        team, channel = matched.team_id or "", matched.channel_id or ""
        key = f"tasks-{uuid.uuid4()}"
        try:
            if matched.source == "slash" and matched.response_url:
                kind = "response"
                await self.client.responses.send(
                    team,
                    matched.response_url,
                    answer.text,
                    response_type="ephemeral",
                    idempotency_key=key,
                )
            elif answer.private and matched.source == "mention" and matched.user_id:
                kind = "ephemeral"
                await self.client.messages.ephemeral(
                    team,
                    channel,
                    matched.user_id,
                    answer.text,
                    thread_ts=matched.thread_ts,
                    idempotency_key=key,
                )
            elif matched.source == "dm":
                kind = "dm"
                await self.client.messages.post(team, channel, answer.text, idempotency_key=key)
            else:
                kind = "thread"
                await self.client.messages.post(
                    team,
                    channel,
                    answer.text,
                    thread_ts=matched.thread_ts or matched.ts,
                    idempotency_key=key,
                )
        except (SlackbridgeError, httpx.HTTPError) as exc:
            _log.warning("could not answer %s in %s: %s", matched.command, team, exc)
            return
        self.answers.append(
            {"team_id": team, "channel_id": channel, "kind": kind, "text": answer.text}
        )

    # --- HTTP -----------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        """slackbridge's webhooks: verify, apply once, answer 2xx at once (replies follow)."""
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self.board.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "outcome": "duplicate"})
        self.heard.append(event.type)
        if event.type.startswith("workspace."):
            state = self.board.workspace_event(event.type, event.data)
            return JSONResponse({"ok": True, "outcome": state.status if state else "ignored"})
        matched = CommandMatched.from_event(event)
        if matched is None:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        if not self.board.connected(matched.team_id):
            # Uninstalled, its token dead, or removed here: don't act for it, don't call it.
            return JSONResponse({"ok": True, "outcome": "disconnected"})
        if matched.edited:
            return JSONResponse({"ok": True, "outcome": "ignored"})
        answer = self.board.run(
            matched.command, matched.arguments, matched.team_id or "", matched.user_email
        )
        self.spawn(self._answer(matched, answer))
        return JSONResponse({"ok": True, "outcome": matched.command})

    async def state(self, _request: Request) -> Response:
        return JSONResponse(
            {
                **self.board.snapshot(),
                "commands_declared": self.commands_declared.is_set(),
                "answers": self.answers,
            }
        )

    async def remove(self, request: Request) -> Response:
        """Remove a workspace: slackbridge revokes the token in Slack and forgets it."""
        team_id = request.path_params["team_id"]
        if team_id not in self.board.workspaces:
            return error(404, "workspace_not_found", f"no workspace {team_id} here")
        try:
            await self.client.workspaces.remove(team_id)
        except SlackbridgeError as exc:
            if exc.code != "workspace_not_found":
                return error(502, exc.code, f"slackbridge refused: {exc.message}")
        except httpx.HTTPError as exc:
            return error(503, "slackbridge_unreachable", f"slackbridge is not reachable: {exc}")
        self.board.mark_removed(team_id)
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/", status_code=303)
        return JSONResponse({"ok": True, "workspace": self.board.workspaces[team_id].to_json()})

    def page(self) -> str:
        """The tasks and workspaces, as a plain page (no script)."""
        esc = html.escape
        names = {a.email: a.name for a in self.board.accounts.values()}
        rows = (
            "".join(
                f"<tr class='{'done' if t.done else 'open'}'><td>#{t.number}</td>"
                f"<td>{esc(t.title)}</td><td>{esc(names.get(t.owner, t.owner))}</td>"
                f"<td>{t.due.isoformat() if t.due else ''}</td>"
                f"<td>{'done' if t.done else 'open'}</td></tr>"
                for t in self.board.tasks.values()
            )
            or "<tr><td colspan='5'>No tasks yet: try <code>@tasks add …</code></td></tr>"
        )
        workspaces = (
            "".join(
                f"<li>{esc(w.name or w.team_id)} ({esc(w.team_id)}): <b>{esc(w.status)}</b>"
                + (f" — {esc(w.reason)}" if w.reason else "")
                + (
                    f"<form method='post' action='/api/workspaces/{esc(w.team_id)}/remove'>"
                    "<button>Remove</button></form>"
                    if w.status != "removed"
                    else ""
                )
                + "</li>"
                for w in self.board.workspaces.values()
            )
            or "<li>None yet: <a href='/install'>Add to Slack</a></li>"
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Tasks</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem}"
            "td{padding:.2rem .8rem}.done td{color:#888;text-decoration:line-through}</style>"
            "</head><body><h1>Tasks</h1>"
            f"<table><tr><th>#</th><th>Task</th><th>Owner</th><th>Due</th><th>Status</th></tr>"
            f"{rows}</table><h2>Workspaces</h2><ul>{workspaces}</ul>"
            "<p><a href='/install'>Add to Slack</a></p></body></html>"
        )


def create_tasks_app(
    api_url: str,
    api_key: str,
    webhook_secret: str,
    *,
    account_ref: str = "demo",
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The task bot as an ASGI app (arguments as for the Helpdesk's ``create_helpdesk_app``);
    the key needs ``admin``."""
    bot = TaskBot(
        Slackbridge(api_url, api_key, transport=transport, timeout=10.0),
        webhook_secret,
        account_ref,
    )

    async def index(_request: Request) -> Response:
        return HTMLResponse(bot.page())

    app = product_app(
        bot,
        bot.webhook,
        [
            Route("/", index),
            Route("/api/state", bot.state),
            Route("/api/workspaces/{team_id}/remove", bot.remove, methods=["POST"]),
        ],
    )
    app.state.tasks = bot
    return app
