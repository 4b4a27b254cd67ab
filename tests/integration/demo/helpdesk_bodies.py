"""What the Helpdesk's tests send and answer most: bob's question in Acme's #support as the
bridge delivers it (``conversation.opened``), and slackbridge's API answers to the Helpdesk's
calls (a stand-in for the gateway)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

__all__ = ["ROOT", "TEAM", "FakeApi", "conversation_opened", "message_created"]

TEAM = "T0ACME0001"
CHANNEL = "C0ACME0SUP"
ROOT = "1700000000.000100"
_BOB = {
    "slack_user": "U0ACME0002",
    "name": "bob",
    "real_name": "Bob Baker",
    "email": None,
    "product_user": None,
    "bot_id": None,
}


def _body(kind: str, key: str | None, thread_ts: str = ROOT, **data: Any) -> bytes:
    return orjson.dumps(
        {
            "type": kind,
            "timestamp": "2026-11-21T10:00:00Z",
            "data": {
                "workspace": {"team_id": TEAM, "enterprise_id": None, "app_id": "A1"},
                "conversation": {
                    "key": key,
                    "mode": "still",
                    "channel": CHANNEL,
                    "thread_ts": thread_ts,
                },
                **data,
            },
        }
    )


def _message(
    ts: str, text: str, files: list[dict[str, Any]] | None = None, thread_ts: str = ROOT
) -> dict[str, Any]:
    return {
        "ts": ts,
        "thread_ts": thread_ts,
        "text": text,
        "blocks": None,
        "files": files or [],
        "author": _BOB,
        "product_message_id": None,
        "broadcast": False,
    }


def conversation_opened(text: str = "The printer is jammed", ts: str = ROOT) -> bytes:
    """The ``conversation.opened`` body for bob's question ``text`` at ``ts``."""
    return _body("conversation.opened", None, ts, message=_message(ts, text, thread_ts=ts))


def message_created(
    ts: str, text: str, files: list[dict[str, Any]] | None = None, key: str = "ticket-1"
) -> bytes:
    """``conversation.message.created`` for bob's reply ``text`` at ``ts`` in the ticket."""
    return _body("conversation.message.created", key, message=_message(ts, text, files))


class FakeApi:
    """Stands in for slackbridge's API: records calls, answers as the gateway would."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.files: dict[str, bytes] = {}
        self.down = False  # unreachable, as a stopped gateway

    def posted(self) -> list[dict[str, Any]]:
        """The bodies of the messages posted into conversations, in order."""
        return [b for m, p, b in self.calls if m == "POST" and p.endswith("/messages")]

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in self.calls if method is None or m == method]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        path = request.url.path
        payload = orjson.loads(request.content) if request.content else {}
        self.calls.append((request.method, path, payload))
        if path.endswith("/conversations.info"):
            return httpx.Response(200, json={"ok": True, "channel": {"name": "support"}})
        if path.endswith("/conversations.list"):
            channels = [{"id": CHANNEL, "name": "support"}, {"id": "C2", "name": "general"}]
            return httpx.Response(200, json={"ok": True, "channels": channels})
        if path.startswith("/api/v1/files/"):
            file_id = path.split("/")[-2]
            if file_id not in self.files:
                return httpx.Response(404, json={"error": {"code": "file_not_found"}})
            return httpx.Response(200, content=self.files[file_id])
        if path.startswith("/api/v1/conversations/") and "/messages" in path:
            key = path.split("/")[4]
            message_id = payload.get("id") or path.split("/")[6]
            return httpx.Response(
                202,
                json={
                    "id": message_id,
                    "conversation": key,
                    "state": "queued",
                    "ts": None,
                    "operation_id": f"msg_{len(self.calls)}",
                },
            )
        if path.startswith("/api/v1/conversations/"):
            key = path.split("/")[4]
            return httpx.Response(200, json=_conversation(key, payload))
        if path.startswith("/api/v1/watched-channels/"):
            return httpx.Response(
                200,
                json={
                    "channel": path.split("/")[-1],
                    "workspace": payload.get("workspace"),
                    "open_on": "message",
                    "reaction": None,
                    "mode": "still",
                },
            )
        if path == "/api/v1/workspaces":
            return httpx.Response(200, json={"workspaces": []})
        return httpx.Response(200, json={"ok": True, "url": "http://slack.test/install"})


def _conversation(key: str, payload: dict[str, Any]) -> dict[str, Any]:
    adopt = payload.get("adopt") or {}
    noisy = payload.get("mode") == "noisy"
    return {
        "key": key,
        "workspace": payload.get("workspace") or TEAM,
        "mode": "noisy" if noisy else "still",
        "state": "creating" if noisy else "open",
        "channel": adopt.get("channel"),
        "thread_ts": adopt.get("thread_ts"),
        "permalink": None,
        "title": payload.get("title"),
        "metadata": None,
        "created_at": "2026-11-21T10:00:00Z",
        "closed_at": None,
        "error": None,
    }
