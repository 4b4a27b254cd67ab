"""What apps hear when people edit, delete, react and share files (the control API and the web
page act through the same endpoints), and when Slack unfurls a link."""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, BOB, GENERAL
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Receiver,
    emulator_delivering_to,
    heard_events,
)

SCOPES = ["chat:write", "channels:history", "reactions:read", "files:read"]
EVENTS = ["message.channels", "reaction_added", "reaction_removed", "file_shared"]


def _listen(state: EmulatorState) -> None:
    app = make_test_app(
        state, bot_scopes=SCOPES, event_request_url=f"{RECEIVER_URL}/events", bot_events=EVENTS
    )
    install_app_for_tests(state, ACME, SCOPES, app=app, channels=[GENERAL])


async def _say(emu: httpx.AsyncClient, user: str, text: str, **more: Any) -> str:
    answer = await emu.post(
        "/_emulator/messages",
        json={"team_id": ACME, "channel_id": GENERAL, "user_id": user, "text": text, **more},
    )
    assert answer.status_code == 200, answer.text
    ts: str = answer.json()["ts"]
    return ts


async def test_edit_delete_react_and_file_in_a_thread(state: EmulatorState) -> None:
    receiver = Receiver()
    _listen(state)
    async with emulator_delivering_to(state, receiver) as emu:
        root = await _say(emu, ALICE, "root")
        reply = await _say(emu, BOB, "first", thread_ts=root)
        edited = await emu.post(
            "/_emulator/messages/edit",
            json={"channel_id": GENERAL, "user_id": BOB, "ts": reply, "text": "first (fixed)"},
        )
        assert edited.status_code == 200
        for remove in (False, True):
            reacted = await emu.post(
                "/_emulator/reactions",
                json={
                    "channel_id": GENERAL,
                    "user_id": ALICE,
                    "ts": reply,
                    "name": "eyes",
                    "remove": remove,
                },
            )
            assert reacted.status_code == 200
        shared = await emu.post(
            "/_emulator/files",
            json={
                "team_id": ACME,
                "channel_id": GENERAL,
                "user_id": BOB,
                "filename": "log.txt",
                "content": "boom",
                "initial_comment": "the log",
                "thread_ts": root,
            },
        )
        assert shared.status_code == 200
        file_id = shared.json()["file"]["id"]
        share_ts = shared.json()["ts"]
        deleted = await emu.post(
            "/_emulator/messages/delete", json={"channel_id": GENERAL, "user_id": BOB, "ts": reply}
        )
        assert deleted.status_code == 200
        events = await heard_events(emu, receiver)

    changed = next(e for e in events if e.get("subtype") == "message_changed")
    assert changed["message"]["text"] == "first (fixed)"
    assert changed["message"]["edited"]["user"] == BOB
    assert changed["previous_message"]["text"] == "first"
    assert changed["message"]["thread_ts"] == root and changed["hidden"] is True

    added = next(e for e in events if e["type"] == "reaction_added")
    removed = next(e for e in events if e["type"] == "reaction_removed")
    for event in (added, removed):
        assert event["user"] == ALICE and event["reaction"] == "eyes"
        assert event["item"] == {"type": "message", "channel": GENERAL, "ts": reply}
        assert event["item_user"] == BOB

    share = next(e for e in events if e.get("subtype") == "file_share")
    assert share["ts"] == share_ts and share["thread_ts"] == root
    assert [f["id"] for f in share["files"]] == [file_id]
    assert share["text"] == "the log"
    file_shared = next(e for e in events if e["type"] == "file_shared")
    assert file_shared["file_id"] == file_id and file_shared["file"] == {"id": file_id}
    assert file_shared["user_id"] == BOB and file_shared["channel_id"] == GENERAL
    kinds = [(e["type"], e.get("subtype")) for e in events]
    assert kinds.index(("message", "file_share")) < kinds.index(("file_shared", None))

    gone = next(e for e in events if e.get("subtype") == "message_deleted")
    assert gone["deleted_ts"] == reply and gone["previous_message"]["text"] == "first (fixed)"


async def test_deleting_a_thread_parent_with_replies_leaves_a_tombstone(
    state: EmulatorState,
) -> None:
    receiver = Receiver()
    _listen(state)
    async with emulator_delivering_to(state, receiver) as emu:
        root = await _say(emu, ALICE, "root")
        reply = await _say(emu, BOB, "answer", thread_ts=root)
        await emu.post("/_emulator/messages/delete", json={"channel_id": GENERAL, "ts": root})
        listing = (await emu.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")).json()
        tomb = next(m for m in listing["messages"] if m["ts"] == root)
        assert tomb["subtype"] == "tombstone" and tomb["text"] == "This message was deleted."
        assert tomb["user"] == "USLACKBOT" and tomb["hidden"] is True
        assert tomb["reply_count"] == 1
        events = await heard_events(emu, receiver)
        changed = [e for e in events if e.get("subtype") == "message_changed"]
        assert len(changed) == 1
        assert changed[0]["message"]["subtype"] == "tombstone"
        assert changed[0]["message"]["ts"] == root
        assert changed[0]["previous_message"]["text"] == "root"
        assert not [e for e in events if e.get("subtype") == "message_deleted"]

        # The last reply goes: so does the tombstone, and apps hear both deletions.
        await emu.post("/_emulator/messages/delete", json={"channel_id": GENERAL, "ts": reply})
        events = await heard_events(emu, receiver)
        deleted = [e for e in events if e.get("subtype") == "message_deleted"]
        assert [e["deleted_ts"] for e in deleted] == [reply, root]
        gone = deleted[1]["previous_message"]
        assert gone["subtype"] == "tombstone" and gone["reply_count"] == 0
        assert gone["parent_user_id"] == "USLACKBOT" and gone["hidden"] is True


async def test_an_unfurl_is_a_message_changed_without_edited(state: EmulatorState) -> None:
    receiver = Receiver()
    _listen(state)
    async with emulator_delivering_to(state, receiver) as emu:
        ts = await _say(emu, ALICE, "see <https://example.test/ticket/7>")
        unfurled = await emu.post(
            "/_emulator/messages/unfurl",
            json={"channel_id": GENERAL, "ts": ts, "title": "Ticket 7"},
        )
        assert unfurled.status_code == 200, unfurled.text
        assert unfurled.json()["attachment"]["original_url"] == "https://example.test/ticket/7"
        no_link_ts = await _say(emu, ALICE, "no link here")
        no_link = await emu.post(
            "/_emulator/messages/unfurl", json={"channel_id": GENERAL, "ts": no_link_ts}
        )
        assert no_link.status_code == 400 and no_link.json()["error"] == "no_link"
        events = await heard_events(emu, receiver)
    changed = next(e for e in events if e.get("subtype") == "message_changed")
    assert "edited" not in changed["message"]
    assert changed["message"]["text"] == changed["previous_message"]["text"]
    assert changed["message"]["attachments"][0]["title"] == "Ticket 7"
    assert "attachments" not in changed["previous_message"]
