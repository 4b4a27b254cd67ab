"""Identifiers in Slack's formats, generated deterministically from a counter.

Deterministic ids keep the default seed and test runs reproducible: the same seed and the same
sequence of calls give the same ids.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field

__all__ = ["IdFactory", "TsClock"]

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _encode(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


@dataclass
class IdFactory:
    """Makes Slack-shaped ids: ``T…`` teams, ``U…`` users, ``C…``/``G…``/``D…`` channels, ``B…``
    bots, ``A…`` apps, ``F…`` files, ``V…`` views, ``Ev…`` events, and opaque tokens.

    ``salt`` separates one emulator's ids from another's; tokens are random on purpose so that
    leaked test tokens from one run never authenticate in another.
    """

    salt: int = 0
    _counters: dict[str, itertools.count[int]] = field(default_factory=dict)

    def next(self, prefix: str, width: int = 10) -> str:
        counter = self._counters.setdefault(prefix, itertools.count(1))
        n = next(counter)
        # Spread consecutive numbers so ids don't look sequential, deterministically.
        mixed = int.from_bytes(
            hashlib.blake2b(f"{self.salt}:{prefix}:{n}".encode(), digest_size=8).digest(), "big"
        )
        return prefix + _encode(mixed, width)

    def event_id(self) -> str:
        return self.next("Ev", 10)

    def token(self, prefix: str) -> str:
        """A secret token such as ``xoxb-…``, ``xoxp-…``, ``xapp-…`` or ``xoxe-1-…``."""
        parts = [str(secrets.randbelow(10**12)).zfill(12) for _ in range(2)]
        return f"{prefix}-{parts[0]}-{parts[1]}-{secrets.token_hex(12)}"

    def secret(self, nbytes: int = 16) -> str:
        return secrets.token_hex(nbytes)


@dataclass
class TsClock:
    """Message timestamps like ``1531420618.000200``: strictly increasing per emulator, so they
    are unique per channel as Slack promises and sort in posting order."""

    _last: tuple[int, int] = (0, 0)

    def next(self, now: float | None = None) -> str:
        seconds = int(now if now is not None else time.time())
        last_s, last_us = self._last
        if seconds > last_s:
            current = (seconds, 1)
        else:
            micro = last_us + 1
            current = (last_s + micro // 1_000_000, micro % 1_000_000)
        self._last = current
        return f"{current[0]}.{current[1]:06d}"
