"""The control API under /_emulator/: acting as users, reading state, faults, reset."""

from __future__ import annotations

import base64

import httpx
import pytest

from slackbridge.emulator import ops
from slackbridge.emulator.seed import DEFAULT_CONFIGURATION_TOKEN
from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import TestInstall
from tests.integration.emulator.helpers import (
    ACME,
    ALICE,
    BOB,
    DAVE,
    GENERAL,
    STAFF,
    SUPPORT,
    call,
)


async def test_state_lists_world_apps_and_installations(
    client: httpx.AsyncClient, bot: TestInstall
) -> None:
    body = (await client.get("/_emulator/state")).json()
    assert body["ok"] is True
    assert body["configuration_token"] == DEFAULT_CONFIGURATION_TOKEN
    acme = next(w for w in body["workspaces"] if w["id"] == ACME)
    assert {u["id"] for u in acme["users"]} >= {ALICE, BOB, bot.bot_user_id}
    alice = next(u for u in acme["users"] if u["id"] == ALICE)
    assert alice["profile"]["email"] == "alice@acme.test"
    staff = next(c for c in acme["channels"] if c["id"] == STAFF)
    assert staff["kind"] == "private" and staff["members"] == [ALICE, BOB]
    app = next(a for a in body["apps"] if a["id"] == bot.app.id)
    assert app["client_secret"] == bot.app.client_secret
    assert app["signing_secret"] == bot.app.signing_secret
    inst = next(i for i in body["installations"] if i["app_id"] == bot.app.id)
    assert inst["status"] == "active" and inst["bot_token"] == bot.bot_token


async def test_post_reply_and_read_messages(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    root = await client.post(
        "/_emulator/messages", json={"channel_id": GENERAL, "user_id": ALICE, "text": "Help!"}
    )
    assert root.status_code == 200
    ts = root.json()["ts"]
    assert root.json() == {"ok": True, "ts": ts, "channel_id": GENERAL, "thread_ts": None}
    reply = await client.post(
        "/_emulator/messages",
        json={
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": BOB,
            "text": "On it",
            "thread_ts": ts,
        },
    )
    assert reply.json()["thread_ts"] == ts
    message_signal = next(s for s in seen if s.kind == "message")
    assert message_signal.data["message"]["user"] == ALICE
    assert message_signal.data["message"]["client_msg_id"]
    assert message_signal.data["channel_type"] == "channel"

    listing = (await client.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")).json()
    assert [m["text"] for m in listing["messages"]] == ["Help!"]
    assert [r["text"] for r in listing["messages"][0]["replies"]] == ["On it"]
    assert listing["messages"][0]["reply_count"] == 1


async def test_edit_delete_and_react(client: httpx.AsyncClient, state: EmulatorState) -> None:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    posted = await client.post(
        "/_emulator/messages", json={"channel_id": GENERAL, "user_id": ALICE, "text": "v1"}
    )
    ts = posted.json()["ts"]
    edited = await client.post(
        "/_emulator/messages/edit", json={"channel_id": GENERAL, "ts": ts, "text": "v2"}
    )
    assert edited.status_code == 200
    changed = next(s for s in seen if s.kind == "message_changed")
    assert changed.data["message"]["edited"]["user"] == ALICE
    not_author = await client.post(
        "/_emulator/messages/edit",
        json={"channel_id": GENERAL, "ts": ts, "text": "v3", "user_id": BOB},
    )
    assert not_author.status_code == 400 and not_author.json()["error"] == "cant_update_message"

    reacted = await client.post(
        "/_emulator/reactions",
        json={"channel_id": GENERAL, "ts": ts, "user_id": BOB, "name": ":tada:"},
    )
    assert reacted.json()["name"] == "tada"
    msg = state.channel(ACME, GENERAL).by_ts[ts]  # type: ignore[union-attr]
    assert msg.reactions == {"tada": [BOB]}
    twice = await client.post(
        "/_emulator/reactions",
        json={"channel_id": GENERAL, "ts": ts, "user_id": BOB, "name": "tada"},
    )
    assert twice.status_code == 400 and twice.json()["error"] == "already_reacted"
    await client.post(
        "/_emulator/reactions",
        json={"channel_id": GENERAL, "ts": ts, "user_id": BOB, "name": "tada", "remove": True},
    )
    assert msg.reactions == {}

    deleted = await client.post(
        "/_emulator/messages/delete", json={"channel_id": GENERAL, "ts": ts}
    )
    assert deleted.status_code == 200
    assert ts not in state.channel(ACME, GENERAL).by_ts  # type: ignore[union-attr]
    gone = await client.post("/_emulator/messages/delete", json={"channel_id": GENERAL, "ts": ts})
    assert gone.status_code == 404 and gone.json()["error"] == "message_not_found"


async def test_deleting_a_thread_root_leaves_a_tombstone(
    client: httpx.AsyncClient, state: EmulatorState
) -> None:
    root = (
        await client.post(
            "/_emulator/messages", json={"channel_id": GENERAL, "user_id": ALICE, "text": "root"}
        )
    ).json()["ts"]
    reply = (
        await client.post(
            "/_emulator/messages",
            json={"channel_id": GENERAL, "user_id": BOB, "text": "r", "thread_ts": root},
        )
    ).json()["ts"]
    await client.post("/_emulator/messages/delete", json={"channel_id": GENERAL, "ts": root})
    listing = (await client.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")).json()
    assert listing["messages"][0]["subtype"] == "tombstone"
    await client.post("/_emulator/messages/delete", json={"channel_id": GENERAL, "ts": reply})
    listing = (await client.get(f"/_emulator/conversations/{ACME}/{GENERAL}/messages")).json()
    assert listing["messages"] == []


async def test_invite_adds_bot_and_announces_it(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    response = await client.post(
        "/_emulator/conversations/invite",
        json={"team_id": ACME, "user_id": ALICE, "channel_id": SUPPORT, "users": bot.bot_user_id},
    )
    assert response.status_code == 200
    assert response.json()["joined"] == [bot.bot_user_id]
    joined = next(s for s in seen if s.kind == "member_joined_channel")
    assert joined.data["user"] == bot.bot_user_id and joined.data["inviter"] == ALICE
    channel_join = next(s for s in seen if s.kind == "message")
    assert channel_join.data["subtype"] == "channel_join"
    outsider = await client.post(
        "/_emulator/conversations/invite",
        json={"user_id": DAVE, "channel_id": SUPPORT, "users": [BOB]},
    )
    assert outsider.status_code == 400 and outsider.json()["error"] == "not_in_channel"


async def test_share_file_as_user(client: httpx.AsyncClient, state: EmulatorState) -> None:
    response = await client.post(
        "/_emulator/files",
        json={
            "channel_id": GENERAL,
            "user_id": ALICE,
            "filename": "logo.png",
            "content_base64": base64.b64encode(b"\x89PNG").decode(),
            "initial_comment": "our logo",
        },
    )
    body = response.json()
    assert response.status_code == 200, body
    assert body["file"]["mimetype"] == "image/png" and body["file"]["size"] == 4
    # Links use the address the emulator was reached at, even before any Web API call.
    assert body["file"]["url_private"].startswith("http://emulator.test/files-pri/")
    msg = state.channel(ACME, GENERAL).by_ts[body["ts"]]  # type: ignore[union-attr]
    assert msg.subtype == "file_share" and msg.text == "our logo"
    text = await client.post(
        "/_emulator/files",
        json={"channel_id": GENERAL, "user_id": ALICE, "filename": "a.txt", "content": "hi"},
    )
    assert text.json()["file"]["size"] == 2


@pytest.mark.parametrize(
    ("path", "body", "status", "error", "field"),
    [
        (
            "/_emulator/messages",
            {"user_id": ALICE, "text": "x"},
            400,
            "invalid_arguments",
            "channel_id",
        ),
        (
            "/_emulator/messages",
            {"channel_id": "C0NOPE0000", "user_id": ALICE, "text": "x"},
            404,
            "channel_not_found",
            "channel_id",
        ),
        (
            "/_emulator/messages",
            {"channel_id": GENERAL, "team_id": "T0NOPE", "user_id": ALICE, "text": "x"},
            404,
            "team_not_found",
            "team_id",
        ),
        (
            "/_emulator/messages",
            {"channel_id": GENERAL, "user_id": "U0NOPE", "text": "x"},
            404,
            "user_not_found",
            "user_id",
        ),
        (
            "/_emulator/messages",
            {"channel_id": STAFF, "user_id": DAVE, "text": "x"},
            400,
            "not_in_channel",
            "user_id",
        ),
        (
            "/_emulator/messages",
            {"channel_id": GENERAL, "user_id": ALICE, "text": 5},
            400,
            "invalid_arguments",
            "text",
        ),
        (
            "/_emulator/reactions",
            {"channel_id": GENERAL, "ts": "1.1", "user_id": ALICE, "name": "x", "remove": "yes"},
            400,
            "invalid_arguments",
            "remove",
        ),
        (
            "/_emulator/files",
            {"channel_id": GENERAL, "user_id": ALICE, "filename": "a", "content_base64": "%%%"},
            400,
            "invalid_arguments",
            "content_base64",
        ),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient,
    path: str,
    body: dict[str, object],
    status: int,
    error: str,
    field: str,
) -> None:
    response = await client.post(path, json=body)
    assert response.status_code == status
    payload = response.json()
    assert payload["ok"] is False and payload["error"] == error
    assert payload["detail"].startswith(field)


async def test_malformed_json_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/_emulator/messages", content=b"{nope")
    assert response.status_code == 400 and response.json()["error"] == "invalid_json"


async def test_paths_no_route_takes_answer_in_their_own_shape(client: httpx.AsyncClient) -> None:
    unknown = await client.post("/_emulator/nope", json={})
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found" and "/_emulator/nope" in unknown.json()["detail"]
    wrong_verb = await client.get("/_emulator/messages")
    assert wrong_verb.status_code == 405 and wrong_verb.json()["error"] == "method_not_allowed"
    # No redirect from "/faults/" to "/faults": a DELETE there would clear every fault.
    slash = await client.delete("/_emulator/faults/")
    assert slash.status_code == 404 and slash.json()["ok"] is False
    for path in ("/_emulator/response/", "/services/T0ACME0001/B1"):
        plain = await client.post(path, json={"text": "x"})
        assert (plain.status_code, plain.text) == (404, "no_service")


async def test_unknown_conversation_listing(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/_emulator/conversations/{ACME}/C0NOPE0000/messages")
    assert response.status_code == 404
    team = await client.get(f"/_emulator/conversations/T0NOPE/{GENERAL}/messages")
    assert team.status_code == 404 and team.json()["error"] == "team_not_found"


async def test_faults_on_methods(client: httpx.AsyncClient, bot: TestInstall) -> None:
    added = await client.post(
        "/_emulator/faults", json={"method": "chat.postMessage", "error": "fatal_error", "times": 2}
    )
    assert added.status_code == 200
    fault_id = added.json()["fault"]["id"]
    for _ in range(2):
        body = await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x")
        assert body == {"ok": False, "error": "fatal_error"}
    assert (await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x"))["ok"]
    assert (await client.get("/_emulator/faults")).json()["faults"] == []
    assert (await client.delete(f"/_emulator/faults/{fault_id}")).status_code == 404

    await client.post(
        "/_emulator/faults", json={"method": "chat.*", "status": 429, "retry_after": 7}
    )
    limited = await client.post(
        "/api/chat.update", data={"channel": GENERAL}, headers=bot.bot_headers
    )
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    await client.post("/_emulator/faults", json={"method": "team.info", "status": 503})
    listed = (await client.get("/_emulator/faults")).json()["faults"]
    assert [f["method"] for f in listed] == ["chat.*", "team.info"]
    assert listed[0]["hits"] == 1
    unavailable = await client.post("/api/team.info", headers=bot.bot_headers)
    assert unavailable.status_code == 503
    cleared = await client.delete("/_emulator/faults")
    assert cleared.json()["removed"] == 2
    assert (await client.post("/api/team.info", headers=bot.bot_headers)).status_code == 200


async def test_bad_fault(client: httpx.AsyncClient) -> None:
    both = await client.post("/_emulator/faults", json={"method": "x", "url": "http://y"})
    assert both.status_code == 400 and both.json()["detail"].startswith("method")
    nothing = await client.post("/_emulator/faults", json={"method": "x"})
    assert nothing.status_code == 400
    status = await client.post("/_emulator/faults", json={"method": "x", "status": 999})
    assert status.status_code == 400 and status.json()["detail"].startswith("status")


async def test_reset_returns_to_seed(
    client: httpx.AsyncClient, bot: TestInstall, state: EmulatorState
) -> None:
    await call(client, "chat.postMessage", bot.bot_token, channel=GENERAL, text="x")
    await client.post("/_emulator/faults", json={"method": "x", "error": "y"})
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    response = await client.post("/_emulator/reset")
    assert response.json() == {"ok": True, "configuration_token": DEFAULT_CONFIGURATION_TOKEN}
    assert state.apps == {} and state.installations == {}
    assert state.channel(ACME, GENERAL).messages == []  # type: ignore[union-attr]
    assert state.faults.faults == []
    assert [s.kind for s in seen] == ["reset"]
    gone = await call(client, "team.info", bot.bot_token)
    assert gone["error"] == "invalid_auth"


async def test_unexpected_failure_answers_json(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ops, "post_message", boom)
    response = await client.post(
        "/_emulator/messages", json={"channel_id": GENERAL, "user_id": ALICE, "text": "x"}
    )
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"


async def test_a_listing_for_a_user_carries_what_only_they_see(
    client: httpx.AsyncClient, state: EmulatorState, bot: TestInstall
) -> None:
    said = await call(
        client, "chat.postEphemeral", bot.bot_token, channel=GENERAL, user=BOB, text="only bob"
    )
    assert said["ok"], said
    path = f"/_emulator/conversations/{ACME}/{GENERAL}/messages"
    for_bob = (await client.get(path, params={"user_id": BOB})).json()
    (shown,) = for_bob["ephemerals"]
    assert shown["text"] == "only bob" and shown["is_ephemeral"] is True
    assert shown["ts"] == said["message_ts"]
    assert "only bob" not in [m["text"] for m in for_bob["messages"]]
    assert (await client.get(path, params={"user_id": ALICE})).json()["ephemerals"] == []
    assert "ephemerals" not in (await client.get(path)).json()
    nobody = await client.get(path, params={"user_id": "U0NOPE"})
    assert nobody.status_code == 404 and nobody.json()["error"] == "user_not_found"
