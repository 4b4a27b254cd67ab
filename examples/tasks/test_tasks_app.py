"""examples/tasks/app.py as a process: configured from the environment, it serves its page and
takes only correctly signed webhooks. (The whole product against a live gateway is tested in
tests/integration/demo/test_tasks_stack.py and, with the demo, in
tests/acceptance/test_demo_tasks.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.example_app import ExampleRunner, signed_webhook

from slackbridge.product.signing import generate_secret

RUNNER = ExampleRunner(Path(__file__).with_name("app.py"), "TASKS", "the task bot")
SECRET = generate_secret()


async def test_missing_settings_are_named() -> None:
    code, err = await RUNNER.exit_of(RUNNER.env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "TASKS_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_port_is_refused() -> None:
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, TASKS_PORT="eighty"))
    assert code == 2
    assert "TASKS_PORT" in err


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
    async with (
        RUNNER.running(RUNNER.configured(SECRET)) as url,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        page = await client.get(f"{url}/")
        assert page.status_code == 200 and "Tasks" in page.text

        body, forged = signed_webhook(generate_secret(), "msg_1", "command.matched", matched)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401

        for webhook_id, kind, data in (
            ("msg_1", "workspace.installed", installed),
            ("msg_2", "command.matched", matched),
            ("msg_2", "command.matched", matched),  # a retry: applied once
        ):
            body, signed = signed_webhook(SECRET, webhook_id, kind, data)
            taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
            assert taken.status_code == 200
        state = (await client.get(f"{url}/api/state")).json()
        assert [(t["number"], t["title"], t["owner"], t["due"]) for t in state["tasks"]] == [
            (1, "Write release notes", "alice@acme.test", "2026-12-04")
        ]
        assert "Write release notes" in (await client.get(f"{url}/")).text
