"""``/conversations/{key}/messages``: the product's messages in a conversation (docs/bridge.md).

A message is posted under the product's own id (idempotent within the conversation: the same id
and body again answers the first, a different body is 409 ``idempotency_conflict``), as a
persona or as a Slack user's name and avatar, with text, blocks and files. It is stored together
with its outbox operations (the post, one upload per file), all in the conversation's lane.
Edits, deletions and reactions name the message by the product's id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from slackbridge.api.auth import Caller, ReadCaller, WriteCaller
from slackbridge.api.common import call_slack, locate, request_digest
from slackbridge.api.conversations import bridge_store, find_conversation, place_of
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas_bridge import (
    BridgeMessage,
    ConversationKey,
    EditMessageRequest,
    PostBridgeMessage,
    ProductMessageId,
    ReactionName,
    ReactionRequest,
)
from slackbridge.api.users import cached_user
from slackbridge.bridge.identity import AuthorNotFound, resolve_author
from slackbridge.bridge.operations import delete_op, edit_op, post_ops, reaction_op
from slackbridge.bridge.settle import settle_message
from slackbridge.runtime import Gateway, gateway_of
from slackbridge.store.repositories.bridge_conversations import Conversation
from slackbridge.store.repositories.bridge_messages import (
    BridgeMessage as StoredMessage,
)
from slackbridge.store.repositories.bridge_messages import NewProductMessage, PostOperations
from slackbridge.store.repositories.outbox import NewOutboxMessage
from slackbridge.store.repositories.users import CachedUser, UsersRepository

__all__ = ["message_view", "router"]

router = APIRouter(prefix="/conversations/{key}/messages", tags=["conversations"])

KeyPath = Annotated[ConversationKey, Path(description="the product's own id of the conversation")]
IdPath = Annotated[ProductMessageId, Path(description="the product's own id of the message")]
_NOT_FOUND = frozenset({"user_not_found", "users_not_found"})
_QUEUED = error_responses(
    "conversation_not_found",
    "conversation_closed",
    "conversation_failed",
    "message_not_found",
    "idempotency_conflict",
    "rate_limited",
    "slack_error",
    "slack_unavailable",
    "workspace_disconnected",
    "workspace_uninstalled",
)


def message_view(key: str, message: StoredMessage) -> BridgeMessage:
    return BridgeMessage(
        id=message.product_message_id or "",
        conversation=key,
        state=message.state,
        ts=message.ts,
        operation_id=message.last_operation_id or message.operation_id,
        error=message.error,
        deleted=message.deleted_at is not None,
    )


class _SlackLookups:
    """The identity port, through the API's rate-limited calls; users land in the user cache."""

    def __init__(self, gateway: Gateway, caller: Caller, app_id: str | None) -> None:
        self.gateway = gateway
        self.caller = caller
        self.app_id = app_id

    async def _ask(self, team_id: str, method: str, args: Mapping[str, str]) -> CachedUser | None:
        outcome = await call_slack(
            self.gateway, team_id, method, args, caller=self.caller, app_id=self.app_id, form=True
        )
        if outcome.disposition != "done":
            if outcome.code in _NOT_FOUND:
                return None
            raise ApiError("slack_error", f"Slack refused {method}: {outcome.code}")
        raw = outcome.data.get("user")
        if not isinstance(raw, Mapping) or not raw.get("id"):
            return None
        users = UsersRepository(self.gateway.db, self.gateway.keyring)
        await users.put(cached_user(team_id, raw))
        return await users.get(team_id, str(raw["id"]))

    async def user(self, team_id: str, user_id: str) -> CachedUser | None:
        return await self._ask(team_id, "users.info", {"user": user_id})

    async def by_email(self, team_id: str, email: str) -> CachedUser | None:
        return await self._ask(team_id, "users.lookupByEmail", {"email": email})


def _writable(conversation: Conversation) -> None:
    if conversation.state == "closed":
        raise ApiError("conversation_closed", f"{conversation.key!r} is closed; reopen it first")
    if conversation.state == "failed":
        raise ApiError(
            "conversation_failed",
            f"{conversation.key!r} could not be created in Slack ({conversation.error})",
        )


def _same_request(message: StoredMessage, digest: str) -> None:
    if message.request_digest != digest:
        raise ApiError(
            "idempotency_conflict",
            f"message id {message.product_message_id!r} was used for a different message",
        )


@router.post("", status_code=202, summary="Post a message", responses=_QUEUED)
async def post_message(
    key: KeyPath, body: PostBridgeMessage, request: Request, caller: WriteCaller
) -> BridgeMessage:
    """Queue the product's message for the conversation (a reply in the card's thread, or a
    message in the noisy channel), as its author; files are uploaded after the text."""
    gateway = gateway_of(request)
    store = bridge_store(gateway)
    conversation = await find_conversation(gateway, key, caller)
    digest = request_digest("conversations.message", body)
    existing = await store.bridge_messages.get(conversation.id, body.id)
    if existing is not None:
        _same_request(existing, digest)
        return message_view(key, await settle_message(store, existing))
    _writable(conversation)
    _app, inst = await locate(gateway, conversation.team_id, conversation.app_id, caller=caller)
    try:
        author = await resolve_author(
            store,
            conversation.team_id,
            body.author.model_dump(exclude_none=True),
            _SlackLookups(gateway, caller, conversation.app_id),
            max_age=timedelta(seconds=float(gateway.settings.user_cache_ttl)),
        )
    except AuthorNotFound as exc:
        raise ApiError("author_not_found", str(exc)) from None
    place = place_of(conversation, inst.id)
    files: list[dict[str, Any]] = [f.model_dump() for f in body.files or []]

    def operations() -> PostOperations:
        post, uploads = post_ops(
            place,
            product_message_id=body.id,
            text=body.text,
            blocks=body.blocks,
            persona=author.args,
            broadcast=body.broadcast,
            files=files,
            digest=digest,
        )
        return PostOperations(post=post, files=uploads)

    stored = await store.bridge_messages.add_product_message(
        NewProductMessage(
            conversation_id=conversation.id,
            product_message_id=body.id,
            author=author.record,
            request_digest=digest,
        ),
        operations,
    )
    if not stored.created:
        _same_request(stored.message, digest)
    else:
        gateway.wakeups.signal("outbox")
        await store.conversations.touch(conversation.id)
    return message_view(key, stored.message)


async def _message(
    gateway: Gateway, key: str, message_id: str, caller: Caller
) -> tuple[Conversation, StoredMessage]:
    conversation = await find_conversation(gateway, key, caller)
    store = bridge_store(gateway)
    found = await store.bridge_messages.get(conversation.id, message_id)
    if found is None:
        raise ApiError("message_not_found", f"no message {message_id!r} in {key!r}")
    return conversation, await settle_message(store, found)


@router.get(
    "/{message_id}",
    summary="Get a message",
    responses=error_responses("conversation_not_found", "message_not_found"),
)
async def get_message(
    key: KeyPath, message_id: IdPath, request: Request, caller: ReadCaller
) -> BridgeMessage:
    """Where the message stands: ``queued``, ``sent`` (with its Slack ts) or ``failed``."""
    _conversation, message = await _message(gateway_of(request), key, message_id, caller)
    return message_view(key, message)


async def _queue_on(
    gateway: Gateway,
    caller: Caller,
    conversation: Conversation,
    message: StoredMessage,
    op: NewOutboxMessage,
    *,
    before: Sequence[NewOutboxMessage] = (),
    **values: Any,
) -> BridgeMessage:
    store = bridge_store(gateway)
    ops = [*before, op]
    updated, _rows = await store.bridge_messages.add_operations(message.id, ops, **values)
    gateway.wakeups.signal("outbox")
    return message_view(conversation.key, updated)


async def _changeable(
    gateway: Gateway, key: str, message_id: str, caller: Caller
) -> tuple[Conversation, StoredMessage, int]:
    conversation, message = await _message(gateway, key, message_id, caller)
    if conversation.state == "failed":
        _writable(conversation)
    if message.origin != "product" or message.operation_id is None:
        raise ApiError("message_not_found", f"{message_id!r} was not posted by the product")
    if message.deleted_at is not None:
        raise ApiError("message_deleted", f"{message_id!r} was deleted")
    if message.state == "failed":
        raise ApiError("message_not_sent", f"{message_id!r} failed; it never reached Slack")
    _app, inst = await locate(gateway, conversation.team_id, conversation.app_id, caller=caller)
    return conversation, message, inst.id


_CHANGE_ERRORS = error_responses(
    "conversation_not_found",
    "message_not_found",
    "message_deleted",
    "message_not_sent",
    "workspace_disconnected",
    "workspace_uninstalled",
)


@router.patch("/{message_id}", status_code=202, summary="Edit a message", responses=_CHANGE_ERRORS)
async def edit_message(
    key: KeyPath,
    message_id: IdPath,
    body: EditMessageRequest,
    request: Request,
    caller: WriteCaller,
) -> BridgeMessage:
    """Queue an edit of the message's text or blocks in Slack."""
    gateway = gateway_of(request)
    conversation, message, installation_id = await _changeable(gateway, key, message_id, caller)
    assert message.operation_id is not None
    if message.file_operation_ids and message.operation_id in message.file_operation_ids:
        raise ApiError("invalid_request", f"{message_id!r} is files only; it has no text to edit")
    op = edit_op(
        place_of(conversation, installation_id),
        message.operation_id,
        body.text,
        body.blocks,
        message_id,
    )
    return await _queue_on(gateway, caller, conversation, message, op)


@router.delete(
    "/{message_id}", status_code=202, summary="Delete a message", responses=_CHANGE_ERRORS
)
async def delete_message(
    key: KeyPath, message_id: IdPath, request: Request, caller: WriteCaller
) -> BridgeMessage:
    """Queue the message's deletion in Slack (deleting it again changes nothing)."""
    gateway = gateway_of(request)
    conversation, message = await _message(gateway, key, message_id, caller)
    if message.deleted_at is not None:
        return message_view(key, message)
    try:
        conversation, message, installation_id = await _changeable(gateway, key, message_id, caller)
    except ApiError as exc:
        if exc.code != "message_deleted":
            raise
        # A concurrent request deleted it between the two reads: the same answer as above.
        _conversation, message = await _message(gateway, key, message_id, caller)
        return message_view(key, message)
    assert message.operation_id is not None
    place = place_of(conversation, installation_id)
    # The files' shares go too (each upload is a message of its own in Slack).
    shares = [
        delete_op(place, op_id)
        for op_id in message.file_operation_ids
        if op_id != message.operation_id
    ]
    op = delete_op(place, message.operation_id)
    store = bridge_store(gateway)
    return await _queue_on(
        gateway, caller, conversation, message, op, before=shares, deleted_at=store.clock()
    )


@router.post(
    "/{message_id}/reactions",
    status_code=202,
    summary="Add a reaction",
    responses=_CHANGE_ERRORS,
)
async def add_reaction(
    key: KeyPath,
    message_id: IdPath,
    body: ReactionRequest,
    request: Request,
    caller: WriteCaller,
) -> BridgeMessage:
    """Queue a reaction (as the app's bot) on the message."""
    gateway = gateway_of(request)
    conversation, message, installation_id = await _changeable(gateway, key, message_id, caller)
    assert message.operation_id is not None
    op = reaction_op(
        place_of(conversation, installation_id), message.operation_id, body.name, add=True
    )
    return await _queue_on(gateway, caller, conversation, message, op)


@router.delete(
    "/{message_id}/reactions/{name}",
    status_code=202,
    summary="Remove a reaction",
    responses=_CHANGE_ERRORS,
)
async def remove_reaction(
    key: KeyPath,
    message_id: IdPath,
    name: Annotated[ReactionName, Path(description="the emoji name")],
    request: Request,
    caller: WriteCaller,
) -> BridgeMessage:
    """Queue the removal of the app's reaction from the message."""
    gateway = gateway_of(request)
    conversation, message, installation_id = await _changeable(gateway, key, message_id, caller)
    assert message.operation_id is not None
    op = reaction_op(place_of(conversation, installation_id), message.operation_id, name, add=False)
    return await _queue_on(gateway, caller, conversation, message, op)
