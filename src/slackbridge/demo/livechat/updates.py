"""The visitor's page, kept live: each chat's events over server-sent events.

Every change to a chat (a message, an edit, a deletion, a claim, the close) is one of its
``events``; :meth:`LiveUpdates.stream` sends them from a given event number on (the browser's
``Last-Event-ID`` after a reconnect), then waits for :meth:`LiveUpdates.notify`, with a
keep-alive comment every 15 s, and ends once the chat is closed and all is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson

from slackbridge.demo.livechat.chats import Chat

__all__ = ["LiveUpdates"]

_KEEPALIVE_SECONDS = 15.0


class LiveUpdates:
    """Who is waiting for which chat's next event."""

    def __init__(self) -> None:
        self._changed: dict[int, asyncio.Event] = {}

    def notify(self, chat: Chat) -> None:
        """``chat`` has a new event: wake its streams."""
        event = self._changed.pop(chat.number, None)
        if event is not None:
            event.set()

    async def stream(self, chat: Chat, after: int) -> AsyncIterator[bytes]:
        """``chat``'s events after number ``after``, as server-sent events, as they come."""
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
