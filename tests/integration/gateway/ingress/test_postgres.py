"""The same durable ingress on PostgreSQL: concurrent events, retries, one webhook each."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from slackbridge.settings import SlackAppConfig
from tests.integration.gateway.conftest import GatewayFactory
from tests.integration.gateway.ingress.conftest import SECRET, settled
from tests.integration.gateway.ingress.direct import APP_ID, SIGNING, event_body, signed
from tests.support.product import Product

pytestmark = pytest.mark.postgres


async def test_concurrent_events_and_retries_on_postgres(
    pg_schema: tuple[str, str], gateway_factory: GatewayFactory, product: Product
) -> None:
    url, schema = pg_schema
    gw = await gateway_factory(
        database_url=url,
        database_schema=schema,
        apps=[SlackAppConfig(name="direct", app_id=APP_ID, signing_secret=SIGNING)],
        webhook_url=product.hook_url,
        webhook_secret=SECRET,
    )
    bodies = [event_body(f"Ev0PG{n:05d}", text=f"pg {n}") for n in range(40)]
    async with httpx.AsyncClient(base_url=gw.url, timeout=10.0) as client:

        async def send(body: bytes, retry: bool = False) -> int:
            extra = (
                {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"} if retry else {}
            )
            answer = await client.post("/slack/events", content=body, headers=signed(body, **extra))
            return answer.status_code

        codes = await asyncio.gather(*(send(b) for b in bodies))
        retries = await asyncio.gather(*(send(b, retry=True) for b in bodies[:10]))
    assert set(codes) == {200} and set(retries) == {200}
    await settled(gw.gateway)
    hooks = product.of_type("message.posted")
    assert sorted(h.data["text"] for h in hooks) == sorted(f"pg {n}" for n in range(40))
    assert len({h.webhook_id for h in hooks}) == 40
