"""examples/livechat/app.py as a process: configured from the environment, it serves its front
page and console and takes only correctly signed webhooks. (The product's behaviour on the
bridge is tested in tests/integration/demo/test_livechat_on_fake_bridge.py, and with the demo in
tests/acceptance/test_demo_livechat.py.)"""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.support.example_app import ExampleRunner, signed_webhook

from slackbridge.product.signing import generate_secret

RUNNER = ExampleRunner(Path(__file__).with_name("app.py"), "LIVECHAT", "the live chat")
SECRET = generate_secret()


async def test_missing_settings_are_named() -> None:
    code, err = await RUNNER.exit_of(RUNNER.env(SLACKBRIDGE_API_URL="http://127.0.0.1:8000"))
    assert code == 2
    assert "SLACKBRIDGE_API_KEY" in err and "LIVECHAT_WEBHOOK_SECRET" in err
    assert "Traceback" not in err


async def test_half_the_slack_credentials_are_refused() -> None:
    code, err = await RUNNER.exit_of(RUNNER.configured(SECRET, LIVECHAT_SLACK_CLIENT_ID="123.456"))
    assert code == 2
    assert "LIVECHAT_SLACK_CLIENT_SECRET" in err and "Traceback" not in err


async def test_it_serves_its_pages_and_only_signed_webhooks() -> None:
    env = RUNNER.configured(
        SECRET, LIVECHAT_SLACK_CLIENT_ID="123.456", LIVECHAT_SLACK_CLIENT_SECRET="s3cret"
    )
    async with RUNNER.running(env) as url, httpx.AsyncClient(timeout=5.0) as client:
        front = await client.get(f"{url}/")
        assert front.status_code == 200 and "Add to Slack" in front.text
        login = await client.get(f"{url}/console/login")
        assert login.status_code == 302
        assert login.headers["location"].startswith("https://slack.com/openid/connect/authorize?")
        assert "client_id=123.456" in login.headers["location"]

        body, forged = signed_webhook(generate_secret(), "msg_1", "workspace.installed", {})
        refused = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=forged)
        assert refused.status_code == 401
        body, signed = signed_webhook(SECRET, "msg_1", "conversation.closed", {})
        taken = await client.post(f"{url}/webhooks/slackbridge", content=body, headers=signed)
        assert taken.status_code == 200 and taken.json()["outcome"] == "not_ours"
