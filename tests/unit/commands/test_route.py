"""Routing normalized Slack events: command.matched, help answers, and what passes untouched."""

from __future__ import annotations

from typing import Any

from slackbridge.commands.declaration import build_commands
from slackbridge.commands.route import routable, route
from slackbridge.domain.events import DomainEvent
from slackbridge.pipeline.normalize import normalize

BOT = "U0BOT00001"
NOON_UTC = 1_796_212_800.0  # Wednesday 2026-12-02 12:00 UTC
COMMANDS = build_commands(
    [
        {"name": "add", "pattern": "add {title:text} [due {due:date}]", "examples": ["add x"]},
        {"name": "call", "pattern": "{who:user}...", "slash": "/call"},
    ]
)


def _event(event: dict[str, Any], *, is_bot: bool = True) -> DomainEvent:
    envelope = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": "Ev1",
        "event_time": NOON_UTC,
        "authorizations": [{"team_id": "T1", "user_id": BOT, "is_bot": is_bot}],
        "event": {"ts": "1.000001", **event},
    }
    (found,) = normalize("events", envelope, dedupe_key="Ev1", received_at=NOON_UTC).events
    return found


def _slash(command: str, text: str) -> DomainEvent:
    form = {
        "team_id": "T1",
        "api_app_id": "A1",
        "channel_id": "C1",
        "user_id": "U1",
        "command": command,
        "text": text,
        "response_url": "https://hooks.slack.com/commands/T1/1/x",
        "trigger_id": "1.2.3",
    }
    (found,) = normalize("commands", form, dedupe_key="d1", received_at=NOON_UTC).events
    return found


def _mention(text: str, **extra: Any) -> DomainEvent:
    return _event({"type": "app_mention", "channel": "C1", "user": "U1", "text": text, **extra})


def _dm(text: str, *, is_bot: bool = True, **extra: Any) -> DomainEvent:
    fields = {"type": "message", "channel": "D1", "channel_type": "im", "user": "U1", "text": text}
    return _event({**fields, **extra}, is_bot=is_bot)


def test_a_mention_becomes_command_matched() -> None:
    (matched,) = route(
        [_mention(f"<@{BOT}> add “Ship it” due friday", thread_ts="0.5")], COMMANDS
    ).events
    assert matched.type == "command.matched"
    assert matched.dedupe_key == "Ev1"
    data = matched.data
    assert data["command"] == "add"
    assert data["arguments"] == {"title": "Ship it", "due": "2026-12-04"}
    assert data["text"] == "add “Ship it” due friday"
    assert data["source"] == "mention"
    assert data["channel"] == {"id": "C1", "kind": "public"}
    assert data["user"] == {"id": "U1"}
    assert (data["ts"], data["thread_ts"]) == ("1.000001", "0.5")
    assert data["response_url"] is None and data["slash_command"] is None
    assert data["edited"] is False
    assert data["raw"]["event"]["type"] == "app_mention"


def test_a_dm_and_a_slash_command_become_command_matched() -> None:
    (dm,) = route([_dm("add milk")], COMMANDS).events
    assert (dm.data["source"], dm.data["arguments"]["title"]) == ("dm", "milk")
    assert dm.data["channel"]["kind"] == "im"
    (slash,) = route([_slash("/call", "<@U2> <@U3>")], COMMANDS).events
    assert slash.data["source"] == "slash"
    assert slash.data["slash_command"] == "/call"
    assert slash.data["arguments"] == {"who": ["U2", "U3"]}
    assert slash.data["response_url"] == "https://hooks.slack.com/commands/T1/1/x"
    assert slash.data["trigger_id"] == "1.2.3"


def test_dates_are_read_in_the_persons_time_zone() -> None:
    late = _mention(f"<@{BOT}> add x due tomorrow")
    late.occurred_at = NOON_UTC + 11 * 3600  # 23:00 UTC, already Thursday in Tokyo
    (utc,) = route([late], COMMANDS).events
    assert utc.data["arguments"]["due"] == "2026-12-03"
    (tokyo,) = route([late], COMMANDS, timezones={"U1": "Asia/Tokyo"}).events
    assert tokyo.data["arguments"]["due"] == "2026-12-04"


def test_unmatched_messages_get_help_instead_of_a_webhook() -> None:
    routed = route(
        [_mention(f"<@{BOT}> ad milk", thread_ts="0.5"), _slash("/call", "bob")], COMMANDS
    )
    assert routed.events == []
    mention, slash = routed.replies
    assert (mention.channel_id, mention.user_id, mention.thread_ts) == ("C1", "U1", "0.5")
    assert mention.response_url is None
    assert f"Did you mean <@{BOT}> `add`?" in mention.text
    assert slash.response_url == "https://hooks.slack.com/commands/T1/1/x"
    assert slash.text.startswith("That doesn't fit `call`")


def test_what_the_router_leaves_alone() -> None:
    untouched = [
        _slash("/bridge", "anything"),  # no command declared for /bridge
        _mention(f"<@{BOT}> add x", bot_id="B9"),  # another bot
        _dm("add x", bot_id="B9", subtype="bot_message"),
        _dm("add x", is_bot=False),  # a DM seen through a person's token
        _event({"type": "message", "channel": "C1", "user": "U1", "text": "add x"}),  # channel
        _event(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": "D1",
                "channel_type": "im",
                "message": {"user": "U1", "text": "add y", "ts": "1.0", "edited": {"ts": "2.0"}},
                "previous_message": {"user": "U1", "text": "add x", "ts": "1.0"},
            }
        ),
    ]
    assert route(untouched, COMMANDS) == route(untouched, COMMANDS)
    routed = route(untouched, COMMANDS)
    assert routed.events == untouched and routed.replies == []
    assert routable(untouched, COMMANDS) == []
    assert route(untouched[:1], []).events == untouched[:1]


def test_edits_run_again_only_when_configured() -> None:
    edit = _event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C1",
            "message": {
                "user": "U1",
                "text": f"<@{BOT}> add fixed",
                "ts": "1.0",
                "edited": {"ts": "2.0"},
            },
            "previous_message": {"user": "U1", "text": f"<@{BOT}> ad fixed", "ts": "1.0"},
        }
    )
    assert route([edit], COMMANDS).events == [edit]
    (again,) = route([edit], COMMANDS, rerun_on_edit=True).events
    assert again.type == "command.matched"
    assert again.data["edited"] is True and again.data["source"] == "mention"
    assert again.data["arguments"]["title"] == "fixed"
