"""The outbox operations of bridge actions: one lane per conversation, refs to what they need,
the bridge's metadata on every post."""

from __future__ import annotations

from slackbridge.bridge.operations import (
    Place,
    card_op,
    close_ops,
    create_channel_ops,
    post_ops,
    reopen_ops,
)

_STILL = Place(
    team_id="T1",
    conversation_id=5,
    key="ticket-5",
    mode="still",
    channel="C1",
    create_operation_id="msg_card",
)
_NOISY = Place(
    team_id="T1",
    conversation_id=6,
    key="case-6",
    mode="noisy",
    channel=None,
    create_operation_id="msg_create",
)


def test_card_and_posts_share_the_conversation_lane_and_carry_metadata() -> None:
    card = card_op(_STILL, "Ticket", None)
    assert card.lane_key == "T1:conv:5" and card.payload["channel"] == "C1"
    assert card.payload["args"]["metadata"]["event_type"] == "slackbridge_post"
    post, uploads = post_ops(
        _STILL,
        product_message_id="m1",
        text="hi",
        blocks=None,
        persona={"username": "Ann"},
        broadcast=True,
        files=[{"filename": "a.txt", "content_base64": "YQ==", "title": None}],
        digest="d",
    )
    assert post is not None and post.payload["ref"] == "msg_card"
    assert post.payload["args"]["reply_broadcast"] is True
    assert post.payload["args"]["username"] == "Ann"
    assert post.payload["args"]["metadata"]["event_payload"]["product_message_id"] == "m1"
    assert [u.method for u in uploads] == ["files.upload"]
    assert uploads[0].payload["ref"] == "msg_card" and uploads[0].lane_key == "T1:conv:5"


def test_noisy_posts_take_the_channel_from_the_create_operation() -> None:
    ops = create_channel_ops(_NOISY, ["conv-6", "conv-7"], ["U1", "U2", "U1"])
    assert [o.method for o in ops] == ["conversations.create", "conversations.invite"]
    assert ops[1].payload["ref"] == ops[0].message_id
    assert ops[1].payload["args"] == {"users": "U1,U2"}
    post, _ = post_ops(
        _NOISY,
        product_message_id="m",
        text="x",
        blocks=None,
        persona={},
        broadcast=True,
        files=[],
        digest="d",
    )
    assert post is not None and post.payload["channel"] is None
    assert "reply_broadcast" not in post.payload["args"]


def test_close_and_reopen() -> None:
    still = close_ops(_STILL, "bye")
    assert [o.method for o in still] == ["reactions.add", "chat.postMessage"]
    assert still[0].payload["ref"] == "msg_card"
    assert [o.method for o in close_ops(_NOISY, "bye")] == [
        "chat.postMessage",
        "conversations.archive",
    ]
    assert [o.method for o in close_ops(_NOISY, None)] == ["conversations.archive"]
    assert [o.method for o in reopen_ops(_STILL)] == ["reactions.remove"]
    assert [o.method for o in reopen_ops(_NOISY)] == ["conversations.unarchive"]
