"""AI apps: assistant threads started as a person (control API), their events, the
assistant.threads.* methods and streamed replies (chat.startStream/appendStream/stopStream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest

from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import DEFAULT_TEST_SCOPES, TestInstall, install_app_for_tests
from tests.integration.emulator.helpers import ACME, ALICE, GENERAL, SUPPORT, call
from tests.integration.emulator.receiver import (
    RECEIVER_URL,
    Receiver,
    emulator_delivering_to,
    heard_events,
)

EVENTS = ["assistant_thread_started", "assistant_thread_context_changed", "message.im"]


@pytest.fixture
def ai(state: EmulatorState) -> TestInstall:
    inst = install_app_for_tests(state, ACME, [*DEFAULT_TEST_SCOPES, "assistant:write"])
    inst.app.event_request_url = f"{RECEIVER_URL}/events"
    inst.app.bot_events = list(EVENTS)
    return inst


@pytest.fixture
async def emu(
    state: EmulatorState, receiver: Receiver, ai: TestInstall
) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_delivering_to(state, receiver) as client:
        yield client


async def _start(emu: httpx.AsyncClient, ai: TestInstall, **extra: Any) -> dict[str, Any]:
    response = await emu.post(
        "/_emulator/assistant/threads",
        json={"team_id": ACME, "user_id": ALICE, "app_id": ai.app.id, **extra},
    )
    assert response.status_code == 200, response.text
    thread: dict[str, Any] = response.json()["thread"]
    return thread


async def test_an_assistant_thread_from_start_to_streamed_answer(
    emu: httpx.AsyncClient, ai: TestInstall, receiver: Receiver
) -> None:
    thread = await _start(emu, ai, context_channel_id=GENERAL)
    channel, thread_ts = thread["channel_id"], thread["thread_ts"]
    assert channel.startswith("D") and thread["user_id"] == ALICE
    (started,) = await heard_events(emu, receiver)
    assert started["type"] == "assistant_thread_started"
    assert started["assistant_thread"] == {
        "user_id": ALICE,
        "context": {"channel_id": GENERAL, "team_id": ACME, "enterprise_id": None},
        "channel_id": channel,
        "thread_ts": thread_ts,
    }
    token = ai.bot_token
    prompts = [{"title": "Summarize", "message": "Summarize #general"}]
    set_prompts = await call(
        emu,
        "assistant.threads.setSuggestedPrompts",
        token,
        channel_id=channel,
        thread_ts=thread_ts,
        prompts=orjson.dumps(prompts).decode(),
        title="Try one",
    )
    assert set_prompts == {"ok": True}
    said = await emu.post(
        "/_emulator/messages",
        json={
            "team_id": ACME,
            "channel_id": channel,
            "user_id": ALICE,
            "text": "What happened today?",
            "thread_ts": thread_ts,
        },
    )
    assert said.status_code == 200, said.text
    question = (await heard_events(emu, receiver))[-1]
    assert (question["type"], question["channel_type"]) == ("message", "im")
    assert question["thread_ts"] == thread_ts and question["user"] == ALICE
    titled = await call(
        emu,
        "assistant.threads.setTitle",
        token,
        channel_id=channel,
        thread_ts=thread_ts,
        title="Today",
    )
    assert titled == {"ok": True}
    status = await call(
        emu,
        "assistant.threads.setStatus",
        token,
        channel_id=channel,
        thread_ts=thread_ts,
        status="is thinking…",
        loading_messages="Reading,Summarizing",
    )
    assert status == {"ok": True}
    shown = (await emu.get("/_emulator/assistant/threads")).json()["threads"][0]
    assert shown["status"] == "is thinking…"
    assert shown["loading_messages"] == ["Reading", "Summarizing"]
    assert shown["title"] == "Today" and shown["suggested_prompts"] == prompts
    assert shown["suggested_prompts_title"] == "Try one"

    started_stream = await call(
        emu, "chat.startStream", token, channel=channel, thread_ts=thread_ts, markdown_text="**Two"
    )
    assert started_stream["ok"] is True and started_stream["channel"] == channel
    ts = started_stream["ts"]
    chunks = orjson.dumps([{"type": "markdown_text", "text": " things**"}]).decode()
    appended = await call(emu, "chat.appendStream", token, channel=channel, ts=ts, chunks=chunks)
    assert appended == {"ok": True, "channel": channel, "ts": ts}
    blocks = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "AI answer"}]}]
    stopped = await call(
        emu,
        "chat.stopStream",
        token,
        channel=channel,
        ts=ts,
        markdown_text=" happened.",
        blocks=orjson.dumps(blocks).decode(),
    )
    assert stopped["ok"] is True
    assert stopped["message"]["text"] == "**Two things** happened."
    assert stopped["message"]["blocks"] == blocks
    after = await call(emu, "chat.appendStream", token, channel=channel, ts=ts, markdown_text="x")
    assert after["error"] == "message_not_in_streaming_state"
    replies = await call(emu, "conversations.replies", token, channel=channel, ts=thread_ts)
    assert [m["text"] for m in replies["messages"][1:]] == [
        "What happened today?",
        "**Two things** happened.",
    ]
    # The app's reply clears the status.
    shown = (await emu.get("/_emulator/assistant/threads")).json()["threads"][0]
    assert shown["status"] == ""

    changed = await emu.post(
        "/_emulator/assistant/context",
        json={"channel_id": channel, "thread_ts": thread_ts, "context_channel_id": SUPPORT},
    )
    assert changed.status_code == 200, changed.text
    last = (await heard_events(emu, receiver))[-1]
    assert last["type"] == "assistant_thread_context_changed"
    assert last["assistant_thread"]["context"]["channel_id"] == SUPPORT


async def test_unsubscribed_apps_do_not_hear_assistant_threads(
    emu: httpx.AsyncClient, ai: TestInstall, receiver: Receiver
) -> None:
    ai.app.bot_events = ["message.im"]
    await _start(emu, ai)
    assert await heard_events(emu, receiver) == []


async def test_stream_rules(emu: httpx.AsyncClient, ai: TestInstall, state: EmulatorState) -> None:
    token = ai.bot_token
    root = await call(emu, "chat.postMessage", token, channel=GENERAL, text="question")
    assert root["ok"] is True  # chat:write.public
    no_recipient = await call(
        emu, "chat.startStream", token, channel=GENERAL, thread_ts=root["ts"], markdown_text="a"
    )
    assert no_recipient["error"] == "invalid_arguments"
    started = await call(
        emu,
        "chat.startStream",
        token,
        channel=GENERAL,
        thread_ts=root["ts"],
        markdown_text="a",
        recipient_user_id=ALICE,
        recipient_team_id=ACME,
    )
    assert started["ok"] is True, started
    too_long = await call(
        emu,
        "chat.appendStream",
        token,
        channel=GENERAL,
        ts=started["ts"],
        markdown_text="x" * 12001,
    )
    assert too_long["error"] == "msg_too_long"
    bad_chunks = await call(
        emu, "chat.appendStream", token, channel=GENERAL, ts=started["ts"], chunks='[{"type": 1}]'
    )
    assert bad_chunks["error"] == "invalid_chunks"
    not_a_stream = await call(
        emu, "chat.appendStream", token, channel=GENERAL, ts=root["ts"], markdown_text="x"
    )
    assert not_a_stream["error"] == "message_not_in_streaming_state"
    person = install_app_for_tests(state, ACME, user_scopes=["chat:write"])
    assert person.user_token is not None
    as_user = await call(
        emu,
        "chat.startStream",
        person.user_token,
        channel=GENERAL,
        markdown_text="hi",
        recipient_user_id=ALICE,
        recipient_team_id=ACME,
    )
    assert as_user["error"] == "not_allowed_token_type"
    no_thread = await call(
        emu,
        "assistant.threads.setStatus",
        token,
        channel_id=GENERAL,
        thread_ts="1400000000.000001",
        status="x",
    )
    assert no_thread["error"] == "thread_not_found"
