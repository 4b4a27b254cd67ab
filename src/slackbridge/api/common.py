"""What the API's routes share: finding the workspace, idempotent enqueueing into the outbox,
operation status, and synchronous rate-limited calls to Slack.

Enqueueing: an operation becomes an outbox row before the 202 answer. With an
``Idempotency-Key`` header the row is stored under (caller's scope, key) together with a digest of
the request; the same key again returns the first row (``replayed: true``) when the request is
the same, and 409 ``idempotency_conflict`` when it differs. Keys live as long as their rows.

Every helper that finds a workspace or an operation takes the caller and checks its key's scope
first (:mod:`slackbridge.api.scope`), so no route can forget to.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Header
from pydantic import BaseModel

from slackbridge.api.auth import Caller
from slackbridge.api.errors import ApiError
from slackbridge.api.schemas import Accepted, ErrorBody, OperationStatus
from slackbridge.api.scope import may_see, require_workspace
from slackbridge.runtime import Gateway
from slackbridge.slack.outbound.outcomes import Outcome, error_message
from slackbridge.slack.outbound.web_api import outbound_of
from slackbridge.slack.workspaces.apps import SlackApp
from slackbridge.slack.workspaces.tokens import (
    TokenRefreshError,
    WorkspaceUnavailable,
    bot_token,
    find_installation,
    report_token_error,
    user_token,
)
from slackbridge.store.repositories.installations import Installation
from slackbridge.store.repositories.outbox import (
    NewOutboxMessage,
    OutboxMessage,
    OutboxRepository,
)

__all__ = [
    "IdempotencyKey",
    "Operation",
    "call_slack",
    "enqueue",
    "locate",
    "operation_status",
    "outbox",
    "referenced",
    "request_digest",
    "slack_refusal",
]

_log = logging.getLogger("slackbridge.api")

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="a unique key per logical request (a UUID, say): a retry with the same key "
        "and body returns the first answer instead of sending twice",
    ),
]

_UNAVAILABLE = {
    "disconnected": "workspace_disconnected",
    "uninstalled": "workspace_uninstalled",
    "removed": "workspace_removed",
}


def outbox(gateway: Gateway) -> OutboxRepository:
    return OutboxRepository(gateway.db, gateway.keyring)


def _unavailable(team_id: str, status: str) -> ApiError:
    if status == "not_installed":
        return ApiError("workspace_not_found", f"slackbridge has no installation for {team_id}")
    code = _UNAVAILABLE.get(status, "workspace_disconnected")
    return ApiError(code, f"workspace {team_id} is {status}: {error_message(code)}")


async def locate(
    gateway: Gateway,
    team_id: str,
    app_id: str | None = None,
    *,
    caller: Caller,
    active: bool = True,
) -> tuple[SlackApp, Installation]:
    """The installation for ``team_id`` (403 when out of ``caller``'s scope; 404 when none;
    503 when not active and ``active``)."""
    await require_workspace(gateway, caller, team_id)
    found = await find_installation(gateway, team_id, app_id=app_id)
    if found is None:
        raise _unavailable(team_id, "not_installed")
    app, inst = found
    if active and not inst.is_active:
        raise _unavailable(team_id, inst.status)
    return app, inst


def request_digest(kind: str, body: BaseModel | Mapping[str, Any]) -> str:
    """A digest of a request (its kind and canonical JSON body), to compare idempotent retries."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else dict(body)
    # The stdlib encoder, not orjson: bodies may hold integers beyond 64 bits (inside blocks).
    raw = json.dumps({"kind": kind, "body": data}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def operation_status(row: OutboxMessage) -> OperationStatus:
    """The public view of an outbox row."""
    result = dict(row.result or {})
    error = None
    if row.status == "failed":
        raw = result.get("error")
        stored: dict[str, Any] = raw if isinstance(raw, dict) else {}
        code = str(stored.get("code") or row.last_error or "unknown_error")
        error = ErrorBody(code=code, message=str(stored.get("message") or error_message(code)))
    elif row.last_error and row.status in ("queued", "sending"):
        # The last attempt failed and another is coming: say why it is taking long.
        error = ErrorBody(code=row.last_error, message=error_message(row.last_error))
    public = {k: v for k, v in result.items() if k not in ("error", "stage", "upload_url")}
    return OperationStatus(
        id=row.message_id,
        operation=row.method,
        workspace=row.team_id,
        channel=result.get("channel") or row.payload.get("channel"),
        thread_ts=result.get("thread_ts") or row.payload.get("thread_ts"),
        status=row.status,
        ts=result.get("ts") if row.status == "sent" else None,
        error=error,
        attempts=row.attempts,
        created_at=row.created_at,
        sent_at=row.sent_at,
        result=public if row.status != "failed" else {"slack": result.get("slack") or {}},
    )


def _accepted(row: OutboxMessage, replayed: bool) -> Accepted:
    return Accepted(**operation_status(row).model_dump(), replayed=replayed)


async def referenced(
    gateway: Gateway, message_id: str, team_id: str | None, *, caller: Caller
) -> OutboxMessage:
    """The row ``message_id`` names (404 when unknown, in another workspace, or not for
    ``caller`` to see)."""
    row = await outbox(gateway).get(message_id)
    if (
        row is None
        or (team_id is not None and row.team_id != team_id)
        or not await may_see(gateway, caller, row)
    ):
        raise ApiError("message_not_found", f"no message {message_id}")
    return row


class Operation(BaseModel):
    """What to put in the outbox for one request."""

    method: str
    team_id: str
    app_id: str | None = None
    lane_key: str | None = None
    as_user: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    ref: str | None = None
    args: dict[str, Any] = {}
    extra: dict[str, Any] = {}


async def enqueue(
    gateway: Gateway,
    caller: Caller,
    operation: Operation,
    *,
    digest: str,
    idempotency_key: str | None,
) -> Accepted:
    """Store ``operation`` (idempotently) and wake the sender; the body of the 202 answer."""
    repo = outbox(gateway)
    if idempotency_key is not None:
        earlier = await repo.get_by_idempotency_key(caller.scope, idempotency_key)
        if earlier is not None:
            return _replay(earlier, digest)
    _app, inst = await locate(gateway, operation.team_id, operation.app_id, caller=caller)
    if operation.as_user is not None:
        await _require_user_token(gateway, operation)
    payload: dict[str, Any] = {
        "args": operation.args,
        "channel": operation.channel,
        "thread_ts": operation.thread_ts,
        "ref": operation.ref,
        "app_id": operation.app_id,
        "request_digest": digest,
        **operation.extra,
    }
    stored = await repo.enqueue(
        NewOutboxMessage(
            team_id=operation.team_id,
            method=operation.method,
            payload=payload,
            installation_id=inst.id,
            lane_key=operation.lane_key,
            as_user=operation.as_user,
            idempotency_scope=caller.scope if idempotency_key else None,
            idempotency_key=idempotency_key,
            created_by=caller.scope,
        )
    )
    if not stored.created:
        return _replay(stored.message, digest)
    gateway.wakeups.signal("outbox")
    return _accepted(stored.message, replayed=False)


def _replay(row: OutboxMessage, digest: str) -> Accepted:
    if row.payload.get("request_digest") != digest:
        raise ApiError(
            "idempotency_conflict",
            "this Idempotency-Key was used for a different request; use a new key",
        )
    return _accepted(row, replayed=True)


async def _require_user_token(gateway: Gateway, operation: Operation) -> None:
    assert operation.as_user is not None
    try:
        creds = await user_token(
            gateway, operation.team_id, operation.as_user, app_id=operation.app_id
        )
    except WorkspaceUnavailable as exc:
        raise _unavailable(operation.team_id, exc.status) from None
    except TokenRefreshError:
        raise ApiError("slack_unavailable", "refreshing the user's token failed") from None
    if creds is None:
        raise ApiError(
            "user_token_missing",
            f"{operation.as_user} has not granted the app a user token in "
            f"{operation.team_id} (they install the app with user scopes)",
        )


async def call_slack(
    gateway: Gateway,
    team_id: str,
    method: str,
    args: Mapping[str, Any],
    *,
    caller: Caller,
    app_id: str | None = None,
    as_user: str | None = None,
    channel: str | None = None,
    max_wait: float = 5.0,
    form: bool = False,
) -> Outcome:
    """Call Slack now (within the shared rate limits) with the workspace's token.

    Returns the outcome when Slack answered (``done`` or ``fail``). Raises :class:`ApiError` for
    everything the caller can't act on: unknown or unavailable workspace, missing user token,
    token death (503, the workspace is marked disconnected), a rate limit longer than
    ``max_wait`` (429 with Retry-After) and transient failures (503), and a workspace outside
    ``caller``'s scope (403).
    """
    await require_workspace(gateway, caller, team_id)
    try:
        if as_user is not None:
            user = await user_token(gateway, team_id, as_user, app_id=app_id)
            if user is None:
                raise ApiError("user_token_missing", f"{as_user} has not granted a user token")
            token, used_app = user.token, user.app_id
        else:
            creds = await bot_token(gateway, team_id, app_id=app_id)
            token, used_app = creds.token, creds.app_id
    except WorkspaceUnavailable as exc:
        raise _unavailable(team_id, exc.status) from None
    except TokenRefreshError:
        raise ApiError("slack_unavailable", "refreshing the workspace's token failed") from None
    outbound = outbound_of(gateway)
    client = outbound.client(gateway, token)
    outcome = await outbound.call(
        client, team_id, method, args, channel=channel, max_wait=max_wait, form=form
    )
    if outcome.disposition == "ratelimited":
        wait = max(1, round(outcome.retry_after + 0.49))
        raise ApiError(
            "rate_limited",
            f"Slack's rate limit for {method} in {team_id} is used up; retry in {wait}s",
            headers={"Retry-After": str(wait)},
        )
    if outcome.disposition == "retry":
        raise ApiError("slack_unavailable", f"calling {method} failed ({outcome.code}); try again")
    if outcome.disposition == "token":
        code = outcome.code or "invalid_auth"
        if as_user is None and await report_token_error(gateway, team_id, used_app, code):
            raise ApiError("workspace_disconnected", f"Slack answered {code}; reinstall the app")
        return Outcome.failed(code, outcome.data)
    if outcome.disposition == "join":
        return Outcome.failed("not_in_channel", outcome.data)
    return outcome


def slack_refusal(outcome: Outcome, method: str) -> ApiError:
    """The API error for a call Slack refused (422 ``slack_error`` with Slack's code)."""
    code = outcome.code or "unknown_error"
    detail: dict[str, Any] = {"slack_error": code}
    for key in ("needed", "provided"):
        if key in outcome.data:
            detail[key] = outcome.data[key]
    return ApiError("slack_error", f"Slack refused {method}: {code}", details=[detail])
