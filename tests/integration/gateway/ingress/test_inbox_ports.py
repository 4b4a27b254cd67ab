"""The inbox worker calls the edges only through the ports it is given: a batch with Slack's
``app_uninstalled`` and a person's message goes to fake ports, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from slackbridge.domain.events import DomainEvent, Normalized, Received
from slackbridge.pipeline.inbox_ports import InboxPorts
from slackbridge.pipeline.inbox_worker import InboxWorker
from slackbridge.pipeline.normalize import OwnIdentity
from slackbridge.server import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.endpoints import WebhookEndpoint
from slackbridge.store.repositories.inbox import InboxRepository, NewInboxItem
from slackbridge.store.repositories.users import CachedUser

TEAM, APP, USER = "T0PORTS001", "A0PORTS001", "U0PORTS001"
ENDPOINT = WebhookEndpoint(1, "http://product.test/hooks", "whsec_x", (), False, True)


def _row(key: str, event: dict[str, Any]) -> NewInboxItem:
    body = {"type": "event_callback", "team_id": TEAM, "api_app_id": APP, "event": event}
    return NewInboxItem(
        dedupe_key=key,
        kind="events",
        body=orjson.dumps({**body, "event_id": key}),
        team_id=TEAM,
        headers={"transport": "http"},
    )


async def test_a_batch_reaches_the_edges_through_its_ports(
    database: Database, keyring: Keyring, tmp_path: Path
) -> None:
    calls: list[tuple[str, Any]] = []

    async def own_identity(team_id: str | None) -> OwnIdentity:
        calls.append(("own_identity", team_id))
        return OwnIdentity()

    async def app_id_of(app_ref: int) -> str | None:
        calls.append(("app_id_of", app_ref))
        return APP

    async def uninstall(
        team_id: str, app_id: str | None, enterprise_id: str | None, reason: str
    ) -> bool:
        calls.append(("uninstall", (team_id, app_id, reason)))
        return True

    async def revoke(team_id: str, app_id: str | None, user_ids: Sequence[str]) -> int:
        calls.append(("revoke", (team_id, list(user_ids))))
        return 0

    async def route(normalized: Normalized) -> Normalized:
        calls.append(("route", [e.type for e in normalized.events]))
        return normalized

    async def endpoints() -> Sequence[WebhookEndpoint]:
        return [ENDPOINT]

    def fan_out(
        targets: Sequence[WebhookEndpoint],
        events: Sequence[DomainEvent],
        hold: Mapping[int, datetime] | None,
    ) -> list[NewDelivery]:
        calls.append(("fan_out", [(e.type, e.data.get("user")) for e in events]))
        return []

    async def lookup_user(team_id: str, user_id: str, app_id: str | None) -> CachedUser:
        calls.append(("lookup_user", (team_id, user_id, app_id)))
        return CachedUser(team_id, user_id, name="pat", real_name="Pat Ports")

    async def listener(items: Sequence[Received]) -> list[list[DomainEvent]]:
        calls.append(("listener", len(items)))
        return [[] for _ in items]

    ports = InboxPorts(
        own_identity=own_identity,
        app_id_of=app_id_of,
        uninstall=uninstall,
        revoke_user_tokens=revoke,
        route=route,
        endpoints=endpoints,
        fan_out=fan_out,
        lookup_user=lookup_user,
        listeners=[listener],
    )
    async with httpx.AsyncClient() as http:
        gateway = Gateway(
            settings=Settings(data_dir=tmp_path), db=database, keyring=keyring, http=http
        )
        worker = InboxWorker(gateway, ports, linger_seconds=0)
        inbox = InboxRepository(database, keyring)
        message = {"type": "message", "channel": "C0PORTS001", "user": USER, "text": "hi"}
        await inbox.insert_many(
            [
                _row("Ev1", {"type": "app_uninstalled"}),
                _row("Ev2", {**message, "ts": "1700000000.000100", "channel_type": "channel"}),
            ]
        )
        await worker.process(await worker.claim(10))

        assert ("own_identity", TEAM) in calls
        assert ("listener", 2) in calls
        assert ("uninstall", (TEAM, APP, "app_uninstalled")) in calls
        assert ("lookup_user", (TEAM, USER, APP)) in calls
        fanned = dict(pair for name, arg in calls if name == "fan_out" for pair in arg)
        user = fanned["message.posted"]
        assert user["id"] == USER and user["name"] == "pat" and user["real_name"] == "Pat Ports"
        for key in ("Ev1", "Ev2"):
            row = await inbox.get_by_key(key)
            assert row is not None and row.status == "done"
