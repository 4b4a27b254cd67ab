"""The chat's card in Slack: its Claim and Close buttons, the close modal, keeping it current.

**Claim** (``interaction.block_action``) assigns the agent who clicked and updates the card;
**Close** opens a modal (``views.open``) whose resolution note (``interaction.view_submission``)
closes the chat on both sides (``POST …/close``), and the card says so. The webhook is answered
at once; the calls to slackbridge are follow-up jobs (``spawn``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx
from starlette.responses import JSONResponse, Response

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.livechat.chats import (
    CLAIM_ACTION,
    CLOSE_ACTION,
    CLOSE_CALLBACK,
    Chat,
    Livechat,
    card,
    close_modal,
    note_of,
)

__all__ = ["CardActions"]

_log = logging.getLogger("slackbridge.demo.livechat")


def _outcome(outcome: str) -> Response:
    return JSONResponse({"ok": True, "outcome": outcome})


class CardActions:
    """What the card's buttons and the close modal do (``notify`` wakes a chat's visitor)."""

    def __init__(
        self,
        live: Livechat,
        client: Slackbridge,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        notify: Callable[[Chat], None],
    ) -> None:
        self.live = live
        self.client = client
        self._spawn = spawn
        self._notify = notify

    def block_action(self, data: Mapping[str, Any]) -> Response:
        """``interaction.block_action``: Claim, or Close (which opens the modal)."""
        actions = data.get("actions") or []
        action = actions[0] if isinstance(actions, list) and actions else {}
        action_id = action.get("action_id") if isinstance(action, Mapping) else None
        chat = self.live.by_key(action.get("value") if isinstance(action, Mapping) else None)
        if action_id not in (CLAIM_ACTION, CLOSE_ACTION) or chat is None:
            return _outcome("ignored")
        user = data.get("user") or {}
        team = (data.get("workspace") or {}).get("team_id")
        if action_id == CLAIM_ACTION:
            name = str(user.get("real_name") or user.get("name") or user.get("id") or "an agent")
            if self.live.claim(chat, user.get("id"), name):
                self._notify(chat)
                self._spawn(self._update_card(chat))
                return _outcome("claimed")
            return _outcome("already_claimed")
        trigger = data.get("trigger_id")
        if chat.state == "open" and isinstance(team, str) and isinstance(trigger, str):
            self._spawn(self._open_modal(team, trigger, chat))
            return _outcome("modal")
        return _outcome("ignored")

    def view_submission(self, data: Mapping[str, Any]) -> Response:
        """``interaction.view_submission`` of the close modal: the chat is closed."""
        view = data.get("view") or {}
        if view.get("callback_id") != CLOSE_CALLBACK:
            return _outcome("ignored")
        chat = self.live.by_key(view.get("private_metadata"))
        if chat is None:
            return _outcome("ignored")
        user = data.get("user") or {}
        name = str(user.get("real_name") or user.get("name") or "an agent")
        note = note_of(view.get("values") or {})
        if self.live.close(chat, name, note):
            self._notify(chat)
            self._spawn(self._close_conversation(chat, name, note))
            return _outcome("closed")
        return _outcome("already_closed")

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
