"""``/conversations``: the conversation bridge's conversations (docs/bridge.md).

``PUT /conversations/{key}`` creates a conversation under the product's own key, or answers the
existing one: one row per key, created together with the outbox operations that make its place in
Slack (the card's post in still mode, ``conversations.create`` and invites in noisy mode), so any
number of concurrent creates make exactly one thread or channel. The answer says ``creating``
until Slack has answered, then ``open`` with the channel and thread (see ``bridge/settle.py``).
``close`` and ``reopen`` queue their Slack side in the conversation's lane. Messages are in
``conversation_messages.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.exc import IntegrityError

from slackbridge.api.auth import Caller, ReadCaller, WriteCaller
from slackbridge.api.common import call_slack, locate
from slackbridge.api.errors import ApiError, error_responses
from slackbridge.api.schemas import TeamId
from slackbridge.api.schemas_bridge import (
    CloseRequest,
    Conversation,
    ConversationKey,
    ConversationList,
    ConversationPut,
    ReopenRequest,
)
from slackbridge.api.scope import may_touch, require_workspace
from slackbridge.bridge.closing import place_of
from slackbridge.bridge.inbound import unadopted
from slackbridge.bridge.naming import (
    DEFAULT_TEMPLATE,
    NameTemplateError,
    candidate_names,
    check_template,
)
from slackbridge.bridge.operations import (
    Place,
    card_op,
    close_ops,
    create_channel_ops,
    reopen_ops,
)
from slackbridge.bridge.settle import settle_conversation
from slackbridge.bridge.states import CLOSABLE
from slackbridge.operations.workspaces import visible_teams
from slackbridge.runtime import Gateway, gateway_of
from slackbridge.slack.workspaces.lifecycle import installations_repo
from slackbridge.slack.workspaces.tokens import TokenRefreshError, WorkspaceUnavailable, user_token
from slackbridge.store.repositories.bridge_conversations import (
    Conversation as StoredConversation,
)
from slackbridge.store.repositories.bridge_conversations import NewConversation
from slackbridge.store.repositories.outbox import NewOutboxMessage
from slackbridge.store.store import Store

__all__ = ["bridge_store", "conversation_view", "find_conversation", "place_of", "router"]

router = APIRouter(prefix="/conversations", tags=["conversations"])

KeyPath = Annotated[ConversationKey, Path(description="the product's own id of the conversation")]
_NAMES_TRIED = 10
_WRITE_ERRORS = error_responses(
    "workspace_forbidden",
    "workspace_not_found",
    "conversation_not_found",
    "conversation_conflict",
    "workspace_disconnected",
    "workspace_uninstalled",
)


def bridge_store(gateway: Gateway) -> Store:
    return Store(gateway.db, gateway.keyring)


def conversation_view(conversation: StoredConversation) -> Conversation:
    return Conversation(
        key=conversation.key,
        workspace=conversation.team_id,
        mode=conversation.mode,
        state=conversation.state,
        channel=conversation.channel_id,
        thread_ts=conversation.thread_ts,
        permalink=conversation.permalink,
        title=conversation.title,
        metadata=conversation.metadata,
        created_at=conversation.created_at,
        closed_at=conversation.closed_at,
        error=conversation.error,
    )


async def find_conversation(gateway: Gateway, key: str, caller: Caller) -> StoredConversation:
    """The conversation (settled with the outbox), or 404 when unknown or outside the key's
    workspaces."""
    store = bridge_store(gateway)
    found = await store.conversations.get(key)
    if found is None or not await may_touch(gateway, caller, found.team_id):
        raise ApiError("conversation_not_found", f"no conversation {key!r}")
    return await settle_conversation(store, found)


async def _with_permalink(
    gateway: Gateway, conversation: StoredConversation, caller: Caller
) -> StoredConversation:
    """Ask Slack once for the conversation's permalink (best effort: None until it answers)."""
    if conversation.permalink or conversation.channel_id is None:
        return conversation
    if conversation.mode == "noisy":
        link = (
            f"{gateway.settings.slack_url.rstrip('/')}/app_redirect"
            f"?team={conversation.team_id}&channel={conversation.channel_id}"
        )
    else:
        if conversation.thread_ts is None:
            return conversation
        try:
            outcome = await call_slack(
                gateway,
                conversation.team_id,
                "chat.getPermalink",
                {"channel": conversation.channel_id, "message_ts": conversation.thread_ts},
                caller=caller,
                app_id=conversation.app_id,
                max_wait=0.5,
                form=True,
            )
        except ApiError:
            return conversation
        if outcome.disposition != "done" or not outcome.data.get("permalink"):
            return conversation
        link = str(outcome.data["permalink"])
    updated = await bridge_store(gateway).conversations.update(conversation.id, permalink=link)
    return updated or conversation


async def _unarchiver(
    gateway: Gateway, conversation: StoredConversation, installer: str | None
) -> str | None:
    """Who unarchives a noisy channel: Slack takes no bot token for it, so the installing
    person's user token when they granted the scope it needs (``channels:write``, or
    ``groups:write`` for a private channel); else the bot tries, and Slack may refuse."""
    if conversation.mode != "noisy" or installer is None:
        return None
    try:
        creds = await user_token(
            gateway, conversation.team_id, installer, app_id=conversation.app_id
        )
    except (WorkspaceUnavailable, TokenRefreshError):
        return None
    needed = "groups:write" if conversation.spec.get("private") else "channels:write"
    return installer if creds is not None and needed in creds.scopes else None


async def _conflict(
    gateway: Gateway, caller: Caller, existing: StoredConversation, body: ConversationPut
) -> None:
    """409 when ``body`` asks for something else than the conversation that exists; when it
    lives in a workspace outside the caller's key, without saying which (or anything of it)."""
    if not await may_touch(gateway, caller, existing.team_id):
        raise ApiError(
            "conversation_conflict",
            f"conversation {existing.key!r} exists outside this API key's workspaces",
        )
    differences = []
    if existing.team_id != body.workspace:
        differences.append(f"workspace {existing.team_id}")
    if existing.mode != body.mode:
        differences.append(f"mode {existing.mode}")
    wanted_channel = body.adopt.channel if body.adopt else body.channel
    if body.mode == "still" and wanted_channel and existing.channel_id != wanted_channel:
        differences.append(f"channel {existing.channel_id}")
    if differences:
        raise ApiError(
            "conversation_conflict",
            f"conversation {existing.key!r} exists with {', '.join(differences)}",
        )


def _new_conversation(key: str, body: ConversationPut, caller: Caller) -> NewConversation:
    spec: dict[str, object] = {}
    if body.card is not None:
        spec["card"] = body.card.model_dump(mode="json")
    if body.mode == "noisy" and body.adopt is None:
        spec["channel_name"] = body.channel_name or DEFAULT_TEMPLATE
        spec["invite"] = list(body.invite or [])
        spec["private"] = body.private
    if body.adopt is not None:
        spec["adopted"] = True
    adopted = body.adopt is not None
    return NewConversation(
        key=key,
        team_id=body.workspace,
        mode=body.mode,
        state="open" if adopted else "creating",
        channel_id=body.adopt.channel if body.adopt else body.channel,
        thread_ts=body.adopt.thread_ts if body.adopt and body.mode == "still" else None,
        title=body.title,
        metadata=body.metadata,
        spec=spec,
        created_by=caller.scope,
    )


@router.put(
    "/{key}",
    summary="Create or get a conversation",
    responses={**_WRITE_ERRORS, 201: {"model": Conversation, "description": "created"}},
)
async def put_conversation(
    key: KeyPath, body: ConversationPut, request: Request, response: Response, caller: WriteCaller
) -> Conversation:
    """Create the conversation with the product's key (201), or answer the existing one (200)
    when the same workspace, mode and channel are asked for (409 ``conversation_conflict``
    otherwise). Its Slack place is made through the outbox: ``state`` is ``creating`` until
    Slack has answered, then ``open`` with ``channel`` and (still) ``thread_ts``."""
    gateway = gateway_of(request)
    store = bridge_store(gateway)
    await require_workspace(gateway, caller, body.workspace)
    existing = await store.conversations.get(key)
    if existing is not None:
        await _conflict(gateway, caller, existing, body)
        return await _answer(gateway, existing, caller)
    if body.adopt is not None:
        adopted = await _adopt_opened(store, key, body, caller)
        if adopted is not None:
            response.status_code = 201
            return await _answer(gateway, adopted, caller)
    template = body.channel_name or DEFAULT_TEMPLATE
    try:
        check_template(template)
    except NameTemplateError as exc:
        raise ApiError("invalid_request", str(exc)) from None
    if body.adopt is not None and body.mode == "noisy":
        # A noisy conversation is its whole channel: it can't share it with another one.
        taken = await store.conversations.any_in_channel(body.workspace, body.adopt.channel)
        if taken is not None:
            raise ApiError(
                "conversation_conflict",
                f"another conversation already lives in channel {body.adopt.channel}",
            )
    app, inst = await locate(gateway, body.workspace, caller=caller)
    new = replace(_new_conversation(key, body, caller), app_id=app.app_id)

    def operations(conversation_id: int) -> list[NewOutboxMessage]:
        if body.adopt is not None:
            return []
        place = Place(
            team_id=body.workspace,
            conversation_id=conversation_id,
            key=key,
            mode=body.mode,
            channel=body.channel if body.mode == "still" else None,
            create_operation_id=None,
            installation_id=inst.id,
            app_id=app.app_id,
            created_by=caller.scope,
        )
        if body.mode == "still":
            assert body.card is not None
            return [card_op(place, body.card.text, body.card.blocks)]
        names = candidate_names(template, key, start=conversation_id, count=_NAMES_TRIED)
        return create_channel_ops(place, names, body.invite or [], private=body.private)

    try:
        created = await store.conversations.create(new, operations)
    except IntegrityError:
        raise ApiError(
            "conversation_conflict",
            "another conversation already lives in that channel or thread",
        ) from None
    if not created.created:
        await _conflict(gateway, caller, created.conversation, body)
        return await _answer(gateway, created.conversation, caller)
    if created.operations:
        gateway.wakeups.signal("outbox")
    response.status_code = 201
    return conversation_view(created.conversation)


async def _adopt_opened(
    store: Store, key: str, body: ConversationPut, caller: Caller
) -> StoredConversation | None:
    """Adopting a conversation Slack opened (``conversation.opened``) gives its stored row the
    product's key; None when there is no such row (the adopt creates one)."""
    assert body.adopt is not None
    thread_ts = body.adopt.thread_ts if body.mode == "still" else None
    opened = await store.conversations.by_place(body.workspace, body.adopt.channel, thread_ts)
    if opened is not None and opened.key == key:
        return opened  # adopted under this key by a concurrent PUT
    if opened is None or not unadopted(opened) or opened.mode != body.mode:
        return None
    spec = {**(opened.spec or {}), "adopted": True}
    try:
        renamed = await store.conversations.update(
            opened.id,
            expect_key=opened.key,
            key=key,
            created_by=caller.scope,
            title=body.title,
            metadata=body.metadata,
            spec=spec,
        )
    except IntegrityError:
        raise ApiError("conversation_conflict", f"conversation {key!r} exists") from None
    if renamed is None:
        current = await store.conversations.by_place(body.workspace, body.adopt.channel, thread_ts)
        if current is not None and current.key == key:
            return current
        raise ApiError("conversation_conflict", "another key adopted that conversation meanwhile")
    return renamed


async def _answer(
    gateway: Gateway, conversation: StoredConversation, caller: Caller
) -> Conversation:
    settled = await settle_conversation(bridge_store(gateway), conversation)
    return conversation_view(await _with_permalink(gateway, settled, caller))


@router.get(
    "/{key}",
    summary="Get a conversation",
    responses=error_responses("conversation_not_found"),
)
async def get_conversation(key: KeyPath, request: Request, caller: ReadCaller) -> Conversation:
    """The conversation, where it lives in Slack and its state."""
    gateway = gateway_of(request)
    conversation = await find_conversation(gateway, key, caller)
    return conversation_view(await _with_permalink(gateway, conversation, caller))


@router.get("", summary="List conversations", responses=error_responses("workspace_forbidden"))
async def list_conversations(
    request: Request,
    caller: ReadCaller,
    workspace: Annotated[TeamId | None, Query(description="only this workspace")] = None,
    state: Annotated[
        str | None, Query(pattern="^(creating|open|closed|failed)$", description="only this state")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> ConversationList:
    """Conversations oldest first, ``limit`` at a time; pass ``next_cursor`` back as
    ``cursor`` for the next page."""
    gateway = gateway_of(request)
    team_ids = None
    if workspace is not None:
        await require_workspace(gateway, caller, workspace)
    elif not caller.access.everywhere:
        team_ids = sorted(visible_teams(caller.access, await installations_repo(gateway).list()))
    store = bridge_store(gateway)
    rows = await store.conversations.list(
        team_id=workspace,
        team_ids=team_ids,
        state=state,
        after_id=int(cursor) if cursor else None,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    settled = [await settle_conversation(store, c) for c in rows]
    return ConversationList(
        conversations=[conversation_view(c) for c in settled],
        next_cursor=str(rows[-1].id) if more else None,
    )


@router.post(
    "/{key}/close",
    summary="Close a conversation",
    responses=error_responses(
        "conversation_not_found",
        "conversation_failed",
        "workspace_disconnected",
        "workspace_uninstalled",
    ),
)
async def close_conversation(
    key: KeyPath, body: CloseRequest, request: Request, caller: WriteCaller
) -> Conversation:
    """Still: a status reaction on the card and ``message`` in the thread; noisy: ``message``
    in the channel, then the channel archived. Closing a closed conversation changes nothing."""
    gateway = gateway_of(request)
    conversation = await find_conversation(gateway, key, caller)
    if conversation.state == "closed":
        return conversation_view(conversation)
    if conversation.state == "failed":
        raise ApiError("conversation_failed", f"{key!r} was never created in Slack")
    _app, inst = await locate(gateway, conversation.team_id, conversation.app_id, caller=caller)
    store = bridge_store(gateway)
    ops = close_ops(
        place_of(conversation, inst.id),
        body.message,
        reaction=gateway.settings.bridge_closed_reaction,
    )
    moved, changed = await store.conversations.change_state(
        conversation.id,
        state="closed",
        from_states=CLOSABLE,
        operations=ops,
        closed_at=store.clock(),
    )
    if changed and ops:
        gateway.wakeups.signal("outbox")
    return conversation_view(moved or conversation)


@router.post(
    "/{key}/reopen",
    summary="Reopen a conversation",
    responses=error_responses(
        "conversation_not_found",
        "conversation_failed",
        "workspace_disconnected",
        "workspace_uninstalled",
    ),
)
async def reopen_conversation(
    key: KeyPath, body: ReopenRequest, request: Request, caller: WriteCaller
) -> Conversation:
    """Still: the status reaction taken off the card; noisy: the channel unarchived."""
    gateway = gateway_of(request)
    conversation = await find_conversation(gateway, key, caller)
    if conversation.state in ("open", "creating"):
        return conversation_view(conversation)
    if conversation.state == "failed":
        raise ApiError("conversation_failed", f"{key!r} was never created in Slack")
    _app, inst = await locate(gateway, conversation.team_id, conversation.app_id, caller=caller)
    ops = reopen_ops(
        place_of(conversation, inst.id),
        reaction=gateway.settings.bridge_closed_reaction,
        unarchive_as=await _unarchiver(gateway, conversation, inst.installer_user_id),
    )
    store = bridge_store(gateway)
    moved, changed = await store.conversations.change_state(
        conversation.id, state="open", from_states=("closed",), operations=ops, closed_at=None
    )
    if changed and ops:
        gateway.wakeups.signal("outbox")
    return conversation_view(moved or conversation)
