""" "Add to Slack" end to end: the gateway and the emulator over real HTTP."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from slackbridge.slack.workspaces.lifecycle import audit_repo, installations_repo
from slackbridge.slack.workspaces.oauth import STATE_TTL_SECONDS, authorize_url, cookie_name
from slackbridge.slack.workspaces.tokens import bot_token, user_token
from slackbridge.store.models import OAuthStateRow, table_of
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.oauth_states import OAuthStatesRepository
from tests.integration.gateway.conftest import GatewayFactory
from tests.support.stack import (
    GatewayServer,
    browser,
    consent,
    install_via_browser,
    start_install,
)

ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"
_STATES = table_of(OAuthStateRow)


def _reason(page: httpx.Response) -> str | None:
    marker = '<code id="reason">'
    if marker not in page.text:
        return None
    return page.text.split(marker, 1)[1].split("</code>", 1)[0]


async def test_install_link_redirects_to_slack_with_a_fresh_state_and_a_browser_cookie(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        link = gateway.signed_install_params("acct-42")
        issued_after = utcnow()
        response = await b.get(gateway.url + "/slack/install", params=link)
        issued_before = utcnow()
        assert response.status_code == 302
        assert response.headers["cache-control"] == "no-store"
        target = urlsplit(response.headers["location"])
        assert f"{target.scheme}://{target.netloc}" == gateway.emulator.url
        assert target.path == "/oauth/v2/authorize"
        query = {k: v[0] for k, v in parse_qs(target.query).items()}
        assert query["client_id"] == gateway_app.client_id
        assert query["redirect_uri"] == gateway.url + "/slack/oauth/callback"
        assert query["scope"].split(",") == list(gateway_app.bot_scopes)
        state = query["state"]
        assert len(state) >= 40

        cookie = SimpleCookie(response.headers["set-cookie"])
        (morsel,) = cookie.values()
        assert morsel["httponly"] is True
        assert morsel["samesite"].lower() == "lax"
        assert morsel["path"] == "/slack/oauth"
        assert morsel["max-age"] == "600"
        # Nothing is stored for a state until it comes back (hits on the link cost no row).
        assert await _state_rows(gateway) == []

        done = await b.get(await consent(gateway.emulator, target.geturl(), ACME, ALICE))
        assert done.status_code == 200, done.text
    # Then only digests are kept, with the product's ref, until the state expires (10 min).
    (row,) = await _state_rows(gateway)
    assert row["product_ref"] == "acct-42"
    assert state not in {row["state_hash"], row["browser_hash"]}
    assert morsel.value not in {row["state_hash"], row["browser_hash"]}
    ten_minutes, rounding = timedelta(minutes=10), timedelta(milliseconds=1)
    assert issued_after + ten_minutes - rounding <= row["expires_at"]
    assert row["expires_at"] <= issued_before + ten_minutes + rounding
    (inst,) = await installations_repo(gateway.gateway).list()
    assert inst.product_ref == "acct-42"


async def _state_rows(gateway: GatewayServer) -> list[Any]:
    async with gateway.gateway.db.session() as s:
        return list((await s.execute(select(_STATES))).mappings().all())


async def test_each_install_link_gets_a_different_state(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        first = await start_install(b, gateway)
        second = await start_install(b, gateway)
    assert parse_qs(urlsplit(first).query)["state"] != parse_qs(urlsplit(second).query)["state"]


async def test_add_to_slack_page_shows_the_button(gateway: GatewayServer, gateway_app: Any) -> None:
    async with browser() as b:
        link = gateway.signed_install_params("a")
        page = await b.get(gateway.url + "/slack/install", params={**link, "page": "1"})
        assert page.status_code == 200
        assert "Add to Slack" in page.text
        href = page.text.split('id="add-to-slack" href="', 1)[1].split('"', 1)[0]
        authorize = href.replace("&amp;", "&")
        assert authorize.startswith(gateway.emulator.url + "/oauth/v2/authorize?")
        # The button's link completes an install in the same browser.
        redirect = await consent(gateway.emulator, authorize, ACME, ALICE)
        done = await b.get(redirect)
    assert done.status_code == 200, done.text


async def test_install_stores_the_installation_and_hands_out_its_token(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        page = await install_via_browser(b, gateway, ACME, ALICE, ref="acct-1")
    assert page.status_code == 200, page.text
    assert "Acme" in page.text
    # The cookie is deleted once used.
    assert "max-age=0" in page.headers.get("set-cookie", "").lower()

    emulated = gateway.emulator.state.installations[(gateway_app.app_id, ACME)]
    (inst,) = await installations_repo(gateway.gateway).list()
    assert inst.team_id == ACME
    assert inst.team_name == "Acme"
    assert inst.status == "active"
    assert inst.bot_token == emulated.bot_token
    assert inst.bot_user_id == emulated.bot_user_id
    assert inst.bot_id == emulated.bot_id
    assert inst.installer_user_id == ALICE
    assert inst.product_ref == "acct-1"
    assert set(inst.bot_scopes) == set(gateway_app.bot_scopes)
    assert inst.bot_token_expires_at is None and inst.bot_refresh_token is None

    creds = await bot_token(gateway.gateway, ACME)
    assert creds.token == emulated.bot_token
    assert creds.app_id == gateway_app.app_id
    assert creds.bot_id == emulated.bot_id

    (entry,) = await audit_repo(gateway.gateway).list(team_id=ACME)
    assert entry.action == "workspace.installed"
    assert entry.actor == f"slack:{ALICE}"
    assert entry.detail["ref"] == "acct-1"


async def test_two_workspaces_and_two_apps(gateway: GatewayServer) -> None:
    alpha = await gateway.provision("alpha")
    beta = await gateway.provision("beta")
    assert alpha.app_id != beta.app_id
    async with browser() as b:
        plan = ((ACME, ALICE, "alpha"), (GLOBEX, ERIN, "alpha"), (ACME, BOB, "beta"))
        for team, user, app in plan:
            page = await install_via_browser(b, gateway, team, user, app=app, ref=f"{team}-{app}")
            assert page.status_code == 200, page.text

    installs = await installations_repo(gateway.gateway).list()
    assert sorted((i.team_id, i.app_ref) for i in installs) == sorted(
        [(ACME, alpha.id), (GLOBEX, alpha.id), (ACME, beta.id)]
    )
    state = gateway.emulator.state
    acme_alpha = await bot_token(gateway.gateway, ACME, app_id=alpha.app_id)
    acme_beta = await bot_token(gateway.gateway, ACME, app_id=beta.app_id)
    globex = await bot_token(gateway.gateway, GLOBEX)
    assert acme_alpha.token == state.installations[(alpha.app_id, ACME)].bot_token
    assert acme_beta.token == state.installations[(beta.app_id, ACME)].bot_token
    assert globex.token == state.installations[(alpha.app_id, GLOBEX)].bot_token
    assert len({acme_alpha.token, acme_beta.token, globex.token}) == 3
    # Each app has its own bot in the same workspace.
    assert acme_alpha.bot_user_id != acme_beta.bot_user_id


async def test_reinstall_updates_the_installation_instead_of_adding_one(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        first = await install_via_browser(b, gateway, ACME, ALICE, ref="acct-1")
        (before,) = await installations_repo(gateway.gateway).list()
        second = await install_via_browser(b, gateway, ACME, BOB, ref="acct-1")
        # A reinstall from a link without a ref keeps the workspace's ref.
        third = await install_via_browser(b, gateway, ACME, ALICE)
    assert first.status_code == second.status_code == third.status_code == 200
    (after,) = await installations_repo(gateway.gateway).list()
    assert after.id == before.id
    assert after.installer_user_id == ALICE
    assert after.product_ref == "acct-1"
    assert after.installed_at >= before.installed_at
    actions = [e.action for e in await audit_repo(gateway.gateway).list(team_id=ACME)]
    assert actions == ["workspace.reinstalled", "workspace.reinstalled", "workspace.installed"]


async def test_user_scopes_keep_a_user_token_per_person(gateway: GatewayServer) -> None:
    app = await gateway.provision("people", user_scopes=["search:read", "users:read"])
    async with browser() as b:
        for person in (ALICE, BOB):
            page = await install_via_browser(b, gateway, ACME, person, app="people")
            assert page.status_code == 200, page.text
    state = gateway.emulator.state
    emulated = state.installations[(app.app_id, ACME)]
    alice = await user_token(gateway.gateway, ACME, ALICE)
    bob = await user_token(gateway.gateway, ACME, BOB)
    assert alice is not None and bob is not None
    assert alice.token == emulated.user_tokens[ALICE]
    assert bob.token == emulated.user_tokens[BOB]
    assert set(alice.scopes) == {"search:read", "users:read"}
    assert await user_token(gateway.gateway, ACME, "U0ACME0003") is None
    # One installation, two people's tokens.
    repo = installations_repo(gateway.gateway)
    (inst,) = await repo.list()
    assert {t.user_id for t in await repo.list_user_tokens(inst.id)} == {ALICE, BOB}


async def test_incoming_webhook_is_stored(gateway: GatewayServer) -> None:
    await gateway.provision("hooks", bot_scopes=["chat:write", "incoming-webhook"])
    async with browser() as b:
        page = await install_via_browser(b, gateway, ACME, ALICE, app="hooks")
    assert page.status_code == 200, page.text
    (inst,) = await installations_repo(gateway.gateway).list()
    assert inst.incoming_webhook_url is not None
    assert inst.incoming_webhook_url.startswith(gateway.emulator.url + "/services/T0ACME0001/")
    assert inst.incoming_webhook_channel == "#general"
    assert inst.incoming_webhook_channel_id == "C0ACME0GEN"


# --- failures ---------------------------------------------------------------------------------


async def test_denied_consent_stores_nothing(gateway: GatewayServer, gateway_app: Any) -> None:
    async with browser() as b:
        page = await install_via_browser(b, gateway, ACME, ALICE, deny=True)
    assert page.status_code == 403
    assert "was not installed" in page.text
    assert "/slack/install?app=default" in page.text  # a way to start again
    assert await installations_repo(gateway.gateway).list() == []


async def test_replayed_callback_is_refused_and_does_not_install_twice(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        authorize = await start_install(b, gateway)
        redirect = await consent(gateway.emulator, authorize, ACME, ALICE)
        cookies = dict(b.cookies)
        first = await b.get(redirect)
        # The browser dropped the cookie; a replay that still has it is refused too.
        b.cookies.update(cookies)
        replay = await b.get(redirect)
    assert first.status_code == 200
    assert replay.status_code == 409
    assert "already used" in replay.text
    assert len(await installations_repo(gateway.gateway).list()) == 1
    assert len(gateway.emulator.calls_to("oauth.v2.access")) == 1


async def test_expired_state_is_refused(gateway: GatewayServer, gateway_app: Any) -> None:
    # A state issued 11 minutes ago (signed like any other), with its cookie in the browser.
    long_ago = utcnow() - timedelta(minutes=11)
    states = OAuthStatesRepository(gateway.gateway.db, gateway.gateway.keyring, lambda: long_ago)
    issued = await states.issue(gateway_app.id, ttl_seconds=STATE_TTL_SECONDS)
    authorize = authorize_url(gateway.gateway, gateway_app, issued.state)
    async with browser() as b:
        b.cookies.set(
            cookie_name(issued.state), issued.browser_token, domain="127.0.0.1", path="/slack/oauth"
        )
        redirect = await consent(gateway.emulator, authorize, ACME, ALICE)
        page = await b.get(redirect)
    assert page.status_code == 410
    assert "expired" in page.text
    assert await installations_repo(gateway.gateway).list() == []
    assert gateway.emulator.calls_to("oauth.v2.access") == []
    assert await _state_rows(gateway) == []


async def test_callback_in_another_browser_is_refused_and_the_owner_can_still_finish(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as owner, browser() as stranger:
        authorize = await start_install(owner, gateway)
        redirect = await consent(gateway.emulator, authorize, ACME, ALICE)
        stolen = await stranger.get(redirect)
        assert stolen.status_code == 403
        assert "another browser" in stolen.text
        # A forged cookie with the right name but another value is refused too.
        name = next(iter(owner.cookies.keys()))
        stranger.cookies.set(name, "forged", domain="127.0.0.1", path="/slack/oauth")
        assert (await stranger.get(redirect)).status_code == 403
        assert await installations_repo(gateway.gateway).list() == []
        done = await owner.get(redirect)
    assert done.status_code == 200, done.text


async def test_two_installs_in_two_tabs_of_one_browser(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        acme = await consent(gateway.emulator, await start_install(b, gateway), ACME, ALICE)
        globex = await consent(gateway.emulator, await start_install(b, gateway), GLOBEX, ERIN)
        assert (await b.get(globex)).status_code == 200
        assert (await b.get(acme)).status_code == 200
    assert len(await installations_repo(gateway.gateway).list()) == 2


async def test_unknown_or_missing_state(gateway: GatewayServer, gateway_app: Any) -> None:
    async with browser() as b:
        missing = await b.get(gateway.url + "/slack/oauth/callback", params={"code": "x"})
        unknown = await b.get(
            gateway.url + "/slack/oauth/callback", params={"code": "x", "state": "nope"}
        )
    assert missing.status_code == 400
    assert "incomplete" in missing.text
    assert unknown.status_code == 400
    assert "not valid" in unknown.text


async def test_slack_error_during_the_exchange_shows_its_reason(
    gateway: GatewayServer, gateway_app: Any
) -> None:
    async with browser() as b:
        authorize = await start_install(b, gateway)
        redirect = await consent(gateway.emulator, authorize, ACME, ALICE)
        parts = urlsplit(redirect)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        page = await b.get(
            redirect.split("?")[0], params={"code": "not-a-code", "state": query["state"]}
        )
    assert page.status_code == 502
    assert _reason(page) == "invalid_code"
    assert await installations_repo(gateway.gateway).list() == []


async def test_unknown_app_and_no_app(gateway: GatewayServer) -> None:
    async with browser() as b:
        nothing = await b.get(gateway.url + "/slack/install")
        await gateway.provision("alpha")
        unknown = await b.get(gateway.url + "/slack/install", params={"app": "nope"})
        too_long = await b.get(gateway.url + "/slack/install", params={"ref": "x" * 256})
    assert nothing.status_code == 503
    assert "apps provision" in nothing.text
    assert unknown.status_code == 404
    assert "alpha" in unknown.text  # names the apps there are
    assert too_long.status_code == 400


async def test_an_https_public_url_makes_the_cookie_secure(
    gateway_factory: GatewayFactory, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    first = await gateway_factory(data_dir=shared)
    await first.provision()
    behind_tls = await gateway_factory(data_dir=shared, public_url="https://bridge.example.com")
    async with browser() as b:
        response = await b.get(behind_tls.url + "/slack/install")
    assert response.status_code == 302
    (morsel,) = SimpleCookie(response.headers["set-cookie"]).values()
    assert morsel["secure"] is True
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["redirect_uri"] == ["https://bridge.example.com/slack/oauth/callback"]


@pytest.mark.postgres
async def test_install_and_reinstall_on_postgres(
    gateway_factory: GatewayFactory, pg_schema: tuple[str, str]
) -> None:
    url, schema = pg_schema
    gw = await gateway_factory(database_url=url, database_schema=schema)
    app = await gw.provision()
    async with browser() as b:
        assert (await install_via_browser(b, gw, ACME, ALICE, ref="a")).status_code == 200
        replay_target = await consent(gw.emulator, await start_install(b, gw), ACME, BOB)
        assert (await b.get(replay_target)).status_code == 200
        assert (await b.get(replay_target)).status_code == 409
    (inst,) = await installations_repo(gw.gateway).list()
    assert (inst.installer_user_id, inst.product_ref) == (BOB, "a")
    emulated = gw.emulator.state.installations[(app.app_id, ACME)]
    assert (await bot_token(gw.gateway, ACME)).token == emulated.bot_token
