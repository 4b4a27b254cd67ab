"""``POST /slack/{team_id}/{method}``: any Web API method, with the workspace's token.

The body is the method's arguments as a JSON object; the answer is Slack's JSON as it came (with
``ok: false`` answers passed through at HTTP 200, as Slack does). The call waits for the shared
rate limiter (up to 10 s), so it competes fairly with the outbox instead of earning 429s; a
longer wait answers 429 ``rate_limited`` with ``Retry-After``. A few methods that would break the
gateway's own state (revoking its token, uninstalling) are refused, and so are Enterprise Grid
``admin.*`` methods unless ``SLACKBRIDGE_PASS_THROUGH_ADMIN_METHODS`` is true: they act on a
whole organization, far beyond what a product's key should reach by default.

Method names are compared without regard to case, and only Slack's own spelling (lower camel
case segments, ``chat.postMessage``) is accepted at all: Slack's names are case-sensitive, so a
differently cased name is either a mistake or an attempt to slip past the list above.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request

from slackbridge.api.auth import WriteCaller
from slackbridge.api.common import call_slack
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import AppId, TeamId, UserId
from slackbridge.runtime import gateway_of

__all__ = ["ADMIN_METHODS", "FORBIDDEN_METHODS", "method_refusal", "router"]

router = APIRouter(prefix="/slack", tags=["pass-through"])

#: Methods (or ``prefix.*`` families) the pass-through refuses.
FORBIDDEN_METHODS = ("auth.revoke", "apps.uninstall", "oauth.*", "openid.*", "apps.connections.*")
#: Enterprise Grid organization methods, refused unless the setting allows them.
ADMIN_METHODS = "admin.*"
_PASS_WAIT = 10.0
_ARG_NAME = re.compile(r"[A-Za-z0-9_.\-\[\]]{1,100}")
# Slack's spelling: dot-separated segments, each starting with a lower-case letter.
_CANONICAL = re.compile(r"[a-z][a-zA-Z0-9]*(\.[a-z][a-zA-Z0-9]*)+")


def _matches(method: str, rule: str) -> bool:
    name, rule = method.lower(), rule.lower()
    return name.startswith(rule[:-1]) if rule.endswith("*") else name == rule


def method_refusal(method: str, *, allow_admin: bool) -> ApiError | None:
    """Why the pass-through refuses ``method``, or None when it may be called."""
    if any(_matches(method, rule) for rule in FORBIDDEN_METHODS):
        return ApiError("method_forbidden", f"{method} is not allowed through the pass-through")
    if not allow_admin and _matches(method, ADMIN_METHODS):
        return ApiError(
            "method_forbidden",
            f"{method} is an admin.* method, refused unless "
            "SLACKBRIDGE_PASS_THROUGH_ADMIN_METHODS is true",
        )
    if not _CANONICAL.fullmatch(method):
        return ApiError(
            "invalid_request",
            f"{method!r} is not spelled as a Web API method: Slack's names are case-sensitive, "
            "lower camel case segments (e.g. chat.postMessage, conversations.list)",
        )
    return None


@router.post(
    "/{team_id}/{method}",
    summary="Call any Web API method",
    responses=error_responses(
        "workspace_forbidden",
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
    caller: WriteCaller,
    args: Annotated[
        dict[str, Any] | None, Body(description="the method's arguments (no token)")
    ] = None,
    as_user: Annotated[UserId | None, Query(description="use this person's user token")] = None,
    app_id: Annotated[AppId | None, Query(description="when several apps are installed")] = None,
) -> dict[str, Any]:
    """Slack's answer to ``method`` called with the workspace's bot token (or ``as_user``'s).
    Methods that would break the gateway (``auth.revoke``, ``apps.uninstall``, ``oauth.*``,
    ``openid.*``, ``apps.connections.*``) are refused in any letter case, ``admin.*`` unless
    ``SLACKBRIDGE_PASS_THROUGH_ADMIN_METHODS`` is true; a name not in Slack's lower camel case
    answers 422."""
    gateway = gateway_of(request)
    refusal = method_refusal(method, allow_admin=gateway.settings.pass_through_admin_methods)
    if refusal is not None:
        raise refusal
    arguments = {k: v for k, v in (args or {}).items() if k != "token" and v is not None}
    bad = sorted(k for k in arguments if not _ARG_NAME.fullmatch(k))
    if bad:
        raise ApiError("invalid_request", f"not a Web API argument name: {bad[0]!r}")
    channel = arguments.get("channel") if method == "chat.postMessage" else None
    outcome = await call_slack(
        gateway,
        team_id,
        method,
        arguments,
        caller=caller,
        app_id=app_id,
        as_user=as_user,
        channel=str(channel) if isinstance(channel, str) else None,
        max_wait=_PASS_WAIT,
        form=True,
    )
    if outcome.data:
        return dict(outcome.data)
    return {"ok": outcome.disposition == "done", "error": outcome.code}
