"""The Helpdesk's ticket logic: threads become tickets, webhooks update them."""

from __future__ import annotations

from typing import Any

import pytest

from slackbridge.demo.tickets import Desk, command_answer, display_name

TEAM = "T0ACME0001"
CHANNEL = "C0ACME0SUP"
BOB = {"id": "U0ACME0002", "name": "bob", "real_name": "Bob Baker"}


def _message(ts: str, text: str, thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "workspace": {"team_id": TEAM, "enterprise_id": None, "app_id": "A1"},
        "channel": {"id": CHANNEL, "kind": "public"},
        "user": BOB,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        **extra,
    }


@pytest.fixture
def desk() -> Desk:
    clock = iter(float(n) for n in range(1000, 2000))
    return Desk(clock=lambda: next(clock))


def test_a_top_level_message_opens_a_ticket(desk: Desk) -> None:
    outcome = desk.apply("message.posted", _message("1700000000.000100", "Printer jammed\nhelp"))

    assert outcome.kind == "opened"
    ticket = desk.tickets[1]
    assert outcome.ticket is ticket
    assert (ticket.team_id, ticket.channel_id, ticket.root_ts) == (
        TEAM,
        CHANNEL,
        "1700000000.000100",
    )
    assert ticket.subject == "Printer jammed"
    assert ticket.requester_name == "Bob Baker"
    assert ticket.status == "open"
    assert [e.text for e in ticket.entries] == ["Printer jammed\nhelp"]


def test_each_thread_is_its_own_ticket_and_replies_join_their_thread(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "first"))
    desk.apply("message.posted", _message("1700000000.000200", "second"))
    outcome = desk.apply(
        "message.posted", _message("1700000000.000300", "more on first", "1700000000.000100")
    )

    assert outcome.kind == "replied"
    assert [t.number for t in desk.tickets.values()] == [1, 2]
    assert [e.text for e in desk.tickets[1].entries] == ["first", "more on first"]
    assert [e.text for e in desk.tickets[2].entries] == ["second"]


def test_a_reply_in_a_thread_that_is_no_ticket_is_ignored(desk: Desk) -> None:
    outcome = desk.apply(
        "message.posted", _message("1700000000.000300", "hi", thread_ts="1600000000.000001")
    )
    assert outcome.kind == "ignored"
    assert desk.tickets == {}


def test_messages_from_apps_and_redeliveries_are_ignored(desk: Desk) -> None:
    assert desk.apply("message.posted", _message("1.000001", "x", bot_id="B1")).kind == "ignored"
    desk.apply("message.posted", _message("1700000000.000100", "q"))
    again = desk.apply("message.posted", _message("1700000000.000100", "q"))
    assert again.kind == "ignored"
    assert len(desk.tickets[1].entries) == 1


def test_webhook_ids_are_applied_once() -> None:
    desk = Desk()
    assert desk.first_time("msg_a") is True
    assert desk.first_time("msg_a") is False
    assert desk.first_time("msg_b") is True
    assert desk.first_time("") and desk.first_time("")  # no id: nothing to recognise it by


def test_edits_change_the_message_and_the_subject(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "Printr jammed"))
    desk.apply("message.posted", _message("1700000000.000200", "thx", "1700000000.000100"))

    root = desk.apply("message.edited", _message("1700000000.000100", "Printer jammed"))
    reply = desk.apply("message.edited", _message("1700000000.000200", "thanks!"))

    assert (root.kind, reply.kind) == ("edited", "edited")
    ticket = desk.tickets[1]
    assert ticket.subject == "Printer jammed"
    assert [(e.text, e.edited) for e in ticket.entries] == [
        ("Printer jammed", True),
        ("thanks!", True),
    ]
    assert desk.apply("message.edited", _message("1.000009", "?")).kind == "ignored"


def test_deletions_hide_the_message(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "q"))
    desk.apply("message.posted", _message("1700000000.000200", "oops", "1700000000.000100"))

    outcome = desk.apply("message.deleted", _message("1700000000.000200", ""))

    assert outcome.kind == "deleted"
    entry = desk.tickets[1].entries[1]
    assert entry.deleted
    assert entry.to_json()["text"] == ""


def test_a_check_mark_resolves_and_a_new_reply_reopens(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "q"))
    reaction = {**_message("1700000000.000100", ""), "reaction": "white_check_mark"}

    assert desk.apply("reaction.added", {**reaction, "reaction": "eyes"}).kind == "ignored"
    assert desk.apply("reaction.added", reaction).kind == "resolved"
    assert desk.tickets[1].status == "resolved"
    assert desk.apply("reaction.removed", reaction).kind == "reopened"
    desk.apply("reaction.added", reaction)
    reopened = desk.apply(
        "message.posted", _message("1700000000.000300", "still broken", "1700000000.000100")
    )
    assert reopened.kind == "reopened"
    assert desk.tickets[1].status == "open"


def _delivered(op_id: str, ts: str | None, ok: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "workspace": {"team_id": TEAM},
        "channel": {"id": CHANNEL, "kind": "public"},
        "message": {"id": op_id, "operation": "chat.postMessage", "channel": CHANNEL, "ts": ts},
    }
    if not ok:
        data["error"] = {"code": "not_in_channel", "message": "…"}
    return data


def test_agent_replies_are_queued_then_sent(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "q"))
    entry = desk.add_agent_reply(1, "on it", "Helpdesk agent", "msg_1")

    assert (entry.delivery, entry.from_agent, desk.tickets[1].status) == (
        "queued",
        True,
        "answered",
    )
    outcome = desk.apply("message.delivered", _delivered("msg_1", "1700000000.000500"))
    assert outcome.kind == "delivered"
    assert (entry.delivery, entry.ts) == ("sent", "1700000000.000500")
    # The reply's ts now belongs to the ticket: an edit of it (by the agent in Slack) is found.
    assert desk.apply("message.edited", _message("1700000000.000500", "on it!")).kind == "edited"


def test_a_delivery_report_that_comes_before_the_api_answer_is_kept(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "q"))
    desk.apply("message.failed", _delivered("msg_2", None, ok=False))

    entry = desk.add_agent_reply(1, "on it", "Helpdesk agent", "msg_2")

    assert (entry.delivery, entry.error) == ("failed", "not_in_channel")


def test_commands_are_logged_and_their_answers_followed(desk: Desk) -> None:
    desk.apply("message.posted", _message("1700000000.000100", "Printer jammed"))
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
    outcome = desk.apply("interaction.block_action", {"workspace": {"team_id": TEAM}})
    assert outcome.kind == "ignored"
    assert "not used" in outcome.reason


def test_display_name_prefers_the_real_name() -> None:
    assert display_name({"id": "U1", "name": "bob", "real_name": "Bob Baker"}) == "Bob Baker"
    assert display_name({"id": "U1", "name": "bob"}) == "bob"
    assert display_name({"id": "U1"}) == "U1"
    assert display_name(None) == "someone"
