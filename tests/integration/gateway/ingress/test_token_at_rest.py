"""Slack's legacy verification token never reaches the database, and /slack/outgoing is off
unless an app is configured for legacy outgoing webhooks."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson
from sqlalchemy import select

from slackbridge.pipeline.inbox_worker import parse_stored
from slackbridge.settings import SlackAppConfig
from slackbridge.store.models import InboxRow, table_of
from slackbridge.store.repositories.inbox import InboxRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import SECRET, settled
from tests.integration.gateway.ingress.direct import APP_ID, SIGNING, event_body, signed
from tests.support.product import Product
from tests.support.stack import GatewayServer

TOKEN = "vt-SHOULD-NEVER-BE-STORED-7f3a"
TEAM = "T0ACME0001"


def _bodies() -> dict[str, bytes]:
    interaction = {
        "type": "block_actions",
        "token": TOKEN,
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "U0ACME0001", "team_id": TEAM},
        "api_app_id": APP_ID,
        "trigger_id": "1.2.3",
        "actions": [{"action_id": "ok", "type": "button", "value": "1"}],
    }
    return {
        "/slack/events": event_body("Ev0TOKEN01", "hello", token=TOKEN),
        # The token in the middle, then spelled with an escape: both are the same field.
        "/slack/commands": (
            f"command=%2Fbridge&token={TOKEN}&team_id={TEAM}&text=hi&trigger_id=1.2"
        ).encode(),
        "/slack/interactivity": urlencode({"payload": orjson.dumps(interaction).decode()}).encode(),
        "/slack/outgoing": (
            f"team_id={TEAM}&channel_id=C0ACME0GEN&user_id=U0ACME0002&user_name=bob"
            f"&text=deploy%3A+now&trigger_word=deploy%3A&timestamp=1700000000.000100&t%6Fken={TOKEN}"
        ).encode(),
    }


async def _gateway(factory: GatewayFactory, product: Product, *, outgoing: bool) -> GatewayServer:
    app = SlackAppConfig(
        name="direct",
        app_id=APP_ID,
        signing_secret=SIGNING,
        verification_token=TOKEN,
        outgoing_webhooks=outgoing,
    )
    return await factory(apps=[app], webhook_url=product.hook_url, webhook_secret=SECRET)


async def test_no_kind_of_request_leaves_the_token_in_the_database(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    gw = await _gateway(gateway_factory, product, outgoing=True)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10.0) as client:
        for path, body in _bodies().items():
            headers = {} if path == "/slack/outgoing" else signed(body)
            answer = await client.post(path, content=body, headers=headers)
            assert answer.status_code == 200, (path, answer.text)
    await settled(gw.gateway)
    hook = await product.wait_for(lambda h: h.data.get("source") == "outgoing_webhook")
    assert hook.data["trigger_word"] == "deploy:"  # the outgoing webhook still got through

    repo = InboxRepository(gw.gateway.db, gw.gateway.keyring)
    async with gw.gateway.db.session() as session:
        keys = [r[0] for r in await session.execute(select(table_of(InboxRow).c.dedupe_key))]
    assert len(keys) == 4
    for key in keys:
        item = await repo.get_by_key(key)
        assert item is not None
        assert TOKEN.encode() not in item.body, item.kind
        kind, payload = parse_stored(item)  # the stored body still reads as the payload
        assert payload.get("team_id") or payload.get("team"), (kind, payload)
    # The files themselves, write-ahead log included (the apps' token is stored encrypted).
    files = sorted(Path(gw.settings.data_dir).glob("slackbridge.db*"))  # noqa: ASYNC240
    assert {f.name for f in files} >= {"slackbridge.db", "slackbridge.db-wal"}
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path.name


async def test_outgoing_webhooks_are_refused_unless_an_app_takes_them(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    gw = await _gateway(gateway_factory, product, outgoing=False)
    async with httpx.AsyncClient(base_url=gw.url, timeout=10.0) as client:
        body = _bodies()["/slack/outgoing"]
        refused = await client.post("/slack/outgoing", content=body)
        assert refused.status_code == 404
        assert "outgoing_webhooks" in refused.text
        missing = await client.post("/slack/outgoing", content=b"text=hi")
        assert missing.status_code == 404
    counts = await InboxRepository(gw.gateway.db, gw.gateway.keyring).counts()
    assert sum(counts.values()) == 0


async def test_only_the_apps_configured_for_outgoing_webhooks_take_them(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    taking = SlackAppConfig(
        name="legacy",
        signing_secret=SIGNING,
        verification_token="vt-legacy",
        outgoing_webhooks=True,
    )
    other = SlackAppConfig(name="other", signing_secret="s" * 32, verification_token=TOKEN)
    gw = await gateway_factory(
        apps=[taking, other], webhook_url=product.hook_url, webhook_secret=SECRET
    )
    form = (
        f"team_id={TEAM}&channel_id=C0ACME0GEN&user_id=U0ACME0002&text=deploy&trigger_word=deploy"
    )
    async with httpx.AsyncClient(base_url=gw.url, timeout=10.0) as client:
        refused = await client.post("/slack/outgoing", content=f"{form}&token={TOKEN}".encode())
        taken = await client.post("/slack/outgoing", content=f"{form}&token=vt-legacy".encode())
    assert refused.status_code == 401
    assert "verification token does not match" in refused.text
    assert taken.status_code == 200
    counts = await InboxRepository(gw.gateway.db, gw.gateway.keyring).counts()
    assert sum(counts.values()) == 1
