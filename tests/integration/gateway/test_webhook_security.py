"""Product webhook endpoints, securely: URLs with credentials are used but never shown nor
stored in plaintext; signing secrets rotate with an overlap (a receiver holding either secret
verifies) and retire; link-local and metadata addresses are refused, also after resolving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from slackbridge.product.endpoints import sync_endpoints
from slackbridge.product.webhooks import DeliveryWorker
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import open_database
from slackbridge.store.migrate import upgrade_database
from slackbridge.store.repositories.deliveries import (
    DeliveriesRepository,
    Delivery,
    NewDelivery,
)
from slackbridge.store.repositories.endpoints import EndpointsRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.cli import run_cli
from tests.support.product import Hook, Product, run_product

API_KEY = "sbk_test_webhook_security_key"
USER, PASSWORD, TOKEN = "hookuser", "pa55-w0rd-zq", "t0k3n-abc-987"
SECRET_PARTS = (PASSWORD, TOKEN, USER)


@pytest.fixture
async def product() -> AsyncIterator[Product]:
    async with run_product("whsec_unused") as server:
        yield server


async def _send(gateway: Gateway, endpoint_id: int, webhook_id: str) -> None:
    """Queue one webhook for the running delivery worker."""
    await DeliveriesRepository(gateway.db, gateway.keyring).enqueue(
        [
            NewDelivery(
                webhook_id=webhook_id,
                endpoint_id=endpoint_id,
                event_type="message.posted",
                payload=f'{{"type":"message.posted","id":"{webhook_id}"}}',
            )
        ]
    )
    gateway.wakeups.signal("deliveries")


async def _received(product: Product, webhook_id: str) -> Hook:
    return await product.wait_for(lambda h: h.webhook_id == webhook_id, within=20)


def _files(data_dir: Path) -> bytes:
    return b"".join(
        (data_dir / name).read_bytes()
        for name in ("slackbridge.db", "slackbridge.db-wal")
        if (data_dir / name).exists()
    )


def _assert_clean(text: str | bytes, where: str) -> None:
    for part in SECRET_PARTS:
        needle: str | bytes = part.encode() if isinstance(text, bytes) else part
        assert needle not in text, f"{part!r} shown in {where}"


async def test_credentials_in_a_webhook_url_are_used_but_never_shown_or_stored(
    gateway_factory: GatewayFactory,
    product: Product,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="slackbridge")
    product.secret = "whsec_" + "QUJD" * 8
    url = product.url.replace("http://", f"http://{USER}:{PASSWORD}@") + f"/hooks?token={TOKEN}"
    data_dir = tmp_path / "gw"
    gw = await gateway_factory(
        data_dir=data_dir, webhook_url=url, webhook_secret=product.secret, api_keys=API_KEY
    )
    (endpoint,) = await EndpointsRepository(gw.gateway.db, gw.gateway.keyring).list()
    await _send(gw.gateway, endpoint.id, "msg_creds_1")
    hook = await _received(product, "msg_creds_1")
    assert hook.headers["authorization"].startswith("Basic ")  # the userinfo was used

    async with httpx.AsyncClient(base_url=gw.url) as client:
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
        api = await client.get("/api/v1/webhooks", headers={"authorization": f"Bearer {API_KEY}"})
    assert ready.status_code == 200
    assert "***@127.0.0.1" in ready.text and "/hooks?***" in ready.text
    _assert_clean(ready.text, "/readyz")
    _assert_clean(metrics.text, "/metrics")
    assert api.json()["endpoints"][0]["url"].endswith("/hooks?***")
    _assert_clean(api.text, "GET /api/v1/webhooks")

    code, out, err = await run_cli(data_dir, "webhooks", "list")
    assert code == 0, err
    assert "***@127.0.0.1" in out
    _assert_clean(out + err, "`webhooks list`")
    code, out, err = await run_cli(data_dir, "webhooks", "list", "--json", "--show-secret")
    assert code == 0 and product.secret in out
    _assert_clean(out + err, "`webhooks list --json`")
    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "list")
    assert code == 0, err
    _assert_clean(out + err, "`webhooks secrets list`")

    _assert_clean("\n".join(r.getMessage() for r in caplog.records), "the log")
    _assert_clean(_files(data_dir), "the SQLite files")


async def test_a_failing_delivery_records_its_error_without_credentials(
    tmp_path: Path,
) -> None:
    url = f"http://{USER}:{PASSWORD}@product.test/hooks?token={TOKEN}"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    async with _standalone(tmp_path, refuse, webhook_url=url) as (gateway, _calls):
        worker = DeliveryWorker(gateway, resolver=_resolver({"product.test": ["10.1.2.3"]}))
        stored = await _attempt_once(gateway, worker)
        assert stored.last_error is not None
        assert "ConnectError" in stored.last_error
        _assert_clean(stored.last_error, "the delivery's last error")


async def test_secrets_rotate_with_an_overlap_and_retire(
    gateway_factory: GatewayFactory, product: Product, tmp_path: Path
) -> None:
    gw = await gateway_factory(
        data_dir=tmp_path / "gw", webhook_url=product.hook_url, api_keys=API_KEY
    )
    (endpoint,) = await EndpointsRepository(gw.gateway.db, gw.gateway.keyring).list()
    old = endpoint.secret
    assert old is not None  # generated, as nothing was configured
    auth = {"authorization": f"Bearer {API_KEY}"}
    async with httpx.AsyncClient(base_url=gw.url + "/api/v1", headers=auth) as api:
        rotated = await api.post(f"/webhooks/{endpoint.id}/secrets")
        assert rotated.status_code == 201, rotated.text
        new = rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old
        secrets = rotated.json()["endpoint"]["secrets"]
        assert [s["current"] for s in secrets] == [True, False]
        assert all(old not in str(s) and new not in str(s) for s in secrets)

        await _send(gw.gateway, endpoint.id, "msg_overlap")
        during = await _received_any(product, "msg_overlap")
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        for secret in (new, old):  # a receiver holding either secret accepts it
            assert Webhook(secret).verify(during.body, during.headers)

        retired = await api.delete(f"/webhooks/{endpoint.id}/secrets/previous")
        assert retired.status_code == 200, retired.text
        assert [s["current"] for s in retired.json()["secrets"]] == [True]

        await _send(gw.gateway, endpoint.id, "msg_after")
        after = await _received_any(product, "msg_after")
        assert Webhook(new).verify(after.body, after.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old).verify(after.body, after.headers)

        missing = await api.post("/webhooks/999/secrets")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "endpoint_not_found"
        gone = await api.delete(f"/webhooks/{endpoint.id}/secrets/12345")
        assert gone.json()["error"]["code"] == "secret_not_found"
    async with httpx.AsyncClient(base_url=gw.url) as anonymous:
        unauthenticated = await anonymous.post(f"/api/v1/webhooks/{endpoint.id}/secrets")
    assert unauthenticated.status_code == 401


async def _received_any(product: Product, webhook_id: str) -> Hook:
    """The webhook as it arrived, whichever secret the product itself checks with."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        for hook in product.hooks:
            if hook.headers.get("webhook-id") == webhook_id:
                return hook
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{webhook_id} did not arrive")
        await asyncio.sleep(0.02)


async def test_secrets_from_the_cli_are_shown_once(
    gateway_factory: GatewayFactory, product: Product, tmp_path: Path
) -> None:
    data_dir = tmp_path / "gw"
    gw = await gateway_factory(data_dir=data_dir, webhook_url=product.hook_url)
    (endpoint,) = await EndpointsRepository(gw.gateway.db, gw.gateway.keyring).list()
    eid = str(endpoint.id)

    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "rotate", eid)
    assert code == 0, err
    (stored,) = await EndpointsRepository(gw.gateway.db, gw.gateway.keyring).list()
    assert stored.secret is not None and stored.secret in out and "shown this once" in out
    assert endpoint.secret not in out
    assert [p.secret for p in stored.previous_secrets] == [endpoint.secret]

    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "list", eid)
    assert code == 0, err
    assert "signs (current)" in out and "signs (retiring)" in out
    assert stored.secret not in out and endpoint.secret not in out
    assert f"secrets retire {eid}" in out

    retire = ("webhooks", "secrets", "retire", eid)
    code, out, err = await run_cli(data_dir, *retire, "--secret", "999")
    assert code == 1 and "no previous secret with id 999" in err and "Traceback" not in err
    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "retire", eid)
    assert code == 0 and "Retired 1 secret" in out
    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "retire", eid)
    assert code == 0 and "nothing to retire" in out
    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "rotate", "42")
    assert code == 1 and "no webhook endpoint has id 42" in err and "Traceback" not in err
    (final,) = await EndpointsRepository(gw.gateway.db, gw.gateway.keyring).list()
    assert final.signing_secrets == (stored.secret,)


async def test_a_configured_secret_is_rotated_in_the_configuration(
    gateway_factory: GatewayFactory, product: Product, tmp_path: Path
) -> None:
    data_dir = tmp_path / "gw"
    old, new = "whsec_" + "MDAw" * 8, "whsec_" + "MTEx" * 8
    await gateway_factory(data_dir=data_dir, webhook_url=product.hook_url, webhook_secret=old)
    # The configuration changes: the next start makes the new secret current, the old signs on.
    gw = await gateway_factory(
        data_dir=data_dir, webhook_url=product.hook_url, webhook_secret=new, api_keys=API_KEY
    )
    (endpoint,) = await EndpointsRepository(gw.gateway.db, gw.gateway.keyring).list()
    assert endpoint.signing_secrets == (new, old)
    async with httpx.AsyncClient(
        base_url=gw.url, headers={"authorization": f"Bearer {API_KEY}"}
    ) as api:
        refused = await api.post(f"/api/v1/webhooks/{endpoint.id}/secrets")
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "secret_configured"
    code, _out, err = await run_cli(
        data_dir,
        "webhooks",
        "secrets",
        "rotate",
        str(endpoint.id),
        SLACKBRIDGE_WEBHOOK_URL=product.hook_url,
        SLACKBRIDGE_WEBHOOK_SECRET=new,
    )
    assert code == 1 and "set in the configuration" in err and "Traceback" not in err
    code, _out, err = await run_cli(
        data_dir,
        "webhooks",
        "secrets",
        "rotate",
        str(endpoint.id),
        SLACKBRIDGE_WEBHOOK_URL="http://169.254.169.254/",
    )
    assert code == 1 and "is refused" in err and "Traceback" not in err
    code, out, err = await run_cli(data_dir, "webhooks", "secrets", "retire", str(endpoint.id))
    assert code == 0 and "Retired 1 secret" in out, err


# --- addresses ------------------------------------------------------------------------------


def _resolver(answers: dict[str, list[str]]) -> Callable[[str, int], Any]:
    async def resolve(host: str, _port: int) -> list[str]:
        if host not in answers:
            raise OSError(f"{host} does not resolve")
        return answers[host]

    return resolve


class _standalone:
    """A gateway's resources without its server or workers, its HTTP going to ``handler``."""

    def __init__(
        self,
        data_dir: Path,
        handler: Callable[[httpx.Request], httpx.Response],
        *,
        sockets: bool = False,
        **settings: Any,
    ) -> None:
        self.settings = Settings(data_dir=data_dir, **settings)
        self.handler = handler
        self.calls: list[httpx.Request] = []
        self.sockets = sockets  # webhooks through the socket client, not the mock transport

    async def __aenter__(self) -> tuple[Gateway, list[httpx.Request]]:
        def record(request: httpx.Request) -> httpx.Response:
            self.calls.append(request)
            return self.handler(request)

        db = open_database(self.settings.effective_database_url)
        await upgrade_database(db)
        transport = httpx.MockTransport(record)
        self.gateway = Gateway(
            settings=self.settings,
            db=db,
            keyring=Keyring.load(None, self.settings.data_dir),
            http=httpx.AsyncClient(transport=transport),
            http_transport=None if self.sockets else transport,
        )
        try:
            (endpoint,) = await sync_endpoints(self.gateway)
        except BaseException:
            await self.__aexit__()
            raise
        await DeliveriesRepository(db, self.gateway.keyring).enqueue(
            [NewDelivery("msg_addr", endpoint.id, "message.posted", '{"type":"x"}')]
        )
        return self.gateway, self.calls

    async def __aexit__(self, *_exc: object) -> None:
        await self.gateway.http.aclose()
        await self.gateway.db.close()


async def _attempt_once(gateway: Gateway, worker: DeliveryWorker) -> Delivery:
    """Run ``worker`` until it has made its first attempt at the queued delivery."""
    repo = DeliveriesRepository(gateway.db, gateway.keyring)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    deadline = asyncio.get_running_loop().time() + 20
    try:
        while True:
            found = await repo.get_by_webhook_id("msg_addr")
            if found is not None and found.attempts and found.status != "delivering":
                return found
            assert asyncio.get_running_loop().time() < deadline, "no attempt was made"
            await asyncio.sleep(0.02)
    finally:
        stop.set()
        await task


def _ok(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)


@pytest.mark.parametrize(
    ("answers", "allow", "sent"),
    [
        ({"product.test": ["169.254.169.254"]}, False, False),
        ({"product.test": ["10.0.0.5", "fd00:ec2::254"]}, False, False),
        ({"product.test": ["169.254.169.254"]}, True, True),
        ({"product.test": ["10.0.0.5"]}, False, True),
        ({"product.test": ["127.0.0.1"]}, False, True),
    ],
)
async def test_delivery_refuses_a_name_that_resolves_to_a_metadata_address(
    tmp_path: Path, answers: dict[str, list[str]], allow: bool, sent: bool
) -> None:
    async with _standalone(
        tmp_path,
        _ok,
        webhook_url="http://product.test/hooks",
        webhook_allow_link_local=allow,
    ) as (gateway, calls):
        stored = await _attempt_once(gateway, DeliveryWorker(gateway, resolver=_resolver(answers)))
        assert bool(calls) is sent
        if sent:
            assert stored.status == "delivered"
        else:
            assert stored.status == "pending" and stored.last_error is not None
            assert "refused: product.test resolves to" in stored.last_error
            assert "SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL" in stored.last_error


@pytest.mark.parametrize(
    ("answer", "sent"),
    [("169.254.169.254", False), ("::ffff:169.254.169.254", False), ("127.0.0.1", True)],
)
async def test_the_socket_client_connects_to_the_address_it_vetted(
    tmp_path: Path, answer: str, sent: bool
) -> None:
    """The gateway's own client resolves the name once per connection, refuses a metadata
    address, and connects to the address it checked (the name stays the Host)."""
    heads: list[str] = []

    async def product(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = int(head.lower().split("content-length:", 1)[1].split("\r\n", 1)[0])
        await reader.readexactly(length)
        heads.append(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(product, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    asked: list[str] = []

    async def resolve(host: str, _port: int) -> list[str]:
        asked.append(host)
        return [answer]

    try:
        async with _standalone(
            tmp_path, _ok, sockets=True, webhook_url=f"http://product.test:{port}/hooks"
        ) as (gateway, calls):
            stored = await _attempt_once(gateway, DeliveryWorker(gateway, resolver=resolve))
    finally:
        server.close()
        await server.wait_closed()
    assert calls == []  # nothing went through the mock transport
    assert asked == ["product.test"]
    if sent:
        assert stored.status == "delivered"
        (head,) = heads
        assert f"host: product.test:{port}" in head.lower()
    else:
        assert heads == [] and stored.status == "pending" and stored.last_error is not None
        assert stored.last_error.startswith("refused: product.test resolves to")
        assert "SLACKBRIDGE_WEBHOOK_ALLOW_LINK_LOCAL" in stored.last_error


async def test_start_up_refuses_a_metadata_url(tmp_path: Path) -> None:
    from slackbridge.product.endpoints import EndpointConfigError

    with pytest.raises(EndpointConfigError, match="metadata"):
        async with _standalone(
            tmp_path, _ok, webhook_url="http://metadata.google.internal/computeMetadata/v1/"
        ):
            pass


async def test_a_synchronous_call_to_a_metadata_address_is_not_made(tmp_path: Path) -> None:
    import time

    from slackbridge.domain.events import DomainEvent
    from slackbridge.pipeline.sync_answer import SyncPlan
    from slackbridge.product import sync
    from slackbridge.store.repositories.endpoints import WebhookEndpoint

    event = DomainEvent(
        type="command.invoked",
        team_id="T1",
        app_id="A1",
        data={},
        ordering_key="T1:C1",
        dedupe_key="cmd:1",
        occurred_at=time.time(),
    )
    secret = "whsec_" + "QUJD" * 8
    metadata = WebhookEndpoint(7, "http://169.254.169.254/sync", secret, (), True, True)
    plan = SyncPlan(endpoint=metadata, event=event)
    async with _standalone(tmp_path, _ok, webhook_url="http://product.test/hooks") as (
        gateway,
        calls,
    ):
        answer = await sync.call(gateway, plan, time.monotonic() + 2.0)
        await asyncio.gather(*sync._BACKGROUND)  # the fallback's bookkeeping
    assert answer is None and calls == []
