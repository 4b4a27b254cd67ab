"""examples/comments/app.py as a process: configured from the environment, it serves both
environments' pages and takes only correctly signed webhooks, routed by app. (The product on the
bridge is tested in tests/integration/demo/test_comments_on_fake_bridge.py, and with the demo in
tests/acceptance/test_demo_comments.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.example_app import ExampleRunner, signed_webhook

from slackbridge.product.signing import generate_secret

RUNNER = ExampleRunner(Path(__file__).with_name("app.py"), "COMMENTS", "Comments")
SECRET = generate_secret()


async def test_missing_settings_are_named() -> None:
    code, err = await RUNNER.exit_of(RUNNER.env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "COMMENTS_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_a_bad_public_url_is_refused() -> None:
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, COMMENTS_PUBLIC_URL="comments"))
    assert code == 2 and "COMMENTS_PUBLIC_URL" in err


async def test_it_serves_both_environments_and_only_signed_webhooks() -> None:
    installed = {
        "workspace": {
            "team_id": "T0GLBX0001",
            "team_name": "Globex",
            "app_id": "ADEV",
            "app_name": "comments-dev",
        }
    }
    async with (
        RUNNER.running(RUNNER.configured(SECRET)) as url,
        httpx.AsyncClient(timeout=5.0) as client,
    ):
        for env in ("prod", "dev"):
            page = await client.get(f"{url}/{env}/")
            assert page.status_code == 200 and "billing/invoice.py" in page.text
        body, forged = signed_webhook(generate_secret(), "m1", "workspace.installed", installed)
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401
        body, signed = signed_webhook(SECRET, "m1", "workspace.installed", installed)
        taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert taken.json()["outcome"] == "installed:dev"
        state = (await client.get(f"{url}/api/state")).json()["envs"]
        assert state["dev"]["team_id"] == "T0GLBX0001" and state["prod"]["team_id"] is None
