"""World operations and the signals they emit."""

from __future__ import annotations

import pytest

from slackbridge.emulator import ops
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import Channel, EmulatorState, Signal, User
from slackbridge.emulator.webapi.registry import SlackError

ACME = "T0ACME0001"
World = tuple[EmulatorState, Channel, User, User, list[Signal]]


@pytest.fixture
def world() -> World:
    state = build_state()
    heard: list[Signal] = []
    state.listeners.append(heard.append)
    general = state.channel(ACME, "C0ACME0GEN")
    alice, bob = state.user("U0ACME0001"), state.user("U0ACME0002")
    assert general and alice and bob
    return state, general, alice, bob, heard


def test_reply_bookkeeping_and_reply_delete(world: World) -> None:
    state, general, alice, bob, heard = world
    root = ops.post_message(state, general, alice, text="root <@U0ACME0002>")
    r1 = ops.post_message(state, general, bob, text="r1", thread_ts=root.ts)
    r2 = ops.post_message(state, general, alice, text="r2", thread_ts=root.ts)
    assert root.replies == [r1.ts, r2.ts] and root.reply_users == [bob.id, alice.id]
    assert root.latest_reply == r2.ts and root.thread_ts == root.ts
    assert heard[0].data["mentions"] == [bob.id]
    assert heard[1].data["thread_ts"] == root.ts
    ops.delete_message(state, general, r2.ts)
    assert root.replies == [r1.ts] and root.latest_reply == r1.ts and root.reply_users == [bob.id]
    deleted = heard[-1]
    assert deleted.kind == "message_deleted" and deleted.data["thread_ts"] == root.ts
    ops.delete_message(state, general, r1.ts)
    assert root.replies == [] and root.thread_ts is None
    assert ops.message_json(state, general, root).get("reply_count") is None


def test_tombstone_disappears_with_its_last_reply(world: World) -> None:
    state, general, alice, bob, _ = world
    root = ops.post_message(state, general, alice, text="root")
    reply = ops.post_message(state, general, bob, text="r", thread_ts=root.ts)
    ops.delete_message(state, general, root.ts)
    assert general.by_ts[root.ts].subtype == "tombstone"
    with pytest.raises(SlackError, match="message_not_found"):
        ops.edit_message(state, general, root.ts, alice, text="x")
    ops.delete_message(state, general, reply.ts)
    assert general.messages == []


def test_subtypes(world: World) -> None:
    state, general, alice, bob, _ = world
    root = ops.post_message(state, general, alice, text="root")
    broadcast = ops.post_message(
        state, general, bob, text="b", thread_ts=root.ts, reply_broadcast=True
    )
    assert broadcast.subtype == "thread_broadcast"
    file = ops.create_file(state, ACME, alice.id, name="a.txt", content=b"a")
    shared = ops.share_files(state, [file], general, alice, initial_comment="look")
    assert shared.subtype == "file_share" and file.shares == {general.id: [shared.ts]}
    waiting = ops.create_file(state, ACME, alice.id, name="b.txt")
    with pytest.raises(SlackError, match="file_not_found"):
        ops.share_files(state, [waiting], general, alice)


def test_reactions(world: World) -> None:
    state, general, alice, bob, heard = world
    msg = ops.post_message(state, general, alice, text="x")
    ops.add_reaction(state, general, msg.ts, bob.id, "tada")
    with pytest.raises(SlackError, match="already_reacted"):
        ops.add_reaction(state, general, msg.ts, bob.id, "tada")
    assert heard[-1].data["item_user"] == alice.id
    ops.remove_reaction(state, general, msg.ts, bob.id, "tada")
    assert msg.reactions == {}
    with pytest.raises(SlackError, match="no_reaction"):
        ops.remove_reaction(state, general, msg.ts, bob.id, "tada")


def test_channels_and_dms(world: World) -> None:
    state, _, alice, bob, heard = world
    with pytest.raises(SlackError, match="name_taken"):
        ops.create_channel(state, ACME, "general", alice.id)
    for bad, code in [
        ("", "invalid_name_required"),
        ("--", "invalid_name_punctuation"),
        ("a" * 81, "invalid_name_maxlength"),
        ("A b", "invalid_name_specials"),
    ]:
        assert ops.channel_name_error(bad) == code
    new = ops.create_channel(state, ACME, "launch", alice.id)
    assert heard[-1].kind == "channel_created" and heard[-1].data["channel"]["name"] == "launch"
    assert ops.join_channel(state, new, bob, inviter=alice.id) is True
    assert ops.join_channel(state, new, bob) is False
    kinds = [s.kind for s in heard[-2:]]
    assert kinds == ["member_joined_channel", "message"]
    assert heard[-1].data["subtype"] == "channel_join"
    dm, created = ops.open_dm(state, ACME, alice.id, bob.id)
    assert (dm.id, created) == ("D0ACME0001", False)
    fresh, created = ops.open_dm(state, ACME, bob.id, "U0ACME0004")
    assert created and fresh.id.startswith("D")
    ops.archive_channel(state, new, alice.id)
    assert heard[-1].kind == "channel_archive"
    with pytest.raises(SlackError, match="already_archived"):
        ops.archive_channel(state, new, alice.id)
