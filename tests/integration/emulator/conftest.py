"""Fixtures for emulator integration tests: a seeded state, a client, an installed bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.testing import TestInstall, emulator_client, install_app_for_tests
from tests.integration.emulator.helpers import ACME
from tests.integration.emulator.receiver import Receiver


@pytest.fixture
def state() -> EmulatorState:
    """The default seed, rate limits off (tests that need them turn them on)."""
    return build_state(rate_limits=False)


@pytest.fixture
def receiver() -> Receiver:
    """A stand-in for the app's endpoints (in process: pass ``receiver.transport``)."""
    return Receiver()


@pytest.fixture
async def client(state: EmulatorState) -> AsyncIterator[httpx.AsyncClient]:
    async with emulator_client(create_app(state)) as c:
        yield c


@pytest.fixture
def bot(state: EmulatorState) -> TestInstall:
    """An app installed in Acme with the default test scopes, a member of #general."""
    return install_app_for_tests(state, ACME, channels=["general"], user_scopes=["chat:write"])
