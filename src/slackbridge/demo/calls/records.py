"""What the Calls example keeps: its accounts, the single-use keys ``/call`` hands out, the
browser sessions they turn into, the people who authorized with Slack, and the calls. Pure and
in memory (the example is a demo; a real product keeps these in its database).

A key is what the link in the ephemeral answer carries: random (256 bits), valid for
:data:`KEY_TTL_SECONDS`, used once. Opening the link spends it and starts a *session* bound to
that browser by a cookie, so the page can be reloaded (and come back after Slack's consent) while
the link itself, if forwarded or opened again, is worth nothing.
"""

from __future__ import annotations

import hmac
import itertools
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "KEY_TTL_SECONDS",
    "SESSION_TTL_SECONDS",
    "Account",
    "Call",
    "CallBook",
    "Directory",
    "Grants",
    "KeyCheck",
    "Keys",
    "Member",
    "Session",
    "Setup",
]

KEY_TTL_SECONDS = 600
SESSION_TTL_SECONDS = 3600


@dataclass(frozen=True)
class Account:
    """A person with an account in the calling service (matched to Slack people by email)."""

    id: str
    name: str
    email: str


class Directory:
    """The service's accounts, found by email (case does not matter, as in email addresses'
    domain part and in practice in their local part)."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.accounts = list(accounts)
        self._by_email = {a.email.strip().lower(): a for a in self.accounts}

    def by_email(self, email: str | None) -> Account | None:
        return self._by_email.get(email.strip().lower()) if email else None


@dataclass(frozen=True)
class Setup:
    """Where and by whom ``/call`` was run: what a key remembers."""

    team_id: str
    channel_id: str
    channel_kind: str | None
    user_id: str
    invited: tuple[str, ...] = ()  # people named after /call (pre-selected)


KeyCheck = Literal["ok", "unknown", "expired", "used"]


@dataclass
class _Key:
    setup: Setup
    expires_at: float
    session_id: str | None = None


@dataclass
class Session:
    """An opened link, in one browser: its ``secret`` is the browser's cookie."""

    id: str
    secret: str
    setup: Setup
    expires_at: float
    call_id: int | None = None

    def holds(self, cookie: str | None) -> bool:
        return cookie is not None and hmac.compare_digest(cookie, self.secret)


class Keys:
    """Single-use, expiring keys and the sessions opening them starts."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self.sessions: dict[str, Session] = {}

    def issue(self, setup: Setup) -> str:
        self._purge()
        key = secrets.token_urlsafe(32)
        self._keys[key] = _Key(setup, self._clock() + KEY_TTL_SECONDS)
        return key

    def open(self, key: str) -> tuple[KeyCheck, Session | None]:
        """Spend ``key``: ("ok", a new session), or why not (for "used", the session it started,
        so the browser that opened it can be sent back there)."""
        found = self._keys.get(key)
        if found is None:
            return "unknown", None
        if found.session_id is not None:
            return "used", self.sessions.get(found.session_id)
        now = self._clock()
        if now >= found.expires_at:
            return "expired", None
        session = Session(
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(32),
            found.setup,
            now + SESSION_TTL_SECONDS,
        )
        found.session_id = session.id
        self.sessions[session.id] = session
        return "ok", session

    def session(self, session_id: str, cookie: str | None) -> Session | None:
        """The live session ``session_id`` if this browser holds it."""
        found = self.sessions.get(session_id)
        if found is None or not found.holds(cookie) or self._clock() >= found.expires_at:
            return None
        return found

    @property
    def outstanding(self) -> int:
        return sum(1 for k in self._keys.values() if k.session_id is None)

    def _purge(self) -> None:
        now = self._clock()
        # A spent key is kept as long as its session, to say "already used" rather than
        # "unknown"; an unspent one until it expires.
        for key, found in list(self._keys.items()):
            session = self.sessions.get(found.session_id or "")
            if (session is None and now >= found.expires_at) or (
                session is not None and now >= session.expires_at
            ):
                del self._keys[key]
                if session is not None:
                    del self.sessions[session.id]


class Grants:
    """Who authorized the app with Slack (a user token in slackbridge), per workspace: a
    person in two workspaces is two entries, each with its own token at the gateway."""

    def __init__(self) -> None:
        self._granted: set[tuple[str, str]] = set()

    def add(self, team_id: str, user_id: str) -> None:
        self._granted.add((team_id, user_id))

    def discard(self, team_id: str, user_id: str) -> None:
        self._granted.discard((team_id, user_id))

    def forget_team(self, team_id: str) -> None:
        self._granted = {g for g in self._granted if g[0] != team_id}

    def __contains__(self, item: object) -> bool:
        return item in self._granted

    def listing(self) -> list[dict[str, str]]:
        return [{"team_id": t, "user_id": u} for t, u in sorted(self._granted)]


@dataclass(frozen=True)
class Member:
    """A member of the channel, as Slack and the service know them."""

    user_id: str
    name: str
    email: str | None
    is_bot: bool
    account: Account | None

    def to_json(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "name": self.name,
            "email": self.email,
            "is_bot": self.is_bot,
            "account": self.account.id if self.account else None,
        }


@dataclass
class Call:
    """A call started from Slack: who started it, where, and whom it rings."""

    id: int
    setup: Setup
    started_by: Account | None
    ringing: list[Account]
    link: str
    operation_id: str | None = None
    announced: Literal["queued", "sent", "failed"] = "queued"
    announced_ts: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "team_id": self.setup.team_id,
            "channel_id": self.setup.channel_id,
            "channel_kind": self.setup.channel_kind,
            "user_id": self.setup.user_id,
            "started_by": self.started_by.id if self.started_by else None,
            "ringing": [a.id for a in self.ringing],
            "link": self.link,
            "announced": self.announced,
            "announced_ts": self.announced_ts,
            "error": self.error,
        }


@dataclass
class CallBook:
    """The calls, numbered from 1."""

    calls: dict[int, Call] = field(default_factory=dict)
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Outcomes of operations not yet attached to a call: slackbridge may announce a post
    # before the API call that queued it has answered.
    _early: dict[str, tuple[bool, str | None]] = field(default_factory=dict)

    def start(
        self, setup: Setup, started_by: Account | None, ringing: Sequence[Account], base: str
    ) -> Call:
        number = next(self._numbers)
        call = Call(number, setup, started_by, list(ringing), f"{base}/calls/{number}")
        self.calls[number] = call
        return call

    def attach(self, call: Call, operation_id: str) -> None:
        """``operation_id`` posted ``call``'s link (its outcome may be known already)."""
        call.operation_id = operation_id
        early = self._early.pop(operation_id, None)
        if early is not None:
            self._settle(call, *early)

    def settle(self, operation_id: str, sent: bool, detail: str | None) -> bool:
        """The post ``operation_id`` was delivered (``detail``: its ts) or failed (the error
        code); False when it is no call's (yet)."""
        call = next((c for c in self.calls.values() if c.operation_id == operation_id), None)
        if call is None:
            self._early[operation_id] = (sent, detail)
            while len(self._early) > 1000:
                del self._early[next(iter(self._early))]
            return False
        self._settle(call, sent, detail)
        return True

    @staticmethod
    def _settle(call: Call, sent: bool, detail: str | None) -> None:
        if sent:
            call.announced, call.announced_ts = "sent", detail
        else:
            call.announced, call.error = "failed", detail or "unknown_error"
