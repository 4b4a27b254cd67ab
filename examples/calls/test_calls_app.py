"""examples/calls/app.py as a process: configured from the environment, it serves its page,
takes only correctly signed webhooks and answers /call with a single-use link. (The whole
product against a live gateway is tested in tests/integration/demo/test_calls_flow.py and, with
the demo, in tests/acceptance/test_demo_calls.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from tests.support.example_app import ExampleRunner, signed_webhook

from slackbridge.product.signing import generate_secret

RUNNER = ExampleRunner(Path(__file__).with_name("app.py"), "CALLS", "Calls")
SECRET = generate_secret()
_AT = "2026-12-05T10:00:00Z"


async def test_missing_settings_are_named() -> None:
    code, err = await RUNNER.exit_of(RUNNER.env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "CALLS_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_port_or_accounts_file_is_refused(tmp_path: Path) -> None:
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, CALLS_PORT="eighty"))
    assert code == 2 and "CALLS_PORT" in err
    bad = tmp_path / "accounts.json"
    bad.write_text(json.dumps([{"id": "a1", "name": "Ann"}]))
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, CALLS_ACCOUNTS=str(bad)))
    assert code == 2 and "entry 0 needs id, name and email" in err
    code, err = await RUNNER.exit_of(
        RUNNER.configured(SECRET, CALLS_ACCOUNTS=str(tmp_path / "missing.json"))
    )
    assert code == 2 and "cannot read" in err and "Traceback" not in err


async def test_it_serves_its_page_and_only_signed_webhooks(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps([{"id": "a1", "name": "Ann Example", "email": "ann@x.test"}]))
    matched = {
        "workspace": {"team_id": "T0ACME0001"},
        "channel": {"id": "C0ACME0GEN", "kind": "public"},
        "user": {"id": "U0ACME0002"},
        "command": "call",
        "arguments": {"who": []},
        "text": "",
        "source": "slash",
    }
    env = RUNNER.configured(SECRET, CALLS_ACCOUNTS=str(accounts))
    async with RUNNER.running(env) as url, httpx.AsyncClient(timeout=5.0) as client:
        page = await client.get(f"{url}/")
        assert page.status_code == 200 and "Ann Example" in page.text

        body, forged = signed_webhook(generate_secret(), "msg_1", "command.matched", matched, _AT)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401
        assert (await client.get(f"{url}/api/state")).json()["outstanding_keys"] == 0

        body, signed = signed_webhook(SECRET, "msg_1", "command.matched", matched, _AT)
        taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert (taken.status_code, taken.json()["outcome"]) == (200, "link")
        again = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert again.json()["duplicate"] is True  # the same webhook-id is applied once
        assert (await client.get(f"{url}/api/state")).json()["outstanding_keys"] == 1
