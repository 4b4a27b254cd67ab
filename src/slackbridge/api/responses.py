"""``/responses``: answer a slash command or an interaction through its ``response_url``.

Queued (202) in a lane per response_url, so several answers to one command arrive in order. Only
URLs shaped like the ones Slack hands out are accepted (:mod:`slackbridge.api.response_urls`):
the gateway must not become a way to POST anywhere.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request

from slackbridge.api.auth import WriteCaller
from slackbridge.api.common import IdempotencyKey, Operation, enqueue, request_digest
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.response_urls import (
    ResponseUrlRule,
    response_url_problem,
    response_url_rules,
)
from slackbridge.api.schemas import Accepted
from slackbridge.api.schemas_ops import ResponseRequest
from slackbridge.runtime import gateway_of
from slackbridge.settings import Settings

__all__ = ["allowed_response_urls", "router"]

router = APIRouter(prefix="/responses", tags=["responses"])


def allowed_response_urls(settings: Settings) -> tuple[ResponseUrlRule, ...]:
    """Where a response_url may point with these settings."""
    return response_url_rules((settings.slack_url, settings.slack_api_url))


@router.post(
    "",
    status_code=202,
    summary="Answer through a response_url",
    responses=error_responses(
        "workspace_forbidden",
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
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue an answer to a command or action (``response_url`` lives 30 minutes, 5 uses)."""
    gateway = gateway_of(request)
    problem = response_url_problem(body.response_url, allowed_response_urls(gateway.settings))
    if problem is not None:
        raise ApiError("response_url_forbidden", problem)
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
