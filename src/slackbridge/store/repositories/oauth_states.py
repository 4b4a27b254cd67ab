"""OAuth ``state`` values for "Add to Slack": signed, single use, expiring, bound to a browser.

A state is not stored when it is issued: every unauthenticated hit on ``/slack/install`` would
otherwise add a row. It carries what the callback needs (the app, the product's ``ref``, the
expiry and a digest of the browser token put in the install's cookie), signed with a key derived
from the keyring (``oauth-state``), so it can't be made up or altered. A row is written only when
a state comes back valid from the right browser: the SHA-256 digest of the state, kept until the
state expires so that it can't be used twice. The table thus holds at most the installs finished
within the states' lifetime, and only digests, so a database reader can't complete someone
else's install.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from slackbridge.store.models import OAuthStateRow, table_of
from slackbridge.store.repositories._base import Repository, dialect_insert

__all__ = ["STATE_PURPOSE", "IssuedState", "OAuthStatesRepository", "StateCheck", "StateOutcome"]

_T = table_of(OAuthStateRow)
StateOutcome = Literal["ok", "unknown", "expired", "used", "browser_mismatch"]
#: The keyring purpose of the states' signing key.
STATE_PURPOSE = "oauth-state"
_MAX_STATE = 2048  # far above what is issued (a ref is at most 255 characters)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def _millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


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
    link_expires: int | None = None  # the signed install link's expiry, for a retry link

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


@dataclass(frozen=True)
class _Claims:
    app_ref: int
    product_ref: str | None
    expires_ms: int
    browser_hash: str
    link_expires: int | None


class OAuthStatesRepository(Repository):
    """Issue and consume OAuth states (see the module docstring)."""

    async def issue(
        self,
        app_ref: int,
        *,
        product_ref: str | None = None,
        link_expires: int | None = None,
        ttl_seconds: float = 600,
        session: AsyncSession | None = None,
    ) -> IssuedState:
        """A fresh state (and browser token) for an install of app ``app_ref`` started from a
        link for ``product_ref`` (signed, valid until ``link_expires``); stores nothing
        (``session`` is accepted for symmetry with the other repositories and not used)."""
        del session
        browser_token = secrets.token_urlsafe(32)
        expires_at = self._clock() + timedelta(seconds=ttl_seconds)
        claims = [app_ref, product_ref, _millis(expires_at), _digest(browser_token), link_expires]
        body = _b64(orjson.dumps(claims))
        state = f"{body}.{_mac(self._keyring.derived_keys(STATE_PURPOSE)[0], body)}"
        return IssuedState(state=state, browser_token=browser_token, expires_at=expires_at)

    def _claims(self, state: str) -> _Claims | None:
        """What a state says, when it was issued here (signed by any configured key)."""
        body, dot, mac = state.partition(".")
        if not dot or len(state) > _MAX_STATE or not body.isascii() or not mac.isascii():
            return None
        matched = False
        for key in self._keyring.derived_keys(STATE_PURPOSE):
            matched |= hmac.compare_digest(_mac(key, body), mac)
        if not matched:
            return None
        try:
            values: Any = orjson.loads(_unb64(body))
        except (binascii.Error, ValueError):
            return None
        if not isinstance(values, list) or len(values) != 5:
            return None
        app_ref, product_ref, expires_ms, browser_hash, link_expires = values
        return _Claims(int(app_ref), product_ref, int(expires_ms), str(browser_hash), link_expires)

    async def consume(
        self, state: str, browser_token: str | None, *, session: AsyncSession | None = None
    ) -> StateCheck:
        """Check a returning state and use it up.

        ``unknown``: not issued here (or altered); ``used``: consumed already (a replay);
        ``expired``: too old; ``browser_mismatch``: the cookie doesn't match (the state stays
        usable by its owner). Only ``ok`` consumes the state, by recording its digest; the unique
        digest makes sure that two concurrent callbacks can't both win.
        """
        claims = self._claims(state)
        if claims is None:
            return StateCheck("unknown")
        known: dict[str, Any] = {
            "app_ref": claims.app_ref,
            "product_ref": claims.product_ref,
            "link_expires": claims.link_expires,
        }
        now = self._clock()
        state_hash = _digest(state)
        async with self._read(session) as s:
            found = select(_T.c.id).where(_T.c.state_hash == state_hash)
            if (await s.execute(found)).first() is not None:
                return StateCheck("used", **known)  # said first: a replay may lack the cookie
        if claims.expires_ms <= _millis(now):
            return StateCheck("expired", **known)
        if browser_token is None or not hmac.compare_digest(
            claims.browser_hash, _digest(browser_token)
        ):
            return StateCheck("browser_mismatch", **known)
        expires_at = datetime.fromtimestamp(claims.expires_ms / 1000, UTC)
        record = (
            dialect_insert(self._db, _T)
            .values(
                state_hash=state_hash,
                browser_hash=claims.browser_hash,
                product_ref=claims.product_ref,
                app_ref=claims.app_ref,
                created_at=now,
                expires_at=expires_at,
                used_at=now,
            )
            .on_conflict_do_nothing(index_elements=["state_hash"])
            .returning(_T.c.id)
        )
        try:
            async with self._tx(session) as tx:
                if (await tx.execute(record)).scalar_one_or_none() is None:
                    return StateCheck("used", **known)
        except IntegrityError:  # the app it was issued for has been deleted since
            return StateCheck("unknown")
        return StateCheck("ok", **known)

    async def purge(self, *, older_than: datetime, session: AsyncSession | None = None) -> int:
        """Delete the records of states that expired before ``older_than`` (their expiry alone
        refuses them now); returns how many."""
        async with self._tx(session) as tx:
            result = await tx.execute(delete(_T).where(_T.c.expires_at < older_than))
        return int(result.rowcount)  # type: ignore[attr-defined]
