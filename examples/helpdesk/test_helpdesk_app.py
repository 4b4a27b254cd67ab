"""examples/helpdesk/app.py as a process: configured from the environment, it serves its page and
takes only correctly signed webhooks. (The whole product against a live gateway is tested in
tests/integration/demo/ and, with the demo, in tests/acceptance/test_demo.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.example_app import ExampleRunner, signed_webhook

from slackbridge.product.signing import generate_secret

RUNNER = ExampleRunner(Path(__file__).with_name("app.py"), "HELPDESK", "the Helpdesk")
SECRET = generate_secret()
_AT = "2026-11-21T10:00:00Z"


async def test_missing_settings_are_named() -> None:
    code, err = await RUNNER.exit_of(RUNNER.env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "HELPDESK_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_port_is_refused() -> None:
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, HELPDESK_PORT="eighty"))
    assert code == 2
    assert "HELPDESK_PORT" in err


async def test_it_serves_the_page_and_only_signed_webhooks() -> None:
    root, opened = "1700000000.000100", "conversation.opened"
    posted = {
        "workspace": {"team_id": "T0ACME0001"},
        "conversation": {"key": None, "mode": "still", "channel": "C0ACME0SUP", "thread_ts": root},
        "message": {
            "ts": root,
            "text": "The printer is jammed",
            "author": {"slack_user": "U0ACME0002", "real_name": "Bob Baker"},
        },
    }
    async with (
        RUNNER.running(RUNNER.configured(SECRET)) as url,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        page = await client.get(f"{url}/")
        assert page.status_code == 200 and "Helpdesk" in page.text

        body, forged = signed_webhook(generate_secret(), "msg_1", opened, posted, _AT)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401
        assert (await client.get(f"{url}/api/state")).json()["tickets"] == []

        body, signed = signed_webhook(SECRET, "msg_1", opened, posted, _AT)
        taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert taken.status_code == 200
        tickets = (await client.get(f"{url}/api/state")).json()["tickets"]
        assert [(t["number"], t["subject"], t["requester_name"]) for t in tickets] == [
            (1, "The printer is jammed", "Bob Baker")
        ]
