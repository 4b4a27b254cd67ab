"""The Helpdesk's tickets as slackbridge's webhooks change them (pure logic).

A ticket is a conversation of the bridge (``ticket-<number>``); the Helpdesk keeps no thread
bookkeeping of its own. A question in a watched channel arrives as ``conversation.opened`` and
becomes a ticket the Helpdesk adopts under its key; a ticket an agent opens in the Helpdesk is a
channel of its own (noisy mode). ``conversation.message.created/edited/deleted`` change its
messages (files come with a download URL), a ✅ reaction on its question
(``conversation.reaction.added``) resolves it, and ``conversation.closed/reopened`` follow its
state; ``message.delivered`` and ``message.failed`` settle what the Helpdesk sent (its book of
tickets and its own replies: :mod:`slackbridge.demo.ticket_book`). Webhooks are delivered at
least once, so each ``webhook-id`` is applied once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from slackbridge.demo.product_common import SeenWebhooks
from slackbridge.demo.ticket_book import Settled, TicketBook, command_answer
from slackbridge.demo.ticket_models import (
    RESOLVE_REACTIONS,
    CommandLog,
    Entry,
    Ticket,
    WorkspaceInfo,
    display_name,
    subject_of,
    ticket_key,
)

__all__ = [
    "RESOLVE_REACTIONS",
    "CommandLog",
    "Desk",
    "Entry",
    "Outcome",
    "Ticket",
    "WorkspaceInfo",
    "command_answer",
    "display_name",
    "ticket_key",
]


OutcomeKind = Literal[
    "opened",
    "replied",
    "edited",
    "deleted",
    "resolved",
    "reopened",
    "closed",
    "delivered",
    "failed",
    "command",
    "workspace",
    "ignored",
]


@dataclass(frozen=True)
class Outcome:
    """What one webhook did to the desk."""

    kind: OutcomeKind
    ticket: Ticket | None = None
    command: CommandLog | None = None
    reason: str = ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _files(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = message.get("files")
    if not isinstance(found, list):
        return []
    return [
        {k: f.get(k) for k in ("id", "name", "mimetype", "size", "download_url")}
        for f in found
        if isinstance(f, Mapping) and isinstance(f.get("id"), str)
    ]


def _author_name(author: Mapping[str, Any]) -> str:
    for key in ("real_name", "name", "slack_user", "bot_id"):
        value = author.get(key)
        if isinstance(value, str) and value:
            return value
    return "someone"


def _entry(message: Mapping[str, Any], at: float) -> Entry:
    """A message someone posted in Slack, as a ticket's entry."""
    author = _map(message.get("author"))
    return Entry(
        author_id=author.get("slack_user"),
        author_name=_author_name(author),
        text=_text(message.get("text")),
        at=at,
        ts=_text(message.get("ts")) or None,
        files=_files(message),
    )


class Desk(TicketBook):
    """The book of tickets (:class:`TicketBook`), updated by :meth:`apply` (one webhook body)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock)
        self._seen = SeenWebhooks()

    def first_time(self, webhook_id: str) -> bool:
        """True the first time ``webhook_id`` is seen (slackbridge delivers at least once)."""
        return self._seen.first_time(webhook_id)

    def apply(self, kind: str, data: Mapping[str, Any]) -> Outcome:
        """Apply one webhook: its ``type`` and ``data``."""
        handler = _HANDLERS.get(kind)
        if handler is None:
            return Outcome("ignored", reason=f"{kind} is not used by the Helpdesk")
        return handler(self, data)

    def ticket_of(self, data: Mapping[str, Any]) -> Ticket | None:
        """The ticket a conversation webhook is about: by its key, else (not adopted yet) by
        where it lives in Slack."""
        conversation = _map(data.get("conversation"))
        key = conversation.get("key")
        if isinstance(key, str):
            digits = key.removeprefix("ticket-")
            return self.tickets.get(int(digits)) if digits.isdigit() else None
        team_id = _map(data.get("workspace")).get("team_id")
        channel = conversation.get("channel")
        if not isinstance(team_id, str) or not isinstance(channel, str):
            return None
        thread_ts = conversation.get("thread_ts")
        found = self._places.get((team_id, channel, thread_ts if thread_ts else None))
        return self.tickets.get(found) if found is not None else None

    def _on_workspace(self, data: Mapping[str, Any]) -> Outcome:
        ws = _map(data.get("workspace"))
        team_id = ws.get("team_id") or ws.get("enterprise_id")
        if not team_id:
            return Outcome("ignored", reason="workspace event without a team")
        known = self.workspaces.get(team_id)
        name = ws.get("team_name") or (known.team_name if known else None)
        self.workspaces[team_id] = WorkspaceInfo(team_id, name, str(ws.get("status") or "active"))
        return Outcome("workspace")

    def _on_opened(self, data: Mapping[str, Any]) -> Outcome:
        conversation = _map(data.get("conversation"))
        team_id = _map(data.get("workspace")).get("team_id")
        channel = conversation.get("channel")
        if not isinstance(team_id, str) or not isinstance(channel, str):
            return Outcome("ignored", reason="an opening without workspace or channel")
        known = self.ticket_of(data)
        if known is not None:
            return Outcome("ignored", known, reason="already a ticket")
        message = _map(data.get("message"))
        thread_ts = conversation.get("thread_ts") or message.get("ts")
        ticket = self._new_ticket(
            team_id,
            _entry(message, self._clock()),
            mode="still" if conversation.get("mode", "still") == "still" else "noisy",
            channel_id=channel,
            root_ts=str(thread_ts) if thread_ts else None,
        )
        ticket.adopted = False
        return Outcome("opened", ticket)

    def _on_created(self, data: Mapping[str, Any]) -> Outcome:
        ticket = self.ticket_of(data)
        if ticket is None:
            return Outcome("ignored", reason="a message in a conversation that is no ticket")
        message = _map(data.get("message"))
        if message.get("product_message_id"):
            return Outcome("ignored", ticket, reason="the Helpdesk's own message")
        ts = _text(message.get("ts"))
        if any(e.ts == ts for e in ticket.entries):
            return Outcome("ignored", ticket, reason="already recorded")
        now = self._clock()
        ticket.entries.append(_entry(message, now))
        ticket.updated_at = now
        if ticket.status == "answered":
            ticket.status = "open"
        return Outcome("replied", ticket)

    def _find_entry(self, data: Mapping[str, Any]) -> tuple[Ticket, Entry] | None:
        ticket = self.ticket_of(data)
        if ticket is None:
            return None
        message = _map(data.get("message"))
        ts, own = message.get("ts"), message.get("product_message_id")
        for entry in ticket.entries:
            if (own and entry.id == own) or (ts and entry.ts == ts):
                return ticket, entry
        return None

    def _on_edited(self, data: Mapping[str, Any]) -> Outcome:
        found = self._find_entry(data)
        if found is None:
            return Outcome("ignored", reason="an edit of a message that is in no ticket")
        ticket, entry = found
        message = _map(data.get("message"))
        entry.text = _text(message.get("text"))
        entry.files = _files(message)
        entry.edited = True
        if entry is ticket.entries[0]:
            ticket.subject = subject_of(entry.text)
        ticket.updated_at = self._clock()
        return Outcome("edited", ticket)

    def _on_deleted(self, data: Mapping[str, Any]) -> Outcome:
        found = self._find_entry(data)
        if found is None:
            return Outcome("ignored", reason="a deleted message that is in no ticket")
        ticket, entry = found
        entry.deleted = True
        ticket.updated_at = self._clock()
        return Outcome("deleted", ticket)

    def _on_reaction(self, data: Mapping[str, Any]) -> Outcome:
        ticket = self.ticket_of(data)
        reaction = _map(data.get("reaction"))
        if ticket is None or reaction.get("name") not in RESOLVE_REACTIONS:
            return Outcome("ignored", reason="not a resolving reaction on a ticket")
        on_question = reaction.get("message_ts") == ticket.entries[0].ts or (
            reaction.get("product_message_id") == "card"
        )
        if not on_question or _map(reaction.get("user")).get("bot_id"):
            return Outcome("ignored", ticket, reason="not a person's ✅ on the question")
        if ticket.status == "resolved":
            return Outcome("ignored", ticket, reason="already resolved")
        ticket.status = "resolved"
        ticket.updated_at = self._clock()
        return Outcome("resolved", ticket)

    def _on_closed(self, data: Mapping[str, Any]) -> Outcome:
        ticket = self.ticket_of(data)
        if ticket is None:
            return Outcome("ignored", reason="a conversation that is no ticket")
        ticket.status = "resolved"
        ticket.updated_at = self._clock()
        return Outcome("closed", ticket)

    def _on_reopened(self, data: Mapping[str, Any]) -> Outcome:
        ticket = self.ticket_of(data)
        if ticket is None:
            return Outcome("ignored", reason="a conversation that is no ticket")
        ticket.status = "open"
        ticket.updated_at = self._clock()
        return Outcome("reopened", ticket)

    def _on_command(self, data: Mapping[str, Any]) -> Outcome:
        ws = _map(data.get("workspace"))
        channel = _map(data.get("channel"))
        log = CommandLog(
            team_id=str(ws.get("team_id") or ""),
            channel_id=channel.get("id"),
            user_name=display_name(data.get("user")),
            command=str(data.get("command") or ""),
            text=str(data.get("text") or ""),
            at=self._clock(),
        )
        self.commands.append(log)
        del self.commands[:-50]
        return Outcome("command", command=log)

    def _on_settled(self, data: Mapping[str, Any], delivered: bool) -> Outcome:
        message = _map(data.get("message"))
        op_id = message.get("id")
        if not isinstance(op_id, str):
            return Outcome("ignored", reason="delivery report without an operation id")
        error = _map(data.get("error"))
        settled = Settled(
            delivered,
            message.get("ts"),
            None if delivered else str(error.get("code") or "unknown_error"),
        )
        ticket = self.settle(op_id, settled)
        return Outcome("delivered" if delivered else "failed", ticket)


_HANDLERS: dict[str, Callable[[Desk, Mapping[str, Any]], Outcome]] = {
    "workspace.installed": Desk._on_workspace,
    "workspace.uninstalled": Desk._on_workspace,
    "workspace.disconnected": Desk._on_workspace,
    "conversation.opened": Desk._on_opened,
    "conversation.message.created": Desk._on_created,
    "conversation.message.edited": Desk._on_edited,
    "conversation.message.deleted": Desk._on_deleted,
    "conversation.reaction.added": Desk._on_reaction,
    "conversation.closed": Desk._on_closed,
    "conversation.reopened": Desk._on_reopened,
    "command.invoked": Desk._on_command,
    "message.delivered": lambda desk, data: desk._on_settled(data, True),
    "message.failed": lambda desk, data: desk._on_settled(data, False),
}
