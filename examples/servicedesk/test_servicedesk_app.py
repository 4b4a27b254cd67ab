"""examples/servicedesk/app.py as a process: configured from the environment, it serves the desk
and takes only correctly signed webhooks. (The whole product against a live gateway is played by
tests/acceptance/test_demo_servicedesk.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.example_app import ExampleRunner, signed_webhook

from slackbridge.product.signing import generate_secret

RUNNER = ExampleRunner(Path(__file__).with_name("app.py"), "SERVICEDESK", "the service desk")
SECRET = generate_secret()


async def test_missing_settings_are_named() -> None:
    code, err = await RUNNER.exit_of(RUNNER.env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "SERVICEDESK_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_idle_time_is_refused() -> None:
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, SERVICEDESK_IDLE_SECONDS="soon"))
    assert code == 2
    assert "SERVICEDESK_IDLE_SECONDS" in err and "Traceback" not in err


async def test_it_serves_the_desk_and_only_signed_webhooks() -> None:
    posted = {
        "workspace": {"team_id": "T0ACME0001"},
        "channel": {"id": "C0ACME0SUP", "kind": "public"},
        "user": {"id": "U0ACME0002", "name": "bob", "real_name": "Bob Baker"},
        "text": "My invoice is wrong",
        "ts": "1796206542.118200",
        "thread_ts": None,
    }
    async with (
        RUNNER.running(RUNNER.configured(SECRET)) as url,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        body, forged = signed_webhook(generate_secret(), "msg_1", "message.posted", posted)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401

        for _ in range(2):  # a retry: applied once
            body, signed = signed_webhook(SECRET, "msg_1", "message.posted", posted)
            taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
            assert taken.status_code == 200
        state = (await client.get(f"{url}/api/state")).json()
        assert [(s["key"], len(s["entries"])) for s in state["sessions"]] == [
            ("T0ACME0001:U0ACME0002:C0ACME0SUP", 1)
        ]
        assert "My invoice is wrong" in (await client.get(f"{url}/")).text
