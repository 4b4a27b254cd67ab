"""``/views``: modals and App Home tabs.

``open`` and ``push`` go to Slack at once (a ``trigger_id`` lives only 3 seconds) but still
through the shared rate limiter, waiting at most a second for it; they answer with the view.
``update`` and ``publish`` are queued (202) in a lane per view or per user's home tab.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request

from slackbridge.api.auth import Caller, WriteCaller
from slackbridge.api.common import (
    IdempotencyKey,
    Operation,
    call_slack,
    enqueue,
    request_digest,
    slack_refusal,
)
from slackbridge.api.errors import error_responses
from slackbridge.api.schemas import Accepted
from slackbridge.api.schemas_ops import (
    ViewOpenRequest,
    ViewPublishRequest,
    ViewResult,
    ViewUpdateRequest,
)
from slackbridge.runtime import gateway_of

__all__ = ["router"]

router = APIRouter(prefix="/views", tags=["views"])

# A trigger_id expires 3 s after the click; waiting longer for the limiter would be pointless.
_TRIGGER_WAIT = 1.0
_NOW = error_responses(
    "workspace_forbidden",
    "workspace_not_found",
    "rate_limited",
    "slack_error",
    "slack_unavailable",
    "workspace_disconnected",
    "workspace_uninstalled",
)
_QUEUED = error_responses(
    "workspace_forbidden",
    "workspace_not_found",
    "idempotency_conflict",
    "workspace_disconnected",
    "workspace_uninstalled",
)


async def _open(request: Request, caller: Caller, body: ViewOpenRequest, method: str) -> ViewResult:
    outcome = await call_slack(
        gateway_of(request),
        body.workspace,
        method,
        {"trigger_id": body.trigger_id, "view": body.view},
        caller=caller,
        app_id=body.app_id,
        max_wait=_TRIGGER_WAIT,
    )
    if outcome.disposition != "done":
        raise slack_refusal(outcome, method)
    return ViewResult(view=dict(outcome.data.get("view") or {}))


@router.post("/open", summary="Open a modal", responses=_NOW)
async def open_view(body: ViewOpenRequest, request: Request, caller: WriteCaller) -> ViewResult:
    """Open a modal now (``views.open``) for the person whose action gave ``trigger_id``."""
    return await _open(request, caller, body, "views.open")


@router.post("/push", summary="Push a modal onto the stack", responses=_NOW)
async def push_view(body: ViewOpenRequest, request: Request, caller: WriteCaller) -> ViewResult:
    """Push a new view onto an open modal's stack now (``views.push``)."""
    return await _open(request, caller, body, "views.push")


@router.post("/update", status_code=202, summary="Update a modal", responses=_QUEUED)
async def update_view(
    body: ViewUpdateRequest,
    request: Request,
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue ``views.update`` for a view (by ``view_id`` or ``external_id``)."""
    args = body.model_dump(include={"view_id", "external_id", "hash", "view"}, exclude_none=True)
    key = body.view_id or hashlib.sha256(str(body.external_id).encode()).hexdigest()[:24]
    operation = Operation(
        method="views.update",
        team_id=body.workspace,
        app_id=body.app_id,
        lane_key=f"{body.workspace}:view:{key}",
        args=args,
    )
    return await enqueue(
        gateway_of(request),
        caller,
        operation,
        digest=request_digest("views.update", body),
        idempotency_key=idempotency_key,
    )


@router.post("/publish", status_code=202, summary="Publish a Home tab", responses=_QUEUED)
async def publish_view(
    body: ViewPublishRequest,
    request: Request,
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue ``views.publish`` of ``user_id``'s App Home tab."""
    args = body.model_dump(include={"user_id", "hash", "view"}, exclude_none=True)
    operation = Operation(
        method="views.publish",
        team_id=body.workspace,
        app_id=body.app_id,
        lane_key=f"{body.workspace}:home:{body.user_id}",
        args=args,
    )
    return await enqueue(
        gateway_of(request),
        caller,
        operation,
        digest=request_digest("views.publish", body),
        idempotency_key=idempotency_key,
    )
