"""Code comments against a fake gateway that speaks the bridge's contract: sharing makes a
still conversation with the snippet and View comment, replies go both ways (the page's with the
writer's email and a persona to fall back on), edits and deletions both ways, the clicker is
known by email, and each environment hears only its own app's webhooks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from slackbridge.demo.comments.app import CommentsApp, create_comments_app
from slackbridge.demo.comments.review import VIEW_ACTION, snippet
from slackbridge.product.signing import generate_secret
from tests.support.example_app import signed_webhook
from tests.support.fake_bridge import FakeBridge, conversation_webhook

SECRET = generate_secret()
ACME, GLOBEX = "T0ACME0001", "T0GLBX0001"
PROD_APP, DEV_APP = "APROD", "ADEV"


@pytest.fixture
async def world() -> AsyncIterator[tuple[httpx.AsyncClient, FakeBridge, CommentsApp]]:
    fake = FakeBridge()
    app = create_comments_app(
        "http://gateway.test",
        "sbk_test",
        SECRET,
        "http://comments.test",
        transport=httpx.ASGITransport(app=fake.app),
    )
    comments: CommentsApp = app.state.comments
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://comments.test"
    ) as browser:
        yield browser, fake, comments
    await comments.close()


async def _webhook(browser: httpx.AsyncClient, webhook_id: str, kind: str, data: Any) -> Any:
    body, headers = signed_webhook(SECRET, webhook_id, kind, data)
    answer = await browser.post("/webhooks/slackbridge", content=body, headers=headers)
    assert answer.status_code == 200
    return answer.json()


async def _install_both(browser: httpx.AsyncClient, comments: CommentsApp) -> None:
    for n, (team, app_id, name) in enumerate(
        ((ACME, PROD_APP, "comments"), (GLOBEX, DEV_APP, "comments-dev"))
    ):
        ws = {"team_id": team, "team_name": team, "app_id": app_id, "app_name": name}
        await _webhook(browser, f"i{n}", "workspace.installed", {"workspace": ws})
    await comments.drain()


def _in(conversation: dict[str, Any], app_id: str, **data: Any) -> dict[str, Any]:
    body = conversation_webhook("x", conversation, **data)
    body["workspace"]["app_id"] = app_id
    return body


async def test_a_shared_comment_is_discussed_both_ways(world: Any) -> None:
    browser, fake, comments = world
    install = await browser.get("/dev/install")
    assert install.status_code == 302
    assert fake.called("POST", "/workspaces/install-url")[-1] == {
        "product_ref": "dev",
        "app": "comments-dev",
    }
    await _install_both(browser, comments)
    assert {body["email"] for body in fake.called("PUT", "/user-links/")} == {
        "alice@acme.test",
        "bob@acme.test",
        "pat@contractor.example",
    }

    made = await browser.post(
        "/prod/api/comments", json={"line": 12, "author": "p-pat", "text": "Round first?"}
    )
    assert made.status_code == 201
    shared = await browser.post("/prod/api/comments/1/share", json={"channel": "C0ACME0SUP"})
    assert shared.status_code == 200, shared.text
    put = fake.called("PUT", "/conversations/comment-prod-1")[0]
    assert put["workspace"] == ACME and put["mode"] == "still" and put["channel"] == "C0ACME0SUP"
    blocks = put["card"]["blocks"]
    assert snippet(12) in blocks[1]["text"]["text"] and " > " in snippet(12)
    button = blocks[2]["elements"][0]
    assert button["action_id"] == VIEW_ACTION and button["text"]["text"] == "View comment"
    assert button["url"] == "http://comments.test/prod/comments/1"
    conversation = fake.conversations["comment-prod-1"]

    for who, text in (("p-alice", "Agreed"), ("p-pat", "Done in 3f2a")):
        sent = await browser.post(
            "/prod/api/comments/1/replies", json={"author": who, "text": text}
        )
        assert sent.status_code == 201
    alice, pat = fake.called("POST", "/conversations/comment-prod-1/messages")
    assert alice["author"] == {
        "email": "alice@acme.test",
        "persona": {"name": "Alice A.", "icon_url": "https://avatars.example.org/alice.png"},
    }
    assert alice["id"] == "r-1" and pat["id"] == "r-2"
    assert pat["author"]["email"] == "pat@contractor.example"

    bob = {
        "slack_user": "U0ACME0002",
        "name": "bob",
        "real_name": "Bob Baker",
        "email": "bob@acme.test",
        "product_user": "p-bob",
        "bot_id": None,
    }
    message = {
        "ts": "1796000002.000100",
        "text": "Why round?",
        "author": bob,
        "product_message_id": None,
        "files": [],
    }
    data = _in(conversation, PROD_APP, message=message)
    assert (await _webhook(browser, "w1", "conversation.message.created", data))["outcome"] == (
        "reply"
    )
    edited = _in(
        conversation,
        PROD_APP,
        message={**message, "text": "Why round here?"},
        previous={"text": "Why round?"},
    )
    await _webhook(browser, "w2", "conversation.message.edited", edited)
    echo = {**message, "ts": "1796000002.000200", "product_message_id": "r-1"}
    await _webhook(
        browser, "w3", "conversation.message.created", _in(conversation, PROD_APP, message=echo)
    )
    gone = _in(
        conversation, PROD_APP, message={"ts": "1796000002.000200", "product_message_id": "r-1"}
    )
    await _webhook(browser, "w4", "conversation.message.deleted", gone)

    edit = await browser.patch("/prod/api/comments/1/replies/r-2", json={"text": "Done in 4b1c"})
    assert edit.status_code == 200
    assert fake.called("PATCH", "/conversations/comment-prod-1/messages/r-2") == [
        {"text": "Done in 4b1c"}
    ]
    assert (await browser.delete("/prod/api/comments/1/replies/r-2")).status_code == 200
    assert fake.called("DELETE", "/conversations/comment-prod-1/messages/r-2") == [None]

    click = {
        "workspace": {"team_id": ACME, "app_id": PROD_APP},
        "user": {"id": "U0ACME0003", "name": "carol", "email": "carol@acme.test"},
        "actions": [{"action_id": VIEW_ACTION, "value": "comment-prod-1"}],
    }
    viewed = await _webhook(browser, "w5", "interaction.block_action", click)
    assert viewed["by"] == {"slack_user": "U0ACME0003", "email": "carol@acme.test", "person": None}

    state = (await browser.get("/api/state")).json()["envs"]["prod"]["comments"][0]
    assert [(r["name"], r["text"], r["edited"], r["deleted"]) for r in state["replies"]] == [
        ("Alice A.", "", False, True),
        ("Pat Quinn", "", True, True),
        ("Bob Baker", "Why round here?", True, False),
    ]
    assert state["replies"][2]["person"] == "p-bob"
    assert state["viewed_by"][0]["email"] == "carol@acme.test"
    page = await browser.get("/prod/comments/1")
    assert "Why round here?" in page.text and "carol@acme.test" in page.text


async def test_each_environment_hears_only_its_own_app(world: Any) -> None:
    browser, fake, comments = world
    await _install_both(browser, comments)
    await browser.post("/dev/api/comments", json={"line": 3, "author": "p-bob", "text": "Typo"})
    assert (
        await browser.post("/dev/api/comments/1/share", json={"channel": "C0GLBX0GEN"})
    ).status_code == 200
    assert fake.called("PUT", "/conversations/comment-dev-1")[0]["workspace"] == GLOBEX
    conversation = fake.conversations["comment-dev-1"]
    message = {
        "ts": "1.000001",
        "text": "hi",
        "author": {"name": "erin", "bot_id": None},
        "product_message_id": None,
    }
    wrong = await _webhook(
        browser, "w1", "conversation.message.created", _in(conversation, PROD_APP, message=message)
    )
    assert wrong["outcome"] == "not_ours"
    right = await _webhook(
        browser, "w2", "conversation.message.created", _in(conversation, DEV_APP, message=message)
    )
    assert right == {"ok": True, "outcome": "reply", "env": "dev"}
    stranger = await _webhook(browser, "w3", "conversation.closed", _in(conversation, "AOTHER"))
    assert stranger["outcome"] == "not_ours"


async def test_bad_requests_are_refused(world: Any) -> None:
    browser, _fake, comments = world
    assert (await browser.post("/qa/api/comments", json={})).status_code == 404
    bad_line = await browser.post(
        "/prod/api/comments", json={"line": 99, "author": "p-pat", "text": "x"}
    )
    assert bad_line.status_code == 400
    await browser.post("/prod/api/comments", json={"line": 1, "author": "p-pat", "text": "x"})
    not_installed = await browser.post("/prod/api/comments/1/share", json={"channel": "C1"})
    assert not_installed.status_code == 409
    await _install_both(browser, comments)
    assert (await browser.post("/prod/api/comments/1/share", json={})).status_code == 400
    assert (await browser.post("/prod/api/comments/7/replies", json={})).status_code == 404
    nobody = await browser.post("/prod/api/comments/1/replies", json={"author": "x", "text": "y"})
    assert nobody.status_code == 400
    assert (await browser.delete("/prod/api/comments/1/replies/r-9")).status_code == 404
