"""The service desk's sessions, with no I/O: which message opens or joins which session, who is
ignored, where an answer goes and when a session closes.

A session is keyed ``team:user:channel``: everything one person writes to the bot in one place
(a DM with the bot, or a private or public channel the bot is in) while the session is open. In a
channel the session lives in the thread of the message that opened it (later messages of that
person in the channel, top level or in the thread, join it, and answers go in that thread); in a
DM the answers are plain messages in the DM. Messages from bots (this one or any other) never open
or join a session. A session closes once nobody wrote in it for the idle time (configurable at
run time); the next message from that person there opens a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_IDLE_SECONDS",
    "Desk",
    "Entry",
    "Incoming",
    "Session",
    "session_key",
]

DEFAULT_IDLE_SECONDS = 15 * 60.0
_MAX_ENTRIES = 500

Kind = Literal["public", "private", "im", "mpim"]


def session_key(team_id: str, user_id: str, channel_id: str) -> str:
    """``team:user:channel``, the session's key."""
    return f"{team_id}:{user_id}:{channel_id}"


@dataclass(frozen=True)
class Incoming:
    """A ``message.posted`` webhook's ``data``, as much as the desk needs of it."""

    team_id: str
    channel_id: str
    kind: Kind
    user_id: str | None
    user_name: str | None
    text: str
    ts: str
    thread_ts: str | None
    bot_id: str | None
    is_bot: bool
    subtype: str | None

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Incoming | None:
        """The message in ``data``, or None when it is not a message from a conversation."""
        workspace = data.get("workspace") or {}
        channel = data.get("channel") or {}
        user = data.get("user") or {}
        team, channel_id, ts = workspace.get("team_id"), channel.get("id"), data.get("ts")
        kind = channel.get("kind")
        if not (isinstance(team, str) and isinstance(channel_id, str) and isinstance(ts, str)):
            return None
        if kind not in ("public", "private", "im", "mpim"):
            return None
        user_id = user.get("id")
        name = user.get("real_name") or user.get("name")
        thread_ts = data.get("thread_ts")
        bot_id = data.get("bot_id")
        return cls(
            team_id=team,
            channel_id=channel_id,
            kind=kind,
            user_id=user_id if isinstance(user_id, str) else None,
            user_name=name if isinstance(name, str) else None,
            text=str(data.get("text") or ""),
            ts=ts,
            thread_ts=thread_ts if isinstance(thread_ts, str) and thread_ts != ts else None,
            bot_id=bot_id if isinstance(bot_id, str) and bot_id else None,
            is_bot=bool(user.get("is_bot")),
            subtype=data.get("subtype") if isinstance(data.get("subtype"), str) else None,
        )


@dataclass
class Entry:
    """One line of a session: what the person wrote, or an agent's answer."""

    who: Literal["customer", "agent", "desk"]
    text: str
    at: float
    ts: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"who": self.who, "text": self.text, "at": self.at, "ts": self.ts}


@dataclass
class Session:
    """One person's conversation with the desk in one place, while it is open."""

    number: int
    team_id: str
    user_id: str
    user_name: str | None
    channel_id: str
    kind: Kind
    thread_ts: str | None  # the thread answers go in (None in a DM)
    opened_at: float
    last_activity: float
    status: Literal["open", "closed"] = "open"
    closed_at: float | None = None
    closed_reason: str | None = None
    entries: list[Entry] = field(default_factory=list)

    @property
    def key(self) -> str:
        return session_key(self.team_id, self.user_id, self.channel_id)

    @property
    def place(self) -> str:
        """Where answers go, for people: "in the thread" or "in the DM"."""
        return "in the DM" if self.thread_ts is None else "in the thread"

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "key": self.key,
            "team_id": self.team_id,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "channel_id": self.channel_id,
            "kind": self.kind,
            "thread_ts": self.thread_ts,
            "status": self.status,
            "opened_at": self.opened_at,
            "last_activity": self.last_activity,
            "closed_at": self.closed_at,
            "closed_reason": self.closed_reason,
            "entries": [e.to_json() for e in self.entries],
        }


@dataclass
class Desk:
    """Every session, the bots' own user ids per workspace, and the idle time."""

    idle_seconds: float = DEFAULT_IDLE_SECONDS
    sessions: dict[int, Session] = field(default_factory=dict)
    bot_users: dict[str, str] = field(default_factory=dict)  # team id → our bot's user id
    ignored: int = 0  # messages from bots (ours or others) and non-messages, for the page
    _open: dict[str, int] = field(default_factory=dict)  # key → number of its open session

    def learn_bot(self, team_id: str, bot_user_id: str | None) -> None:
        if bot_user_id:
            self.bot_users[team_id] = bot_user_id

    def from_a_bot(self, message: Incoming) -> bool:
        """Bots never open or join a session: ours, or any other app's."""
        return (
            message.bot_id is not None
            or message.is_bot
            or message.subtype == "bot_message"
            or message.user_id is None
            or message.user_id == self.bot_users.get(message.team_id)
        )

    def receive(self, message: Incoming, now: float) -> Session | None:
        """Put ``message`` in its session (opening one if none is open); None when ignored."""
        if self.from_a_bot(message) or message.subtype not in (None, "file_share"):
            self.ignored += 1
            return None
        assert message.user_id is not None
        key = session_key(message.team_id, message.user_id, message.channel_id)
        session = self.open_session(key, now)
        if session is None:
            thread = None if message.kind == "im" else (message.thread_ts or message.ts)
            session = Session(
                number=len(self.sessions) + 1,
                team_id=message.team_id,
                user_id=message.user_id,
                user_name=message.user_name,
                channel_id=message.channel_id,
                kind=message.kind,
                thread_ts=thread,
                opened_at=now,
                last_activity=now,
            )
            self.sessions[session.number] = session
            self._open[key] = session.number
        session.last_activity = now
        session.user_name = message.user_name or session.user_name
        session.entries.append(Entry("customer", message.text, now, message.ts))
        del session.entries[:-_MAX_ENTRIES]
        return session

    def open_session(self, key: str, now: float) -> Session | None:
        """The open session for ``key``, unless it has been idle too long (then it is closed)."""
        number = self._open.get(key)
        if number is None:
            return None
        session = self.sessions[number]
        if now - session.last_activity >= self.idle_seconds:
            self.close(session, now, "idle")
            return None
        return session

    def answered(self, session: Session, text: str, now: float, ts: str | None = None) -> None:
        """An agent answered: the answer is in the session, and it is active again."""
        session.entries.append(Entry("agent", text, now, ts))
        session.last_activity = now

    def close(self, session: Session, now: float, reason: str) -> bool:
        """Close ``session`` (False if it already was)."""
        if session.status == "closed":
            return False
        session.status = "closed"
        session.closed_at = now
        session.closed_reason = reason
        if self._open.get(session.key) == session.number:
            del self._open[session.key]
        return True

    def idle(self, now: float) -> list[Session]:
        """Close every open session idle for the idle time or longer; those just closed."""
        closed = []
        for number in list(self._open.values()):
            session = self.sessions[number]
            if now - session.last_activity >= self.idle_seconds and self.close(
                session, now, "idle"
            ):
                closed.append(session)
        return closed

    def listing(self) -> list[Session]:
        """The sessions, open ones first, newest first."""
        return sorted(self.sessions.values(), key=lambda s: (s.status != "open", -s.last_activity))
