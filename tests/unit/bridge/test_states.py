"""What settled operations mean for conversations and messages."""

from __future__ import annotations

from slackbridge.bridge.states import OpView, conversation_update, message_update, reply_after_close


def _op(status: str, **result: object) -> OpView:
    return OpView(id="msg_1", status=status, result=result)


def test_conversation_waits_then_opens_or_fails() -> None:
    assert conversation_update("still", _op("sending")) is None
    opened = conversation_update("still", _op("sent", channel="C1", ts="1.000100"))
    assert opened == {"state": "open", "channel_id": "C1", "thread_ts": "1.000100"}
    noisy = conversation_update("noisy", _op("sent", channel="C2", name="conv-1"))
    assert noisy == {"state": "open", "channel_id": "C2", "thread_ts": None}
    failed = conversation_update("still", _op("failed", error={"code": "channel_not_found"}))
    assert failed == {"state": "failed", "error": "channel_not_found"}


def test_message_settles_when_every_operation_has() -> None:
    post = _op("sent", ts="2.000100", channel="C1")
    upload = OpView(id="msg_2", status="queued", result={})
    assert message_update(post, [upload]) is None
    done = OpView(id="msg_2", status="sent", result={"file_id": "F1", "ts": "2.000200"})
    assert message_update(post, [done]) == {
        "state": "sent",
        "ts": "2.000100",
        "file_ids": ["F1"],
        "error": None,
    }
    files_only = message_update(None, [done])
    assert files_only is not None and files_only["ts"] == "2.000200"
    failed = message_update(_op("failed", error={"code": "is_archived"}), [])
    assert failed == {"state": "failed", "error": "is_archived", "file_ids": []}
    lost_file = OpView(id="msg_3", status="failed", result={}, error="upload_failed")
    partly = message_update(post, [lost_file])
    assert partly is not None and partly["state"] == "sent" and partly["error"] == "upload_failed"


def test_reply_after_close() -> None:
    assert reply_after_close("reopen", from_product_user=False) == "reopen"
    assert reply_after_close("tell", from_product_user=False) == "tell"
    assert reply_after_close("tell", from_product_user=True) == "pass"
