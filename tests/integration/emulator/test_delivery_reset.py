"""A reset right after a change drops its queued event deliveries cleanly."""

from __future__ import annotations

import gc

from slackbridge.emulator import create_app
from slackbridge.emulator.outbound import Outbound
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.testing import emulator_client, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME, BOB, GENERAL
from tests.integration.emulator.receiver import RECEIVER_URL, Receiver


async def test_reset_before_a_queued_delivery_starts_leaves_no_dangling_coroutine() -> None:
    # Warnings are errors here: a coroutine dropped unawaited would fail this test at gc time.
    state = build_state(rate_limits=False)
    app = make_test_app(
        state, event_request_url=f"{RECEIVER_URL}/events", bot_events=["message.channels"]
    )
    install_app_for_tests(state, ACME, app=app, channels=["general"])
    receiver = Receiver()
    emulator = create_app(state, delivery_transport=receiver.transport)
    async with emulator_client(emulator) as client:
        posted = await client.post(
            "/_emulator/messages",
            json={"team_id": ACME, "channel_id": GENERAL, "user_id": BOB, "text": "hi"},
        )
        assert posted.status_code == 200
        # Same event-loop turn: the delivery task exists but has not started yet.
        reset = await client.post("/_emulator/reset")
        assert reset.status_code == 200
        out: Outbound = emulator.state.outbound
        await out.wait_idle()
        gc.collect()
    assert receiver.received == []
