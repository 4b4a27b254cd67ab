"""Fixtures for the interactivity tests: an app with a command, shortcuts, an interactivity and
an options URL, installed in Acme's #general, and the emulator delivering to an in-process
receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from slackbridge.emulator import create_app
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall, install_app_for_tests, make_test_app
from tests.integration.emulator.helpers import ACME
from tests.integration.emulator.receiver import RECEIVER_URL, Receiver


@pytest.fixture
def inst(state: EmulatorState) -> TestInstall:
    app = make_test_app(
        state,
        interactivity_url=f"{RECEIVER_URL}/interact",
        slash_commands=[("/ticket", f"{RECEIVER_URL}/cmd")],
        options_load_url=f"{RECEIVER_URL}/options",
    )
    app.manifest["features"] = {
        "shortcuts": [
            {"type": "global", "callback_id": "new_ticket", "name": "New", "description": "d"},
            {"type": "message", "callback_id": "file_it", "name": "File", "description": "d"},
        ]
    }
    return install_app_for_tests(state, ACME, app=app, channels=["general"])


@pytest.fixture
async def emu(
    state: EmulatorState, receiver: Receiver, inst: TestInstall
) -> AsyncIterator[httpx.AsyncClient]:
    state.speed = 100.0
    state.ack_timeout = 10.0  # answers may take their time on a loaded machine
    emulator = create_app(state, delivery_transport=receiver.transport)
    async with emulator.router.lifespan_context(emulator):
        transport = httpx.ASGITransport(app=emulator)
        async with httpx.AsyncClient(transport=transport, base_url="http://emu.test") as client:
            yield client
