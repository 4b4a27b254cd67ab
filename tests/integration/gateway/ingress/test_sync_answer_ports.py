"""The synchronous answers decide in the pipeline and call the product through ports: which
endpoint answers a slash command, with which event, and by when."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from slackbridge.domain.events import DomainEvent
from slackbridge.pipeline.sync_answer import SyncAnswer, SyncAnswers, SyncPlan
from slackbridge.server import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.endpoints import WebhookEndpoint
from slackbridge.store.repositories.users import CachedUser

TEAM, APP, USER = "T0SYNC0001", "A0SYNC0001", "U0SYNC0001"
ASYNC = WebhookEndpoint(1, "http://product.test/a", "whsec_a", (), False, True)
NO_SECRET = WebhookEndpoint(2, "http://product.test/b", None, (), True, True)
COMMANDS = WebhookEndpoint(3, "http://product.test/c", "whsec_c", ("command.*",), True, True)
FORM = {
    "command": "/ticket",
    "text": "printer on fire",
    "team_id": TEAM,
    "api_app_id": APP,
    "user_id": USER,
    "channel_id": "C0SYNC0001",
    "token": "verification-token",
}


async def test_a_slash_command_is_answered_by_the_synchronous_endpoint_that_wants_it(
    database: Database, keyring: Keyring, tmp_path: Path
) -> None:
    routed: list[list[str]] = []
    called: list[tuple[SyncPlan, float]] = []

    async def endpoints() -> Sequence[WebhookEndpoint]:
        return [ASYNC, NO_SECRET, COMMANDS]

    def wants(endpoint: WebhookEndpoint, event_type: str) -> bool:
        return not endpoint.event_types or event_type.startswith("command.")

    async def route(events: Sequence[DomainEvent]) -> Sequence[DomainEvent]:
        routed.append([e.type for e in events])
        return events

    async def call(plan: SyncPlan, deadline: float) -> SyncAnswer | None:
        called.append((plan, deadline))
        return SyncAnswer(b"on it", "text/plain")

    async def lookup_user(team_id: str, user_id: str, app_id: str | None) -> CachedUser:
        return CachedUser(team_id, user_id, name="sam")

    async with httpx.AsyncClient() as http:
        settings = Settings(data_dir=tmp_path)
        gateway = Gateway(settings=settings, db=database, keyring=keyring, http=http)
        answers = SyncAnswers(
            gateway,
            endpoints=endpoints,
            wants=wants,
            route=route,
            call=call,
            lookup_user=lookup_user,
        )
        plan = await answers.plan("commands", FORM, "cmd:1", time.time())
        assert plan is not None
        assert plan.endpoint is COMMANDS  # synchronous, with a secret, and wants the type
        assert plan.event.type == "command.invoked"
        assert plan.event.data["user"]["name"] == "sam"
        assert "token" not in plan.event.data.get("raw", {})
        assert routed == [["command.invoked"]]

        started = time.monotonic()
        answer = await answers.answer(plan, started)
        assert answer is not None and answer.payload() == {"text": "on it"}
        assert called == [(plan, started + settings.sync_webhook_deadline)]

        # A button click is not answered inline.
        click = {"type": "block_actions", "team": {"id": TEAM}, "user": {"id": USER}}
        assert await answers.plan("interactivity", click, "click:1", time.time()) is None
