"""Messages through the API: posted, threaded, edited, deleted, tracked, reported by webhook."""

from __future__ import annotations

from tests.integration.gateway.api.conftest import ACME, GENERAL, ApiStack


async def test_post_is_accepted_then_delivered_with_its_ts(stack: ApiStack) -> None:
    answer = await stack.api.post(
        "/messages", json={"workspace": ACME, "channel": GENERAL, "text": "hello"}
    )
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["id"].startswith("msg_")
    assert accepted["status"] in ("queued", "sending")
    status = await stack.wait_status(accepted["id"])
    assert status["status"] == "sent", status
    assert status["ts"]
    channel = stack.emulator.state.workspaces[ACME].channels[GENERAL]
    posted = channel.by_ts[status["ts"]]
    assert posted.text == "hello"
    await stack.product.wait_for(lambda p: p.outcome_of(accepted["id"]) is not None)
    event = stack.product.outcome_of(accepted["id"])
    assert event is not None
    assert event["type"] == "message.delivered"
    assert event["data"]["message"]["ts"] == status["ts"]
