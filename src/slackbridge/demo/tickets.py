"""The Helpdesk's memory: tickets built from slackbridge's conversation webhooks (pure logic).

A ticket is a conversation of the bridge (``ticket-<number>``); the Helpdesk keeps no thread
bookkeeping of its own. A question in a watched channel arrives as ``conversation.opened`` and
becomes a ticket the Helpdesk adopts under its key; a ticket an agent opens in the Helpdesk is a
channel of its own (noisy mode). ``conversation.message.created/edited/deleted`` change its
messages (files come with a download URL), a ✅ reaction on its question
(``conversation.reaction.added``) resolves it, and ``conversation.closed/reopened`` follow its
state. Agent replies sent through the conversations API are kept under the Helpdesk's own
message id and become "sent" or "failed" with the ``message.delivered`` or ``message.failed``
webhook, which may come before the API call has returned. Webhooks are delivered at least once,
so each ``webhook-id`` is applied once.
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
    TicketMode,
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


@dataclass
class _Settled:
    delivered: bool
    ts: str | None
    error: str | None


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


class Desk:
    """Every ticket, workspace and command, updated by :meth:`apply` (one webhook body)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.tickets: dict[int, Ticket] = {}
        self.workspaces: dict[str, WorkspaceInfo] = {}
        self.watched: dict[str, str] = {}  # team → the channel whose questions open tickets
        self.commands: list[CommandLog] = []
        self._places: dict[tuple[str, str, str | None], int] = {}  # Slack place → number
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
        ws = _map(data.get("workspace"))
        team_id = ws.get("team_id") or ws.get("enterprise_id")
        if not team_id:
            return Outcome("ignored", reason="workspace event without a team")
        known = self.workspaces.get(team_id)
        name = ws.get("team_name") or (known.team_name if known else None)
        self.workspaces[team_id] = WorkspaceInfo(team_id, name, str(ws.get("status") or "active"))
        return Outcome("workspace")

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
        author = _map(message.get("author"))
        thread_ts = conversation.get("thread_ts") or message.get("ts")
        now = self._clock()
        entry = Entry(
            author_id=author.get("slack_user"),
            author_name=_author_name(author),
            text=_text(message.get("text")),
            at=now,
            ts=_text(message.get("ts")) or None,
            files=_files(message),
        )
        ticket = self._new_ticket(
            team_id,
            entry,
            mode="still" if conversation.get("mode", "still") == "still" else "noisy",
            channel_id=channel,
            root_ts=str(thread_ts) if thread_ts else None,
        )
        ticket.adopted = False
        return Outcome("opened", ticket)

    def _new_ticket(
        self,
        team_id: str,
        first: Entry,
        *,
        mode: TicketMode,
        channel_id: str | None,
        root_ts: str | None,
    ) -> Ticket:
        number = max(self.tickets, default=0) + 1
        ticket = Ticket(
            number=number,
            team_id=team_id,
            channel_id=channel_id,
            root_ts=root_ts,
            subject=subject_of(first.text),
            requester_id=first.author_id,
            requester_name=first.author_name,
            opened_at=first.at,
            updated_at=first.at,
            entries=[first],
            mode=mode,
        )
        self.tickets[number] = ticket
        if channel_id is not None:
            self.place(ticket, channel_id, root_ts)
        return ticket

    def place(self, ticket: Ticket, channel_id: str, thread_ts: str | None) -> None:
        """Note where ``ticket`` lives in Slack (from the conversations API's answer)."""
        ticket.channel_id = channel_id
        if ticket.mode == "still":
            ticket.root_ts = thread_ts
        self._places[
            (ticket.team_id, channel_id, thread_ts if ticket.mode == "still" else None)
        ] = ticket.number

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
        author = _map(message.get("author"))
        now = self._clock()
        ticket.entries.append(
            Entry(
                author_id=author.get("slack_user"),
                author_name=_author_name(author),
                text=_text(message.get("text")),
                at=now,
                ts=ts or None,
                files=_files(message),
            )
        )
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

    def open_ticket(self, team_id: str, text: str, requester: str, mode: TicketMode) -> Ticket:
        """A ticket an agent opens in the Helpdesk (a phone call, say); its Slack place comes
        with the conversations API's answer (:meth:`place`)."""
        first = Entry(
            author_id=None,
            author_name=requester,
            text=text,
            at=self._clock(),
            from_agent=True,
            id="card",
            delivery="queued",
        )
        return self._new_ticket(team_id, first, mode=mode, channel_id=None, root_ts=None)

    def add_agent_reply(
        self,
        number: int,
        text: str,
        author_name: str,
        operation_id: str,
        *,
        message_id: str | None = None,
        files: list[dict[str, Any]] | None = None,
    ) -> Entry:
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
            id=message_id,
            files=list(files or []),
        )
        ticket.entries.append(entry)
        ticket.updated_at = now
        if ticket.status == "open" and message_id not in ("ack", "card"):
            ticket.status = "answered"
        self.track(entry, operation_id)
        return entry

    def track(self, entry: Entry, operation_id: str) -> None:
        """Follow ``entry``'s operation (its delivery webhook may already be here)."""
        entry.operation_id = operation_id
        early = self._settled.pop(operation_id, None)
        if early is not None:
            self._settle(operation_id, early)

    def agent_entry(self, number: int, message_id: str) -> Entry | None:
        """The agent's message ``message_id`` of ticket ``number``."""
        ticket = self.tickets.get(number)
        if ticket is None:
            return None
        return next((e for e in ticket.entries if e.from_agent and e.id == message_id), None)

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
                    if entry.id == "ack" and settled.delivered:
                        ticket.acknowledged = True
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
            "watched": [{"team_id": t, "channel_id": c} for t, c in self.watched.items()],
            "commands": [c.to_json() for c in reversed(self.commands)],
        }


def command_answer(desk: Desk, team_id: str, helpdesk_url: str | None = None) -> str:
    """What ``/helpdesk`` answers: the workspace's open tickets."""
    open_now = desk.open_tickets(team_id)
    if not open_now:
        text = "Helpdesk: no open tickets. Post a question in a channel I'm in to open one."
    else:
        lines = [f"Helpdesk: {len(open_now)} open ticket{'s' if len(open_now) != 1 else ''}"]
        for ticket in open_now[:10]:
            where = f"#{ticket.channel_name}" if ticket.channel_name else ticket.channel_id or "?"
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
