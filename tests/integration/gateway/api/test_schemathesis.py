"""Property-based testing of the product API from its own OpenAPI document (schemathesis).

The whole gateway app runs in-process (schemathesis drives it through ASGI, its lifespan and
workers included) against the emulator on a loopback port, with the default app installed into
Acme so that the documented examples (``T0ACME0001``, ``C0ACME0SUP``…) reach real code paths.
Every generated request, valid or not, must get an answer that is not a 5xx, has a documented
status, and matches the documented schema.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from slackbridge.emulator.app import create_app as create_emulator
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.testing import install_app_for_tests
from slackbridge.server import create_app
from slackbridge.settings import Settings
from slackbridge.slack.outbound.ratelimits import RateLimiter, RatePolicy
from slackbridge.slack.outbound.web_api import outbound_of
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.apps import AppSpec, AppsRepository
from slackbridge.store.repositories.installations import InstallationSpec, InstallationsRepository
from tests.integration.gateway.api.conftest import ACME, API_KEY
from tests.support.fuzz import examples
from tests.support.servers import bind_loopback

_AUTH = {"Authorization": f"Bearer {API_KEY}"}
_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@contextlib.contextmanager
def _emulator_in_a_thread() -> Iterator[tuple[Any, str]]:
    """The emulator on a loopback port, served from a thread of its own (schemathesis is
    synchronous and would block an event loop shared with it)."""
    state = build_state()
    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(
            create_emulator(state, base_url=url, rate_limits=False),
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the emulator did not start"
        time.sleep(0.02)
    try:
        yield state, url
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


async def _seed(settings: Settings, app_id: str, bot_token: str, bot_user_id: str) -> None:
    """Store the app and its Acme installation as an install would have."""
    keyring = Keyring.load(None, settings.data_dir)
    db = open_database(settings.effective_database_url)
    try:
        await upgrade_database(db)
        app = await AppsRepository(db, keyring).upsert(AppSpec(name="default", app_id=app_id))
        await InstallationsRepository(db, keyring).save(
            InstallationSpec(
                app_ref=app.id,
                team_id=ACME,
                team_name="Acme",
                bot_token=bot_token,
                bot_user_id=bot_user_id,
                bot_scopes=("chat:write", "channels:join", "users:read"),
                installer_user_id="U0ACME0001",
            )
        )
    finally:
        await db.close()


def _unlimited(gateway: Any) -> None:
    fast = {tier: 100_000 for tier in (1, 2, 3, 4)}
    outbound_of(gateway).limiter = RateLimiter(RatePolicy(tier_per_minute=fast))


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir: Path = tmp_path_factory.mktemp("schemathesis")
    with _emulator_in_a_thread() as (state, url):
        install = install_app_for_tests(state, ACME, channels=["support"])
        config = Settings(
            data_dir=data_dir,
            public_url="http://127.0.0.1:9",
            slack_api_url=url + "/api/",
            slack_url=url,
            api_keys=API_KEY,
            outbox_retry_scale=0.01,
        )
        asyncio.run(_seed(config, install.app.id, install.bot_token, install.bot_user_id))
        # Rate limiting has tests of its own; here it would only slow the fuzzing down.
        app = create_app(config, on_ready=_unlimited)
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
        try:
            yield schema
        finally:
            schemathesis_asgi.shutdown_lifespans()


def _fuzz(strategy: Any, count: int) -> None:
    @given(case=strategy)
    @settings(
        max_examples=count,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(headers=_AUTH, checks=_CHECKS)

    run()


@pytest.mark.slow
def test_no_operation_answers_5xx_or_off_schema(api_schema: Any) -> None:
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 18
    # Removing the workspace makes every later call a documented 503; do it last.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    for operation in operations:
        strategies = [
            *operation.schema.get_strategies_from_examples(operation),
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        for strategy in strategies:
            try:
                _fuzz(strategy, examples(20))
            except Exception as exc:  # collect them all, then report
                failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
