"""The Helpdesk's memory: tickets built from slackbridge webhooks (pure logic, no I/O).

Each Slack thread is a ticket. A new top-level message in a conversation the bot is in opens
one; replies in its thread are added to it; edits and deletions change the message they name;
a ✅ reaction on the question by a person resolves the ticket (a new reply reopens it). Agent
replies sent through slackbridge's API are kept with the operation id the API returned, and
become "sent" (with their Slack ts) or "failed" when the ``message.delivered`` or
``message.failed`` webhook arrives, which may be before the API call has even returned.
Webhooks are delivered at least once, so each ``webhook-id`` is applied once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from slackbridge.demo.product_common import SeenWebhooks
from slackbridge.demo.ticket_models import (
    RESOLVE_REACTIONS,
    CommandLog,
    Entry,
    Ticket,
    WorkspaceInfo,
    display_name,
    subject_of,
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
]


OutcomeKind = Literal[
    "opened",
    "replied",
    "edited",
    "deleted",
    "resolved",
    "reopened",
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


@dataclass
class _Settled:
    delivered: bool
    ts: str | None
    error: str | None


class Desk:
    """Every ticket, workspace and command, updated by :meth:`apply` (one webhook body)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.tickets: dict[int, Ticket] = {}
        self.workspaces: dict[str, WorkspaceInfo] = {}
        self.commands: list[CommandLog] = []
        self._threads: dict[tuple[str, str, str], int] = {}  # (team, channel, root ts) → number
        self._by_ts: dict[tuple[str, str, str], int] = {}  # (team, channel, any ts) → number
        self._seen = SeenWebhooks()
        self._settled: dict[str, _Settled] = {}  # outcomes that came before the API answer

    # --- webhooks -------------------------------------------------------------------------------

    def first_time(self, webhook_id: str) -> bool:
        """True the first time ``webhook_id`` is seen (slackbridge delivers at least once)."""
        return self._seen.first_time(webhook_id)

    def apply(self, kind: str, data: Mapping[str, Any]) -> Outcome:
        """Apply one webhook: its ``type`` and ``data``."""
        handler = _HANDLERS.get(kind)
        if handler is None:
            return Outcome("ignored", reason=f"{kind} is not used by the Helpdesk")
        return handler(self, data)

    def _on_workspace(self, data: Mapping[str, Any]) -> Outcome:
        ws = data.get("workspace") or {}
        team_id = ws.get("team_id") or ws.get("enterprise_id")
        if not team_id:
            return Outcome("ignored", reason="workspace event without a team")
        known = self.workspaces.get(team_id)
        name = ws.get("team_name") or (known.team_name if known else None)
        self.workspaces[team_id] = WorkspaceInfo(team_id, name, str(ws.get("status") or "active"))
        return Outcome("workspace")

    def _on_posted(self, data: Mapping[str, Any]) -> Outcome:
        where = _where(data)
        if where is None:
            return Outcome("ignored", reason="message without workspace, channel or ts")
        team_id, channel_id, ts = where
        if data.get("bot_id"):
            return Outcome("ignored", reason="posted by an app, not a person")
        user = data.get("user") if isinstance(data.get("user"), Mapping) else None
        text = str(data.get("text") or "")
        thread_ts = data.get("thread_ts")
        now = self._clock()
        if (team_id, channel_id, ts) in self._by_ts:
            return Outcome("ignored", reason="already recorded")
        entry = Entry(
            author_id=user.get("id") if user else None,
            author_name=display_name(user),
            text=text,
            at=now,
            ts=ts,
        )
        if thread_ts and thread_ts != ts:
            number = self._threads.get((team_id, channel_id, str(thread_ts)))
            if number is None:
                return Outcome("ignored", reason="a reply in a thread that is not a ticket")
            ticket = self.tickets[number]
            ticket.entries.append(entry)
            ticket.updated_at = now
            self._by_ts[(team_id, channel_id, ts)] = number
            if ticket.status != "open":
                ticket.status = "open"
                return Outcome("reopened", ticket)
            return Outcome("replied", ticket)
        number = max(self.tickets, default=0) + 1
        channel = data.get("channel") or {}
        ticket = Ticket(
            number=number,
            team_id=team_id,
            channel_id=channel_id,
            channel_name=channel.get("name") if isinstance(channel, Mapping) else None,
            root_ts=ts,
            subject=subject_of(text),
            requester_id=entry.author_id,
            requester_name=entry.author_name,
            opened_at=now,
            updated_at=now,
            entries=[entry],
        )
        self.tickets[number] = ticket
        self._threads[(team_id, channel_id, ts)] = number
        self._by_ts[(team_id, channel_id, ts)] = number
        return Outcome("opened", ticket)

    def _find_entry(self, data: Mapping[str, Any]) -> tuple[Ticket, Entry] | None:
        where = _where(data)
        if where is None:
            return None
        number = self._by_ts.get(where)
        if number is None:
            return None
        ticket = self.tickets[number]
        for entry in ticket.entries:
            if entry.ts == where[2]:
                return ticket, entry
        return None

    def _on_edited(self, data: Mapping[str, Any]) -> Outcome:
        found = self._find_entry(data)
        if found is None:
            return Outcome("ignored", reason="an edit of a message that is in no ticket")
        ticket, entry = found
        entry.text = str(data.get("text") or "")
        entry.edited = True
        if entry.ts == ticket.root_ts:
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

    def _on_reaction(self, data: Mapping[str, Any], added: bool) -> Outcome:
        where = _where(data)
        if where is None or data.get("reaction") not in RESOLVE_REACTIONS:
            return Outcome("ignored", reason="not a resolving reaction")
        number = self._threads.get(where)
        if number is None:
            return Outcome("ignored", reason="a reaction on a message that opens no ticket")
        ticket = self.tickets[number]
        ticket.updated_at = self._clock()
        if added and ticket.status != "resolved":
            ticket.status = "resolved"
            return Outcome("resolved", ticket)
        if not added and ticket.status == "resolved":
            ticket.status = "open"
            return Outcome("reopened", ticket)
        return Outcome("ignored", ticket, reason="status unchanged")

    def _on_command(self, data: Mapping[str, Any]) -> Outcome:
        ws = data.get("workspace") or {}
        channel = data.get("channel") or {}
        log = CommandLog(
            team_id=str(ws.get("team_id") or ""),
            channel_id=channel.get("id") if isinstance(channel, Mapping) else None,
            user_name=display_name(data.get("user")),
            command=str(data.get("command") or ""),
            text=str(data.get("text") or ""),
            at=self._clock(),
        )
        self.commands.append(log)
        del self.commands[:-50]
        return Outcome("command", command=log)

    def _on_settled(self, data: Mapping[str, Any], delivered: bool) -> Outcome:
        message = data.get("message") or {}
        op_id = message.get("id") if isinstance(message, Mapping) else None
        if not isinstance(op_id, str):
            return Outcome("ignored", reason="delivery report without an operation id")
        error = data.get("error") or {}
        settled = _Settled(
            delivered,
            message.get("ts"),
            None if delivered else str(error.get("code") or "unknown_error"),
        )
        ticket = self._settle(op_id, settled)
        if ticket is None and not self._settle_command(op_id, settled):
            self._settled[op_id] = settled  # the API call has not returned yet
        return Outcome("delivered" if delivered else "failed", ticket)

    # --- agent side -----------------------------------------------------------------------------

    def add_agent_reply(self, number: int, text: str, author_name: str, operation_id: str) -> Entry:
        """Record a reply sent through the API (queued until its webhook says otherwise)."""
        ticket = self.tickets[number]
        now = self._clock()
        entry = Entry(
            author_id=None,
            author_name=author_name,
            text=text,
            at=now,
            from_agent=True,
            operation_id=operation_id,
            delivery="queued",
        )
        ticket.entries.append(entry)
        ticket.updated_at = now
        if ticket.status == "open":
            ticket.status = "answered"
        early = self._settled.pop(operation_id, None)
        if early is not None:
            self._settle(operation_id, early)
        return entry

    def record_answer(self, log: CommandLog, answer: str, operation_id: str | None) -> None:
        """Note the answer queued for a command (``operation_id`` None: it could not be sent)."""
        log.answer = answer
        log.operation_id = operation_id
        log.delivery = "queued" if operation_id else "failed"
        if operation_id:
            early = self._settled.pop(operation_id, None)
            if early is not None:
                self._settle_command(operation_id, early)

    def _settle(self, op_id: str, settled: _Settled) -> Ticket | None:
        for ticket in self.tickets.values():
            for entry in ticket.entries:
                if entry.operation_id == op_id:
                    entry.delivery = "sent" if settled.delivered else "failed"
                    entry.error = settled.error
                    if settled.ts:
                        entry.ts = settled.ts
                        self._by_ts[(ticket.team_id, ticket.channel_id, settled.ts)] = ticket.number
                    return ticket
        return None

    def _settle_command(self, op_id: str, settled: _Settled) -> bool:
        for log in self.commands:
            if log.operation_id == op_id:
                log.delivery = "sent" if settled.delivered else "failed"
                log.error = settled.error
                return True
        return False

    # --- reading --------------------------------------------------------------------------------

    def open_tickets(self, team_id: str | None = None) -> list[Ticket]:
        """Tickets not resolved yet (of one workspace when ``team_id`` is given), oldest first."""
        return [
            t
            for t in sorted(self.tickets.values(), key=lambda t: t.number)
            if t.status != "resolved" and (team_id is None or t.team_id == team_id)
        ]

    def snapshot(self) -> dict[str, Any]:
        """Everything, for the web page (newest ticket first)."""
        tickets = sorted(self.tickets.values(), key=lambda t: t.number, reverse=True)
        return {
            "tickets": [t.to_json() for t in tickets],
            "workspaces": [w.to_json() for w in self.workspaces.values()],
            "commands": [c.to_json() for c in reversed(self.commands)],
        }


def _where(data: Mapping[str, Any]) -> tuple[str, str, str] | None:
    ws = data.get("workspace") or {}
    channel = data.get("channel") or {}
    team_id = ws.get("team_id") if isinstance(ws, Mapping) else None
    channel_id = channel.get("id") if isinstance(channel, Mapping) else None
    ts = data.get("ts")
    if not (isinstance(team_id, str) and isinstance(channel_id, str) and isinstance(ts, str)):
        return None
    return team_id, channel_id, ts


def command_answer(desk: Desk, team_id: str, helpdesk_url: str | None = None) -> str:
    """What ``/helpdesk`` answers: the workspace's open tickets."""
    open_now = desk.open_tickets(team_id)
    if not open_now:
        text = "Helpdesk: no open tickets. Post a question in a channel I'm in to open one."
    else:
        lines = [f"Helpdesk: {len(open_now)} open ticket{'s' if len(open_now) != 1 else ''}"]
        for ticket in open_now[:10]:
            where = f"#{ticket.channel_name}" if ticket.channel_name else ticket.channel_id
            lines.append(
                f"• #{ticket.number} {ticket.subject} ({ticket.status}, {where}, "
                f"from {ticket.requester_name})"
            )
        text = "\n".join(lines)
    if helpdesk_url:
        text += f"\nAnswer them at {helpdesk_url}"
    return text


_HANDLERS: dict[str, Callable[[Desk, Mapping[str, Any]], Outcome]] = {
    "workspace.installed": Desk._on_workspace,
    "workspace.uninstalled": Desk._on_workspace,
    "workspace.disconnected": Desk._on_workspace,
    "message.posted": Desk._on_posted,
    "message.edited": Desk._on_edited,
    "message.deleted": Desk._on_deleted,
    "reaction.added": lambda desk, data: desk._on_reaction(data, True),
    "reaction.removed": lambda desk, data: desk._on_reaction(data, False),
    "command.invoked": Desk._on_command,
    "message.delivered": lambda desk, data: desk._on_settled(data, True),
    "message.failed": lambda desk, data: desk._on_settled(data, False),
}
