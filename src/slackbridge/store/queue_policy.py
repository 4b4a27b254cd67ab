"""Pure retry policy of the queues: when a failed row is tried again, and when it is given up.

Every queue (inbox, webhook deliveries, outbox) retries a failed attempt after an exponential
backoff with jitter and gives up after a number of attempts; only the numbers differ. Nothing
here does I/O or reads a clock: the random source is passed in (tests pass a seeded one).

Without one, the jitter comes from a generator of this module's own, never from the
process-wide one of the ``random`` module: the workers draw from it at any moment (on every
settled row, from the event loop's thread), and a shared state would let that interleave with
anything else in the process that draws from it, seeded or not (a property test's generator
checks that the global state does not move while it draws, and fails by chance when it does).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff", "RetryPolicy"]

#: The jitter's default source: private, so that drawing from it never moves the global state.
_JITTER = random.Random()


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff from ``base`` seconds, capped at ``cap``, with jitter.

    The delay before retry number ``attempt`` (1-based) is drawn uniformly from the upper half
    of ``min(cap, base * 2 ** (attempt - 1))``: it grows with each attempt, never falls below
    half the ceiling, and spreads many rows hit by the same outage over the window instead of
    bringing them back in one wave.
    """

    base: float
    cap: float

    def ceiling(self, attempt: int) -> float:
        exponent = min(max(0, attempt - 1), 64)  # 2**64 * base is past any cap
        return min(self.cap, self.base * 2.0**exponent)

    def seconds(self, attempt: int, *, rng: random.Random | None = None) -> float:
        ceiling = self.ceiling(attempt)
        return (rng or _JITTER).uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts, the number of attempts, and a scale on the delays (tests and
    demos shrink the waits)."""

    backoff: Backoff
    max_attempts: int
    scale: float = 1.0

    def gives_up(self, attempts: int) -> bool:
        """Whether a row that failed its ``attempts``-th attempt is set aside for good."""
        return attempts >= self.max_attempts

    def retry_in(
        self, attempts: int, *, at_least: float = 0.0, rng: random.Random | None = None
    ) -> float | None:
        """Seconds before the next attempt of a row that failed attempt number ``attempts``,
        at least ``at_least`` (a ``Retry-After``); ``None`` when the row is given up."""
        if self.gives_up(attempts):
            return None
        return max(self.backoff.seconds(attempts, rng=rng) * self.scale, at_least)
