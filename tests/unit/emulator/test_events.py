"""Building Events API envelopes from world changes."""

from __future__ import annotations

import base64

import orjson

from slackbridge.emulator.events import build_envelopes
from slackbridge.emulator.installs import revoke_token, uninstall
from slackbridge.emulator.ops import (
    add_reaction,
    delete_message,
    edit_message,
    join_channel,
    open_dm,
    post_message,
)
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import TestInstall, install_app_for_tests

ACME = "T0ACME0001"
ALICE, BOB = "U0ACME0001", "U0ACME0002"
GENERAL, SUPPORT, STAFF, DM = "C0ACME0GEN", "C0ACME0SUP", "G0ACME0STF", "D0ACME0001"
GROUP_DM = "G0ACME0MPM"

_EVENTS = [
    "message.channels",
    "message.groups",
    "message.im",
    "message.mpim",
    "app_mention",
    "reaction_added",
    "member_joined_channel",
]


def _setup(channels: list[str]) -> tuple[EmulatorState, TestInstall, list[Signal]]:
    state = build_state()
    inst = install_app_for_tests(state, ACME, channels=channels)
    inst.app.bot_events = list(_EVENTS)
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    return state, inst, seen


def _user(state: EmulatorState, user_id: str):  # type: ignore[no-untyped-def]
    return state.workspaces[ACME].users[user_id]


def test_message_envelope_has_slacks_fields() -> None:
    state, inst, seen = _setup(["general"])
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    msg = post_message(state, channel, _user(state, ALICE), text="hello")
    routed = build_envelopes(state, seen[-1])
    assert len(routed) == 1
    env = routed[0].envelope
    assert env["token"] == inst.app.verification_token
    assert env["team_id"] == ACME and env["api_app_id"] == inst.app.id
    assert env["type"] == "event_callback"
    assert env["event_id"].startswith("Ev") and isinstance(env["event_time"], int)
    assert env["authorizations"] == [
        {
            "enterprise_id": None,
            "team_id": ACME,
            "user_id": inst.bot_user_id,
            "is_bot": True,
            "is_enterprise_install": False,
        }
    ]
    assert env["is_ext_shared_channel"] is False
    context = env["event_context"]
    assert context.startswith("4-")
    decoded = orjson.loads(base64.urlsafe_b64decode(context[2:] + "=" * (-len(context[2:]) % 4)))
    assert decoded["cid"] == GENERAL
    event = env["event"]
    assert event["type"] == "message" and "subtype" not in event
    assert event["user"] == ALICE and event["text"] == "hello" and event["ts"] == msg.ts
    assert event["channel"] == GENERAL and event["channel_type"] == "channel"
    assert event["event_ts"] == msg.ts and event["team"] == ACME
    assert "client_msg_id" in event


def test_only_members_and_subscribers_hear_messages() -> None:
    state, inst, seen = _setup(["general"])
    support = state.channel(ACME, SUPPORT)
    assert support is not None
    post_message(state, support, _user(state, ALICE), text="not a member")
    assert build_envelopes(state, seen[-1]) == []
    inst.app.bot_events = []
    general = state.channel(ACME, GENERAL)
    assert general is not None
    post_message(state, general, _user(state, ALICE), text="not subscribed")
    assert build_envelopes(state, seen[-1]) == []


def test_channel_types_follow_subscriptions() -> None:
    state, inst, seen = _setup(["general"])
    staff = state.channel(ACME, STAFF)
    dm = state.channel(ACME, DM)
    assert staff is not None and dm is not None
    staff.members.append(inst.bot_user_id)
    post_message(state, staff, _user(state, ALICE), text="private")
    (routed,) = build_envelopes(state, seen[-1])
    assert routed.envelope["event"]["channel_type"] == "group"
    inst.app.bot_events.remove("message.groups")
    post_message(state, staff, _user(state, ALICE), text="private again")
    assert build_envelopes(state, seen[-1]) == []
    dm.members.append(inst.bot_user_id)
    post_message(state, dm, _user(state, ALICE), text="direct")
    (routed,) = build_envelopes(state, seen[-1])
    assert routed.envelope["event"]["channel_type"] == "im"
    group = state.channel(ACME, GROUP_DM)
    assert group is not None and group.kind == "mpim"
    group.members.append(inst.bot_user_id)
    post_message(state, group, _user(state, BOB), text="group")
    (routed,) = build_envelopes(state, seen[-1])
    assert routed.envelope["event"]["channel_type"] == "mpim"
    assert routed.envelope["event"]["channel"] == GROUP_DM
    inst.app.bot_events.remove("message.mpim")
    post_message(state, group, _user(state, BOB), text="group again")
    assert build_envelopes(state, seen[-1]) == []


def test_mentions_in_a_dm_come_only_as_message_im() -> None:
    state, inst, seen = _setup([])
    dm, _ = open_dm(state, ACME, ALICE, inst.bot_user_id)
    post_message(state, dm, _user(state, ALICE), text=f"<@{inst.bot_user_id}> hi")
    (routed,) = build_envelopes(state, seen[-1])
    assert routed.envelope["event"]["type"] == "message"
    assert routed.envelope["event"]["channel_type"] == "im"


def test_mention_adds_app_mention_and_thread_fields() -> None:
    state, inst, seen = _setup(["general"])
    general = state.channel(ACME, GENERAL)
    assert general is not None
    root = post_message(state, general, _user(state, BOB), text="question")
    post_message(
        state, general, _user(state, ALICE), text=f"<@{inst.bot_user_id}> help", thread_ts=root.ts
    )
    routed = build_envelopes(state, seen[-1])
    kinds = sorted(r.envelope["event"]["type"] for r in routed)
    assert kinds == ["app_mention", "message"]
    mention = next(
        r.envelope["event"] for r in routed if r.envelope["event"]["type"] == "app_mention"
    )
    assert mention["thread_ts"] == root.ts and mention["channel"] == GENERAL
    assert "channel_type" not in mention
    message = next(r.envelope["event"] for r in routed if r.envelope["event"]["type"] == "message")
    assert message["parent_user_id"] == BOB
    ids = {r.envelope["event_id"] for r in routed}
    assert len(ids) == 2


def test_bot_posts_carry_bot_and_app_ids() -> None:
    state, inst, seen = _setup(["general"])
    general = state.channel(ACME, GENERAL)
    assert general is not None
    post_message(state, general, _user(state, inst.bot_user_id), text="from the app")
    (routed,) = build_envelopes(state, seen[-1])
    event = routed.envelope["event"]
    assert event["bot_id"] == inst.bot_id and event["app_id"] == inst.app.id
    assert event["user"] == inst.bot_user_id and "subtype" not in event
    profile = event["bot_profile"]
    assert profile["id"] == inst.bot_id and profile["app_id"] == inst.app.id
    assert profile["name"] == inst.app.name and profile["team_id"] == ACME
    post_message(state, general, _user(state, inst.bot_user_id), text="persona", username="Zed")
    (routed,) = build_envelopes(state, seen[-1])
    assert routed.envelope["event"]["subtype"] == "bot_message"
    assert routed.envelope["event"]["username"] == "Zed"


def test_edit_and_delete_events() -> None:
    state, _inst, seen = _setup(["general"])
    general = state.channel(ACME, GENERAL)
    assert general is not None
    alice = _user(state, ALICE)
    msg = post_message(state, general, alice, text="v1")
    edit_message(state, general, msg.ts, alice, text="v2")
    (routed,) = build_envelopes(state, seen[-1])
    event = routed.envelope["event"]
    assert event["subtype"] == "message_changed" and event["hidden"] is True
    assert event["message"]["text"] == "v2" and event["message"]["edited"]["user"] == ALICE
    assert event["previous_message"]["text"] == "v1"
    assert event["channel"] == GENERAL and event["ts"] == event["event_ts"] != msg.ts
    delete_message(state, general, msg.ts)
    (routed,) = build_envelopes(state, seen[-1])
    event = routed.envelope["event"]
    assert event["subtype"] == "message_deleted" and event["deleted_ts"] == msg.ts
    assert event["hidden"] is True and event["previous_message"]["text"] == "v2"


def test_reaction_and_join_events() -> None:
    state, _inst, seen = _setup(["general"])
    general = state.channel(ACME, GENERAL)
    assert general is not None
    msg = post_message(state, general, _user(state, BOB), text="nice")
    add_reaction(state, general, msg.ts, ALICE, "tada")
    (routed,) = build_envelopes(state, seen[-1])
    event = routed.envelope["event"]
    assert event == {
        "type": "reaction_added",
        "user": ALICE,
        "item": {"type": "message", "channel": GENERAL, "ts": msg.ts},
        "reaction": "tada",
        "item_user": BOB,
        "event_ts": event["event_ts"],
    }
    joins = [s for s in seen if s.kind == "member_joined_channel"]
    assert joins == []  # the bot joined before the listener was attached
    general.members.remove("U0ACME0004")
    join_channel(state, general, _user(state, "U0ACME0004"), inviter=ALICE)
    join = next(s for s in seen if s.kind == "member_joined_channel")
    (routed,) = build_envelopes(state, join)
    assert routed.envelope["event"]["channel_type"] == "C"
    assert routed.envelope["event"]["inviter"] == ALICE
    assert routed.envelope["event"]["user"] == "U0ACME0004"


def test_uninstall_and_revocation_reach_the_app_whatever_its_status() -> None:
    state, inst, seen = _setup(["general"])
    inst.app.bot_events += ["tokens_revoked", "app_uninstalled"]
    token = state.tokens[inst.bot_token]
    revoke_token(state, token)
    (routed,) = build_envelopes(state, seen[-1])
    assert routed.envelope["event"]["type"] == "tokens_revoked"
    assert routed.envelope["event"]["tokens"] == {"oauth": [], "bot": [inst.bot_user_id]}
    uninstall(state, inst.app.id, ACME)
    routed = build_envelopes(state, seen[-1])
    assert [r.envelope["event"]["type"] for r in routed] == ["app_uninstalled"]


def test_user_events_are_authorized_by_the_installing_person() -> None:
    state = build_state()
    inst = install_app_for_tests(state, ACME, user_scopes=["channels:history"])
    inst.app.user_events = ["message.channels"]
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    support = state.channel(ACME, SUPPORT)
    assert support is not None and ALICE in support.members
    post_message(state, support, _user(state, BOB), text="the bot is not here")
    (routed,) = build_envelopes(state, seen[-1])
    (auth,) = routed.envelope["authorizations"]
    assert auth["user_id"] == ALICE and auth["is_bot"] is False


def test_uninstall_and_revocation_need_a_subscription() -> None:
    state, inst, seen = _setup(["general"])
    revoke_token(state, state.tokens[inst.bot_token])
    assert build_envelopes(state, seen[-1]) == []
    uninstall(state, inst.app.id, ACME)
    assert build_envelopes(state, seen[-1]) == []
