"""Code comments as a web app: two environments (dev and prod), each its own Slack app, on one
gateway; bridge webhooks in, the bridge API out.

Each environment (:class:`Environment`) has its own review, its own Slack app (by name in the
gateway's settings: its Add to Slack link asks for that app) and learns its app id and workspace
from ``workspace.installed``; every webhook goes to the environment whose app it is about
(``data.workspace.app_id``). Sharing a comment is ``PUT /api/v1/conversations/comment-<env>-<n>``
(still, a card with the code and View comment); a reply written on the page is ``POST
…/messages`` with the writer's email (the bridge posts under their Slack name and avatar when a
Slack user has it) and their name and avatar as the persona otherwise; editing and deleting it
are ``PATCH`` and ``DELETE``. On install each person's email is linked (``PUT
/api/v1/user-links/{person}``) so that their Slack replies come back with ``product_user``.

Routes: ``/`` (both environments), ``/{env}/`` (the review page), ``/{env}/comments/{n}`` (where
View comment leads), ``/{env}/install``, ``/install`` (prod's), ``POST /{env}/api/comments``,
``POST /{env}/api/comments/{n}/share``, ``POST /{env}/api/comments/{n}/replies``, ``PATCH`` and
``DELETE /{env}/api/comments/{n}/replies/{id}``, ``GET /api/state``, ``POST
/webhooks/slackbridge``, ``/healthz``.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.comments.review import (
    CODE,
    FILE_NAME,
    PEOPLE,
    VIEW_ACTION,
    Comment,
    Review,
    card,
)
from slackbridge.demo.product_common import (
    WEBHOOK_PATH,
    ProductBase,
    SeenWebhooks,
    error,
    product_app,
    receive_webhook,
)

__all__ = ["ENVIRONMENTS", "WEBHOOK_PATH", "CommentsApp", "Environment", "create_comments_app"]

_log = logging.getLogger("slackbridge.demo.comments")
_MAX_TEXT = 4000


@dataclass
class Environment:
    """One environment of the product: its Slack app (by name), what it learned, its review."""

    name: str  # "dev", "prod"
    app_name: str  # the Slack app's name in the gateway's settings
    title: str  # "Comments (dev)"
    review: Review = field(init=False)
    app_id: str | None = None
    team_id: str | None = None
    team_name: str | None = None

    def __post_init__(self) -> None:
        self.review = Review(self.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "app_name": self.app_name,
            "title": self.title,
            "app_id": self.app_id,
            "team_id": self.team_id,
            "team_name": self.team_name,
            "comments": [c.to_json() for c in self.review.comments.values()],
        }


#: The two environments and their Slack apps' names in the gateway's settings.
ENVIRONMENTS = (("prod", "comments", "Comments (prod)"), ("dev", "comments-dev", "Comments (dev)"))


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.answer = error(status, code, message)


class CommentsApp(ProductBase):
    """Both environments (``app.state.comments``)."""

    def __init__(self, client: Slackbridge, webhook_secret: str, public_url: str) -> None:
        super().__init__(client, "prod")
        self.envs = {name: Environment(name, app, title) for name, app, title in ENVIRONMENTS}
        self._secret = webhook_secret
        self._seen = SeenWebhooks()
        self._public = public_url.rstrip("/")

    # --- helpers --------------------------------------------------------------------------------

    def _env(self, request: Request) -> Environment:
        env = self.envs.get(request.path_params["env"])
        if env is None:
            raise _Refused(404, "environment_not_found", f"environments: {', '.join(self.envs)}")
        return env

    def _comment(self, env: Environment, request: Request) -> Comment:
        try:
            number = int(request.path_params["number"])
        except ValueError:
            number = 0
        comment = env.review.comments.get(number)
        if comment is None:
            raise _Refused(404, "comment_not_found", "no such comment")
        return comment

    @staticmethod
    async def _body(request: Request) -> Mapping[str, Any]:
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                payload = await request.json()
            except ValueError:
                raise _Refused(400, "invalid_body", "send a JSON object") from None
            if not isinstance(payload, Mapping):
                raise _Refused(400, "invalid_body", "send a JSON object")
            return payload
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}

    @staticmethod
    def _text(body: Mapping[str, Any]) -> str:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > _MAX_TEXT:
            raise _Refused(400, "invalid_text", f"text: 1 to {_MAX_TEXT} characters")
        return text.strip()

    @staticmethod
    def _done(request: Request, answer: dict[str, Any], status: int, back: str) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(back, status_code=303)
        return JSONResponse(answer, status_code=status)

    # --- Add to Slack ---------------------------------------------------------------------------

    async def install(self, _request: Request) -> Response:
        """Add to Slack for prod (the demo's first install)."""
        return await self._install(self.envs["prod"])

    async def env_install(self, request: Request) -> Response:
        return await self._install(self._env(request))

    async def _install(self, env: Environment) -> Response:
        """A fresh signed link for the environment's own app, then on to it."""
        try:
            url = await self.client.workspaces.install_url(env.name, app=env.app_name)
        except (SlackbridgeError, httpx.HTTPError) as exc:
            return error(503, "slackbridge_unreachable", f"no install link: {exc}")
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})

    async def _link_people(self, env: Environment) -> None:
        """Tie each person's email to the workspace's Slack users (for product_user)."""
        for person in PEOPLE.values():
            try:
                await self.client.user_links.put(
                    person.id, workspace=env.team_id or "", email=person.email
                )
            except (SlackbridgeError, httpx.HTTPError) as exc:
                _log.info("no user link for %s in %s: %s", person.id, env.name, exc)

    # --- the page's API -------------------------------------------------------------------------

    async def add_comment(self, request: Request) -> Response:
        env = self._env(request)
        body = await self._body(request)
        try:
            line = int(body.get("line") or 0)
            comment = env.review.comment(line, str(body.get("author")), self._text(body))
        except ValueError as exc:
            return error(400, "invalid_comment", str(exc))
        return self._done(request, {"comment": comment.to_json()}, 201, f"/{env.name}/")

    async def share(self, request: Request) -> Response:
        env = self._env(request)
        comment = self._comment(env, request)
        body = await self._body(request)
        channel = body.get("channel")
        if not isinstance(channel, str) or not channel:
            return error(400, "invalid_channel", "channel: the Slack channel's id")
        if env.team_id is None:
            return error(409, "not_installed", f"{env.title} is not in a workspace yet")
        url = f"{self._public}/{env.name}/comments/{comment.number}"
        try:
            shared = await self.client.conversations.put(
                comment.key,
                workspace=env.team_id,
                mode="still",
                channel=channel,
                card=card(comment, url),
                title=f"{FILE_NAME}:{comment.line}",
                metadata={"env": env.name, "comment": comment.number},
            )
            comment.shared = shared.model_dump(mode="json")
        except SlackbridgeError as exc:
            return error(502, exc.code, f"slackbridge refused: {exc.message}")
        except httpx.HTTPError as exc:
            return error(503, "slackbridge_unreachable", str(exc))
        return self._done(request, {"comment": comment.to_json()}, 200, f"/{env.name}/")

    async def reply(self, request: Request) -> Response:
        env = self._env(request)
        comment = self._comment(env, request)
        body = await self._body(request)
        person = PEOPLE.get(str(body.get("author")))
        if person is None:
            return error(400, "invalid_author", f"author: one of {', '.join(PEOPLE)}")
        reply = env.review.reply_on_page(comment, person, self._text(body))
        if comment.shared is not None:
            try:
                await self.client.conversations.post(
                    comment.key,
                    id=reply.id,
                    author={
                        "email": person.email,
                        "persona": {"name": person.name, "icon_url": person.avatar},
                    },
                    text=reply.text,
                )
            except SlackbridgeError as exc:
                return error(502, exc.code, f"slackbridge refused the reply: {exc.message}")
            except httpx.HTTPError as exc:
                return error(503, "slackbridge_unreachable", str(exc))
        return self._done(request, {"reply": reply.to_json()}, 201, f"/{env.name}/")

    async def change_reply(self, request: Request) -> Response:
        env = self._env(request)
        comment = self._comment(env, request)
        reply = comment.reply(request.path_params["reply"])
        if reply is None or reply.source != "page" or reply.deleted:
            return error(404, "reply_not_found", "no such reply written here")
        try:
            if request.method == "DELETE":
                reply.deleted = True
                if comment.shared is not None:
                    await self.client.conversations.delete_message(comment.key, reply.id)
            else:
                reply.text, reply.edited = self._text(await self._body(request)), True
                if comment.shared is not None:
                    await self.client.conversations.edit(comment.key, reply.id, text=reply.text)
        except SlackbridgeError as exc:
            return error(502, exc.code, f"slackbridge refused: {exc.message}")
        except httpx.HTTPError as exc:
            return error(503, "slackbridge_unreachable", str(exc))
        return JSONResponse({"reply": reply.to_json()}, status_code=200)

    # --- webhooks -------------------------------------------------------------------------------

    async def webhook(self, request: Request) -> Response:
        event = await receive_webhook(self._secret, request)
        if isinstance(event, Response):
            return event
        if not self._seen.first_time(request.headers.get("webhook-id", "")):
            return JSONResponse({"ok": True, "outcome": "duplicate"})
        data = event.data
        workspace = data.get("workspace") or {}
        if event.type == "workspace.installed":
            env = next(
                (e for e in self.envs.values() if e.app_name == workspace.get("app_name")), None
            )
            if env is None:
                return JSONResponse({"ok": True, "outcome": "not_ours"})
            env.app_id, env.team_id = workspace.get("app_id"), workspace.get("team_id")
            env.team_name = workspace.get("team_name")
            self.spawn(self._link_people(env))
            return JSONResponse({"ok": True, "outcome": f"installed:{env.name}"})
        env = next(
            (e for e in self.envs.values() if e.app_id and e.app_id == workspace.get("app_id")),
            None,
        )
        if env is None:
            return JSONResponse({"ok": True, "outcome": "not_ours"})
        if event.type.startswith("conversation."):
            outcome, _ = env.review.apply(event.type, data)
            return JSONResponse({"ok": True, "outcome": outcome, "env": env.name})
        if event.type == "interaction.block_action":
            actions = data.get("actions") or []
            for action in actions if isinstance(actions, list) else []:
                if isinstance(action, Mapping) and action.get("action_id") == VIEW_ACTION:
                    comment = env.review.by_key(action.get("value"))
                    if comment is not None:
                        seen = env.review.viewed(comment, data.get("user") or {})
                        return JSONResponse({"ok": True, "outcome": "viewed", "by": seen})
        return JSONResponse({"ok": True, "outcome": "ignored", "env": env.name})

    # --- pages ----------------------------------------------------------------------------------

    async def state(self, _request: Request) -> Response:
        return JSONResponse({"envs": {n: e.to_json() for n, e in self.envs.items()}})

    async def front(self, _request: Request) -> Response:
        rows = "".join(
            f"<li><a href='/{e.name}/'>{html.escape(e.title)}</a>: "
            + (
                f"in {html.escape(e.team_name or e.team_id)}"
                if e.team_id
                else f"<a href='/{e.name}/install'>Add to Slack</a>"
            )
            + "</li>"
            for e in self.envs.values()
        )
        return HTMLResponse(_page("Comments", f"<h1>Comments</h1><ul>{rows}</ul>"))

    async def review_page(self, request: Request) -> Response:
        env = self._env(request)
        focus = request.path_params.get("number")
        return HTMLResponse(_review_html(env, focus))


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}pre{margin:0}"
        ".comment{border-left:3px solid #4a154b;margin:.3rem 0 .8rem 3rem;padding:.3rem .8rem}"
        ".focus{background:#fff8d6}.deleted{color:#999}</style></head>"
        f"<body>{body}</body></html>"
    )


def _review_html(env: Environment, focus: str | None) -> str:
    esc = html.escape
    people = "".join(f"<option value='{p.id}'>{esc(p.name)}</option>" for p in PEOPLE.values())
    by_line: dict[int, list[Comment]] = {}
    for c in env.review.comments.values():
        by_line.setdefault(c.line, []).append(c)
    rows = []
    for n, code in enumerate(CODE, start=1):
        rows.append(f"<pre id='L{n}'>{n:>3}  {esc(code)}</pre>")
        for c in by_line.get(n, []):
            replies = "".join(
                f"<li class='{'deleted' if r.deleted else ''}'><b>{esc(r.name)}</b>"
                f"{' (Slack)' if r.source == 'slack' else ''}: "
                f"{'(deleted)' if r.deleted else esc(r.text)}{' (edited)' if r.edited else ''}</li>"
                for r in c.replies
            )
            shared = (
                f"shared to {esc(str(c.shared.get('channel')))}"
                if c.shared
                else f"<form method='post' action='/{env.name}/api/comments/{c.number}/share'>"
                "<input name='channel' placeholder='channel id' size='12'><button>Share to "
                "Slack</button></form>"
            )
            viewed = ", ".join(esc(str(v.get("email") or v.get("slack_user"))) for v in c.viewed_by)
            rows.append(
                f"<div class='comment{' focus' if focus == str(c.number) else ''}' "
                f"id='comment-{c.number}'><b>{esc(PEOPLE[c.author].name)}</b>: {esc(c.text)} "
                f"· {shared}{' · viewed from Slack by ' + viewed if viewed else ''}"
                f"<ul>{replies}</ul><form method='post' "
                f"action='/{env.name}/api/comments/{c.number}/replies'><select name='author'>"
                f"{people}</select><input name='text' size='40'><button>Reply</button></form></div>"
            )
    form = (
        f"<form method='post' action='/{env.name}/api/comments'><select name='author'>{people}"
        "</select> on line <input name='line' size='3'> <input name='text' size='40'>"
        "<button>Comment</button></form>"
    )
    where = (
        f"in {esc(env.team_name or env.team_id)}"
        if env.team_id
        else (f"<a href='/{env.name}/install'>Add to Slack</a>")
    )
    return _page(
        f"{env.title} — {FILE_NAME}",
        f"<h1>{esc(env.title)}: <code>{FILE_NAME}</code></h1><p>{where}</p>{''.join(rows)}{form}",
    )


def create_comments_app(
    api_url: str,
    api_key: str,
    webhook_secret: str,
    public_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Code comments as an ASGI app, both environments; ``public_url`` is where people reach it
    (the View comment buttons link there)."""
    comments = CommentsApp(
        Slackbridge(api_url, api_key, transport=transport, timeout=10.0),
        webhook_secret,
        public_url,
    )

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                answer: Response = await handler(request)
            except _Refused as exc:
                return exc.answer
            return answer

        return endpoint

    app = product_app(
        comments,
        comments.webhook,
        [
            Route("/", comments.front),
            Route("/api/state", comments.state),
            Route("/{env}/", guarded(comments.review_page)),
            Route("/{env}/comments/{number}", guarded(comments.review_page)),
            Route("/{env}/install", guarded(comments.env_install)),
            Route("/{env}/api/comments", guarded(comments.add_comment), methods=["POST"]),
            Route("/{env}/api/comments/{number}/share", guarded(comments.share), methods=["POST"]),
            Route(
                "/{env}/api/comments/{number}/replies", guarded(comments.reply), methods=["POST"]
            ),
            Route(
                "/{env}/api/comments/{number}/replies/{reply}",
                guarded(comments.change_reply),
                methods=["PATCH", "DELETE"],
            ),
        ],
    )
    app.state.comments = comments
    return app
