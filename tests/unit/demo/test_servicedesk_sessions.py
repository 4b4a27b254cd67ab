"""The service desk's sessions: keys, places, bots ignored, idle closing."""

from __future__ import annotations

from typing import Any

from slackbridge.demo.servicedesk.sessions import Desk, Incoming, session_key

TEAM = "T0ACME0001"
BOB = "U0ACME0002"
BOT = "U0BOT00001"


def _message(
    text: str = "hello",
    ts: str = "1700000000.000100",
    channel: str = "C0ACME0SUP",
    kind: str = "public",
    user: dict[str, Any] | None = None,
    **extra: Any,
) -> Incoming:
    data = {
        "workspace": {"team_id": TEAM},
        "channel": {"id": channel, "kind": kind},
        "user": user if user is not None else {"id": BOB, "real_name": "Bob Baker"},
        "text": text,
        "ts": ts,
        **extra,
    }
    message = Incoming.from_data(data)
    assert message is not None
    return message


def test_a_channel_message_opens_a_session_in_its_thread() -> None:
    desk = Desk()
    session = desk.receive(_message(ts="1.000001"), now=0.0)
    assert session is not None
    assert session.key == session_key(TEAM, BOB, "C0ACME0SUP") == f"{TEAM}:{BOB}:C0ACME0SUP"
    assert session.thread_ts == "1.000001" and session.place == "in the thread"
    assert session.user_name == "Bob Baker"


def test_later_messages_of_the_person_there_join_the_session() -> None:
    desk = Desk()
    first = desk.receive(_message(ts="1.000001"), now=0.0)
    top = desk.receive(_message("more", ts="2.000001"), now=1.0)
    reply = desk.receive(_message("in thread", ts="3.000001", thread_ts="1.000001"), now=2.0)
    assert first is top is reply
    assert first is not None and [e.text for e in first.entries] == ["hello", "more", "in thread"]
    assert first.thread_ts == "1.000001"


def test_each_place_and_person_has_its_own_session() -> None:
    desk = Desk()
    a = desk.receive(_message(channel="C0ACME0SUP"), now=0.0)
    b = desk.receive(_message(channel="G0ACME0STF", kind="private"), now=0.0)
    c = desk.receive(_message(user={"id": "U0ACME0003"}), now=0.0)
    assert len({id(a), id(b), id(c)}) == 3
    assert [s.number for s in desk.sessions.values()] == [1, 2, 3]


def test_a_dm_session_has_no_thread() -> None:
    session = Desk().receive(_message(channel="D0ACME0001", kind="im"), now=0.0)
    assert session is not None
    assert session.thread_ts is None and session.place == "in the DM"


def test_bots_never_open_or_join_a_session() -> None:
    desk = Desk()
    desk.learn_bot(TEAM, BOT)
    assert desk.receive(_message(user={"id": BOT}), now=0.0) is None  # our own bot user
    assert desk.receive(_message(bot_id="B0OTHER"), now=0.0) is None  # another app
    assert desk.receive(_message(user={"id": "U0X", "is_bot": True}), now=0.0) is None
    assert desk.receive(_message(subtype="bot_message"), now=0.0) is None
    assert desk.receive(_message(user={}), now=0.0) is None  # no person
    assert desk.sessions == {} and desk.ignored == 5


def test_an_idle_session_closes_and_the_next_message_opens_a_new_one() -> None:
    desk = Desk(idle_seconds=60.0)
    first = desk.receive(_message(), now=0.0)
    assert first is not None
    desk.answered(first, "on it", now=50.0)  # an answer counts as activity
    assert desk.idle(now=100.0) == []
    assert desk.idle(now=110.0) == [first]
    assert first.status == "closed" and first.closed_reason == "idle"
    second = desk.receive(_message("again"), now=111.0)
    assert second is not None and second is not first and second.number == 2


def test_a_message_after_the_idle_time_opens_a_new_session_even_before_the_sweep() -> None:
    desk = Desk(idle_seconds=60.0)
    first = desk.receive(_message(), now=0.0)
    second = desk.receive(_message("later"), now=61.0)
    assert first is not None and second is not None and first is not second
    assert first.status == "closed"


def test_the_listing_shows_open_sessions_first() -> None:
    desk = Desk()
    old = desk.receive(_message(channel="C1"), now=0.0)
    new = desk.receive(_message(channel="C2"), now=5.0)
    assert old is not None and new is not None
    desk.close(new, now=6.0, reason="agent")
    assert desk.listing() == [old, new]


def test_not_a_message_is_not_taken() -> None:
    assert Incoming.from_data({"workspace": {"team_id": TEAM}}) is None
    assert Incoming.from_data({"workspace": {}, "channel": {"id": "C1", "kind": "x"}}) is None
