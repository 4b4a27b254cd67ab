"""Catch-up's pure parts: the per-workspace request budget and what counts as missed, edited
or deleted."""

from __future__ import annotations

from typing import Any

from slackbridge.bridge.catchup import Budget, missed
from slackbridge.bridge.catchup_diff import Read, deleted, edited, thread_of
from slackbridge.bridge.noise import content_digest
from slackbridge.bridge.routing import Place
from slackbridge.store.repositories.bridge_inbound import RecordedMessage

T, C = "T0ACME0001", "C0ACME0SUP"
ROOT = "1795260600.000001"
STILL = Place(1, "k", T, "still", C, ROOT)
NOISY = Place(2, "n", T, "noisy", C, None)


def test_the_budget_allows_one_request_a_minute_per_workspace_by_default() -> None:
    budget = Budget(per_minute=1)
    assert budget.wait(T, now=1000.0) == 0.0
    assert budget.wait(T, now=1000.0) == 60.0
    assert budget.wait("T0OTHER001", now=1000.0) == 0.0  # workspaces don't share
    assert budget.wait(T, now=1030.0) == 30.0
    assert budget.wait(T, now=1060.0) == 0.0


def test_a_retry_after_holds_the_budget() -> None:
    budget = Budget(per_minute=60)
    budget.hold(T, 30.0, now=0.0)
    assert budget.wait(T, now=0.0) == 31.0
    assert budget.wait(T, now=31.0) == 0.0


def _m(ts: str, thread_ts: str | None = ROOT, **fields: Any) -> dict[str, Any]:
    message = {"type": "message", "ts": ts, "user": "U1", "text": ts}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {**message, **fields}


def _own(message: Any) -> bool:
    return bool(message.get("metadata"))


def test_missed_keeps_unseen_written_replies_oldest_first() -> None:
    page = [
        _m(ROOT),  # the card: replies always start with the parent
        _m("1795260603.000001"),
        _m("1795260602.000001"),
        _m("1795260601.000001"),  # seen already
        _m("1795260604.000001", metadata={"event_type": "slackbridge_message"}),  # ours
        _m("1795260605.000001", subtype="channel_join"),
        _m("1795260606.000001", thread_ts="1795260606.000001"),  # another thread
        _m("1795260699.000001"),  # too young: the live path may still bring it
    ]
    found = missed(
        page, STILL, seen={"1795260601.000001"}, after=ROOT, before=1795260690.0, own=_own
    )
    assert [m["ts"] for m in found] == ["1795260602.000001", "1795260603.000001"]


def test_missed_in_a_noisy_channel_takes_everything_after_the_mark() -> None:
    page = [_m("1795260601.000001", None), _m("1795260602.000001"), _m("1795260600.000000", None)]
    found = missed(page, NOISY, seen=set(), after="1795260600.500000", before=2e9, own=_own)
    assert [m["ts"] for m in found] == ["1795260601.000001", "1795260602.000001"]


def test_the_gateways_own_posts_and_uploads_are_not_missed() -> None:
    from slackbridge.bridge.catchup import HistoryPage

    page = HistoryPage([], None, bot_id="BOURS", bot_user_id="UBOT")
    marker = {"event_type": "slackbridge_post", "event_payload": {"slackbridge_message_id": "m"}}
    assert page.own({"ts": "1", "metadata": marker, "user": "U1"})
    assert page.own({"ts": "1", "bot_id": "BOURS", "text": "x"})
    assert page.own({"ts": "1", "user": "UBOT", "files": [{"id": "F1"}], "subtype": "file_share"})
    assert not page.own({"ts": "1", "bot_id": "BOTHER", "text": "x"})
    assert not page.own({"ts": "1", "user": "U1", "files": [{"id": "F1"}]})


# Edits and deletions: what the bridge recorded against what history returns.

R1, R2, R3, R4 = (f"179526060{i}.000001" for i in range(1, 5))


def _rec(ts: str, text: str | None = None, **fields: Any) -> RecordedMessage:
    digest = content_digest({"text": text if text is not None else ts})
    values: dict[str, Any] = {"origin": "slack", "content_digest": digest, "deleted": False}
    return RecordedMessage(ts=ts, **{**values, **fields})


def _recorded(*rows: RecordedMessage) -> dict[str, RecordedMessage]:
    return {r.ts: r for r in rows}


def test_an_edit_is_a_recorded_message_whose_content_changed() -> None:
    stamp = {"user": "U1", "ts": "1795260650.000001"}
    page = [
        _m(ROOT),
        _m(R1),  # unchanged
        _m(R2, text="new words", edited=stamp),
        _m(R3, text="ours too", metadata={"x": 1}),  # the gateway's own post
        _m(R4, text="changed", edited=stamp),
    ]
    recorded = _recorded(_rec(R1), _rec(R2), _rec(R3), _rec(R4, origin="product"))
    found = edited(page, recorded, before=2e9, own=_own)
    assert [(e.ts, e.stamp) for e in found] == [(R2, stamp["ts"])]
    assert found[0].known == recorded[R2].content_digest
    assert found[0].digest == content_digest(page[2])


def test_an_attachment_or_a_reply_count_is_not_an_edit_and_young_edits_wait() -> None:
    unfurled = _m(R1, attachments=[{"title": "a link"}], reply_count=3)
    young = _m(R2, text="just now", edited={"user": "U1", "ts": "1795260699.000001"})
    deleted_already = _m(R3, text="changed")
    recorded = _recorded(_rec(R1), _rec(R2), _rec(R3, deleted=True))
    found = edited([unfurled, young, deleted_already], recorded, before=1795260690.0, own=_own)
    assert found == []


def _read(*messages: dict[str, Any], complete: bool = True, oldest: str = ROOT) -> Read:
    return Read([_m(ROOT), *messages], oldest, ROOT, complete)


def test_a_recorded_reply_missing_between_what_a_complete_read_covered_is_deleted() -> None:
    recorded = _recorded(_rec(R1), _rec(R2), _rec(R3))
    assert deleted([_read(_m(R1), _m(R3))], STILL, recorded) == [R2]
    # Past the newest ts returned, nothing proves it gone (the read may have stopped short).
    assert deleted([_read(_m(R1), _m(R2))], STILL, recorded) == []
    # Nor below the bound the read was asked from.
    assert deleted([_read(_m(R3), oldest=R2)], STILL, recorded) == []
    # From the first message after the bound up, a complete read covers all.
    assert deleted([_read(_m(R2), _m(R3))], STILL, recorded) == [R1]


def test_a_partial_read_deletes_nothing() -> None:
    recorded = _recorded(_rec(R1), _rec(R2), _rec(R3))
    assert deleted([_read(_m(R1), _m(R3), complete=False)], STILL, recorded) == []


def test_only_recorded_slack_messages_can_be_deleted() -> None:
    recorded = _recorded(
        _rec(R2, origin="product"),  # the product's own post: never
        _rec(R3, deleted=True),  # told already
    )
    assert deleted([_read(_m(R1), _m(R4))], STILL, recorded) == []


def test_a_noisy_message_recorded_without_its_thread_is_never_proved_gone() -> None:
    top = _m(R1, None)
    tombstone = _m(R3, None, subtype="tombstone", reply_count=1)
    recorded = _recorded(_rec(R2), _rec(R3))  # recorded before the bridge kept threads
    history = Read([top, tombstone, _m(R4, None)], ROOT, None, True)
    thread = Read([_m(R1, R1), _m(R4, R1)], ROOT, R1, True)
    assert deleted([history, thread], NOISY, recorded) == [R3]  # a tombstone is, always


# A noisy channel: R1 a thread's parent, R2 and R3 its replies; R4 and R5 top-level.
R5, R6 = "1795260605.000001", "1795260606.000001"


def _history(*messages: dict[str, Any], complete: bool = True, oldest: str = ROOT) -> Read:
    return Read(list(messages), oldest, None, complete)


def _thread(*messages: dict[str, Any], complete: bool = True, oldest: str = ROOT) -> Read:
    return Read([_m(R1, R1), *messages], oldest, R1, complete)


def test_a_noisy_channels_reply_missing_from_a_complete_read_of_its_thread_is_deleted() -> None:
    recorded = _recorded(_rec(R2, thread_ts=R1), _rec(R3, thread_ts=R1), _rec(R4, thread_ts=R4))
    thread = _thread(_m(R3, R1), _m(R6, R1))
    assert deleted([thread], NOISY, recorded) == [R2]
    # History holds no replies: its silence says nothing of R2 (nor of R4, past its newest).
    history = _history(_m(R1, R1), _m(R3, R1, subtype="thread_broadcast"))
    assert deleted([history], NOISY, recorded) == []
    # Another thread's read says nothing of R1's replies, nor does R1's of a top-level R4.
    other = Read([_m(R5, R5), _m(R6, R5)], ROOT, R5, True)
    assert deleted([other, _thread(_m(R6, R1))], NOISY, recorded) == [R2, R3]


def test_a_noisy_channels_top_level_message_missing_from_complete_history_is_deleted() -> None:
    recorded = _recorded(_rec(R1, thread_ts=R1), _rec(R4, thread_ts=R4), _rec(R2, thread_ts=R1))
    history = _history(_m(R5, None), _m(R3, R1, subtype="thread_broadcast"))
    # R1 (a thread's parent, gone without a tombstone: it had no replies left) and R4 are gone;
    # the reply R2 is its thread's read's to judge.
    assert deleted([history], NOISY, recorded) == [R1, R4]
    # The parent is not judged by its own thread's read (replies always lead with it).
    assert deleted([_thread(_m(R6, R1))], NOISY, _recorded(_rec(R1, thread_ts=R1))) == []


def test_a_noisy_channels_partial_or_out_of_span_read_deletes_nothing() -> None:
    recorded = _recorded(_rec(R2, thread_ts=R1), _rec(R4, thread_ts=R4))
    assert deleted([_thread(_m(R3, R1), complete=False)], NOISY, recorded) == []
    assert deleted([_history(_m(R5, None), complete=False)], NOISY, recorded) == []
    # Below the bound each read was asked from, past the newest ts it returned.
    assert deleted([_thread(_m(R3, R1), oldest=R2)], NOISY, recorded) == []
    assert deleted([_history(_m(R5, None), oldest=R4)], NOISY, recorded) == []
    assert deleted([_history(_m(R3, None))], NOISY, recorded) == []
    assert deleted([_thread(_m(R1, R1))], NOISY, recorded) == []  # the parent alone


def test_a_noisy_channels_product_posts_and_told_deletions_are_never_deleted() -> None:
    recorded = _recorded(
        _rec(R2, thread_ts=R1, origin="product"),
        _rec(R3, thread_ts=R1, deleted=True),
        _rec(R4, thread_ts=R4, origin="product"),
    )
    assert deleted([_thread(_m(R6, R1)), _history(_m(R6, None))], NOISY, recorded) == []


def test_the_thread_a_message_is_recorded_in() -> None:
    assert thread_of(_m(R2, R1)) == R1  # a reply: its parent
    assert thread_of(_m(R1, R1)) == R1  # a parent
    assert thread_of(_m(R4, None)) == R4  # a top-level message
    assert thread_of(None) is None
    assert thread_of({"text": "no ts"}) is None
