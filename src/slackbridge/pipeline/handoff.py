"""The inbox handoff, seen from the pipeline: rows stored leased to this process's inbox worker.

The class lives in the store (:mod:`slackbridge.store.inbox_handoff`) so that the runtime can
hold one per process; :func:`handoff_of` reads it there.
"""

from __future__ import annotations

from slackbridge.runtime import Gateway
from slackbridge.store.inbox_handoff import Handoff

__all__ = ["Handoff", "handoff_of"]


def handoff_of(gateway: Gateway) -> Handoff:
    """The gateway's handoff (one per runtime)."""
    return gateway.handoff
