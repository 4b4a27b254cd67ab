"""The workspaces edge's own Web API calls wait for the gateway's rate limiter.

Installing (``oauth.v2.access``, ``auth.test``), refreshing a token (``oauth.v2.access``),
removing a workspace (``auth.revoke``) and :func:`~slackbridge.slack.workspaces.tokens.
call_as_bot` are Web API calls like the outbox's: each first takes its place in the limiter that
every call of the gateway goes through (the ``reserve_call`` port: per workspace, per method
tier, shared by every gateway on PostgreSQL), so a burst of installs or removals can't spend a
workspace's budget behind the sender's back. These calls are rare and a person or a token is
waiting on each, so one that would still have to wait after :data:`MAX_WAIT` goes anyway (Slack
then answers it or says ``ratelimited``, which its caller reports as any other error).
"""

from __future__ import annotations

import logging

from slackbridge.runtime import Gateway

__all__ = ["MAX_WAIT", "within_budget"]

_log = logging.getLogger("slackbridge.workspaces")

#: Seconds one of these calls waits for the limiter at most.
MAX_WAIT = 10.0


async def within_budget(gateway: Gateway, key: str | None, method: str) -> None:
    """Wait until ``method`` for ``key`` (a team, or an app before its team is known) fits the
    rate limits, at most :data:`MAX_WAIT` seconds."""
    wait = await gateway.ports.reserve_call(key or "", method, MAX_WAIT)
    if wait > 0:
        _log.info("%s for %s goes %.1fs before the rate limiter would let it", method, key, wait)
