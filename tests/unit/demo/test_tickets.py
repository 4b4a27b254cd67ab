"""The Helpdesk's ticket logic: conversations of the bridge become tickets, their webhooks
update them."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.demo.tickets import Desk, command_answer, display_name, ticket_key

TEAM = "T0ACME0001"
CHANNEL = "C0ACME0SUP"
ROOM = "C0TICKET02"
ROOT = "1700000000.000100"
BOB = {
    "slack_user": "U0ACME0002",
    "name": "bob",
    "real_name": "Bob Baker",
    "email": None,
    "product_user": None,
    "bot_id": None,
}


def _conversation(key: str | None, *, mode: str = "still") -> dict[str, Any]:
    if mode == "noisy":
        return {"key": key, "mode": "noisy", "channel": ROOM, "thread_ts": None}
    return {"key": key, "mode": "still", "channel": CHANNEL, "thread_ts": ROOT}


def _message(ts: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "ts": ts,
        "thread_ts": ROOT,
        "text": text,
        "blocks": None,
        "files": [],
        "author": BOB,
        "product_message_id": None,
        "broadcast": False,
        **extra,
    }


def _data(key: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "workspace": {"team_id": TEAM, "enterprise_id": None, "app_id": "A1"},
        "conversation": _conversation(key, mode=fields.pop("mode", "still")),
        **fields,
    }


def _opened(desk: Desk, text: str = "Printer jammed\nhelp") -> int:
    outcome = desk.apply("conversation.opened", _data(None, message=_message(ROOT, text)))
    assert outcome.kind == "opened" and outcome.ticket is not None
    return outcome.ticket.number


@pytest.fixture
def desk() -> Desk:
    clock = iter(float(n) for n in range(1000, 2000))
    return Desk(clock=lambda: next(clock))


def test_an_opened_conversation_becomes_a_ticket_to_adopt(desk: Desk) -> None:
    number = _opened(desk)

    ticket = desk.snapshot()["tickets"][0]
    assert (ticket["number"], ticket["key"], ticket["mode"]) == (number, "ticket-1", "still")
    assert (ticket["channel_id"], ticket["root_ts"], ticket["adopted"]) == (CHANNEL, ROOT, False)
    assert (ticket["subject"], ticket["requester_name"]) == ("Printer jammed", "Bob Baker")
    # Heard again (an opening is sent again until adopted): still one ticket.
    again = desk.apply("conversation.opened", _data(None, message=_message(ROOT, "x")))
    assert again.kind == "ignored" and len(desk.tickets) == 1


def test_messages_reach_their_ticket_by_key_or_before_adoption_by_place(desk: Desk) -> None:
    _opened(desk)
    early = desk.apply("conversation.message.created", _data(None, message=_message("1.1", "a")))
    keyed = desk.apply(
        "conversation.message.created", _data("ticket-1", message=_message("1.2", "b"))
    )
    again = desk.apply(
        "conversation.message.created", _data("ticket-1", message=_message("1.2", "b"))
    )

    assert (early.kind, keyed.kind, again.kind) == ("replied", "replied", "ignored")
    assert [e.text for e in desk.tickets[1].entries] == ["Printer jammed\nhelp", "a", "b"]


def test_messages_of_other_conversations_and_our_own_are_ignored(desk: Desk) -> None:
    _opened(desk)
    other = desk.apply(
        "conversation.message.created", _data("chat-7", message=_message("1.1", "x"))
    )
    own = desk.apply(
        "conversation.message.created",
        _data("ticket-1", message=_message("1.2", "x", product_message_id="r-1")),
    )
    assert other.kind == "ignored" and own.kind == "ignored"
    assert len(desk.tickets[1].entries) == 1


def test_files_come_with_their_download_url(desk: Desk) -> None:
    _opened(desk)
    file = {
        "id": "F1",
        "name": "log.txt",
        "mimetype": "text/plain",
        "size": 3,
        "download_url": "http://gw/api/v1/files/T/F1/content",
    }
    desk.apply(
        "conversation.message.created", _data("ticket-1", message=_message("1.1", "", files=[file]))
    )

    assert desk.snapshot()["tickets"][0]["messages"][1]["files"] == [file]


def test_edits_and_deletions_from_slack(desk: Desk) -> None:
    _opened(desk)
    desk.apply("conversation.message.created", _data("ticket-1", message=_message("1.1", "a")))

    edited = desk.apply(
        "conversation.message.edited", _data("ticket-1", message=_message(ROOT, "Toner"))
    )
    deleted = desk.apply(
        "conversation.message.deleted",
        _data("ticket-1", message={"ts": "1.1", "product_message_id": None}),
    )
    unknown = desk.apply(
        "conversation.message.deleted",
        _data("ticket-1", message={"ts": "9.9", "product_message_id": None}),
    )

    ticket = desk.snapshot()["tickets"][0]
    assert (edited.kind, deleted.kind, unknown.kind) == ("edited", "deleted", "ignored")
    assert ticket["subject"] == "Toner" and ticket["messages"][0]["edited"]
    assert ticket["messages"][1]["deleted"] and ticket["messages"][1]["text"] == ""


def _reaction(name: str, message_ts: str, **user: Any) -> dict[str, Any]:
    return _data(
        "ticket-1",
        reaction={
            "name": name,
            "user": {**BOB, **user},
            "message_ts": message_ts,
            "product_message_id": None,
        },
    )


def test_a_persons_check_mark_on_the_question_resolves(desk: Desk) -> None:
    _opened(desk)
    assert desk.apply("conversation.reaction.added", _reaction("eyes", ROOT)).kind == "ignored"
    on_reply = desk.apply("conversation.reaction.added", _reaction("white_check_mark", "1.1"))
    by_bot = desk.apply(
        "conversation.reaction.added", _reaction("white_check_mark", ROOT, bot_id="B1")
    )
    assert on_reply.kind == "ignored" and by_bot.kind == "ignored"

    resolved = desk.apply("conversation.reaction.added", _reaction("white_check_mark", ROOT))
    twice = desk.apply("conversation.reaction.added", _reaction("heavy_check_mark", ROOT))

    assert (resolved.kind, twice.kind) == ("resolved", "ignored")
    assert desk.tickets[1].status == "resolved"


def test_closed_and_reopened_follow_the_conversation(desk: Desk) -> None:
    _opened(desk)
    closed = desk.apply("conversation.closed", _data("ticket-1", closed_by="slack"))
    assert closed.kind == "closed" and desk.tickets[1].status == "resolved"
    reopened = desk.apply("conversation.reopened", _data("ticket-1"))
    assert reopened.kind == "reopened" and desk.tickets[1].status == "open"


def test_an_agent_opens_a_noisy_ticket_placed_later(desk: Desk) -> None:
    ticket = desk.open_ticket(TEAM, "No network on floor 2", "Dave", "noisy")
    assert (ticket.key, ticket.channel_id, ticket.entries[0].id) == ("ticket-1", None, "card")

    desk.place(ticket, ROOM, None)
    outcome = desk.apply(
        "conversation.message.created",
        _data(None, mode="noisy", message=_message("1.5", "on it", thread_ts=None)),
    )
    assert outcome.kind == "replied" and outcome.ticket is ticket
    assert ticket_key(ticket.number) == ticket.key


def _delivered(op_id: str, ts: str | None, ok: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "workspace": {"team_id": TEAM},
        "channel": {"id": CHANNEL, "kind": "public"},
        "message": {"id": op_id, "operation": "chat.postMessage", "channel": CHANNEL, "ts": ts},
    }
    if not ok:
        data["error"] = {"code": "not_in_channel", "message": "…"}
    return data


def test_agent_replies_are_queued_then_sent_and_deletable_by_id(desk: Desk) -> None:
    _opened(desk)
    entry = desk.add_agent_reply(1, "on it", "Helpdesk agent", "msg_1", message_id="r-1")

    assert (entry.delivery, entry.from_agent, desk.tickets[1].status) == (
        "queued",
        True,
        "answered",
    )
    outcome = desk.apply("message.delivered", _delivered("msg_1", "1700000000.000500"))
    assert outcome.kind == "delivered"
    assert (entry.delivery, entry.ts) == ("sent", "1700000000.000500")
    assert desk.agent_entry(1, "r-1") is entry and desk.agent_entry(1, "r-9") is None
    # A person's reply after the answer makes the ticket open again.
    desk.apply("conversation.message.created", _data("ticket-1", message=_message("1.6", "?")))
    assert desk.tickets[1].status == "open"


def test_the_acknowledgement_is_no_answer(desk: Desk) -> None:
    _opened(desk)
    desk.add_agent_reply(1, "Ticket #1 is open", "Helpdesk", "msg_0", message_id="ack")
    assert desk.tickets[1].status == "open" and not desk.tickets[1].acknowledged
    desk.apply("message.delivered", _delivered("msg_0", "1.3"))
    assert desk.tickets[1].acknowledged


def test_a_delivery_report_that_comes_before_the_api_answer_is_kept(desk: Desk) -> None:
    _opened(desk)
    desk.apply("message.failed", _delivered("msg_2", None, ok=False))

    entry = desk.add_agent_reply(1, "on it", "Helpdesk agent", "msg_2")

    assert (entry.delivery, entry.error) == ("failed", "not_in_channel")


def test_webhook_ids_are_applied_once() -> None:
    desk = Desk()
    assert desk.first_time("msg_1") and not desk.first_time("msg_1")
    assert desk.first_time("")  # no id: always applied


def test_commands_are_logged_and_their_answers_followed(desk: Desk) -> None:
    _opened(desk, "Printer jammed")
    data = {
        "workspace": {"team_id": TEAM},
        "channel": {"id": CHANNEL, "kind": "public", "name": "support"},
        "user": {"id": "U0ACME0003", "name": "carol"},
        "command": "/helpdesk",
        "text": "",
        "response_url": "http://127.0.0.1:8001/response/x",
    }
    outcome = desk.apply("command.invoked", data)
    assert outcome.kind == "command" and outcome.command is not None

    answer = command_answer(desk, TEAM, "http://127.0.0.1:8002/")
    desk.record_answer(outcome.command, answer, "msg_9")
    desk.apply("message.delivered", _delivered("msg_9", None))

    log = desk.snapshot()["commands"][0]
    assert (log["user_name"], log["delivery"]) == ("carol", "sent")
    assert "1 open ticket" in log["answer"]
    assert "#1 Printer jammed" in log["answer"]
    assert "http://127.0.0.1:8002/" in log["answer"]


def test_command_answer_without_open_tickets() -> None:
    assert "no open tickets" in command_answer(Desk(), TEAM)


def test_workspace_events_track_status(desk: Desk) -> None:
    ws = {"team_id": TEAM, "team_name": "Acme", "status": "active"}
    desk.apply("workspace.installed", {"workspace": ws})
    desk.apply("workspace.uninstalled", {"workspace": {"team_id": TEAM, "status": "uninstalled"}})

    assert desk.snapshot()["workspaces"] == [
        {"team_id": TEAM, "team_name": "Acme", "status": "uninstalled"}
    ]


def test_types_the_helpdesk_does_not_use_are_ignored(desk: Desk) -> None:
    for kind in ("interaction.block_action", "message.posted", "reaction.added"):
        outcome = desk.apply(kind, {"workspace": {"team_id": TEAM}})
        assert outcome.kind == "ignored"
        assert "not used" in outcome.reason


def test_display_name_prefers_the_real_name() -> None:
    assert display_name({"id": "U1", "name": "bob", "real_name": "Bob Baker"}) == "Bob Baker"
    assert display_name({"id": "U1", "name": "bob"}) == "bob"
    assert display_name({"id": "U1"}) == "U1"
    assert display_name(None) == "someone"
