"""Posting scheduled messages (chat.scheduleMessage) when their time comes.

A :class:`Scheduler` runs in the emulator app's lifespan: it sleeps until the earliest
scheduled message is due (``ScheduledMessage.due``, Slack's ``post_at`` reached sooner when the
emulator runs at ``--speed``) and posts it as its author, as Slack does. A message whose
channel has gone (archived, the author removed, the thread deleted) is dropped silently, as
Slack drops it. :func:`post_due` is the step, usable without the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from slackbridge.emulator.ops_messages import post_message
from slackbridge.emulator.state import EmulatorState, ScheduledMessage
from slackbridge.emulator.webapi.registry import SlackError

__all__ = ["Scheduler", "lifespan", "post_due", "scheduler_of"]

_log = logging.getLogger("slackbridge.emulator.scheduler")


def _post(state: EmulatorState, item: ScheduledMessage) -> bool:
    channel = state.channel(item.team_id, item.channel_id)
    author = state.user(item.author_id)
    if channel is None or author is None or channel.is_archived:
        return False
    if author.id not in channel.members and channel.kind != "public":
        return False
    try:
        post_message(
            state,
            channel,
            author,
            text=item.text,
            blocks=item.blocks,
            attachments=item.attachments,
            thread_ts=item.thread_ts,
            reply_broadcast=item.reply_broadcast,
            metadata=item.metadata,
        )
    except SlackError:  # the thread was deleted meanwhile
        return False
    return True


def post_due(state: EmulatorState) -> list[ScheduledMessage]:
    """Post every scheduled message that is due, in order; returns those taken off the
    schedule (posted or dropped)."""
    now = state.now()
    due = sorted(
        (m for m in state.scheduled_messages.values() if m.due <= now),
        key=lambda m: (m.due, m.id),
    )
    for item in due:
        del state.scheduled_messages[item.id]
        if not _post(state, item):
            _log.info("emulator: dropped scheduled message %s (channel gone)", item.id)
    return due


class Scheduler:
    """Sleeps until the next scheduled message is due; :meth:`wake` after scheduling."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="emulator-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            pending = self._state.scheduled_messages.values()
            delay = min((m.due for m in pending), default=None)
            if delay is not None:
                delay -= self._state.now()
                if delay <= 0:
                    post_due(self._state)
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """The emulator app's lifespan hook: one :class:`Scheduler`, running while the app runs."""
    scheduler = Scheduler(app.state.emulator)
    app.state.scheduler = scheduler
    await scheduler.start()
    try:
        yield
    finally:
        await scheduler.stop()


def scheduler_of(conn: HTTPConnection) -> Scheduler | None:
    """The running app's scheduler (None when the app runs without its lifespan)."""
    return cast(Scheduler | None, getattr(conn.app.state, "scheduler", None))
