"""The composition of the ports: which part answers each port of :mod:`slackbridge.ports`.

The one place that knows them all: edges call ``gateway.ports.<port>`` and never import the part
behind it, so that edges stay independent of each other and of the pipeline. The gateway's
lifespan (``server.create_app``) and :func:`slackbridge.standalone.open_gateway` fill
``gateway.ports`` with :func:`compose_ports` before any part starts.
"""

from __future__ import annotations

from collections.abc import Sequence

from slackbridge.domain.events import DomainEvent
from slackbridge.ports import Ports, SlackCredentials
from slackbridge.product.dispatch import dispatch
from slackbridge.runtime import Gateway
from slackbridge.slack.outbound.web_api import outbound_of
from slackbridge.slack.workspaces.tokens import bot_token, report_token_error, user_token

__all__ = ["compose_ports"]


def compose_ports(gateway: Gateway) -> Ports:
    """The ports of ``gateway``, each bound to the part that answers it."""

    async def notify(events: Sequence[DomainEvent]) -> int:
        return await dispatch(gateway, events)

    async def bot(team_id: str | None, app_id: str | None) -> SlackCredentials:
        return await bot_token(gateway, team_id, app_id=app_id)

    async def user(
        team_id: str | None, user_id: str, app_id: str | None
    ) -> SlackCredentials | None:
        return await user_token(gateway, team_id, user_id, app_id=app_id)

    async def token_error(team_id: str | None, app_id: str | None, error: str) -> bool:
        return await report_token_error(gateway, team_id, app_id, error)

    async def reserve_shared_call(key: str, method: str, channel: str | None) -> float:
        # One process alone keeps within Slack's budget by itself (one call at a time, with
        # backoff); only gateways sharing a PostgreSQL share buckets that can make it wait.
        outbound = outbound_of(gateway)
        if outbound.shared is None:
            return 0.0
        return await outbound.acquire(key, method, channel, max_wait=0.0)

    async def reserve_call(key: str, method: str, max_wait: float) -> float:
        return await outbound_of(gateway).acquire(key, method, None, max_wait=max_wait)

    return Ports(
        notify=notify,
        bot_token=bot,
        user_token=user,
        report_token_error=token_error,
        reserve_shared_call=reserve_shared_call,
        reserve_call=reserve_call,
    )
