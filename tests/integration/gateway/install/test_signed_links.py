"""Install links that name a ref are signed; states cost no row until they come back; a
workspace keeps its ref on reinstall unless the operator allows a change."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from slackbridge.slack.workspaces.lifecycle import audit_repo, installations_repo, remove_workspace
from slackbridge.store.models import OAuthStateRow, table_of
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.product import Product, run_product
from tests.support.stack import GatewayServer, browser, consent, install_via_browser

SECRET = "whsec_" + "c2lnbmVkLWxpbmtzLXRlc3Qtd2ViaG9vay1zZWNyZXQ="
ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
API_KEY = "sk-signed-links-test-key"


def _reason(page: httpx.Response) -> str | None:
    marker = '<code id="reason">'
    if marker not in page.text:
        return None
    return page.text.split(marker, 1)[1].split("</code>", 1)[0]


async def _state_rows(gw: GatewayServer) -> int:
    async with gw.gateway.db.session() as s:
        return int(
            (
                await s.execute(select(func.count()).select_from(table_of(OAuthStateRow)))
            ).scalar_one()
        )


@pytest.fixture
async def product() -> AsyncIterator[Product]:
    async with run_product(SECRET) as running:
        yield running


async def _gateway(factory: GatewayFactory, product: Product, **settings: Any) -> GatewayServer:
    gw = await factory(
        webhook_url=product.hook_url,
        webhook_secret=SECRET,
        webhook_retry_scale=0.02,
        api_keys=API_KEY,
        **settings,
    )
    await gw.provision()
    return gw


async def test_unsigned_altered_and_expired_links_are_refused(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    url = gateway.url + "/slack/install"
    signed = gateway.signed_install_params("acct-1")
    async with browser() as b:
        unsigned = await b.get(url, params={"ref": "acct-1"})
        altered = await b.get(url, params={**signed, "ref": "acct-2"})
        other_app = await b.get(url, params={**signed, "app": "default"})
        expired = await b.get(url, params=gateway.signed_install_params("acct-1", ttl=-1))
        stray = await b.get(url, params={"expires": signed["expires"], "sig": signed["sig"]})
        assert not b.cookies  # no install was started
    assert (unsigned.status_code, _reason(unsigned)) == (403, "unsigned_ref")
    assert "not signed" in unsigned.text
    assert "/api/v1/workspaces/install-url" in unsigned.text
    for page in (altered, other_app):
        assert (page.status_code, _reason(page)) == (400, "invalid_signature")
    assert (expired.status_code, _reason(expired)) == (410, "link_expired")
    assert (stray.status_code, _reason(stray)) == (400, "invalid_link")
    assert "Traceback" not in unsigned.text + altered.text + expired.text
    assert gateway.emulator.calls_to("oauth.v2.access") == []


async def test_unsigned_refs_when_the_operator_allows_them(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    gw = await _gateway(gateway_factory, product, allow_unsigned_ref=True)
    async with browser() as b:
        start = await b.get(gw.url + "/slack/install", params={"ref": "acct-plain"})
        assert start.status_code == 302, start.text
        done = await b.get(await consent(gw.emulator, start.headers["location"], ACME, ALICE))
    assert done.status_code == 200, done.text
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.product_ref == "acct-plain"


async def test_a_link_from_the_api_installs_under_its_ref(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    gw = await _gateway(gateway_factory, product)
    async with httpx.AsyncClient(
        base_url=gw.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=10.0
    ) as api:
        made = await api.post(
            "/api/v1/workspaces/install-url",
            json={"product_ref": "acct-9", "team": ACME, "ttl_seconds": 3600},
        )
        too_long = await api.post(
            "/api/v1/workspaces/install-url", json={"product_ref": "a", "ttl_seconds": 10**8}
        )
    assert made.status_code == 200, made.text
    assert too_long.status_code == 422
    link = made.json()
    assert link["expires_at"] is not None
    query = dict(parse_qsl(urlsplit(link["url"]).query))
    assert (query["ref"], query["team"]) == ("acct-9", ACME)
    async with browser() as b:
        start = await b.get(link["url"])
        assert start.status_code == 302, start.text
        authorize = start.headers["location"]
        assert parse_qs(urlsplit(authorize).query)["team"] == [ACME]
        done = await b.get(await consent(gw.emulator, authorize, ACME, ALICE))
    assert done.status_code == 200, done.text
    (inst,) = await installations_repo(gw.gateway).list()
    assert inst.product_ref == "acct-9"
    hook = await product.wait_for(lambda h: h.type == "workspace.installed")
    assert hook.data["workspace"]["ref"] == "acct-9"


async def test_hits_on_the_install_link_store_nothing(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    signed = gateway.signed_install_params("acct-1")
    async with browser() as b:
        for index in range(60):
            params = signed if index % 2 else {}
            assert (await b.get(gateway.url + "/slack/install", params=params)).status_code == 302
        # Made-up states at the callback store nothing either.
        for state in ("nope", "a.b", "x" * 3000):
            page = await b.get(
                gateway.url + "/slack/oauth/callback", params={"state": state, "code": "c"}
            )
            assert page.status_code == 400
    assert await _state_rows(gateway) == 0
    async with browser() as b:
        done = await install_via_browser(b, gateway, ACME, ALICE, ref="acct-1")
    assert done.status_code == 200, done.text
    assert await _state_rows(gateway) == 1  # the one used up, kept until it expires


async def test_a_reinstall_under_another_ref_is_refused(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    gw = await _gateway(gateway_factory, product)
    async with browser() as b:
        assert (await install_via_browser(b, gw, ACME, ALICE, ref="acct-1")).status_code == 200
        taken = await install_via_browser(b, gw, ACME, BOB, ref="acct-2")
    assert (taken.status_code, _reason(taken)) == (409, None)
    assert "connected to another account" in html.unescape(taken.text)
    assert "acct-1" not in taken.text  # the other account is not named to the visitor
    (inst,) = await installations_repo(gw.gateway).list()
    assert (inst.product_ref, inst.installer_user_id) == ("acct-1", ALICE)
    (refused, *_) = await audit_repo(gw.gateway).list(team_id=ACME)
    assert refused.action == "workspace.ref_change_refused"
    assert (refused.detail["ref"], refused.detail["refused_ref"]) == ("acct-1", "acct-2")
    assert len(product.of_type("workspace.installed")) <= 1
    assert product.of_type("workspace.ref_changed") == []

    # Once the app was removed from the workspace, it is no longer tied to acct-1.
    await remove_workspace(gw.gateway, ACME, actor="test")
    async with browser() as b:
        assert (await install_via_browser(b, gw, ACME, BOB, ref="acct-2")).status_code == 200
    moved = await product.wait_for(lambda h: h.type == "workspace.ref_changed")
    assert (moved.data["old_ref"], moved.data["new_ref"]) == ("acct-1", "acct-2")


async def test_an_allowed_ref_change_is_announced(
    gateway_factory: GatewayFactory, product: Product
) -> None:
    gw = await _gateway(gateway_factory, product, allow_ref_change=True)
    async with browser() as b:
        assert (await install_via_browser(b, gw, ACME, ALICE, ref="acct-1")).status_code == 200
        assert (await install_via_browser(b, gw, ACME, BOB, ref="acct-2")).status_code == 200
    (inst,) = await installations_repo(gw.gateway).list()
    assert (inst.product_ref, inst.installer_user_id) == ("acct-2", BOB)
    hook = await product.wait_for(lambda h: h.type == "workspace.ref_changed")
    assert (hook.data["old_ref"], hook.data["new_ref"]) == ("acct-1", "acct-2")
    assert hook.data["workspace"]["ref"] == "acct-2"
    entries = await audit_repo(gw.gateway).list(team_id=ACME)
    assert entries[0].detail["previous_ref"] == "acct-1"


async def test_the_retry_link_of_a_failed_install_is_signed_like_the_first(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    first = gateway.signed_install_params("acct-1")
    async with browser() as b:
        start = await b.get(gateway.url + "/slack/install", params=first)
        redirect = await consent(
            gateway.emulator, start.headers["location"], ACME, ALICE, deny=True
        )
        denied = await b.get(redirect)
        assert denied.status_code == 403
        href = html.unescape(denied.text.split('<a href="', 1)[1].split('"', 1)[0])
        retry = dict(parse_qsl(urlsplit(href).query))
        assert (retry["ref"], retry["expires"]) == ("acct-1", first["expires"])
        again = await b.get(gateway.url + href)
    assert again.status_code == 302, again.text
