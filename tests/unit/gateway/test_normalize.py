from __future__ import annotations

from typing import Any

import pytest

from slackbridge.domain.events import WEBHOOK_TYPES, DomainEvent, channel_kind
from slackbridge.pipeline.normalize import OwnIdentity, normalize

OWN = OwnIdentity(
    bot_ids=frozenset({"BOURS"}), app_ids=frozenset({"AOURS"}), bot_user_ids=frozenset({"UOURBOT"})
)


def envelope(event: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "token": "vtoken",
        "team_id": "T1",
        "api_app_id": "AOURS",
        "type": "event_callback",
        "event_id": "Ev1",
        "event_time": 1700000000,
        "event": event,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T1",
                "user_id": "UOURBOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        **extra,
    }


def one(result_events: list[DomainEvent]) -> DomainEvent:
    assert len(result_events) == 1
    return result_events[0]


def run(payload: dict[str, Any], kind: str = "events") -> Any:
    return normalize(kind, payload, dedupe_key="k1", received_at=1.0, own=OWN)  # type: ignore[arg-type]


def test_plain_message_becomes_message_posted() -> None:
    event = {
        "type": "message",
        "channel": "C1",
        "channel_type": "channel",
        "user": "U1",
        "text": "hello",
        "ts": "1700000000.000100",
        "team": "T1",
    }
    result = one(run(envelope(event)).events)
    assert result.type == "message.posted"
    assert result.data["channel"] == {"id": "C1", "kind": "public"}
    assert result.data["user"] == {"id": "U1"}
    assert result.data["text"] == "hello"
    assert result.data["ts"] == "1700000000.000100"
    assert result.data["thread_ts"] is None
    assert result.data["workspace"] == {"team_id": "T1", "enterprise_id": None, "app_id": "AOURS"}
    assert result.data["raw"]["event_id"] == "Ev1"
    assert result.ordering_key == "T1:C1"
    assert result.dedupe_key == "k1"
    assert result.occurred_at == 1700000000.0


def test_thread_reply_keeps_thread_ts_and_private_kind() -> None:
    event = {
        "type": "message",
        "channel": "G1",
        "channel_type": "group",
        "user": "U1",
        "text": "r",
        "ts": "2.000000",
        "thread_ts": "1.000000",
    }
    result = one(run(envelope(event)).events)
    assert result.data["thread_ts"] == "1.000000"
    assert result.data["channel"]["kind"] == "private"


@pytest.mark.parametrize(
    "message",
    [
        {"bot_id": "BOURS", "user": "UOURBOT"},
        {"app_id": "AOURS", "bot_id": "BX"},
        {"bot_profile": {"app_id": "AOURS"}, "bot_id": "BY"},
        {"user": "UOURBOT"},
    ],
)
def test_loop_guard_drops_our_own_posts(message: dict[str, Any]) -> None:
    event = {"type": "message", "channel": "C1", "text": "echo", "ts": "1.000001", **message}
    result = run(envelope(event))
    assert result.events == []
    assert "own bot" in (result.ignored_reason or "")


def test_other_bots_messages_are_delivered() -> None:
    event = {
        "type": "message",
        "subtype": "bot_message",
        "channel": "C1",
        "bot_id": "BOTHER",
        "text": "from another app",
        "ts": "1.000002",
    }
    result = one(run(envelope(event)).events)
    assert result.type == "message.posted"
    assert result.data["bot_id"] == "BOTHER"


def test_edit_and_unfurl() -> None:
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": "C1",
        "message": {
            "user": "U1",
            "text": "new",
            "ts": "1.000001",
            "edited": {"user": "U1", "ts": "5.000000"},
        },
        "previous_message": {"user": "U1", "text": "old", "ts": "1.000001"},
    }
    result = one(run(envelope(edited)).events)
    assert result.type == "message.edited"
    assert (result.data["text"], result.data["previous_text"]) == ("new", "old")
    assert result.data["edited_at"] == "5.000000"

    unfurl = {
        **edited,
        "message": {
            "user": "U1",
            "text": "old",
            "ts": "1.000001",
            "attachments": [{"from_url": "https://x"}],
        },
    }
    ignored = run(envelope(unfurl))
    assert ignored.events == []
    assert "unfurl" in (ignored.ignored_reason or "")


def test_delete() -> None:
    event = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": "D1",
        "deleted_ts": "1.000001",
        "previous_message": {"user": "U1", "text": "bye"},
    }
    result = one(run(envelope(event)).events)
    assert result.type == "message.deleted"
    assert result.data["ts"] == "1.000001"
    assert result.data["channel"]["kind"] == "im"


def test_reactions_and_mentions() -> None:
    added = {
        "type": "reaction_added",
        "user": "U2",
        "reaction": "tada",
        "item_user": "U1",
        "item": {"type": "message", "channel": "C1", "ts": "1.000001"},
    }
    result = one(run(envelope(added)).events)
    assert (result.type, result.data["reaction"], result.data["ts"]) == (
        "reaction.added",
        "tada",
        "1.000001",
    )
    removed = {**added, "type": "reaction_removed"}
    assert one(run(envelope(removed)).events).type == "reaction.removed"
    mention = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UOURBOT> hi",
        "ts": "1.1",
        "channel": "C1",
    }
    assert one(run(envelope(mention)).events).type == "app.mentioned"


def test_uninstall_and_revocations_are_control_actions() -> None:
    result = run(envelope({"type": "app_uninstalled"}))
    assert result.events == []
    assert [(a.kind, a.team_id, a.app_id) for a in result.actions] == [("uninstall", "T1", "AOURS")]
    revoked = run(
        envelope({"type": "tokens_revoked", "tokens": {"oauth": ["U5", "U6"], "bot": ["UOURBOT"]}})
    )
    kinds = {a.kind: a for a in revoked.actions}
    assert set(kinds) == {"uninstall", "revoke_user_tokens"}
    assert kinds["revoke_user_tokens"].user_ids == ("U5", "U6")
    users_only = run(envelope({"type": "tokens_revoked", "tokens": {"oauth": ["U5"], "bot": []}}))
    assert [a.kind for a in users_only.actions] == ["revoke_user_tokens"]


def test_unknown_events_are_raw_slack_events() -> None:
    result = one(run(envelope({"type": "channel_created", "channel": {"id": "C9"}})).events)
    assert result.type == "slack.event"
    assert result.data["event_type"] == "channel_created"
    join = one(
        run(
            envelope(
                {
                    "type": "message",
                    "subtype": "channel_join",
                    "channel": "C1",
                    "user": "U3",
                    "ts": "1.2",
                }
            )
        ).events
    )
    assert join.type == "slack.event"
    assert join.data["subtype"] == "channel_join"


def test_non_callback_is_ignored() -> None:
    assert run({"type": "url_verification", "challenge": "x"}).ignored_reason


def test_slash_command() -> None:
    form = {
        "team_id": "T1",
        "channel_id": "C1",
        "channel_name": "support",
        "user_id": "U1",
        "user_name": "ana",
        "command": "/ticket",
        "text": "open 42",
        "api_app_id": "AOURS",
        "response_url": "http://x/r",
        "trigger_id": "t1",
    }
    result = one(run(form, "commands").events)
    assert result.type == "command.invoked"
    assert result.data["command"] == "/ticket"
    assert result.data["user"] == {"id": "U1", "name": "ana"}
    assert result.data["channel"] == {"id": "C1", "kind": "public", "name": "support"}


@pytest.mark.parametrize(
    ("ptype", "expected"),
    [
        ("block_actions", "interaction.block_action"),
        ("view_submission", "interaction.view_submission"),
        ("view_closed", "interaction.view_closed"),
        ("shortcut", "interaction.shortcut"),
        ("message_action", "interaction.shortcut"),
        ("block_suggestion", "interaction.block_suggestion"),
        ("dialog_submission", "slack.event"),
    ],
)
def test_interactions(ptype: str, expected: str) -> None:
    payload = {
        "type": ptype,
        "team": {"id": "T1"},
        "user": {"id": "U1", "username": "ana"},
        "api_app_id": "AOURS",
        "channel": {"id": "C1"},
        "actions": [{"action_id": "ack"}],
        "message": {"ts": "1.1"},
        "view": {"id": "V1", "callback_id": "cb", "state": {"values": {"b": {"a": {}}}}},
    }
    result = one(run(payload, "interactivity").events)
    assert result.type == expected
    assert result.team_id == "T1"
    if ptype == "view_submission":
        assert result.data["view"]["values"] == {"b": {"a": {}}}
    if ptype == "block_actions":
        assert result.data["actions"] == [{"action_id": "ack"}]
        assert result.data["message_ts"] == "1.1"


def test_outgoing_webhook() -> None:
    form = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U1",
        "user_name": "ana",
        "text": "deploy now",
        "timestamp": "1.5",
        "trigger_word": "deploy",
    }
    result = one(run(form, "outgoing").events)
    assert (result.type, result.data["trigger_word"], result.data["ts"]) == (
        "message.posted",
        "deploy",
        "1.5",
    )
    assert run({**form, "user_id": "USLACKBOT"}, "outgoing").events == []


def test_channel_kind_from_type_and_prefix() -> None:
    assert channel_kind("C1", "mpim") == "mpim"
    assert channel_kind("D1") == "im"
    assert channel_kind(None) is None


def test_domain_event_rejects_unknown_type() -> None:
    with pytest.raises(ValueError, match="unknown webhook type"):
        DomainEvent("nope", None, None, {}, "k", "d", 0.0)
    assert "slack.event" in WEBHOOK_TYPES
