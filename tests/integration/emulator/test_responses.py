"""response_url limits and message effects; incoming webhooks and their plain-text errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from slackbridge.emulator.ops import post_message
from slackbridge.emulator.state import EmulatorState, Signal
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL
from tests.integration.emulator.receiver import RECEIVER_URL, Receiver, emulator_delivering_to


@pytest.fixture
def inst(state: EmulatorState) -> TestInstall:
    app = make_test_app(
        state,
        slash_commands=[("/ticket", f"{RECEIVER_URL}/cmd")],
        bot_scopes=["chat:write", "commands", "incoming-webhook"],
    )
    return install_app_for_tests(state, ACME, app=app, scopes=app.bot_scopes)


@pytest.fixture
async def emu(
    state: EmulatorState, receiver: Receiver, inst: TestInstall
) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_delivering_to(state, receiver) as client:
        yield client


async def _response_url(emu: httpx.AsyncClient) -> str:
    result = await emu.post(
        "/_emulator/commands",
        json={"team_id": ACME, "channel_id": GENERAL, "user_id": ALICE, "command": "/ticket"},
    )
    url: str = result.json()["response_url"]
    assert url.startswith("http://emu.test/_emulator/response/")
    return url


def _messages(state: EmulatorState) -> list[Any]:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    return channel.messages


async def test_in_channel_and_ephemeral_responses(
    emu: httpx.AsyncClient, state: EmulatorState, inst: TestInstall
) -> None:
    url = await _response_url(emu)
    visible = await emu.post(url, json={"response_type": "in_channel", "text": "for all"})
    assert visible.status_code == 200 and visible.text == "ok"
    assert visible.headers["content-type"].startswith("text/plain")
    assert _messages(state)[-1].text == "for all"
    assert _messages(state)[-1].user == inst.bot_user_id
    private = await emu.post(url, json={"text": "just you"})
    assert private.text == "ok"
    assert state.ephemerals[-1]["user_id"] == ALICE
    assert state.ephemerals[-1]["message"]["text"] == "just you"
    threaded = await emu.post(
        url,
        json={"response_type": "in_channel", "text": "reply", "thread_ts": _messages(state)[-1].ts},
    )
    assert threaded.text == "ok" and _messages(state)[-1].thread_ts is not None


async def test_five_uses_then_used_url(emu: httpx.AsyncClient) -> None:
    url = await _response_url(emu)
    for _ in range(5):
        assert (await emu.post(url, json={"text": "again"})).text == "ok"
    sixth = await emu.post(url, json={"text": "too many"})
    assert sixth.status_code == 404 and sixth.text == "used_url"


async def test_expired_url(
    emu: httpx.AsyncClient, state: EmulatorState, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await _response_url(emu)
    now = state.now()
    monkeypatch.setattr(state, "now", lambda: now + 1801)
    late = await emu.post(url, json={"text": "late"})
    assert late.status_code == 404 and late.text == "expired_url"


async def test_bad_bodies(emu: httpx.AsyncClient, state: EmulatorState) -> None:
    url = await _response_url(emu)
    assert (await emu.post(url, content=b"{oops")).text == "invalid_payload"
    empty = await emu.post(url, json={"response_type": "in_channel"})
    assert empty.status_code == 400 and empty.text == "no_text"
    before = len(_messages(state))
    for blocks in ([1, 2], [{"text": "no type"}], [{"type": "divider"}] * 51):
        bad = await emu.post(url, json={"response_type": "in_channel", "blocks": blocks})
        assert (bad.status_code, bad.text) == (400, "invalid_blocks")
    assert len(_messages(state)) == before
    unknown = await emu.post("/_emulator/response/T0ACME0001/1/nope", json={"text": "x"})
    assert unknown.status_code == 404 and unknown.text == "no_service"


async def test_removed_app_cannot_use_its_response_url(
    emu: httpx.AsyncClient, state: EmulatorState, inst: TestInstall
) -> None:
    url = await _response_url(emu)
    removed = await emu.post(f"/_emulator/apps/{inst.app.id}/uninstall", json={"team_id": ACME})
    assert removed.status_code == 200
    before = len(_messages(state))
    late = await emu.post(url, json={"response_type": "in_channel", "text": "still here?"})
    assert (late.status_code, late.text) == (403, "action_prohibited")
    assert len(_messages(state)) == before


async def test_replace_and_delete_original(
    emu: httpx.AsyncClient, state: EmulatorState, inst: TestInstall, receiver: Receiver
) -> None:
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    channel.members.append(inst.bot_user_id)
    bot = state.workspaces[ACME].users[inst.bot_user_id]
    button = {
        "type": "actions",
        "block_id": "b",
        "elements": [
            {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}}
        ],
    }
    msg = post_message(state, channel, bot, text="Pick", blocks=[button])
    inst.app.interactivity_url = f"{RECEIVER_URL}/interact"
    click = await emu.post(
        "/_emulator/actions",
        json={
            "team_id": ACME,
            "channel_id": GENERAL,
            "user_id": ALICE,
            "message_ts": msg.ts,
            "action_id": "go",
        },
    )
    url = click.json()["response_url"]
    assert (await emu.post(url, json={"replace_original": True, "text": "Picked"})).text == "ok"
    assert channel.by_ts[msg.ts].text == "Picked" and channel.by_ts[msg.ts].edited
    assert (await emu.post(url, json={"delete_original": True})).text == "ok"
    assert msg.ts not in channel.by_ts


# --- incoming webhooks -------------------------------------------------------------------------


def _hook(inst: TestInstall) -> str:
    (hook,) = inst.installation.incoming_webhooks
    return hook["url"].removeprefix("http://127.0.0.1:8001")


async def test_incoming_webhook_posts_as_the_app(
    emu: httpx.AsyncClient, state: EmulatorState, inst: TestInstall
) -> None:
    path = _hook(inst)
    assert path.startswith(f"/services/{ACME}/B")
    heard: list[Signal] = []
    state.listeners.append(heard.append)
    posted = await emu.post(path, json={"text": "Deploy finished", "username": "ignored"})
    assert posted.status_code == 200 and posted.text == "ok"
    last = _messages(state)[-1]
    assert last.text == "Deploy finished" and last.bot_id == inst.bot_id
    assert last.username is None  # an app's webhook cannot change its name
    # Webhook posts are bot_message (unlike chat.postMessage with the bot token), as on Slack.
    (event,) = [s.data["message"] for s in heard if s.kind == "message"]
    assert event["subtype"] == "bot_message" and event["text"] == "Deploy finished"
    assert (event["bot_id"], event["app_id"]) == (inst.bot_id, inst.app.id)
    assert event["bot_profile"]["app_id"] == inst.app.id
    form = await emu.post(path, data={"payload": '{"text": "via form"}'})
    assert form.text == "ok" and _messages(state)[-1].text == "via form"


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "invalid_payload"),
        (b"{}", 400, "no_text"),
        (b'{"text": 5}', 400, "invalid_payload"),
        (b'{"blocks": "x"}', 400, "invalid_payload"),
        (b'{"text": "x", "attachments": [1]}', 400, "invalid_payload"),
        (b'{"blocks": [1]}', 400, "invalid_blocks"),
    ],
)
async def test_incoming_webhook_errors(
    emu: httpx.AsyncClient, inst: TestInstall, body: bytes, status: int, error: str
) -> None:
    response = await emu.post(
        _hook(inst), content=body, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.text) == (status, error)


async def test_incoming_webhook_archived_unknown_and_uninstalled(
    emu: httpx.AsyncClient, state: EmulatorState, inst: TestInstall
) -> None:
    path = _hook(inst)
    channel = state.channel(ACME, GENERAL)
    assert channel is not None
    channel.is_archived = True
    archived = await emu.post(path, json={"text": "x"})
    assert (archived.status_code, archived.text) == (410, "channel_is_archived")
    channel.is_archived = False
    unknown = await emu.post(f"/services/{ACME}/B000/nope", json={"text": "x"})
    assert (unknown.status_code, unknown.text) == (404, "no_service")
    await emu.post(f"/_emulator/apps/{inst.app.id}/uninstall", json={"team_id": ACME})
    gone = await emu.post(path, json={"text": "x"})
    assert (gone.status_code, gone.text) == (404, "no_service")


async def test_incoming_webhook_rate_limit(
    emu: httpx.AsyncClient, state: EmulatorState, inst: TestInstall
) -> None:
    state.rate_limits_enabled = True
    state.rate_limiter.clock = lambda: 1_000.0  # no refill between posts, however slow
    path = _hook(inst)
    answers = [(await emu.post(path, json={"text": f"m{i}"})) for i in range(5)]
    statuses = [a.status_code for a in answers]
    assert statuses[:3] == [200, 200, 200] and 429 in statuses
    limited = next(a for a in answers if a.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
