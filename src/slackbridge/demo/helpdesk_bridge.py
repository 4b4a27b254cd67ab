"""What the Helpdesk asks of slackbridge: its follow-up work, through the product API.

As it starts and whenever a workspace comes or goes, the Helpdesk learns its Add to Slack link
and the workspaces, and asks the bridge to open a conversation for every question in each
workspace's #support (a watched channel). A conversation Slack opened is adopted as a ticket under
the key ``ticket-<number>`` and acknowledged in its thread; a ticket an agent opens gets a channel
of its own (the bridge's noisy mode); a resolved ticket's conversation is closed; ``/helpdesk``
is answered (only the person who ran it sees it). The web app
(:mod:`slackbridge.demo.helpdesk`) starts these jobs; what they learn goes into the
:class:`~slackbridge.demo.tickets.Desk`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx

from slackbridge.client import Slackbridge, SlackbridgeError
from slackbridge.demo.tickets import CommandLog, Desk, Ticket, WorkspaceInfo, command_answer

__all__ = [
    "AGENT_PERSONA",
    "AUTHORS",
    "BOT_PERSONA",
    "FAILURES",
    "SUPPORT_CHANNEL",
    "TicketBridge",
    "resolved_note",
]

_log = logging.getLogger("slackbridge.demo.helpdesk")

AGENT_PERSONA = "Helpdesk agent"
BOT_PERSONA = "Helpdesk"
#: The channel of each workspace whose questions open tickets.
SUPPORT_CHANNEL = "support"
#: Who the Helpdesk's posts show as: ``"agent"`` (the persona) or ``"bot"``.
AUTHORS: dict[str, dict[str, Any]] = {
    "agent": {"persona": {"name": AGENT_PERSONA, "icon_emoji": ":technologist:"}},
    "bot": {"persona": {"name": BOT_PERSONA, "icon_emoji": ":ticket:"}},
}
#: What a call to slackbridge's API may raise.
FAILURES = (SlackbridgeError, httpx.HTTPError)
_API_RETRY_SECONDS = 10.0


def resolved_note(ticket: Ticket) -> str:
    """What the Helpdesk says as it closes a resolved ticket's conversation."""
    return f"Ticket #{ticket.number} is resolved. Thank you!"


class TicketBridge:
    """The Helpdesk's tickets as conversations of slackbridge's bridge (``spawn`` runs a job
    after the webhook at hand is answered)."""

    def __init__(
        self,
        client: Slackbridge,
        desk: Desk,
        account_ref: str,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        support_channel: str = SUPPORT_CHANNEL,
    ) -> None:
        self.client = client
        self.desk = desk
        self.account_ref = account_ref
        self.support_channel = support_channel
        self.install_url: str | None = None
        self._spawn = spawn
        self._api_tried_at = float("-inf")
        self._watching: set[str] = set()  # teams whose #support watch is set or being set

    # --- workspaces -----------------------------------------------------------------------------

    def resync(self) -> None:
        """A workspace came or went: learn the workspaces again now."""
        self._api_tried_at = float("-inf")
        self._spawn(self.sync_from_api())

    async def sync_from_api(self) -> None:
        """Learn the Add to Slack link and the workspaces, and watch each one's #support (at
        most every few seconds)."""
        now = time.monotonic()
        if now - self._api_tried_at < _API_RETRY_SECONDS:
            return
        self._api_tried_at = now
        try:
            if self.install_url is None:
                self.install_url = await self.client.workspaces.install_url(self.account_ref)
            for ws in await self.client.workspaces.list():
                if ws.team_id and ws.team_id not in self.desk.workspaces:
                    self.desk.workspaces[ws.team_id] = WorkspaceInfo(
                        ws.team_id, ws.team_name, ws.status
                    )
        except FAILURES as exc:
            _log.info("slackbridge's API is not answering yet (%s); will try again", exc)
        for team_id, info in self.desk.workspaces.items():
            if info.status == "active" and team_id not in self._watching:
                self._watching.add(team_id)
                self._spawn(self.watch_support(team_id))

    async def watch_support(self, team_id: str) -> None:
        """Ask the bridge to open a conversation for every question in ``#support``."""
        try:
            listing = await self.client.slack.call(
                team_id,
                "conversations.list",
                {"types": "public_channel,private_channel", "exclude_archived": True},
            )
            found = [
                c["id"]
                for c in listing.get("channels") or []
                if isinstance(c, Mapping) and c.get("name") == self.support_channel
            ]
            if not found:
                _log.warning("no #%s in %s: no tickets open there", self.support_channel, team_id)
                return
            await self.client.watched_channels.put(found[0], workspace=team_id, open_on="message")
            self.desk.watched[team_id] = found[0]
        except FAILURES as exc:
            _log.warning("could not watch #%s in %s: %s", self.support_channel, team_id, exc)
            self._watching.discard(team_id)

    # --- tickets --------------------------------------------------------------------------------

    async def _channel_name(self, ticket: Ticket) -> None:
        if ticket.channel_id is None or ticket.channel_name is not None:
            return
        info = await self.client.slack.call(
            ticket.team_id, "conversations.info", {"channel": ticket.channel_id}
        )
        name = (info.get("channel") or {}).get("name")
        ticket.channel_name = name if isinstance(name, str) else None

    async def adopt(self, ticket: Ticket) -> None:
        """Make the conversation Slack opened ours under the ticket's key, then say so in it."""
        try:
            conversation = await self.client.conversations.put(
                ticket.key,
                workspace=ticket.team_id,
                mode=ticket.mode,
                adopt={"channel": ticket.channel_id, "thread_ts": ticket.root_ts},
                title=ticket.subject,
            )
            ticket.adopted = True
            ticket.permalink = conversation.permalink
            await self.post(
                ticket, "ack", f"Ticket #{ticket.number} is open: an agent will answer here.", "bot"
            )
            await self._channel_name(ticket)
        except FAILURES as exc:
            _log.warning("could not adopt ticket #%s: %s", ticket.number, exc)

    async def open_channel(self, ticket: Ticket, invite: list[str], card: str) -> None:
        """A channel of its own for a ticket an agent opened (the bridge's noisy mode), with
        ``invite`` in it and ``card`` as its first post; where it is comes later
        (:meth:`placed`)."""
        conversation = await self.client.conversations.put(
            ticket.key,
            workspace=ticket.team_id,
            mode="noisy",
            channel_name="{key}",
            invite=invite,
            title=ticket.subject,
        )
        if conversation.channel is not None:
            self.desk.place(ticket, conversation.channel, None)
        await self.post(ticket, "card", card, "bot")

    async def post(
        self,
        ticket: Ticket,
        message_id: str,
        text: str,
        as_who: str,
        files: list[tuple[str, bytes]] | None = None,
    ) -> tuple[str, str]:
        """Post in the ticket's conversation; the operation id and who it shows as."""
        author = AUTHORS[as_who]
        accepted = await self.client.conversations.post(
            ticket.key, id=message_id, author=author, text=text, files=files or None
        )
        name = str(author["persona"]["name"])
        operation_id = accepted.operation_id or ""
        if message_id in ("ack", "card"):
            entry = self.desk.agent_entry(ticket.number, message_id)
            if entry is None:
                self.desk.add_agent_reply(
                    ticket.number, text, name, operation_id, message_id=message_id
                )
            else:
                self.desk.track(entry, operation_id)
        return operation_id, name

    async def close(self, ticket: Ticket, message: str) -> None:
        """Close the ticket's conversation (a job: a failure is logged)."""
        try:
            await self.client.conversations.close(ticket.key, message=message)
        except FAILURES as exc:
            _log.warning("could not close ticket #%s: %s", ticket.number, exc)

    async def placed(self, ticket: Ticket) -> None:
        """Learn where a ticket the Helpdesk opened lives once Slack has made it."""
        try:
            conversation = await self.client.conversations.wait_open(ticket.key)
            if conversation.channel is not None:
                self.desk.place(ticket, conversation.channel, conversation.thread_ts)
            ticket.permalink = conversation.permalink
            await self._channel_name(ticket)
        except (TimeoutError, *FAILURES) as exc:
            _log.warning("ticket #%s has no channel yet: %s", ticket.number, exc)

    # --- commands -------------------------------------------------------------------------------

    async def answer_command(self, log: CommandLog, response_url: str, page_url: str) -> None:
        """Tell the person who ran ``/helpdesk`` which tickets are open (only they see it)."""
        text = command_answer(self.desk, log.team_id, page_url)
        try:
            accepted = await self.client.responses.send(
                log.team_id, response_url, text, response_type="ephemeral"
            )
        except FAILURES as exc:
            _log.warning("could not answer %s: %s", log.command, exc)
            self.desk.record_answer(log, text, None)
            log.error = str(exc)
            return
        self.desk.record_answer(log, text, accepted.id)
