"""Slack's JSON shapes rendered from the emulator's objects."""

from __future__ import annotations

from slackbridge.emulator.render import (
    channel_type,
    render_channel,
    render_file,
    render_message,
    render_user,
)
from slackbridge.emulator.state import Channel, File, Message, User


def test_human_message_minimal() -> None:
    msg = Message(ts="1700000000.000001", channel_id="C1", text="hi", user="U1")
    assert render_message(msg, team_id="T1") == {
        "type": "message",
        "user": "U1",
        "text": "hi",
        "ts": "1700000000.000001",
        "team": "T1",
    }


def test_thread_root_and_reply_fields() -> None:
    root = Message(ts="1.000001", channel_id="C1", text="root", user="U1", thread_ts="1.000001")
    root.replies = ["1.000002", "1.000003"]
    root.reply_users = ["U2"]
    root.latest_reply = "1.000003"
    out = render_message(root)
    assert out["reply_count"] == 2 and out["reply_users_count"] == 1
    assert out["reply_users"] == ["U2"] and out["latest_reply"] == "1.000003"
    assert out["thread_ts"] == "1.000001" and "parent_user_id" not in out
    reply = Message(ts="1.000002", channel_id="C1", text="r", user="U2", thread_ts="1.000001")
    assert render_message(reply, parent_user_id="U1")["parent_user_id"] == "U1"


def test_bot_message_with_persona_reactions_and_edit() -> None:
    msg = Message(
        ts="1.000001",
        channel_id="C1",
        text="x",
        user="UB",
        bot_id="B1",
        app_id="A1",
        username="Agent",
        icons={"emoji": ":robot:"},
        subtype="bot_message",
        blocks=[{"type": "divider"}],
        edited={"user": "B1", "ts": "1.000009"},
        reactions={"eyes": ["U1", "U2"]},
    )
    out = render_message(msg, bot_profile={"id": "B1"})
    assert out["subtype"] == "bot_message" and out["bot_id"] == "B1" and out["app_id"] == "A1"
    assert out["username"] == "Agent" and out["icons"] == {"emoji": ":robot:"}
    assert out["blocks"] == [{"type": "divider"}]
    assert out["edited"] == {"user": "B1", "ts": "1.000009"}
    assert out["reactions"] == [{"name": "eyes", "users": ["U1", "U2"], "count": 2}]
    assert out["bot_profile"] == {"id": "B1"}


def test_file_urls_and_share_lists() -> None:
    file = File(
        id="F1",
        team_id="T1",
        user="U1",
        name="a b.txt",
        title="A",
        mimetype="text/plain",
        filetype="text",
        content=b"abc",
        created=1,
        channels=["C1", "D1"],
        shares={"C1": ["1.000001"]},
    )
    out = render_file(
        file, base_url="http://e", channel_kinds={"C1": "public", "D1": "im"}, channel_names={}
    )
    assert out["url_private"] == "http://e/files-pri/T1-F1/a%20b.txt"
    assert out["url_private_download"] == "http://e/files-pri/T1-F1/download/a%20b.txt"
    assert out["channels"] == ["C1"] and out["ims"] == ["D1"] and out["groups"] == []
    assert out["size"] == 3 and out["is_public"] is True
    assert out["shares"]["public"]["C1"][0]["ts"] == "1.000001"


def test_user_email_only_when_allowed() -> None:
    user = User(id="U1", team_id="T1", name="a", real_name="Ann Lee", email="a@x.test")
    assert render_user(user, include_email=True)["profile"]["email"] == "a@x.test"
    hidden = render_user(user, include_email=False)
    assert "email" not in hidden["profile"]
    assert hidden["profile"]["first_name"] == "Ann" and hidden["profile"]["last_name"] == "Lee"


def test_channels_and_dms() -> None:
    public = Channel(
        id="C1",
        team_id="T1",
        name="general",
        kind="public",
        creator="U1",
        created=5,
        members=["U1"],
    )
    out = render_channel(public, viewer_id="U1", num_members=True)
    assert out["is_channel"] and out["is_general"] and out["is_member"]
    assert out["num_members"] == 1 and not out["is_private"]
    group = Channel(id="G1", team_id="T1", name="staff", kind="private", creator="U1", created=5)
    legacy = render_channel(group, viewer_id="U2")
    assert legacy["is_group"] and not legacy["is_channel"] and legacy["is_private"]
    assert not legacy["is_member"]
    dm = Channel(
        id="D1", team_id="T1", name="D1", kind="im", creator="U1", created=5, members=["U1", "U2"]
    )
    assert render_channel(dm, viewer_id="U1", im_user="U2")["user"] == "U2"
    assert [channel_type(c) for c in (public, group, dm)] == ["channel", "group", "im"]
