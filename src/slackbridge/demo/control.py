"""The emulator's control API, as the demo uses it to act as Slack users over HTTP.

Thin async wrappers over ``/_emulator/…`` (docs/emulator.md); an error answer raises
:class:`~slackbridge.demo.steps.Failure` with the emulator's error code and detail.
"""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.demo.steps import Failure

__all__ = ["EmulatorControl", "find_channel", "find_message"]


class EmulatorControl:
    """Acts in the emulator at ``base_url`` (``http://127.0.0.1:8001``)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self.base_url = base_url.rstrip("/")

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/_emulator/{path}"
        response = await self._http.request(method, url, json=body)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if response.status_code >= 400 or not isinstance(answer, dict):
            code = answer.get("error") if isinstance(answer, dict) else None
            detail = answer.get("detail") if isinstance(answer, dict) else response.text[:200]
            raise Failure(
                f"emulator {method} /_emulator/{path} answered {response.status_code}"
                f" {code or ''}: {detail}".rstrip(": ")
            )
        return answer

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", "state")
        return result

    async def approve(self, authorize_url: str, team_id: str, user_id: str) -> str:
        """Approve the consent page as ``user_id``; the URL Slack sends the browser back to."""
        answer = await self._call(
            "POST",
            "oauth/approve",
            {"authorize_url": authorize_url, "team_id": team_id, "user_id": user_id},
        )
        return str(answer["redirect_url"])

    async def invite(self, team_id: str, channel_id: str, user_id: str, users: list[str]) -> Any:
        return await self._call(
            "POST",
            "conversations/invite",
            {"team_id": team_id, "channel_id": channel_id, "user_id": user_id, "users": users},
        )

    async def post(
        self, team_id: str, channel_id: str, user_id: str, text: str, thread_ts: str | None = None
    ) -> str:
        """Post as ``user_id``; the new message's ts."""
        body: dict[str, Any] = {
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "text": text,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        answer = await self._call("POST", "messages", body)
        return str(answer["ts"])

    async def edit(self, team_id: str, channel_id: str, user_id: str, ts: str, text: str) -> None:
        await self._call(
            "POST",
            "messages/edit",
            {
                "team_id": team_id,
                "channel_id": channel_id,
                "user_id": user_id,
                "ts": ts,
                "text": text,
            },
        )

    async def delete(self, team_id: str, channel_id: str, user_id: str, ts: str) -> None:
        await self._call(
            "POST",
            "messages/delete",
            {"team_id": team_id, "channel_id": channel_id, "user_id": user_id, "ts": ts},
        )

    async def react(self, team_id: str, channel_id: str, user_id: str, ts: str, name: str) -> None:
        await self._call(
            "POST",
            "reactions",
            {
                "team_id": team_id,
                "channel_id": channel_id,
                "user_id": user_id,
                "ts": ts,
                "name": name,
            },
        )

    async def command(
        self, team_id: str, channel_id: str, user_id: str, command: str, text: str = ""
    ) -> Any:
        return await self._call(
            "POST",
            "commands",
            {
                "team_id": team_id,
                "channel_id": channel_id,
                "user_id": user_id,
                "command": command,
                "text": text,
            },
        )

    async def click(
        self, team_id: str, channel_id: str, user_id: str, message_ts: str, action_id: str
    ) -> Any:
        """``user_id`` clicks the button ``action_id`` in the message ``message_ts``."""
        body = {
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "message_ts": message_ts,
            "action_id": action_id,
        }
        return await self._call("POST", "actions", body)

    async def submit_view(self, view_id: str, user_id: str, values: dict[str, Any]) -> Any:
        """``user_id`` submits the open modal ``view_id`` with ``{block_id: {action_id: v}}``."""
        body = {"view_id": view_id, "user_id": user_id, "values": values}
        return await self._call("POST", "views/submit", body)

    async def share_file(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        filename: str,
        content: str,
        thread_ts: str | None = None,
    ) -> Any:
        """``user_id`` shares a text file (in ``thread_ts``'s thread)."""
        body: dict[str, Any] = {
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "filename": filename,
            "content": content,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        return await self._call("POST", "files", body)

    async def messages(self, team_id: str, channel_id: str) -> list[dict[str, Any]]:
        """The channel's top-level messages, each with its ``replies``."""
        answer = await self._call("GET", f"conversations/{team_id}/{channel_id}/messages")
        return list(answer.get("messages") or [])

    async def ephemerals(self, team_id: str, channel_id: str, user_id: str) -> list[dict[str, Any]]:
        """What only ``user_id`` sees in the conversation (apps' ephemeral answers), oldest
        first."""
        path = f"conversations/{team_id}/{channel_id}/messages?user_id={user_id}"
        answer = await self._call("GET", path)
        return list(answer.get("ephemerals") or [])

    async def share_text_file(
        self,
        team_id: str,
        channel_id: str,
        user_id: str,
        filename: str,
        content: str,
        *,
        thread_ts: str | None = None,
        comment: str = "",
    ) -> dict[str, Any]:
        """Share a (text) file as ``user_id``; the answer has the ``file`` and the ``ts``."""
        body: dict[str, Any] = {
            "team_id": team_id,
            "channel_id": channel_id,
            "user_id": user_id,
            "filename": filename,
            "content": content,
            "initial_comment": comment,
        }
        if thread_ts:
            body["thread_ts"] = thread_ts
        answer: dict[str, Any] = await self._call("POST", "files", body)
        return answer

    async def deliveries(self, app_id: str) -> list[dict[str, Any]]:
        """What the emulator sent (or tried to send) to app ``app_id``, with every attempt."""
        answer = await self._call("GET", f"deliveries?app_id={app_id}")
        return list(answer.get("deliveries") or [])


def find_channel(state: dict[str, Any], team_id: str, name: str) -> dict[str, Any] | None:
    """The channel called ``name`` in ``team_id`` in a ``GET /_emulator/state`` answer."""
    for ws in state.get("workspaces") or []:
        if ws.get("id") == team_id:
            for channel in ws.get("channels") or []:
                if channel.get("name") == name:
                    return dict(channel)
    return None


def find_message(messages: list[dict[str, Any]], ts: str) -> dict[str, Any] | None:
    """The top-level message ``ts`` in a ``messages`` answer."""
    return next((m for m in messages if m.get("ts") == ts), None)
