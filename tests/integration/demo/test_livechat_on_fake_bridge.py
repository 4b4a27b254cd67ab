"""The live chat against a fake gateway that speaks the bridge's contract
(tests/support/fake_bridge.py): Add to Slack makes the account, the console signs in with Slack
(OpenID Connect, Slack faked too) and chooses where chats go, a visitor's chat becomes a
conversation (a thread under a card, or a channel of its own), agents' answers and files reach
the visitor's event stream, Claim updates the card, Close asks for a note and closes both sides."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from slackbridge.demo.livechat.app import LivechatApp, SlackOidc, create_livechat_app
from slackbridge.demo.livechat.chats import CLAIM_ACTION, CLOSE_ACTION, CLOSE_CALLBACK
from slackbridge.product.signing import generate_secret
from tests.support.example_app import signed_webhook
from tests.support.fake_bridge import FakeBridge, conversation_webhook

SECRET = generate_secret()
TEAM = "T0ACME0001"
CAROL = {"id": "U0ACME0003", "name": "carol", "real_name": "Carol Chen"}


def _id_token(nonce: str) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part({'aud': 'cid', 'nonce': nonce})}.sig"


class _Slack:
    """Slack's two OpenID Connect methods, for alice of Acme."""

    def __init__(self) -> None:
        self.nonce = ""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("openid.connect.token"):
            form = parse_qs(request.content.decode())
            assert form["client_secret"] == ["csecret"] and form["code"] == ["code-1"]
            return httpx.Response(
                200,
                json={"ok": True, "access_token": "xoxp-1", "id_token": _id_token(self.nonce)},
            )
        assert request.headers["authorization"] == "Bearer xoxp-1"
        return httpx.Response(
            200,
            json={
                "ok": True,
                "sub": "U0ACME0001",
                "https://slack.com/user_id": "U0ACME0001",
                "https://slack.com/team_id": TEAM,
                "name": "Alice Archer",
                "email": "alice@acme.test",
            },
        )


@pytest.fixture
async def world() -> AsyncIterator[tuple[httpx.AsyncClient, FakeBridge, LivechatApp, _Slack]]:
    fake, slack = FakeBridge(), _Slack()
    app = create_livechat_app(
        "http://gateway.test",
        "sbk_test",
        SECRET,
        oidc=SlackOidc("http://slack.test", "http://slack.test/api/", "cid", "csecret"),
        transport=httpx.ASGITransport(app=fake.app),
        slack_transport=httpx.MockTransport(slack),
    )
    live: LivechatApp = app.state.livechat
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://livechat.test"
    ) as browser:
        yield browser, fake, live, slack
    await live.close()


async def _webhook(browser: httpx.AsyncClient, webhook_id: str, kind: str, data: Any) -> Any:
    body, headers = signed_webhook(SECRET, webhook_id, kind, data)
    answer = await browser.post("/webhooks/slackbridge", content=body, headers=headers)
    assert answer.status_code == 200
    return answer.json()


async def _installed_and_signed_in(
    browser: httpx.AsyncClient, live: LivechatApp, slack: _Slack, mode: str = "still"
) -> str:
    """Add to Slack (the account made on the way), installed, alice signed in, mode chosen."""
    start = await browser.get("/install")
    assert start.status_code == 302 and "ref=acct-1" in start.headers["location"]
    installed = {"workspace": {"team_id": TEAM, "team_name": "Acme", "ref": "acct-1"}}
    await _webhook(browser, "w1", "workspace.installed", installed)

    login = await browser.get("/console/login")
    query = parse_qs(urlsplit(login.headers["location"]).query)
    assert login.headers["location"].startswith("http://slack.test/openid/connect/authorize?")
    assert query["scope"] == ["openid email profile"] and query["client_id"] == ["cid"]
    slack.nonce = query["nonce"][0]
    back = await browser.get(
        "/console/callback", params={"code": "code-1", "state": query["state"][0]}
    )
    assert back.status_code == 303
    browser.cookies.set("livechat_session", back.cookies["livechat_session"])
    console = await browser.get("/console")
    assert "Alice Archer" in console.text and "#support" in console.text

    chosen = await browser.post(
        "/console/accounts/acct-1", json={"mode": mode, "channel_id": "C0ACME0SUP"}
    )
    assert chosen.status_code == 200, chosen.text
    assert live.live.accounts["acct-1"].operators == ["U0ACME0001"]
    return "acct-1"


async def _events(browser: httpx.AsyncClient, chat: dict[str, Any]) -> list[tuple[str, Any]]:
    """The visitor's event stream (complete once the chat is closed)."""
    answer = await browser.get(
        f"/api/chats/{chat['number']}/events", params={"token": chat["token"]}
    )
    assert answer.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in answer.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            out.append((fields["event"], orjson.loads(fields["data"])))
    return out


async def test_a_still_chat_from_first_message_to_close(world: Any) -> None:
    browser, fake, live, slack = world
    await _installed_and_signed_in(browser, live, slack)
    opened = await browser.post(
        "/api/accounts/acct-1/chats",
        json={"visitor": "Vera", "text": "Do you ship to Norway?"},
    )
    assert opened.status_code == 201, opened.text
    chat = opened.json()["chat"]
    put = fake.called("PUT", "/conversations/chat-0001")[0]
    assert put["mode"] == "still" and put["channel"] == "C0ACME0SUP" and put["workspace"] == TEAM
    buttons = [e["action_id"] for e in put["card"]["blocks"][-1]["elements"]]
    assert buttons == [CLAIM_ACTION, CLOSE_ACTION]
    posted = fake.called("POST", "/conversations/chat-0001/messages")[0]
    assert posted["author"] == {"persona": {"name": "Vera", "icon_emoji": ":bust_in_silhouette:"}}
    assert posted["text"] == "Do you ship to Norway?" and posted["id"] == "v-1"
    conversation = fake.conversations["chat-0001"]

    fake.files["F1"] = b"%PDF price list"
    answer = {
        "ts": "1796000001.000200",
        "thread_ts": conversation["thread_ts"],
        "text": "Yes, in 3 days",
        "files": [
            {
                "id": "F1",
                "name": "prices.pdf",
                "mimetype": "application/pdf",
                "size": 15,
                "download_url": "/api/v1/files/T0ACME0001/F1/content",
            }
        ],
        "author": {
            **CAROL,
            "slack_user": CAROL["id"],
            "email": None,
            "product_user": None,
            "bot_id": None,
        },
        "product_message_id": None,
        "broadcast": False,
    }
    data = conversation_webhook("conversation.message.created", conversation, message=answer)
    assert (await _webhook(browser, "w2", "conversation.message.created", data))["outcome"] == (
        "agent_message"
    )
    got = await browser.get("/api/chats/1/files/F1", params={"token": chat["token"]})
    assert got.status_code == 200 and got.content == b"%PDF price list"
    assert (await browser.get("/api/chats/1/files/F1", params={"token": "x"})).status_code == 404

    click = {
        "workspace": {"team_id": TEAM},
        "user": CAROL,
        "trigger_id": "tr-1",
        "actions": [{"action_id": CLAIM_ACTION, "value": "chat-0001"}],
    }
    assert (await _webhook(browser, "w3", "interaction.block_action", click))[
        "outcome"
    ] == "claimed"
    await live.drain()
    update = fake.called("POST", "/messages/update")[0]
    assert update["ts"] == conversation["thread_ts"] and update["channel"] == "C0ACME0SUP"
    assert "Claimed by Carol Chen" in str(update["blocks"])
    assert CLAIM_ACTION not in str(update["blocks"])

    click = {**click, "actions": [{"action_id": CLOSE_ACTION, "value": "chat-0001"}]}
    assert (await _webhook(browser, "w4", "interaction.block_action", click))["outcome"] == "modal"
    await live.drain()
    view = fake.called("POST", "/views/open")[0]
    assert view["trigger_id"] == "tr-1" and view["view"]["callback_id"] == CLOSE_CALLBACK
    submitted = {
        "workspace": {"team_id": TEAM},
        "user": CAROL,
        "view": {
            "callback_id": CLOSE_CALLBACK,
            "private_metadata": "chat-0001",
            "values": {"note": {"note": {"type": "plain_text_input", "value": "Shipped"}}},
        },
    }
    assert (await _webhook(browser, "w5", "interaction.view_submission", submitted))[
        "outcome"
    ] == "closed"
    await live.drain()
    assert fake.called("POST", "/conversations/chat-0001/close") == [
        {"message": "Closed by Carol Chen: Shipped"}
    ]
    assert fake.conversations["chat-0001"]["state"] == "closed"

    events = await _events(browser, chat)
    assert [kind for kind, _ in events] == ["message", "message", "claimed", "closed"]
    assert events[1][1]["name"] == "Carol Chen" and events[1][1]["text"] == "Yes, in 3 days"
    assert events[1][1]["files"][0]["url"] == "/api/chats/1/files/F1"
    assert events[3][1] == {"closed_by": "Carol Chen", "note": "Shipped"}
    refused = await browser.post(
        "/api/chats/1/messages", params={"token": chat["token"]}, json={"text": "hello?"}
    )
    assert refused.status_code == 409


async def test_a_noisy_chat_gets_its_own_channel_and_its_card_is_a_message(world: Any) -> None:
    browser, fake, live, slack = world
    await _installed_and_signed_in(browser, live, slack, mode="noisy")
    content = base64.b64encode(b"screenshot").decode()
    opened = await browser.post(
        "/api/accounts/acct-1/chats",
        json={
            "visitor": "Nils",
            "text": "Broken",
            "files": [{"filename": "a.png", "content_base64": content}],
        },
    )
    assert opened.status_code == 201, opened.text
    put = fake.called("PUT", "/conversations/chat-0001")[0]
    assert put["mode"] == "noisy" and put["channel_name"] == "{key}"
    assert put["invite"] == ["U0ACME0001"]
    card, first = fake.called("POST", "/conversations/chat-0001/messages")
    assert card["id"] == "card" and CLAIM_ACTION in str(card["blocks"])
    assert first["files"] == [{"filename": "a.png", "content_base64": content}]

    click = {
        "workspace": {"team_id": TEAM},
        "user": CAROL,
        "trigger_id": "tr-1",
        "actions": [{"action_id": CLAIM_ACTION, "value": "chat-0001"}],
    }
    await _webhook(browser, "w2", "interaction.block_action", click)
    await live.drain()
    edit = fake.called("PATCH", "/conversations/chat-0001/messages/card")[0]
    assert "Claimed by Carol Chen" in str(edit["blocks"])

    conversation = fake.conversations["chat-0001"]
    closed = conversation_webhook("conversation.closed", conversation, closed_by="slack")
    await _webhook(browser, "w3", "conversation.closed", closed)
    events = await _events(browser, opened.json()["chat"])
    assert events[-1] == ("closed", {"closed_by": "an agent", "note": None})


async def test_edits_and_deletions_of_an_answer_reach_the_visitor_live(world: Any) -> None:
    browser, fake, live, slack = world
    await _installed_and_signed_in(browser, live, slack)
    chat = (
        await browser.post("/api/accounts/acct-1/chats", json={"visitor": "V", "text": "Hi"})
    ).json()["chat"]
    conversation = fake.conversations["chat-0001"]
    stream = live.updates.stream(live.live.chats[1], 0)
    assert b"event: message" in await anext(stream)  # the visitor's own first message
    waiting = anext(stream)

    message = {
        "ts": "1796000001.000300",
        "text": "Hello!",
        "files": [],
        "author": {**CAROL, "bot_id": None},
        "product_message_id": None,
    }
    data = conversation_webhook("conversation.message.created", conversation, message=message)
    await _webhook(browser, "w2", "conversation.message.created", data)
    assert b"Hello!" in await waiting
    edited = {**message, "text": "Hello, Vera!"}
    data = conversation_webhook(
        "conversation.message.edited", conversation, message=edited, previous={"text": "Hello!"}
    )
    await _webhook(browser, "w3", "conversation.message.edited", data)
    assert b"Hello, Vera!" in await anext(stream)
    data = conversation_webhook(
        "conversation.message.deleted", conversation, message={"ts": message["ts"]}
    )
    await _webhook(browser, "w4", "conversation.message.deleted", data)
    assert b'"deleted":true' in await anext(stream)
    await stream.aclose()
    ours = {**message, "ts": "1796000001.000400", "product_message_id": "v-1"}
    data = conversation_webhook("conversation.message.created", conversation, message=ours)
    assert (await _webhook(browser, "w5", "conversation.message.created", data))["outcome"] == "own"
    assert chat["token"]


async def test_visitors_and_operators_are_refused_what_is_not_theirs(world: Any) -> None:
    browser, _fake, live, slack = world
    assert (await browser.post("/api/accounts/acct-9/chats", json={"text": "x"})).status_code == 404
    settings = await browser.post("/console/accounts/acct-1", json={"mode": "still"})
    assert settings.status_code == 401
    await _installed_and_signed_in(browser, live, slack)
    assert (
        await browser.post("/console/accounts/acct-1", json={"mode": "loud"})
    ).status_code == 400
    empty = await browser.post("/api/accounts/acct-1/chats", json={"visitor": "V", "text": " "})
    assert empty.status_code == 400
    bad_file = await browser.post(
        "/api/accounts/acct-1/chats",
        json={"text": "x", "files": [{"filename": "a", "content_base64": "!!"}]},
    )
    assert bad_file.status_code == 400
    assert (await browser.get("/api/chats/1/events", params={"token": "x"})).status_code == 404
    stale = await browser.get("/console/callback", params={"code": "c", "state": "unknown"})
    assert stale.status_code == 400 and "sign in again" in stale.text
