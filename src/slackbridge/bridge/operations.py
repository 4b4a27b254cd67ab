"""The outbox operations each bridge action makes. Pure (ids are drawn, nothing is stored).

Every operation of a conversation runs in one outbox lane, ``{team}:conv:{id}``, so Slack sees
them in the order the product asked for them, and each refers (``ref``) to the operation whose
result it needs: a reply to the card's post (its ts is the thread), a message in a noisy channel
to ``conversations.create`` (its result is the channel), an edit, deletion or reaction to the
message's post. The lane order guarantees the referred operation has settled first.

Every post carries the bridge's metadata (``event_type`` ``slackbridge_post``); the outbox adds
its operation id to it (the loop guard's key, :mod:`slackbridge.bridge.loop_guard`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from slackbridge.bridge.loop_guard import BRIDGE_EVENT_TYPE
from slackbridge.store.ids import new_id
from slackbridge.store.repositories.outbox import NewOutboxMessage

__all__ = [
    "DEFAULT_CLOSED_REACTION",
    "Place",
    "archive_ops",
    "card_op",
    "close_ops",
    "conversation_lane",
    "create_channel_ops",
    "delete_op",
    "edit_op",
    "post_ops",
    "reaction_op",
    "reopen_ops",
]

DEFAULT_CLOSED_REACTION = "white_check_mark"


def conversation_lane(team_id: str, conversation_id: int) -> str:
    """The outbox lane of every operation of one conversation."""
    return f"{team_id}:conv:{conversation_id}"


@dataclass(frozen=True)
class Place:
    """Where a conversation's operations go, and on whose behalf."""

    team_id: str
    conversation_id: int
    key: str
    mode: str
    channel: str | None  # still: the channel; noisy: None until created (taken from the ref)
    create_operation_id: str | None
    installation_id: int | None = None
    app_id: str | None = None
    created_by: str | None = None
    # still, adopted (no creating operation): the thread, known from the start.
    thread_ts: str | None = None


def _op(
    place: Place,
    method: str,
    *,
    args: Mapping[str, Any] | None = None,
    ref: str | None = None,
    message_id: str | None = None,
    digest: str = "",
    **extra: Any,
) -> NewOutboxMessage:
    payload: dict[str, Any] = {
        "args": dict(args or {}),
        "channel": place.channel,
        # Without a ref (an adopted thread) the thread is named outright.
        "thread_ts": place.thread_ts if ref is None and place.mode == "still" else None,
        "ref": ref,
        "app_id": place.app_id,
        "request_digest": digest,
        "conversation": place.key,
        **extra,
    }
    return NewOutboxMessage(
        team_id=place.team_id,
        method=method,
        payload=payload,
        installation_id=place.installation_id,
        lane_key=conversation_lane(place.team_id, place.conversation_id),
        message_id=message_id or new_id("msg"),
        created_by=place.created_by,
    )


def _metadata(place: Place, product_message_id: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"conversation": place.key}
    if product_message_id is not None:
        payload["product_message_id"] = product_message_id
    return {"event_type": BRIDGE_EVENT_TYPE, "event_payload": payload}


def _content(text: str | None, blocks: Sequence[Mapping[str, Any]] | None) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if text is not None:
        args["text"] = text
    if blocks is not None:
        args["blocks"] = [dict(b) for b in blocks]
    return args


def card_op(
    place: Place, text: str, blocks: Sequence[Mapping[str, Any]] | None
) -> NewOutboxMessage:
    """Still mode: the card, the thread's root message, in the channel's top level."""
    args = {**_content(text, blocks), "metadata": _metadata(place, None)}
    return _op(place, "chat.postMessage", args=args)


def create_channel_ops(
    place: Place, names: Sequence[str], invite: Sequence[str], *, private: bool = False
) -> list[NewOutboxMessage]:
    """Noisy mode: create the channel (the first free of ``names``), then invite ``invite``."""
    create = _op(place, "conversations.create", names=list(names), is_private=private)
    ops = [create]
    if invite:
        ops.append(
            _op(
                place,
                "conversations.invite",
                args={"users": ",".join(dict.fromkeys(invite))},
                ref=create.message_id,
            )
        )
    return ops


def post_ops(
    place: Place,
    *,
    product_message_id: str,
    text: str | None,
    blocks: Sequence[Mapping[str, Any]] | None,
    persona: Mapping[str, Any],
    broadcast: bool,
    files: Sequence[Mapping[str, Any]],
    digest: str,
) -> tuple[NewOutboxMessage | None, list[NewOutboxMessage]]:
    """A product message: its post (None for files only) and one upload per file, all in the
    conversation (a reply in the card's thread, or the noisy channel's top level)."""
    post = None
    if text is not None or blocks is not None:
        args = {
            **_content(text, blocks),
            **persona,
            "metadata": _metadata(place, product_message_id),
        }
        if broadcast and place.mode == "still":
            args["reply_broadcast"] = True
        post = _op(
            place, "chat.postMessage", args=args, ref=place.create_operation_id, digest=digest
        )
    uploads = [
        _op(
            place,
            "files.upload",
            ref=place.create_operation_id,
            digest=digest,
            file={
                "filename": f["filename"],
                "title": f.get("title"),
                "alt_text": None,
                "snippet_type": None,
                "initial_comment": None,
                "content_b64": f["content_base64"],
            },
        )
        for f in files
    ]
    return post, uploads


def edit_op(
    place: Place,
    post_operation_id: str,
    text: str | None,
    blocks: Sequence[Mapping[str, Any]] | None,
    product_message_id: str,
) -> NewOutboxMessage:
    args = {**_content(text, blocks), "metadata": _metadata(place, product_message_id)}
    return _op(place, "chat.update", args=args, ref=post_operation_id)


def delete_op(place: Place, post_operation_id: str) -> NewOutboxMessage:
    return _op(place, "chat.delete", ref=post_operation_id)


def reaction_op(place: Place, post_operation_id: str, name: str, *, add: bool) -> NewOutboxMessage:
    method = "reactions.add" if add else "reactions.remove"
    return _op(place, method, args={"name": name}, ref=post_operation_id)


def archive_ops(place: Place, *, archive: bool) -> NewOutboxMessage:
    method = "conversations.archive" if archive else "conversations.unarchive"
    return _op(place, method, ref=place.create_operation_id)


def close_ops(
    place: Place, message: str | None, *, reaction: str = DEFAULT_CLOSED_REACTION
) -> list[NewOutboxMessage]:
    """Still: the status reaction on the card, then the closing message in the thread. Noisy:
    the closing message, then the channel archived."""
    ops: list[NewOutboxMessage] = []
    closing = None
    if message:
        args = {"text": message, "metadata": _metadata(place, None)}
        closing = _op(place, "chat.postMessage", args=args, ref=place.create_operation_id)
    if place.mode == "still":
        card = _card_reaction(place, reaction, add=True)
        if card is not None:
            ops.append(card)
        if closing is not None:
            ops.append(closing)
        return ops
    if closing is not None:
        ops.append(closing)
    ops.append(archive_ops(place, archive=True))
    return ops


def reopen_ops(place: Place, *, reaction: str = DEFAULT_CLOSED_REACTION) -> list[NewOutboxMessage]:
    """Still: the status reaction taken off the card. Noisy: the channel unarchived."""
    if place.mode == "still":
        card = _card_reaction(place, reaction, add=False)
        return [] if card is None else [card]
    return [archive_ops(place, archive=False)]


def _card_reaction(place: Place, name: str, *, add: bool) -> NewOutboxMessage | None:
    """The status reaction on the card: the card's post (``ref``), or an adopted thread's root."""
    if place.create_operation_id is not None:
        return reaction_op(place, place.create_operation_id, name, add=add)
    if place.thread_ts is None:
        return None
    method = "reactions.add" if add else "reactions.remove"
    return _op(place, method, args={"name": name}, ts=place.thread_ts)
