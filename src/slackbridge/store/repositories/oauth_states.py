"""OAuth ``state`` values for "Add to Slack": random, single use, expiring, bound to a browser.

Only SHA-256 digests of the state and of the browser cookie are stored, so a database reader
can't complete someone else's install.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import OAuthStateRow, table_of
from slackbridge.store.repositories._base import Repository

__all__ = ["IssuedState", "OAuthStatesRepository", "StateCheck", "StateOutcome"]

_T = table_of(OAuthStateRow)
StateOutcome = Literal["ok", "unknown", "expired", "used", "browser_mismatch"]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedState:
    """A new state: put ``state`` in the authorize URL and ``browser_token`` in a cookie."""

    state: str = field(repr=False)
    browser_token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class StateCheck:
    """The verdict on a state coming back from Slack; ``app_ref``/``product_ref`` when known."""

    outcome: StateOutcome
    app_ref: int | None = None
    product_ref: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


class OAuthStatesRepository(Repository):
    """Issue and consume OAuth states."""

    async def issue(
        self,
        app_ref: int,
        *,
        product_ref: str | None = None,
        ttl_seconds: float = 600,
        session: AsyncSession | None = None,
    ) -> IssuedState:
        """A fresh state (and browser token) for an install of app ``app_ref``."""
        now = self._clock()
        state = secrets.token_urlsafe(32)
        browser_token = secrets.token_urlsafe(32)
        expires_at = now + timedelta(seconds=ttl_seconds)
        async with self._tx(session) as tx:
            await tx.execute(
                _T.insert().values(
                    state_hash=_digest(state),
                    browser_hash=_digest(browser_token),
                    product_ref=product_ref,
                    app_ref=app_ref,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        return IssuedState(state=state, browser_token=browser_token, expires_at=expires_at)

    async def consume(
        self, state: str, browser_token: str | None, *, session: AsyncSession | None = None
    ) -> StateCheck:
        """Check a returning state and use it up.

        ``unknown``: never issued; ``used``: already consumed (a replay); ``expired``: too old;
        ``browser_mismatch``: the cookie doesn't match (the state stays usable by its owner).
        Only ``ok`` consumes the state, atomically, so two concurrent callbacks can't both win.
        """
        now = self._clock()
        state_hash = _digest(state)
        async with self._tx(session) as tx:
            row = (
                (await tx.execute(select(_T).where(_T.c.state_hash == state_hash)))
                .mappings()
                .first()
            )
            if row is None:
                return StateCheck("unknown")
            known = {"app_ref": int(row["app_ref"]), "product_ref": row["product_ref"]}
            if row["used_at"] is not None:
                return StateCheck("used", **known)
            if row["expires_at"] <= now:
                return StateCheck("expired", **known)
            if browser_token is None or not hmac.compare_digest(
                row["browser_hash"], _digest(browser_token)
            ):
                return StateCheck("browser_mismatch", **known)
            result = await tx.execute(
                update(_T).where(_T.c.id == row["id"], _T.c.used_at.is_(None)).values(used_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return StateCheck("used", **known)
        return StateCheck("ok", **known)

    async def purge(self, *, older_than: datetime, session: AsyncSession | None = None) -> int:
        """Delete states that expired before ``older_than``; returns how many."""
        async with self._tx(session) as tx:
            result = await tx.execute(delete(_T).where(_T.c.expires_at < older_than))
        return int(result.rowcount)  # type: ignore[attr-defined]
