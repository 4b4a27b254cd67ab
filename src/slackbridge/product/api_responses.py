"""``/responses``: answer a slash command or an interaction through its ``response_url``.

Queued (202) in a lane per response_url, so several answers to one command arrive in order. Only
URLs on Slack's hosts (``hooks.slack.com`` and the configured Slack/emulator hosts) are accepted:
the gateway must not become a way to POST anywhere.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from fastapi import APIRouter, Request

from slackbridge.product.api_common import IdempotencyKey, Operation, enqueue, request_digest
from slackbridge.product.api_errors import ApiError, error_responses
from slackbridge.product.auth import CallerDep
from slackbridge.product.schemas import Accepted
from slackbridge.product.schemas_ops import ResponseRequest
from slackbridge.server import gateway_of
from slackbridge.settings import Settings

__all__ = ["allowed_response_hosts", "router"]

router = APIRouter(prefix="/responses", tags=["responses"])


def allowed_response_hosts(settings: Settings) -> set[str]:
    """``host[:port]`` values a response_url may point at."""
    hosts = {"hooks.slack.com"}
    for url in (settings.slack_url, settings.slack_api_url):
        netloc = urlsplit(url).netloc.lower()
        if netloc:
            hosts.add(netloc)
    return hosts


@router.post(
    "",
    status_code=202,
    summary="Answer through a response_url",
    responses=error_responses(
        "workspace_not_found",
        "idempotency_conflict",
        "response_url_forbidden",
        "workspace_disconnected",
        "workspace_uninstalled",
    ),
)
async def respond(
    body: ResponseRequest,
    request: Request,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue an answer to a command or action (``response_url`` lives 30 minutes, 5 uses)."""
    gateway = gateway_of(request)
    netloc = urlsplit(body.response_url).netloc.lower()
    if netloc not in allowed_response_hosts(gateway.settings):
        raise ApiError(
            "response_url_forbidden", f"{netloc or 'that URL'} is not a Slack response_url host"
        )
    args = body.model_dump(
        include={
            "text",
            "blocks",
            "attachments",
            "response_type",
            "replace_original",
            "delete_original",
            "thread_ts",
        },
        exclude_none=True,
    )
    digest = hashlib.sha256(body.response_url.encode()).hexdigest()[:24]
    operation = Operation(
        method="response_url",
        team_id=body.workspace,
        lane_key=f"{body.workspace}:response:{digest}",
        args=args,
        extra={"response_url": body.response_url},
    )
    return await enqueue(
        gateway,
        caller,
        operation,
        digest=request_digest("responses", body),
        idempotency_key=idempotency_key,
    )
