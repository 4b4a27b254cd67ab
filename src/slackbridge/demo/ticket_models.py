"""What the Helpdesk keeps: tickets and their messages, workspaces and slash commands.

A ticket is a conversation of slackbridge's bridge under the key ``ticket-<number>``: a thread
in #support ("still") or a channel of its own ("noisy"). Plain data with a ``to_json`` each (the
web page's shapes); :mod:`slackbridge.demo.ticket_book` and :mod:`slackbridge.demo.tickets`
change them as the Helpdesk acts and webhooks arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "RESOLVE_REACTIONS",
    "CommandLog",
    "Delivery",
    "Entry",
    "Ticket",
    "TicketMode",
    "TicketStatus",
    "WorkspaceInfo",
    "display_name",
    "subject_of",
    "ticket_key",
]

TicketStatus = Literal["open", "answered", "resolved"]
TicketMode = Literal["still", "noisy"]
Delivery = Literal["received", "queued", "sent", "failed"]

#: Reactions on a ticket's question that mark it resolved.
RESOLVE_REACTIONS = frozenset({"white_check_mark", "heavy_check_mark", "ballot_box_with_check"})
_SUBJECT_MAX = 80


def ticket_key(number: int) -> str:
    """The bridge conversation key of ticket ``number``."""
    return f"ticket-{number}"


def display_name(user: Mapping[str, Any] | None) -> str:
    """How a person is shown: real name, else handle, else id."""
    if not user:
        return "someone"
    for key in ("real_name", "display_name", "name", "id"):
        value = user.get(key)
        if isinstance(value, str) and value:
            return value
    return "someone"


def subject_of(text: str) -> str:
    """A ticket's subject: the first non-blank line of its question, shortened."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > _SUBJECT_MAX:
        return first[: _SUBJECT_MAX - 1] + "…"
    return first or "(no text)"


@dataclass
class Entry:
    """One message of a ticket."""

    author_id: str | None
    author_name: str
    text: str
    at: float
    from_agent: bool = False
    ts: str | None = None  # the Slack ts, once known
    operation_id: str | None = None  # agent replies: the API's msg_… id
    delivery: Delivery = "received"
    edited: bool = False
    deleted: bool = False
    error: str | None = None
    id: str | None = None  # agent replies: the Helpdesk's own message id (the bridge's key)
    files: list[dict[str, Any]] = field(default_factory=list)  # {id, name, mimetype, size}

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "files": [] if self.deleted else [dict(f) for f in self.files],
            "author_id": self.author_id,
            "author_name": self.author_name,
            "text": "" if self.deleted else self.text,
            "at": self.at,
            "from_agent": self.from_agent,
            "ts": self.ts,
            "operation_id": self.operation_id,
            "delivery": self.delivery,
            "edited": self.edited,
            "deleted": self.deleted,
            "error": self.error,
        }


@dataclass
class Ticket:
    """A help-desk ticket: a bridged conversation (a thread, or a channel of its own)."""

    number: int
    team_id: str
    channel_id: str | None
    root_ts: str | None
    subject: str
    requester_id: str | None
    requester_name: str
    opened_at: float
    updated_at: float
    status: TicketStatus = "open"
    channel_name: str | None = None
    acknowledged: bool = False  # the Helpdesk's first reply reached Slack
    entries: list[Entry] = field(default_factory=list)
    mode: TicketMode = "still"
    adopted: bool = True  # False until the Helpdesk owns the conversation Slack opened
    permalink: str | None = None

    @property
    def key(self) -> str:
        return ticket_key(self.number)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "mode": self.mode,
            "adopted": self.adopted,
            "permalink": self.permalink,
            "team_id": self.team_id,
            "channel_id": self.channel_id,
            "channel_name": self.channel_name,
            "root_ts": self.root_ts,
            "subject": self.subject,
            "requester_id": self.requester_id,
            "requester_name": self.requester_name,
            "status": self.status,
            "acknowledged": self.acknowledged,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "messages": [e.to_json() for e in self.entries],
        }


@dataclass
class WorkspaceInfo:
    team_id: str
    team_name: str | None
    status: str

    def to_json(self) -> dict[str, Any]:
        return {"team_id": self.team_id, "team_name": self.team_name, "status": self.status}


@dataclass
class CommandLog:
    """A slash command someone ran, and how the Helpdesk's answer fared."""

    team_id: str
    channel_id: str | None
    user_name: str
    command: str
    text: str
    at: float
    answer: str = ""
    operation_id: str | None = None
    delivery: Delivery = "received"
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "channel_id": self.channel_id,
            "user_name": self.user_name,
            "command": self.command,
            "text": self.text,
            "at": self.at,
            "answer": self.answer,
            "operation_id": self.operation_id,
            "delivery": self.delivery,
            "error": self.error,
        }
