"""examples/helpdesk/app.py as a process: configured from the environment, it serves its page and
takes only correctly signed webhooks. (The whole product against a live gateway is tested in
tests/integration/demo/ and, with the demo, in tests/acceptance/test_demo.py.)"""

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
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACKBRIDGE_", "HELPDESK_"))}
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
        HELPDESK_WEBHOOK_SECRET=SECRET,
        HELPDESK_PORT=str(port),
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
                assert proc.returncode is None, "the Helpdesk exited while starting"
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the Helpdesk did not start"
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
    assert "SLACKBRIDGE_API_KEY" in err and "HELPDESK_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_port_is_refused() -> None:
    env = _env(
        SLACKBRIDGE_API_URL="http://127.0.0.1:8000",
        SLACKBRIDGE_API_KEY="sbk_example_key",
        HELPDESK_WEBHOOK_SECRET=SECRET,
        HELPDESK_PORT="eighty",
    )
    code, err = await _exit_of(env)
    assert code == 2
    assert "HELPDESK_PORT" in err


async def test_it_serves_the_page_and_only_signed_webhooks() -> None:
    body = orjson.dumps(
        {
            "type": "message.posted",
            "timestamp": "2026-11-21T10:00:00Z",
            "data": {
                "workspace": {"team_id": "T0ACME0001"},
                "channel": {"id": "C0ACME0SUP", "kind": "public"},
                "user": {"id": "U0ACME0002", "real_name": "Bob Baker"},
                "text": "The printer is jammed",
                "ts": "1700000000.000100",
            },
        }
    )
    async with _running(_free_port()) as url, httpx.AsyncClient(timeout=5.0) as client:
        page = await client.get(f"{url}/")
        assert page.status_code == 200 and "Helpdesk" in page.text

        forged = sign_headers(generate_secret(), "msg_1", int(time.time()), body)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401
        assert (await client.get(f"{url}/api/state")).json()["tickets"] == []

        signed = sign_headers(SECRET, "msg_1", int(time.time()), body)
        taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert taken.status_code == 200
        tickets = (await client.get(f"{url}/api/state")).json()["tickets"]
        assert [(t["number"], t["subject"], t["requester_name"]) for t in tickets] == [
            (1, "The printer is jammed", "Bob Baker")
        ]
