"""An AI app built with Bolt's ``AsyncAssistant`` (single workspace, behind uvicorn on a loopback
port) against the emulator: a person starts an assistant thread (control API), Bolt's
``thread_started`` handler greets and suggests prompts, the person asks, and the
``user_message`` handler sets the title and status and streams the answer with slack_sdk's
``chat_stream`` helper (chat.startStream / appendStream / stopStream). Nothing in Bolt or
slack_sdk is changed except base URLs."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.middleware.assistant.async_assistant import AsyncAssistant
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slackbridge.emulator.testing import DEFAULT_TEST_SCOPES, install_app_for_tests
from tests.conformance.conftest import ACME, ALICE, GENERAL, Emulator, eventually, next_item
from tests.support.servers import bind_loopback, serve_asgi

PROMPTS = [{"title": "Summarize", "message": "Summarize #general"}]
EVENTS = ["assistant_thread_started", "assistant_thread_context_changed", "message.im"]


def _assistant(done: asyncio.Queue[str]) -> AsyncAssistant:
    assistant = AsyncAssistant()

    @assistant.thread_started
    async def started(say: Any, set_suggested_prompts: Any) -> None:
        await say("Hi! How can I help?")
        await set_suggested_prompts(prompts=PROMPTS, title="Try one")

    @assistant.user_message
    async def answer(
        payload: dict[str, Any],
        set_title: Any,
        set_status: Any,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        await set_title(payload["text"])
        await set_status("is thinking…")
        assert context.channel_id is not None and context.thread_ts is not None
        streamer = await client.chat_stream(
            channel=context.channel_id,
            thread_ts=context.thread_ts,
            recipient_team_id=context.team_id,
            recipient_user_id=context.user_id,
            buffer_size=8,
        )
        await streamer.append(markdown_text="Three things ")
        await streamer.append(markdown_text="happened ")
        await streamer.stop(markdown_text="today.")
        await done.put(payload["text"])

    return assistant


async def test_a_bolt_assistant_answers_in_its_thread(emulator: Emulator) -> None:
    state = emulator.state
    inst = install_app_for_tests(state, ACME, [*DEFAULT_TEST_SCOPES, "assistant:write"])
    done: asyncio.Queue[str] = asyncio.Queue()
    app = AsyncApp(
        signing_secret=inst.app.signing_secret,
        client=AsyncWebClient(token=inst.bot_token, base_url=emulator.api_url),
    )
    app.use(_assistant(done))
    handler = AsyncSlackRequestHandler(app)

    async def endpoint(request: Request) -> Response:
        response: Response = await handler.handle(request)
        return response

    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    web = Starlette(routes=[Route("/slack/events", endpoint, methods=["POST"])])
    async with serve_asgi(web, sock=sock, lifespan="off", shutdown_timeout=3):
        inst.app.event_request_url = f"{url}/slack/events"
        inst.app.bot_events = list(EVENTS)
        started = await emulator.control_post(
            "assistant/threads",
            {
                "team_id": ACME,
                "user_id": ALICE,
                "app_id": inst.app.id,
                "context_channel_id": GENERAL,
            },
        )
        channel, thread_ts = started["thread"]["channel_id"], started["thread"]["thread_ts"]

        async def thread() -> dict[str, Any] | None:
            answer = await emulator.control.get("/_emulator/assistant/threads")
            found: list[dict[str, Any]] = answer.json()["threads"]
            return found[0] if found and found[0]["suggested_prompts"] else None

        shown = await eventually(thread, "Bolt's suggested prompts")
        assert shown["suggested_prompts"] == PROMPTS
        assert shown["suggested_prompts_title"] == "Try one"
        await emulator.control_post(
            "messages",
            {
                "team_id": ACME,
                "channel_id": channel,
                "user_id": ALICE,
                "text": "What happened?",
                "thread_ts": thread_ts,
            },
        )
        assert await next_item(done, "Bolt's user_message handler") == "What happened?"

    messages = await emulator.control.get(f"/_emulator/conversations/{ACME}/{channel}/messages")
    roots = [m for m in messages.json()["messages"] if m["ts"] == thread_ts]
    texts = [r["text"] for r in roots[0]["replies"]]
    assert texts == ["Hi! How can I help?", "What happened?", "Three things happened today."]
    final = (await emulator.control.get("/_emulator/assistant/threads")).json()["threads"][0]
    assert final["title"] == "What happened?"
    assert final["status"] == ""  # the streamed answer cleared it
