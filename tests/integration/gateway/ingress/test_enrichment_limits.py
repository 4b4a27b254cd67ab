"""The users.info lookups that fill in webhooks' ``data.user`` share Slack's rate limits with
every other call: while the workspace's users.info budget is used up, webhooks go out at once
with the person's id only, and the names come back once Slack may be asked again."""

from __future__ import annotations

from slackbridge.slack.outbound.web_api import outbound_of
from tests.integration.gateway.ingress.conftest import ACME, BOB, GENERAL, Bridge


async def test_lookups_wait_for_the_rate_limiter(bridge: Bridge) -> None:
    outbound = outbound_of(bridge.gw.gateway)
    if outbound.shared is not None:  # PostgreSQL: the buckets every gateway shares
        await outbound.shared.penalize(ACME, "users.info", None, 60.0)
    else:
        outbound.limiter.penalize(ACME, "users.info", None, 60.0, outbound.clock())
    said = await bridge.act("messages", channel_id=GENERAL, user_id=BOB, text="anyone?")
    posted = await bridge.product.wait_for(
        lambda h: h.type == "message.posted" and h.data.get("ts") == said["ts"]
    )
    assert posted.data["user"]["id"] == BOB
    assert posted.data["user"].get("name") is None  # not asked: the lane is held back

    if outbound.shared is None:
        outbound.limiter.prune(outbound.clock() + 120.0)  # the hold is over
        said = await bridge.act("messages", channel_id=GENERAL, user_id=BOB, text="hello?")
        posted = await bridge.product.wait_for(
            lambda h: h.type == "message.posted" and h.data.get("ts") == said["ts"]
        )
        assert posted.data["user"]["name"] == "bob"
