"""``/messages``: post, update, delete, ephemeral (queued, 202), permalink (now), status.

Every queued operation is an outbox row with a lane: a channel's top level, or one thread. An
operation that names an earlier one by id (``reply_to``, ``message_id``) joins that one's lane,
so it runs after it and can use its ts even though the product never saw it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from slackbridge.api.auth import Caller, ReadCaller, WriteCaller
from slackbridge.api.common import (
    IdempotencyKey,
    Operation,
    call_slack,
    enqueue,
    operation_status,
    referenced,
    request_digest,
    slack_refusal,
)
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import Accepted, MessageId, OperationStatus, Persona
from slackbridge.api.schemas_ops import (
    DeleteMessageRequest,
    EphemeralRequest,
    MessageRef,
    Permalink,
    PermalinkRequest,
    PostMessageRequest,
    UpdateMessageRequest,
)
from slackbridge.runtime import Gateway, gateway_of
from slackbridge.store.repositories.outbox import OutboxMessage, outbox_lane

__all__ = ["router"]

router = APIRouter(prefix="/messages", tags=["messages"])

_QUEUED = error_responses(
    "workspace_forbidden",
    "workspace_not_found",
    "message_not_found",
    "idempotency_conflict",
    "user_token_missing",
    "workspace_disconnected",
    "workspace_uninstalled",
)
_POSTS = ("chat.postMessage",)
# The request kinds in digests (an Idempotency-Key reused across kinds is a conflict).
_DIGEST_KINDS = {"chat.update": "messages.update", "chat.delete": "messages.delete"}


def _persona_args(persona: Persona | None) -> dict[str, Any]:
    return persona.model_dump(exclude_none=True) if persona else {}


def _content(body: Any, *names: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for name in names:
        value = getattr(body, name)
        if value is not None:
            args[name] = value.model_dump() if hasattr(value, "model_dump") else value
    return args


def _sent_target(row: OutboxMessage) -> tuple[str, str]:
    result = row.result or {}
    if row.status != "sent" or not result.get("ts"):
        raise ApiError(
            "message_not_sent",
            f"{row.message_id} is {row.status}; it has no Slack ts"
            + (" yet" if row.status in ("queued", "sending") else ""),
        )
    return str(result.get("channel") or row.payload.get("channel")), str(result["ts"])


async def _original(
    gateway: Gateway, message_id: str, team_id: str | None, caller: Caller
) -> OutboxMessage:
    row = await referenced(gateway, message_id, team_id, caller=caller)
    if row.method not in _POSTS:
        raise ApiError("invalid_request", f"{message_id} is a {row.method}, not a message post")
    if row.status == "failed":
        raise ApiError("message_not_sent", f"{message_id} failed; it never reached Slack")
    return row


@router.post(
    "",
    status_code=202,
    summary="Post a message",
    responses=_QUEUED,
)
async def post_message(
    body: PostMessageRequest,
    request: Request,
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue a message for a channel or thread; follow it at ``GET /messages/{id}`` or through
    the ``message.delivered`` / ``message.failed`` webhooks."""
    gateway = gateway_of(request)
    args = _content(
        body, "text", "blocks", "attachments", "unfurl_links", "unfurl_media", "mrkdwn", "metadata"
    )
    args.update(_persona_args(body.persona))
    if body.reply_broadcast:
        args["reply_broadcast"] = True
    lane = outbox_lane(body.workspace, body.channel, body.thread_ts)
    if body.reply_to is not None:
        root = await _original(gateway, body.reply_to, body.workspace, caller)
        if root.payload.get("channel") != body.channel:
            raise ApiError("invalid_request", f"{body.reply_to} was posted in another channel")
        lane = root.lane_key
    operation = Operation(
        method="chat.postMessage",
        team_id=body.workspace,
        app_id=body.app_id,
        lane_key=lane,
        as_user=body.as_user,
        channel=body.channel,
        thread_ts=body.thread_ts,
        ref=body.reply_to,
        args=args,
    )
    return await enqueue(
        gateway,
        caller,
        operation,
        digest=request_digest("messages.post", body),
        idempotency_key=idempotency_key,
    )


async def _addressed(
    gateway: Gateway, body: MessageRef, method: str, caller: Caller
) -> tuple[Operation, OutboxMessage | None]:
    """Team, channel, lane and ref of an operation on an existing message."""
    if body.message_id is not None:
        original = await _original(gateway, body.message_id, body.workspace, caller)
        channel = str(original.payload.get("channel"))
        operation = Operation(
            method=method,
            team_id=original.team_id,
            app_id=body.app_id or original.payload.get("app_id"),
            lane_key=original.lane_key,
            channel=channel,
            ref=original.message_id,
        )
        return operation, original
    assert body.workspace and body.channel and body.ts
    operation = Operation(
        method=method,
        team_id=body.workspace,
        app_id=body.app_id,
        lane_key=outbox_lane(body.workspace, body.channel, body.ts),
        channel=body.channel,
        extra={"ts": body.ts},
    )
    return operation, None


async def _queue_change(
    request: Request,
    caller: Caller,
    body: UpdateMessageRequest | DeleteMessageRequest,
    method: str,
    args: dict[str, Any],
    idempotency_key: str | None,
) -> Accepted:
    """Queue an edit or a deletion, as the person who posted it when that was a person."""
    gateway = gateway_of(request)
    operation, original = await _addressed(gateway, body, method, caller)
    operation.args = args
    operation.as_user = body.as_user or (original.as_user if original else None)
    return await enqueue(
        gateway,
        caller,
        operation,
        digest=request_digest(_DIGEST_KINDS[method], body),
        idempotency_key=idempotency_key,
    )


@router.post("/update", status_code=202, summary="Update a message", responses=_QUEUED)
async def update_message(
    body: UpdateMessageRequest,
    request: Request,
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue an edit of a message: one posted through this API (``message_id``, even before it
    reached Slack) or any by ``workspace``, ``channel`` and ``ts``."""
    args = _content(body, "text", "blocks", "attachments", "metadata")
    return await _queue_change(request, caller, body, "chat.update", args, idempotency_key)


@router.post("/delete", status_code=202, summary="Delete a message", responses=_QUEUED)
async def delete_message(
    body: DeleteMessageRequest,
    request: Request,
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue the deletion of a message (addressed like an update)."""
    return await _queue_change(request, caller, body, "chat.delete", {}, idempotency_key)


@router.post("/ephemeral", status_code=202, summary="Post an ephemeral message", responses=_QUEUED)
async def post_ephemeral(
    body: EphemeralRequest,
    request: Request,
    caller: WriteCaller,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    """Queue a message only ``user`` sees in ``channel`` (not kept in history)."""
    gateway = gateway_of(request)
    args = _content(body, "user", "text", "blocks", "attachments", "thread_ts")
    args.update(_persona_args(body.persona))
    operation = Operation(
        method="chat.postEphemeral",
        team_id=body.workspace,
        app_id=body.app_id,
        lane_key=outbox_lane(body.workspace, body.channel, body.thread_ts),
        channel=body.channel,
        thread_ts=body.thread_ts,
        args=args,
    )
    return await enqueue(
        gateway,
        caller,
        operation,
        digest=request_digest("messages.ephemeral", body),
        idempotency_key=idempotency_key,
    )


@router.post(
    "/permalink",
    summary="Get a message's permalink",
    responses=error_responses(
        "workspace_forbidden",
        "workspace_not_found",
        "message_not_found",
        "message_not_sent",
        "rate_limited",
        "slack_error",
        "slack_unavailable",
        "workspace_disconnected",
    ),
)
async def permalink(body: PermalinkRequest, request: Request, caller: ReadCaller) -> Permalink:
    """Ask Slack for a message's permalink (answered now, not queued)."""
    gateway = gateway_of(request)
    if body.message_id is not None:
        original = await _original(gateway, body.message_id, body.workspace, caller)
        team_id, app_id = original.team_id, original.payload.get("app_id")
        channel, ts = _sent_target(original)
    else:
        assert body.workspace and body.channel and body.ts
        team_id, app_id, channel, ts = body.workspace, body.app_id, body.channel, body.ts
    outcome = await call_slack(
        gateway,
        team_id,
        "chat.getPermalink",
        {"channel": channel, "message_ts": ts},
        caller=caller,
        app_id=app_id,
        form=True,
    )
    if outcome.disposition != "done":
        if outcome.code in ("message_not_found", "channel_not_found"):
            raise ApiError("message_not_found", f"Slack has no message {ts} in {channel}")
        raise slack_refusal(outcome, "chat.getPermalink")
    return Permalink(permalink=str(outcome.data.get("permalink")), channel=channel, ts=ts)


@router.get(
    "/{message_id}",
    summary="Get an operation's status",
    responses=error_responses("message_not_found"),
)
async def get_message(
    message_id: Annotated[MessageId, Path(description="the id from the 202 answer")],
    request: Request,
    caller: ReadCaller,
) -> OperationStatus:
    """Where a queued operation stands: ``queued``, ``sending``, ``sent`` (with the Slack
    ``ts``) or ``failed`` (with the error). A key sees the operations it queued (an ``admin``
    key: every operation in its workspaces); any other id answers 404."""
    row = await referenced(gateway_of(request), message_id, None, caller=caller)
    return operation_status(row)
