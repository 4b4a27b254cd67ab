"""The service desk's answers go back where the person wrote: in the thread in a channel,
plainly in a DM; closed sessions take no answer; the idle time can be changed."""

from __future__ import annotations

import json
from typing import Any

import httpx

from slackbridge.demo.servicedesk.app import CLOSING_NOTE, ServiceDesk, create_servicedesk_app
from slackbridge.product.signing import generate_secret
from tests.support.example_app import signed_webhook

SECRET = generate_secret()


def _desk() -> tuple[httpx.AsyncClient, ServiceDesk, list[dict[str, Any]]]:
    posted: list[dict[str, Any]] = []

    def api(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/messages"
        body = json.loads(request.content)
        posted.append(body)
        accepted = {
            "id": f"msg_{len(posted)}",
            "operation": "chat.postMessage",
            "workspace": body["workspace"],
            "channel": body["channel"],
            "thread_ts": body.get("thread_ts"),
            "status": "queued",
            "ts": None,
            "error": None,
            "attempts": 0,
            "created_at": "2026-12-05T08:00:00Z",
            "sent_at": None,
        }
        return httpx.Response(202, json=accepted)

    app = create_servicedesk_app(
        "http://gateway.test", "sbk_test", SECRET, transport=httpx.MockTransport(api)
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://desk")
    return client, app.state.servicedesk, posted


async def _write(
    client: httpx.AsyncClient, webhook_id: str, channel: str, kind: str, ts: str
) -> int:
    data = {
        "workspace": {"team_id": "T0ACME0001"},
        "channel": {"id": channel, "kind": kind},
        "user": {"id": "U0ACME0002", "name": "bob"},
        "text": "help",
        "ts": ts,
    }
    body, headers = signed_webhook(SECRET, webhook_id, "message.posted", data)
    answer = (await client.post("/webhooks/slackbridge", content=body, headers=headers)).json()
    return int(answer["session"])


async def test_answers_go_in_the_thread_in_a_channel_and_plainly_in_a_dm() -> None:
    client, _, posted = _desk()
    async with client:
        in_channel = await _write(client, "m1", "C0ACME0SUP", "public", "1.000001")
        in_dm = await _write(client, "m2", "D0ACME0001", "im", "2.000001")
        for number in (in_channel, in_dm):
            sent = await client.post(f"/api/sessions/{number}/answer", json={"text": "On it"})
            assert sent.status_code == 202
    assert [(p["channel"], p.get("thread_ts"), p["text"]) for p in posted] == [
        ("C0ACME0SUP", "1.000001", "On it"),
        ("D0ACME0001", None, "On it"),
    ]


async def test_a_closed_session_takes_no_answer_and_the_person_is_told() -> None:
    client, desk, posted = _desk()
    async with client:
        number = await _write(client, "m1", "C0ACME0SUP", "public", "1.000001")
        assert (await client.post(f"/api/sessions/{number}/close")).status_code == 200
        refused = await client.post(f"/api/sessions/{number}/answer", json={"text": "late"})
        assert refused.status_code == 409
        assert (await client.post("/api/sessions/99/answer", json={"text": "x"})).status_code == 404
        assert (await client.post(f"/api/sessions/{number}/answer", json={})).status_code == 400
    assert [p["text"] for p in posted] == [CLOSING_NOTE]
    assert desk.desk.sessions[number].closed_reason == "agent"


async def test_the_idle_time_is_set_on_the_desk() -> None:
    client, desk, _posted = _desk()
    async with client:
        assert (await client.post("/api/settings", json={"idle_seconds": 30})).status_code == 200
        assert desk.desk.idle_seconds == 30
        bad = await client.post("/api/settings", json={"idle_seconds": "soon"})
        assert bad.status_code == 400 and desk.desk.idle_seconds == 30
        form = await client.post(
            "/api/settings", data={"idle_seconds": "45"}, headers={"accept": "text/html"}
        )
        assert form.status_code == 303 and desk.desk.idle_seconds == 45
