"""examples/tasks/app.py as a process: configured from the environment, it serves its page and
takes only correctly signed webhooks. (The whole product against a live gateway is tested in
tests/integration/demo/test_tasks_stack.py and, with the demo, in
tests/acceptance/test_demo_tasks.py.)"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import orjson

from slackbridge.product.signing import generate_secret, sign_headers

APP = Path(__file__).with_name("app.py")
SECRET = generate_secret()


def _env(**values: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACKBRIDGE_", "TASKS_"))}
    return {**keep, **values}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _exit_of(env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(APP), env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@asynccontextmanager
async def _running(port: int) -> AsyncIterator[str]:
    env = _env(
        SLACKBRIDGE_API_URL=f"http://127.0.0.1:{_free_port()}",  # no gateway needed here
        SLACKBRIDGE_API_KEY="sbk_example_key",
        TASKS_WEBHOOK_SECRET=SECRET,
        TASKS_PORT=str(port),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APP),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                assert proc.returncode is None, "the task bot exited while starting"
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the task bot did not start"
                await asyncio.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_missing_settings_are_named() -> None:
    code, err = await _exit_of(_env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "TASKS_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_port_is_refused() -> None:
    env = _env(
        SLACKBRIDGE_API_URL="http://127.0.0.1:8000",
        SLACKBRIDGE_API_KEY="sbk_example_key",
        TASKS_WEBHOOK_SECRET=SECRET,
        TASKS_PORT="eighty",
    )
    code, err = await _exit_of(env)
    assert code == 2
    assert "TASKS_PORT" in err


def _signed(
    secret: str, webhook_id: str, kind: str, data: dict[str, object]
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps({"type": kind, "timestamp": "2026-12-04T10:00:00Z", "data": data})
    return body, sign_headers(secret, webhook_id, int(time.time()), body)


async def test_it_serves_the_page_and_only_signed_webhooks() -> None:
    installed = {"workspace": {"team_id": "T0ACME0001", "team_name": "Acme"}}
    matched = {
        "workspace": {"team_id": "T0ACME0001"},
        "channel": {"id": "C0ACME0GEN", "kind": "public"},
        "user": {"id": "U0ACME0001", "email": "alice@acme.test"},
        "command": "add",
        "arguments": {"title": "Write release notes", "due": "2026-12-04"},
        "text": 'add "Write release notes" due friday',
        "source": "mention",
        "ts": "1796206542.118200",
    }
    async with _running(_free_port()) as url, httpx.AsyncClient(timeout=5.0) as client:
        page = await client.get(f"{url}/")
        assert page.status_code == 200 and "Tasks" in page.text

        body, forged = _signed(generate_secret(), "msg_1", "command.matched", matched)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401

        for webhook_id, kind, data in (
            ("msg_1", "workspace.installed", installed),
            ("msg_2", "command.matched", matched),
            ("msg_2", "command.matched", matched),  # a retry: applied once
        ):
            body, signed = _signed(SECRET, webhook_id, kind, data)
            taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
            assert taken.status_code == 200
        state = (await client.get(f"{url}/api/state")).json()
        assert [(t["number"], t["title"], t["owner"], t["due"]) for t in state["tasks"]] == [
            (1, "Write release notes", "alice@acme.test", "2026-12-04")
        ]
        assert "Write release notes" in (await client.get(f"{url}/")).text
