"""Dead letters after the configured attempts; `slackbridge deliveries list|retry` replays them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson

from slackbridge.settings import SlackAppConfig
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import SECRET, settled
from tests.integration.gateway.ingress.direct import APP_ID, SIGNING, event_body, signed
from tests.support.cli import run_cli
from tests.support.product import Product


async def test_dead_deliveries_are_listed_and_replayed(
    gateway_factory: GatewayFactory, product: Product, tmp_path: Path
) -> None:
    data_dir = tmp_path / "gw"
    gw = await gateway_factory(
        data_dir=data_dir,
        apps=[SlackAppConfig(name="direct", app_id=APP_ID, signing_secret=SIGNING)],
        webhook_url=product.hook_url,
        webhook_secret=SECRET,
        webhook_max_attempts=3,
        webhook_retry_scale=0.01,
    )
    product.down = True
    async with httpx.AsyncClient(base_url=gw.url) as client:
        for n in (1, 2):
            body = event_body(f"Ev0DEAD00{n}")
            answer = await client.post("/slack/events", content=body, headers=signed(body))
            assert answer.status_code == 200
    refused = await product.wait_refused(6)
    await settled(gw.gateway)
    assert len(refused) == 6  # 3 attempts each, then dead: no more attempts

    code, out, err = await run_cli(data_dir, "deliveries", "list", "--status", "dead", "--json")
    assert code == 0, err
    dead: list[dict[str, Any]] = orjson.loads(out)
    assert len(dead) == 2
    assert {d["status"] for d in dead} == {"dead"}
    assert {d["attempts"] for d in dead} == {3}
    assert {d["last_status"] for d in dead} == {503}
    assert {d["type"] for d in dead} == {"message.posted"}

    code, out, err = await run_cli(data_dir, "deliveries", "list")
    assert code == 0, err
    assert "dead" in out and "message.posted" in out and "HTTP 503" in out

    code, out, err = await run_cli(data_dir, "deliveries", "retry")
    assert code == 1
    assert "give delivery ids or --all-dead" in err

    code, out, err = await run_cli(data_dir, "deliveries", "list", "--status", "bogus")
    assert code == 1
    assert "unknown status" in err

    product.down = False
    first = min(d["id"] for d in dead)
    code, out, err = await run_cli(data_dir, "deliveries", "retry", str(first))
    assert code == 0, err
    assert "1 deliveries queued again" in out
    hook = await product.wait_for(lambda h: h.webhook_id == dead[-1]["webhook_id"])
    assert hook.type == "message.posted"

    code, out, err = await run_cli(data_dir, "deliveries", "retry", str(first))
    assert code == 1
    assert "not dead" in err

    code, out, err = await run_cli(data_dir, "deliveries", "retry", "--all-dead")
    assert code == 0, err
    await product.wait_for(lambda h: h.webhook_id == dead[0]["webhook_id"])
    await settled(gw.gateway)
    assert len(product.accepted()) == 2

    code, out, err = await run_cli(data_dir, "webhooks", "list", "--show-secret")
    assert code == 0, err
    assert product.hook_url in out and SECRET in out
