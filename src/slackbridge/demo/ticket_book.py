"""The Helpdesk's book of tickets, and how what it sent to Slack fared (pure logic).

:class:`TicketBook` holds every ticket, workspace and slash command, and where each ticket lives
in Slack. It takes what the Helpdesk does itself: a ticket an agent opens, agent replies sent
through the conversations API (kept under the Helpdesk's own message id, "queued" until the
``message.delivered`` or ``message.failed`` webhook settles them, which may come before the API
call has returned), the answers to ``/helpdesk``. :class:`slackbridge.demo.tickets.Desk` adds
what slackbridge's webhooks change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slackbridge.demo.ticket_models import (
    CommandLog,
    Entry,
    Ticket,
    TicketMode,
    WorkspaceInfo,
    subject_of,
)

__all__ = ["Settled", "TicketBook", "command_answer"]


@dataclass
class Settled:
    """How an operation the Helpdesk sent fared (its delivery webhook)."""

    delivered: bool
    ts: str | None
    error: str | None


class TicketBook:
    """Every ticket, workspace and command, and the Helpdesk's own changes to them."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.tickets: dict[int, Ticket] = {}
        self.workspaces: dict[str, WorkspaceInfo] = {}
        self.watched: dict[str, str] = {}  # team → the channel whose questions open tickets
        self.commands: list[CommandLog] = []
        self._places: dict[tuple[str, str, str | None], int] = {}  # Slack place → number
        self._settled: dict[str, Settled] = {}  # outcomes that came before the API answer

    # --- tickets --------------------------------------------------------------------------------

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

    # --- deliveries -----------------------------------------------------------------------------

    def settle(self, op_id: str, settled: Settled) -> Ticket | None:
        """Apply a delivery report to what it is about: a ticket's message (that ticket is the
        answer), a command's answer, or (the API call has not returned yet) keep it for
        :meth:`track` or :meth:`record_answer`."""
        ticket = self._settle(op_id, settled)
        if ticket is None and not self._settle_command(op_id, settled):
            self._settled[op_id] = settled
        return ticket

    def _settle(self, op_id: str, settled: Settled) -> Ticket | None:
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

    def _settle_command(self, op_id: str, settled: Settled) -> bool:
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


def command_answer(book: TicketBook, team_id: str, helpdesk_url: str | None = None) -> str:
    """What ``/helpdesk`` answers: the workspace's open tickets."""
    open_now = book.open_tickets(team_id)
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
