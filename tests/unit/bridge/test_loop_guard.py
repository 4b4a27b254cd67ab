"""The loop guard recognises the gateway's own posts by the operation id in their metadata,
whatever shape the event has, and lets everyone else's messages through."""

from __future__ import annotations

from slackbridge.bridge.loop_guard import MARKER_KEY, is_own_post, is_own_upload
from slackbridge.slack.outbound.outbox_ops import MARKER_KEY as OUTBOX_MARKER_KEY
from slackbridge.slack.outbound.outbox_ops import with_marker

_META = with_marker({"event_type": "slackbridge_post", "event_payload": {}}, "msg_abc")


def test_the_key_is_the_outbox_marker() -> None:
    assert MARKER_KEY == OUTBOX_MARKER_KEY


def test_own_post_in_every_shape() -> None:
    assert is_own_post({"type": "message", "text": "x", "metadata": _META}) == "msg_abc"
    broadcast = {"type": "message", "subtype": "thread_broadcast", "metadata": _META}
    assert is_own_post(broadcast) == "msg_abc"
    changed = {"type": "message", "subtype": "message_changed", "message": {"metadata": _META}}
    assert is_own_post(changed) == "msg_abc"
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": {"metadata": _META},
    }
    assert is_own_post(deleted) == "msg_abc"


def test_other_messages_pass() -> None:
    assert is_own_post({"type": "message", "user": "U1", "text": "hi"}) is None
    other_bot = {"bot_id": "B9", "metadata": {"event_type": "x", "event_payload": {"id": 1}}}
    assert is_own_post(other_bot) is None
    assert is_own_post({"metadata": "nonsense"}) is None
    assert is_own_post({"metadata": {"event_payload": {MARKER_KEY: 7}}}) is None


def test_own_uploads_are_the_bot_users_file_shares() -> None:
    share = {"type": "message", "subtype": "file_share", "user": "UBOT", "files": [{"id": "F1"}]}
    assert is_own_upload(share, "UBOT")
    assert not is_own_upload({**share, "user": "U1"}, "UBOT")
    assert not is_own_upload(share, None)
    assert not is_own_upload({"type": "message", "user": "UBOT", "text": "no file"}, "UBOT")
    changed = {"subtype": "message_changed", "message": share}
    assert is_own_upload(changed, "UBOT")
