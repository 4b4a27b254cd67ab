"""The Calls example's world for the integration and browser tests: the emulator (bob is in
Globex too, with the same email), the gateway with the calls app and ``/call`` declared, and
the Calls service, installed into Acme by alice."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from slackbridge.demo.calls import WEBHOOK_PATH, create_calls_app
from slackbridge.demo.calls.config import CALL_COMMAND, CALLS_APP, DEMO_ACCOUNTS
from slackbridge.demo.calls.person import CallsPerson, call_state
from slackbridge.demo.control import EmulatorControl
from slackbridge.demo.steps import wait_until
from slackbridge.emulator.seed import Seed, build_state
from slackbridge.emulator.seed_default import DEFAULT_SEED
from slackbridge.product.signing import generate_secret
from slackbridge.store.repositories.api_keys import ApiKeysRepository
from tests.support.servers import bind_loopback, serve_asgi
from tests.support.stack import (
    GatewayServer,
    browser,
    install_via_browser,
    run_emulator,
    run_gateway,
)

CALLS_REF = "calls"
#: bob's account in Globex: another user id, the same person (and email).
BOB_AT_GLOBEX = "U0GLBX0009"


def _seed() -> Seed:
    seed = copy.deepcopy(DEFAULT_SEED)
    globex = seed["workspaces"][1]
    globex["users"].append(
        {"id": BOB_AT_GLOBEX, "name": "bob", "real_name": "Bob Baker", "email": "bob@acme.test"}
    )
    return Seed.model_validate(seed)


@dataclass
class CallsWorld:
    url: str
    gateway: GatewayServer
    control: EmulatorControl
    http: httpx.AsyncClient
    emulator: Any  # tests.support.stack.EmulatorServer

    @property
    def emulator_url(self) -> str:
        return str(self.emulator.url)

    def person(self, client: httpx.AsyncClient, team: str, user: str) -> CallsPerson:
        return CallsPerson(client, self.control, team, user)

    async def state(self) -> dict[str, Any]:
        return await call_state(self.http, self.url)


@pytest.fixture
async def calls_world(tmp_path: Path) -> AsyncIterator[CallsWorld]:
    """See the module docstring. Members come 2 per page, to test paging."""
    secret = generate_secret()
    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with (
        run_emulator(build_state(_seed(), rate_limits=False)) as emulator,
        run_gateway(
            emulator,
            tmp_path,
            apps=[CALLS_APP],
            commands=[CALL_COMMAND],
            webhook_url=url + WEBHOOK_PATH,
            webhook_secret=secret,
        ) as gateway,
        httpx.AsyncClient(timeout=10.0) as http,
    ):
        await gateway.provision(
            CALLS_APP.name,
            display_name=CALLS_APP.display_name,
            slash_commands=CALLS_APP.slash_commands,
            user_scopes=CALLS_APP.user_scopes,
        )
        key = await ApiKeysRepository(gateway.gateway.db, gateway.gateway.keyring).create("t")
        app = create_calls_app(
            gateway.url,
            key.secret,
            secret,
            DEMO_ACCOUNTS,
            public_url=url,
            account_ref=CALLS_REF,
            members_page_size=2,
        )
        async with serve_asgi(app, sock=sock):
            async with browser() as admin:
                page = await install_via_browser(
                    admin, gateway, "T0ACME0001", "U0ACME0001", ref=CALLS_REF
                )
            assert page.status_code == 200, page.text
            world = CallsWorld(url, gateway, EmulatorControl(http, emulator.url), http, emulator)
            alice = {"team_id": "T0ACME0001", "user_id": "U0ACME0001"}

            async def granted() -> bool | None:
                return True if alice in (await world.state())["grants"] else None

            await wait_until(granted, "alice's grant from workspace.installed")
            yield world
