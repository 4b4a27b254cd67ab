"""examples/calls/app.py as a process: configured from the environment, it serves its page,
takes only correctly signed webhooks and answers /call with a single-use link. (The whole
product against a live gateway is tested in tests/integration/demo/test_calls_flow.py and, with
the demo, in tests/acceptance/test_demo_calls.py.)"""

from __future__ import annotations

import asyncio
import json
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
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SLACKBRIDGE_", "CALLS_"))}
    return {**keep, **values}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _base(**values: str) -> dict[str, str]:
    return _env(
        SLACKBRIDGE_API_URL=f"http://127.0.0.1:{_free_port()}",  # no gateway needed here
        SLACKBRIDGE_API_KEY="sbk_example_key",
        CALLS_WEBHOOK_SECRET=SECRET,
        **values,
    )


async def _exit_of(env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(APP), env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@asynccontextmanager
async def _running(env: dict[str, str], port: int) -> AsyncIterator[str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(APP),
        env={**env, "CALLS_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                assert proc.returncode is None, "Calls exited while starting"
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "Calls did not start"
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
    assert "SLACKBRIDGE_API_KEY" in err and "CALLS_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_port_or_accounts_file_is_refused(tmp_path: Path) -> None:
    code, err = await _exit_of(_base(CALLS_PORT="eighty"))
    assert code == 2 and "CALLS_PORT" in err
    bad = tmp_path / "accounts.json"
    bad.write_text(json.dumps([{"id": "a1", "name": "Ann"}]))
    code, err = await _exit_of(_base(CALLS_ACCOUNTS=str(bad)))
    assert code == 2 and "entry 0 needs id, name and email" in err
    code, err = await _exit_of(_base(CALLS_ACCOUNTS=str(tmp_path / "missing.json")))
    assert code == 2 and "cannot read" in err and "Traceback" not in err


async def test_it_serves_its_page_and_only_signed_webhooks(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps([{"id": "a1", "name": "Ann Example", "email": "ann@x.test"}]))
    body = orjson.dumps(
        {
            "type": "command.matched",
            "timestamp": "2026-12-05T10:00:00Z",
            "data": {
                "workspace": {"team_id": "T0ACME0001"},
                "channel": {"id": "C0ACME0GEN", "kind": "public"},
                "user": {"id": "U0ACME0002"},
                "command": "call",
                "arguments": {"who": []},
                "text": "",
                "source": "slash",
            },
        }
    )
    env = _base(CALLS_ACCOUNTS=str(accounts))
    async with _running(env, _free_port()) as url, httpx.AsyncClient(timeout=5.0) as client:
        page = await client.get(f"{url}/")
        assert page.status_code == 200 and "Ann Example" in page.text

        forged = sign_headers(generate_secret(), "msg_1", int(time.time()), body)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401
        assert (await client.get(f"{url}/api/state")).json()["outstanding_keys"] == 0

        signed = sign_headers(SECRET, "msg_1", int(time.time()), body)
        taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert (taken.status_code, taken.json()["outcome"]) == (200, "link")
        again = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert again.json()["duplicate"] is True  # the same webhook-id is applied once
        assert (await client.get(f"{url}/api/state")).json()["outstanding_keys"] == 1
