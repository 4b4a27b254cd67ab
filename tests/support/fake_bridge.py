"""A fake gateway that speaks the conversation bridge's contract, for the example apps' tests.

It answers the bridge's routes (``PUT/GET /api/v1/conversations/{key}``, its messages, close and
reopen, user links, watched channels, file contents) the way the contract says, plus the few
existing routes the examples also call (install links, workspaces, ``/messages/update``,
``/views/open``, the Slack pass-through), keeping everything in memory and recording every call
in :attr:`FakeBridge.calls`. It never talks to Slack: a test plays Slack's side by sending the
product the ``conversation.*`` webhooks the real bridge would (:func:`conversation_webhook`).
Use it as the ``transport`` of the product's client: ``httpx.ASGITransport(app=fake.app)``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["FakeBridge", "conversation_webhook"]

_OPERATION = {
    "operation": "chat.update",
    "status": "queued",
    "ts": None,
    "error": None,
    "attempts": 0,
    "created_at": "2026-12-05T08:00:00Z",
    "sent_at": None,
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


@dataclass
class FakeBridge:
    """The fake gateway's state; :attr:`app` is its ASGI app."""

    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    user_links: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # file id → content
    channels: list[dict[str, Any]] = field(
        default_factory=lambda: [{"id": "C0ACME0SUP", "name": "support"}]
    )
    calls: list[tuple[str, str, Any]] = field(default_factory=list)
    _ts: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.app = Starlette(
            routes=[
                Route("/api/v1/conversations", self._list, methods=["GET"]),
                Route("/api/v1/conversations/{key}", self._put, methods=["PUT"]),
                Route("/api/v1/conversations/{key}", self._get, methods=["GET"]),
                Route("/api/v1/conversations/{key}/close", self._close, methods=["POST"]),
                Route("/api/v1/conversations/{key}/reopen", self._reopen, methods=["POST"]),
                Route("/api/v1/conversations/{key}/messages", self._post, methods=["POST"]),
                Route(
                    "/api/v1/conversations/{key}/messages/{id}",
                    self._message,
                    methods=["GET", "PATCH", "DELETE"],
                ),
                Route(
                    "/api/v1/conversations/{key}/messages/{id}/reactions",
                    self._recorded,
                    methods=["POST"],
                ),
                Route("/api/v1/user-links/{product_user}", self._link, methods=["PUT"]),
                Route("/api/v1/watched-channels/{channel}", self._recorded, methods=["PUT"]),
                Route("/api/v1/files/{team}/{file_id}/content", self._file),
                Route("/api/v1/workspaces/install-url", self._install_url, methods=["POST"]),
                Route("/api/v1/workspaces", self._workspaces),
                Route("/api/v1/messages/update", self._operation, methods=["POST"]),
                Route("/api/v1/views/open", self._view, methods=["POST"]),
                Route("/api/v1/slack/{team}/{method}", self._slack, methods=["POST"]),
            ]
        )

    def ts(self) -> str:
        return f"1796000000.{next(self._ts):06d}"

    def called(self, method: str, path_part: str) -> list[Any]:
        """The bodies of the calls with ``method`` whose path holds ``path_part``."""
        return [body for m, path, body in self.calls if m == method and path_part in path]

    async def _record(self, request: Request) -> Any:
        body = None
        if request.method in ("POST", "PUT", "PATCH"):
            raw = await request.body()
            body = (await request.json()) if raw else None
        self.calls.append((request.method, request.url.path, body))
        return body

    async def _recorded(self, request: Request) -> Response:
        await self._record(request)
        return JSONResponse({"ok": True}, status_code=202)

    # --- conversations ----------------------------------------------------------------------

    async def _put(self, request: Request) -> Response:
        key = request.path_params["key"]
        body = await self._record(request)
        if not 1 <= len(key) <= 200:
            return _error(422, "invalid_key", "key: 1 to 200 characters")
        mode = body.get("mode")
        if mode == "still" and (not body.get("channel") or not body.get("card")):
            return _error(422, "invalid_request", "still needs channel and card")
        existing = self.conversations.get(key)
        if existing is not None:
            same = all(existing[k] == body.get(k) for k in ("workspace", "mode")) and (
                mode != "still" or existing["channel"] == body.get("channel")
            )
            if not same:
                return _error(409, "conversation_conflict", f"{key} exists with another place")
            return JSONResponse(existing, status_code=200)
        if mode == "still":
            channel, thread_ts = body["channel"], self.ts()
        else:
            template = body.get("channel_name") or "conv-{n}"
            name = template.replace("{key}", key).replace("{n}", str(len(self.conversations) + 1))
            channel, thread_ts = f"C{name.upper().replace('-', '')}", None
        created = {
            "key": key,
            "workspace": body["workspace"],
            "mode": mode,
            "state": "open",
            "channel": channel,
            "thread_ts": thread_ts,
            "permalink": None,
            "title": body.get("title"),
            "metadata": body.get("metadata"),
            "created_at": "2026-12-05T08:00:00Z",
            "closed_at": None,
            "error": None,
            "card": body.get("card"),
            "invite": body.get("invite"),
        }
        self.conversations[key] = created
        return JSONResponse(created, status_code=201)

    def _conversation(self, request: Request) -> dict[str, Any] | Response:
        found = self.conversations.get(request.path_params["key"])
        if found is None:
            return _error(404, "conversation_not_found", "no such conversation")
        return found

    async def _get(self, request: Request) -> Response:
        found = self._conversation(request)
        return found if isinstance(found, Response) else JSONResponse(found)

    async def _list(self, request: Request) -> Response:
        return JSONResponse(
            {"conversations": list(self.conversations.values()), "next_cursor": None}
        )

    async def _close(self, request: Request) -> Response:
        await self._record(request)
        found = self._conversation(request)
        if isinstance(found, Response):
            return found
        found["state"], found["closed_at"] = "closed", "2026-12-05T08:05:00Z"
        return JSONResponse(found)

    async def _reopen(self, request: Request) -> Response:
        await self._record(request)
        found = self._conversation(request)
        if isinstance(found, Response):
            return found
        found["state"], found["closed_at"] = "open", None
        return JSONResponse(found)

    async def _post(self, request: Request) -> Response:
        body = await self._record(request)
        found = self._conversation(request)
        if isinstance(found, Response):
            return found
        author = body.get("author") or {}
        if (
            "email" in author
            and "persona" not in author
            and author["email"] not in {link.get("email") for link in self.user_links.values()}
        ):
            return _error(422, "unknown_author", "no Slack user with that email, and no persona")
        key = (found["key"], str(body.get("id")))
        message = self.messages.get(key)
        if message is None:
            message = {
                "id": body.get("id"),
                "conversation": found["key"],
                "state": "sent",
                "ts": self.ts(),
                "operation_id": f"msg_{len(self.messages) + 1}",
                "body": body,
            }
            self.messages[key] = message
        return JSONResponse({k: v for k, v in message.items() if k != "body"}, status_code=202)

    async def _message(self, request: Request) -> Response:
        body = await self._record(request)
        key = (request.path_params["key"], request.path_params["id"])
        message = self.messages.get(key)
        if message is None:
            return _error(404, "message_not_found", "no such message")
        if request.method == "PATCH":
            message["body"] = {**message["body"], **(body or {})}
        elif request.method == "DELETE":
            message["deleted"] = True
        status = 200 if request.method == "GET" else 202
        return JSONResponse({k: v for k, v in message.items() if k != "body"}, status_code=status)

    async def _link(self, request: Request) -> Response:
        body = await self._record(request)
        product_user = request.path_params["product_user"]
        link = {"product_user": product_user, "slack_user": None, "email": None, **(body or {})}
        self.user_links[product_user] = link
        return JSONResponse(link)

    async def _file(self, request: Request) -> Response:
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return _error(401, "unauthorized", "a Bearer API key")
        content = self.files.get(request.path_params["file_id"])
        if content is None:
            return _error(404, "file_not_found", "no such file")
        return Response(content, media_type="application/octet-stream")

    # --- the existing API the examples also use ------------------------------------------

    async def _install_url(self, request: Request) -> Response:
        body = await self._record(request)
        ref = (body or {}).get("product_ref") or ""
        return JSONResponse(
            {"url": f"http://gateway.test/slack/install?ref={ref}", "expires_at": None}
        )

    async def _workspaces(self, request: Request) -> Response:
        return JSONResponse({"workspaces": []})

    async def _operation(self, request: Request) -> Response:
        body = await self._record(request)
        operation = {
            **_OPERATION,
            "id": f"msg_u{len(self.calls)}",
            "workspace": body.get("workspace"),
            "channel": body.get("channel"),
            "thread_ts": None,
        }
        return JSONResponse(operation, status_code=202)

    async def _view(self, request: Request) -> Response:
        body = await self._record(request)
        return JSONResponse({"view": {"id": "V0001", **(body.get("view") or {})}})

    async def _slack(self, request: Request) -> Response:
        await self._record(request)
        if request.path_params["method"] == "conversations.list":
            return JSONResponse({"ok": True, "channels": self.channels})
        return JSONResponse({"ok": True})


def conversation_webhook(kind: str, conversation: dict[str, Any], **data: Any) -> dict[str, Any]:
    """The ``data`` of a ``conversation.*`` webhook about ``conversation`` (a fake's record)."""
    return {
        "workspace": {"team_id": conversation["workspace"], "enterprise_id": None, "app_id": "A1"},
        "conversation": {
            "key": conversation["key"],
            "mode": conversation["mode"],
            "channel": conversation["channel"],
            "thread_ts": conversation["thread_ts"],
        },
        **data,
    }
