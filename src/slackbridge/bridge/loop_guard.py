"""The loop guard: which Slack messages are the gateway's own posts. Pure.

Every message the outbox posts carries message metadata naming its outbox operation
(``metadata.event_payload.slackbridge_message_id``, see ``slack/outbound/outbox_ops.py``). The
operation id is in the bridge's store before the post is made, so an event that reaches the
gateway before ``chat.postMessage`` has answered is still recognised: match on the id, never on
a ts that may not be known yet. Other apps' and bots' messages carry no such id and pass.

Slack puts metadata on message events when the app asks for it (``include_all_metadata`` for
history, the ``metadata.message:read`` scope for events); edits (``message_changed``) carry the
message in ``event.message``, and a ``thread_broadcast`` is an ordinary message with a subtype.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["BRIDGE_EVENT_TYPE", "MARKER_KEY", "is_own_post", "is_own_upload", "marker_of"]

#: The metadata event type of the bridge's posts.
BRIDGE_EVENT_TYPE = "slackbridge_post"
#: The key in ``metadata.event_payload`` holding the outbox operation id (the outbox's marker;
#: the same string as ``slack.outbound.outbox_ops.MARKER_KEY``, kept here so that the pure core
#: imports no edge).
MARKER_KEY = "slackbridge_message_id"


def marker_of(message: Mapping[str, Any]) -> str | None:
    """The operation id in a message's metadata, or None."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping):
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, Mapping):
        return None
    value = payload.get(MARKER_KEY)
    return value if isinstance(value, str) and value else None


def is_own_post(event: Mapping[str, Any]) -> str | None:
    """The outbox operation id when ``event`` (a Slack ``message`` event, or a message from
    ``conversations.history``/``replies``) is one of the gateway's own posts, else None.

    For ``message_changed`` the edited message is looked at (``event.message``), for
    ``message_deleted`` the deleted one (``event.previous_message``).
    """
    own = marker_of(event)
    if own is not None:
        return own
    for inner in ("message", "previous_message"):
        nested = event.get(inner)
        if isinstance(nested, Mapping):
            own = marker_of(nested)
            if own is not None:
                return own
    return None


def is_own_upload(event: Mapping[str, Any], bot_user_id: str | None) -> bool:
    """Whether ``event`` shares a file the gateway uploaded: file shares carry no metadata
    (``files.completeUploadExternal`` takes none), and the gateway uploads as its bot user, so
    a ``file_share`` by the app's own bot user is its own. Other bots' uploads pass."""
    if not bot_user_id:
        return False
    message = event.get("message") if event.get("subtype") == "message_changed" else event
    if not isinstance(message, Mapping):
        return False
    return bool(message.get("files")) and message.get("user") == bot_user_id
