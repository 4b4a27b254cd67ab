"""``POST /slack/{team_id}/{method}``: any Web API method, with the workspace's token.

The body is the method's arguments as a JSON object; the answer is Slack's JSON as it came (with
``ok: false`` answers passed through at HTTP 200, as Slack does). The call waits for the shared
rate limiter (up to 10 s), so it competes fairly with the outbox instead of earning 429s; a
longer wait answers 429 ``rate_limited`` with ``Retry-After``. A few methods that would break the
gateway's own state (revoking its token, uninstalling) are refused.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request

from slackbridge.product.api_common import call_slack
from slackbridge.product.api_errors import ApiError, error_responses
from slackbridge.product.auth import CallerDep
from slackbridge.product.schemas import AppId, TeamId, UserId
from slackbridge.server import gateway_of

__all__ = ["FORBIDDEN_METHODS", "router"]

router = APIRouter(prefix="/slack", tags=["pass-through"])

#: Methods (or ``prefix.*`` families) the pass-through refuses.
FORBIDDEN_METHODS = ("auth.revoke", "apps.uninstall", "oauth.*", "openid.*", "apps.connections.*")
_PASS_WAIT = 10.0
_ARG_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,100}")


def _forbidden(method: str) -> bool:
    return any(
        method.startswith(rule[:-1]) if rule.endswith("*") else method == rule
        for rule in FORBIDDEN_METHODS
    )


@router.post(
    "/{team_id}/{method}",
    summary="Call any Web API method",
    responses=error_responses(
        "workspace_not_found",
        "method_forbidden",
        "user_token_missing",
        "rate_limited",
        "slack_unavailable",
        "workspace_disconnected",
        "workspace_uninstalled",
    ),
)
async def call_method(
    team_id: Annotated[TeamId, Path(description="the Slack workspace id (T…)")],
    method: Annotated[
        str,
        Path(
            pattern=r"^[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)+$",
            max_length=100,
            description="a Web API method, e.g. conversations.list",
        ),
    ],
    request: Request,
    _caller: CallerDep,
    args: Annotated[
        dict[str, Any] | None, Body(description="the method's arguments (no token)")
    ] = None,
    as_user: Annotated[UserId | None, Query(description="use this person's user token")] = None,
    app_id: Annotated[AppId | None, Query(description="when several apps are installed")] = None,
) -> dict[str, Any]:
    """Slack's answer to ``method`` called with the workspace's bot token (or ``as_user``'s)."""
    if _forbidden(method):
        raise ApiError("method_forbidden", f"{method} is not allowed through the pass-through")
    arguments = {k: v for k, v in (args or {}).items() if k != "token" and v is not None}
    bad = sorted(k for k in arguments if not _ARG_NAME.fullmatch(k))
    if bad:
        raise ApiError("invalid_request", f"not a Web API argument name: {bad[0]!r}")
    channel = arguments.get("channel") if method == "chat.postMessage" else None
    outcome = await call_slack(
        gateway_of(request),
        team_id,
        method,
        arguments,
        app_id=app_id,
        as_user=as_user,
        channel=str(channel) if isinstance(channel, str) else None,
        max_wait=_PASS_WAIT,
        form=True,
    )
    if outcome.data:
        return dict(outcome.data)
    return {"ok": outcome.disposition == "done", "error": outcome.code}
