"""The live chat's pure core: accounts made by Add to Slack, the card and its buttons, the
modal's note, claims and closes, and what each bridge webhook changes."""

from __future__ import annotations

from typing import Any

from slackbridge.demo.livechat.chats import (
    CLAIM_ACTION,
    CLOSE_ACTION,
    Livechat,
    card,
    close_modal,
    note_of,
)

TEAM = "T0ACME0001"


def _world() -> tuple[Livechat, Any]:
    live = Livechat()
    account = live.new_account()
    live.installed(account.id, TEAM, "Acme")
    account.channel_id = "C0ACME0SUP"
    return live, live.open_chat(account, "  Vera  ")


def _buttons(body: dict[str, Any]) -> list[str]:
    actions = [b for b in body["blocks"] if b["type"] == "actions"]
    return [e["action_id"] for e in actions[0]["elements"]] if actions else []


def test_add_to_slack_makes_accounts_and_the_install_ties_them() -> None:
    live = Livechat()
    first, second = live.new_account(), live.new_account()
    assert (first.id, second.id) == ("acct-1", "acct-2")
    assert not first.ready
    assert live.installed("acct-1", TEAM, "Acme") is first
    assert live.installed("acct-9", TEAM, "Acme") is None
    assert live.installed(None, TEAM, "Acme") is None
    assert not first.ready  # still mode needs a channel
    first.mode = "noisy"
    assert first.ready and live.accounts_of(TEAM) == [first]


def test_the_card_shows_who_has_the_chat_and_only_the_buttons_that_still_make_sense() -> None:
    live, chat = _world()
    assert chat.key == "chat-0001" and chat.visitor == "Vera"
    fresh = card(chat, "Do you ship to Norway?")
    assert _buttons(fresh) == [CLAIM_ACTION, CLOSE_ACTION]
    assert "Waiting for an agent" in str(fresh["blocks"]) and "Norway" in fresh["text"]
    assert live.claim(chat, "U0ACME0003", "Carol Chen")
    assert not live.claim(chat, "U0ACME0002", "Bob Baker")  # the first click wins
    claimed = card(chat, "Do you ship to Norway?")
    assert _buttons(claimed) == [CLOSE_ACTION] and "Claimed by Carol Chen" in str(claimed)
    assert live.close(chat, "Carol Chen", "Shipped")
    assert not live.close(chat, "Bob Baker", "again")
    closed = card(chat, "Do you ship to Norway?")
    assert _buttons(closed) == [] and "Closed by Carol Chen: Shipped" in str(closed)
    assert [e.kind for e in chat.events] == ["claimed", "closed"]
    assert card(chat, "x" * 400)["text"].endswith("…")


def test_the_modal_asks_for_a_note_and_the_note_is_read_back() -> None:
    _live, chat = _world()
    modal = close_modal(chat)
    assert modal["private_metadata"] == "chat-0001"
    assert modal["blocks"][0]["element"]["multiline"] is True
    assert note_of({"note": {"note": {"type": "plain_text_input", "value": "  Done "}}}) == "Done"
    assert note_of({}) == "" and note_of({"note": "x"}) == ""


def test_webhooks_change_the_chat_the_visitor_sees() -> None:
    live, chat = _world()
    conversation = {"key": chat.key}
    author = {"real_name": "Carol Chen", "bot_id": None}
    message = {
        "ts": "1.000001",
        "text": "Hello",
        "author": author,
        "files": [
            {
                "id": "F1",
                "name": "a.pdf",
                "mimetype": "application/pdf",
                "size": 3,
                "download_url": "/api/v1/files/T/F1/content",
            }
        ],
    }
    data = {"conversation": conversation, "message": message}
    assert live.apply("conversation.message.created", data) == ("agent_message", chat)
    assert chat.messages[-1].files[0].download_url == "/api/v1/files/T/F1/content"
    assert chat.events[-1].data["files"][0] == {
        "id": "F1",
        "name": "a.pdf",
        "mimetype": "application/pdf",
        "size": 3,
        "url": "/api/chats/1/files/F1",
    }  # the gateway's URL is never shown to the visitor
    edited = {"conversation": conversation, "message": {**message, "text": "Hello!"}}
    assert live.apply("conversation.message.edited", edited)[0] == "edited"
    assert chat.messages[-1].text == "Hello!" and chat.messages[-1].edited
    deleted = {"conversation": conversation, "message": {"ts": "1.000001"}}
    assert live.apply("conversation.message.deleted", deleted)[0] == "deleted"
    assert live.file(chat, "F1") is None
    own = {"conversation": conversation, "message": {**message, "product_message_id": "v-1"}}
    assert live.apply("conversation.message.created", own)[0] == "own"
    bot = {"conversation": conversation, "message": {**message, "author": {"bot_id": "B1"}}}
    assert live.apply("conversation.message.created", bot)[0] == "bot"
    assert live.apply("conversation.closed", {"conversation": conversation})[0] == "closed"
    assert chat.state == "closed" and chat.closed_by == "an agent"
    assert live.apply("conversation.reopened", {"conversation": conversation})[0] == "reopened"
    assert chat.state == "open"
    assert live.apply("conversation.closed", {"conversation": {"key": "chat-9999"}}) == (
        "not_ours",
        None,
    )
    assert live.apply("conversation.closed", {"conversation": {"key": "other-1"}})[0] == "not_ours"
