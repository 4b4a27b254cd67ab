"""How hard the property tests look: derandomized by default, deeper on request.

``make test`` (and CI) runs every Hypothesis test with a fixed seed per test, so a run on a fresh
clone passes or fails the same way every time and chance never blocks a landing. The random,
deeper search is one switch away: ``make test-deep`` (``SLACKBRIDGE_FUZZ=deep``) draws fresh
examples on each run, many more of them, and keeps failures in Hypothesis' database so a found
bug replays. Run it before stopping work on anything that parses input.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["DEEP", "examples", "load_profile"]

#: Whether this run is the deep, random one.
DEEP = os.environ.get("SLACKBRIDGE_FUZZ", "").strip().lower() == "deep"

#: How many more examples the deep profile draws than the usual one.
_DEEP_FACTOR = 20


def examples(usual: int) -> int:
    """The example count for a test that sets its own: ``usual`` normally, far more when deep."""
    return usual * _DEEP_FACTOR if DEEP else usual


def load_profile() -> None:
    """Register both profiles and load the one this run asks for."""
    settings.register_profile(
        "derandomized",
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.differing_executors],
    )
    settings.register_profile(
        "deep",
        max_examples=examples(settings.default.max_examples),
        derandomize=False,
        print_blob=True,
        suppress_health_check=[HealthCheck.differing_executors],
    )
    settings.load_profile("deep" if DEEP else "derandomized")
