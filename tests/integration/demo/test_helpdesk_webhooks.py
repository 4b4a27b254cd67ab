"""The Helpdesk's webhook endpoint (only correctly signed slackbridge webhooks get in, once)
and its own API, against a stand-in for slackbridge's API: tickets are bridge conversations."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from slackbridge.demo.helpdesk import WEBHOOK_PATH, Helpdesk, create_helpdesk_app
from slackbridge.product.signing import generate_secret, sign_headers
from tests.integration.demo.helpdesk_bodies import (
    ROOT,
    TEAM,
    FakeApi,
    conversation_opened,
    message_created,
)

SECRET = generate_secret()


@pytest.fixture
async def setup() -> AsyncIterator[tuple[httpx.AsyncClient, Helpdesk, FakeApi]]:
    api = FakeApi()
    app = create_helpdesk_app(
        "http://slackbridge.test", "sbk_test", SECRET, transport=httpx.MockTransport(api)
    )
    helpdesk: Helpdesk = app.state.helpdesk
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://helpdesk.test") as client:
        yield client, helpdesk, api
    await helpdesk.close()


async def _send(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(
        WEBHOOK_PATH, content=body, headers={**headers, "content-type": "application/json"}
    )


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed body", "no signature", "stale timestamp", "other webhook id"],
)
async def test_badly_signed_webhooks_are_refused_and_change_nothing(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi], tamper: str
) -> None:
    client, helpdesk, api = setup
    body = conversation_opened()
    now = int(time.time())
    headers = sign_headers(SECRET, "msg_1", now, body)
    if tamper == "wrong secret":
        headers = sign_headers(generate_secret(), "msg_1", now, body)
    elif tamper == "changed body":
        body = body.replace(b"jammed", b"fine!!")
    elif tamper == "no signature":
        del headers["webhook-signature"]
    elif tamper == "stale timestamp":
        headers = sign_headers(SECRET, "msg_1", now - 3600, body)
    else:
        headers["webhook-id"] = "msg_2"

    response = await _send(client, body, headers)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert helpdesk.desk.tickets == {}
    assert api.calls == []


async def test_a_signed_body_that_is_not_a_webhook_is_a_400(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, helpdesk, _api = setup
    body = b'{"hello": "world"}'
    response = await _send(client, body, sign_headers(SECRET, "msg_1", int(time.time()), body))
    assert response.status_code == 400
    assert helpdesk.desk.tickets == {}


async def _webhook(client: httpx.AsyncClient, body: bytes, webhook_id: str) -> httpx.Response:
    return await _send(client, body, sign_headers(SECRET, webhook_id, int(time.time()), body))


async def test_a_signed_question_is_adopted_as_one_ticket_and_acknowledged_in_its_thread(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, helpdesk, api = setup
    body = conversation_opened()
    headers = sign_headers(SECRET, "msg_1", int(time.time()), body)

    first = await _send(client, body, headers)
    again = await _send(client, body, headers)  # slackbridge redelivers: same webhook-id
    await helpdesk.drain()

    assert first.status_code == 200 and first.json()["outcome"] == "opened"
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert list(helpdesk.desk.tickets) == [1]
    ticket = helpdesk.desk.tickets[1]
    assert (ticket.adopted, ticket.channel_name) == (True, "support")
    method, path, put = api.calls[0]
    assert (method, path) == ("PUT", "/api/v1/conversations/ticket-1")
    assert put["adopt"] == {"channel": "C0ACME0SUP", "thread_ts": ROOT}
    method, path, ack = api.calls[1]
    assert (method, path) == ("POST", "/api/v1/conversations/ticket-1/messages")
    assert ack["id"] == "ack" and ack["author"]["persona"]["name"] == "Helpdesk"
    assert api.paths()[2] == f"/api/v1/slack/{TEAM}/conversations.info"
    # No Slack bookkeeping of its own: nothing but the bridge and channel names.
    assert not any("chat." in p or "reactions." in p for p in api.paths())


async def test_an_agent_answers_edits_deletes_and_sends_files_through_the_bridge(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, helpdesk, api = setup
    await _webhook(client, conversation_opened(), "w1")
    await helpdesk.drain()
    files = [{"filename": "guide.txt", "content_base64": base64.b64encode(b"hi").decode()}]

    sent = await client.post("/api/tickets/1/replies", json={"text": " On it ", "files": files})
    assert sent.status_code == 202, sent.text
    message = sent.json()["message"]
    assert (message["text"], message["delivery"]) == ("On it", "queued")
    assert message["files"] == [{"name": "guide.txt", "size": 2}]
    posted = api.calls[-1][2]
    assert posted["author"]["persona"]["name"] == "Helpdesk agent"
    assert posted["files"][0]["filename"] == "guide.txt" and posted["id"] == message["id"]

    edited = await client.patch(f"/api/tickets/1/replies/{message['id']}", json={"text": "Done"})
    assert edited.status_code == 202 and edited.json()["message"]["edited"]
    assert api.calls[-1][:2] == (
        "PATCH",
        f"/api/v1/conversations/ticket-1/messages/{message['id']}",
    )
    deleted = await client.delete(f"/api/tickets/1/replies/{message['id']}")
    assert deleted.status_code == 202 and deleted.json()["message"]["deleted"]
    assert api.calls[-1][:2] == (
        "DELETE",
        f"/api/v1/conversations/ticket-1/messages/{message['id']}",
    )
    resolved = await client.post("/api/tickets/1/resolve")
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert api.calls[-1][1] == "/api/v1/conversations/ticket-1/close"


async def test_files_from_slack_are_fetched_through_slackbridge(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, _helpdesk, api = setup
    await _webhook(client, conversation_opened(), "w1")
    url = f"http://slackbridge.test/api/v1/files/{TEAM}/F1/content"
    shared = {
        "id": "F1",
        "name": "log.txt",
        "mimetype": "text/plain",
        "size": 3,
        "download_url": url,
    }
    await _webhook(client, message_created("1700000000.000200", "log", [shared]), "w2")
    api.files["F1"] = b"log"

    got = await client.get("/api/tickets/1/files/F1")
    missing = await client.get("/api/tickets/1/files/F9")

    assert got.status_code == 200 and got.content == b"log"
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "file_not_found"
    assert ("GET", f"/api/v1/files/{TEAM}/F1/content") in [(m, p) for m, p, _ in api.calls]


async def test_a_check_mark_closes_the_conversation(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, helpdesk, api = setup
    await _webhook(client, conversation_opened(), "w1")
    reaction = orjson.loads(conversation_opened())
    reaction["type"] = "conversation.reaction.added"
    reaction["data"]["conversation"]["key"] = "ticket-1"
    reaction["data"]["reaction"] = {
        "name": "white_check_mark",
        "user": {"slack_user": "U0ACME0001", "name": "alice", "bot_id": None},
        "message_ts": ROOT,
        "product_message_id": None,
    }
    answer = await _webhook(client, orjson.dumps(reaction), "w2")
    await helpdesk.drain()

    assert answer.json()["outcome"] == "resolved"
    assert api.calls[-1][1] == "/api/v1/conversations/ticket-1/close"
    assert "resolved" in api.calls[-1][2]["message"]


async def test_an_urgent_ticket_gets_a_channel_of_its_own(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, helpdesk, api = setup
    helpdesk.desk.apply("workspace.installed", {"workspace": {"team_id": TEAM, "status": "active"}})

    opened = await client.post(
        "/api/tickets",
        json={"team_id": TEAM, "text": "No network", "requester": "Dave", "invite": ["U3"]},
    )

    assert opened.status_code == 201, opened.text
    assert (opened.json()["key"], opened.json()["mode"]) == ("ticket-1", "noisy")
    put = next(body for m, p, body in api.calls if m == "PUT")
    assert (put["mode"], put["channel_name"], put["invite"]) == ("noisy", "{key}", ["U3"])
    card = next(body for m, p, body in api.calls if p.endswith("/messages"))
    assert card["id"] == "card" and "No network" in card["text"]


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/tickets/9/replies", {"text": "x"}, 404, "ticket_not_found"),
        ("/api/tickets/1/replies", {"text": " "}, 400, "invalid_text"),
        ("/api/tickets/1/replies", {"text": "x", "as": "cat"}, 400, "invalid_as"),
        (
            "/api/tickets/1/replies",
            {"text": "x", "files": [{"filename": "a"}]},
            400,
            "invalid_files",
        ),
        ("/api/tickets", {"team_id": "T9", "text": "x"}, 400, "invalid_team"),
    ],
)
async def test_bad_requests_are_explained(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
    path: str,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    client, _helpdesk, _api = setup
    await _webhook(client, conversation_opened(), "w1")
    answer = await client.post(path, json=body)
    assert answer.status_code == status and answer.json()["error"]["code"] == code


async def test_the_support_channel_is_watched_for_each_active_workspace(
    setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi],
) -> None:
    client, helpdesk, api = setup
    installed = orjson.dumps(
        {
            "type": "workspace.installed",
            "timestamp": "2026-11-21T10:00:00Z",
            "data": {"workspace": {"team_id": TEAM, "status": "active"}},
        }
    )
    await _webhook(client, installed, "w1")
    await helpdesk.drain()

    assert helpdesk.desk.watched == {TEAM: "C0ACME0SUP"}
    assert ("PUT", "/api/v1/watched-channels/C0ACME0SUP") in [(m, p) for m, p, _ in api.calls]


async def test_the_page_and_health(setup: tuple[httpx.AsyncClient, Helpdesk, FakeApi]) -> None:
    client, _helpdesk, _api = setup
    page = await client.get("/")
    assert page.status_code == 200
    assert "<title>Helpdesk</title>" in page.text
    assert (await client.get("/healthz")).json() == {"ok": True}
