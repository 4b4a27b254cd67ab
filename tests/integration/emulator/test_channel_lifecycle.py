"""A channel's life as apps hear it ("noisy" bridge mode): create, invite, archive, unarchive."""

from __future__ import annotations

from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, BOB, call
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Receiver,
    emulator_delivering_to,
    heard_events,
)

SCOPES = ["chat:write", "channels:manage", "channels:read", "channels:history", "groups:write"]
EVENTS = [
    "channel_created",
    "member_joined_channel",
    "channel_archive",
    "channel_unarchive",
    "message.channels",
]


async def test_create_invite_archive_unarchive_events_and_errors(state: EmulatorState) -> None:
    receiver = Receiver()
    app = make_test_app(
        state, bot_scopes=SCOPES, event_request_url=f"{RECEIVER_URL}/events", bot_events=EVENTS
    )
    bot = install_app_for_tests(state, ACME, SCOPES, app=app)
    token = bot.bot_token
    async with emulator_delivering_to(state, receiver) as emu:
        for bad, error in [
            ("", "invalid_name_required"),
            ("x" * 81, "invalid_name_maxlength"),
            ("Conv 42", "invalid_name_specials"),
            ("---", "invalid_name_punctuation"),
        ]:
            answer = await call(emu, "conversations.create", token, name=bad or None)
            assert answer["error"] == error, bad
        created = await call(emu, "conversations.create", token, name="conv-42")
        channel_id = created["channel"]["id"]
        assert channel_id.startswith("C") and created["channel"]["is_member"] is True
        taken = await call(emu, "conversations.create", token, name="conv-42")
        assert taken["error"] == "name_taken"

        invited = await call(
            emu, "conversations.invite", token, channel=channel_id, users=f"{ALICE},{BOB}"
        )
        assert invited["ok"] is True
        assert (await call(emu, "chat.postMessage", token, channel=channel_id, text="hi"))["ok"]

        assert await call(emu, "conversations.archive", token, channel=channel_id) == {"ok": True}
        twice = await call(emu, "conversations.archive", token, channel=channel_id)
        assert twice["error"] == "already_archived"
        post = await call(emu, "chat.postMessage", token, channel=channel_id, text="late")
        assert post["error"] == "is_archived"
        by_person = await emu.post(
            "/_emulator/messages",
            json={"team_id": ACME, "channel_id": channel_id, "user_id": ALICE, "text": "x"},
        )
        assert by_person.status_code == 400 and by_person.json()["error"] == "is_archived"

        assert await call(emu, "conversations.unarchive", token, channel=channel_id) == {"ok": True}
        again = await call(emu, "conversations.unarchive", token, channel=channel_id)
        assert again["error"] == "not_archived"

        events = await heard_events(emu, receiver)
    kinds = [(e["type"], e.get("subtype")) for e in events]
    created_event = next(e for e in events if e["type"] == "channel_created")
    assert created_event["channel"]["id"] == channel_id
    assert created_event["channel"]["name"] == "conv-42"
    assert created_event["channel"]["creator"] == bot.bot_user_id
    joined = [e for e in events if e["type"] == "member_joined_channel"]
    assert [(e["user"], e["inviter"], e["channel"]) for e in joined] == [
        (ALICE, bot.bot_user_id, channel_id),
        (BOB, bot.bot_user_id, channel_id),
    ]
    assert all(e["channel_type"] == "C" for e in joined)
    archive = next(e for e in events if e["type"] == "channel_archive")
    assert archive["channel"] == channel_id and archive["user"] == bot.bot_user_id
    unarchive = next(e for e in events if e["type"] == "channel_unarchive")
    assert unarchive["channel"] == channel_id
    # Slack's channel messages for both, in order, around the app's own post.
    messages = [k for k in kinds if k[0] == "message"]
    assert messages.index(("message", "channel_archive")) < messages.index(
        ("message", "channel_unarchive")
    )
    assert kinds.index(("message", "channel_archive")) < kinds.index(("channel_archive", None))
