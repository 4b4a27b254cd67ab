"""No token or secret the emulator issued appears in plaintext in the database or the logs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from slackbridge.logs import configure_logging
from slackbridge.slack.workspaces.tokens import bot_token, user_token
from slackbridge.store.models import InstallationRow, UserTokenRow, table_of
from slackbridge.store.models_base import utcnow
from tests.support.stack import GatewayServer, browser, consent, start_install

ACME, ALICE, BOB = "T0ACME0001", "U0ACME0001", "U0ACME0002"
GLOBEX, ERIN = "T0GLBX0001", "U0GLBX0001"


class _NotTheTestsBrowser(logging.Filter):
    """The test's own HTTP client logs every header it receives at DEBUG (httpcore), its
    cookies included; those lines are the browser's, not the gateway's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("httpcore")


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Everything logged, at DEBUG, through slackbridge's own (redacting) log handler,
    configured before any server starts, as ``slackbridge serve`` does."""
    root = logging.getLogger()
    level = root.level
    configure_logging("DEBUG")
    handler = next(h for h in root.handlers if getattr(h, "_slackbridge", False))
    buffer = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    handler.addFilter(_NotTheTestsBrowser())
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _secrets(gw: GatewayServer, issued: list[str]) -> set[str]:
    """Every secret the emulator (and the install flow) handed out."""
    state = gw.emulator.state
    found = set(issued)
    for token in state.tokens.values():
        found.add(token.token)
        if token.refresh_token:
            found.add(token.refresh_token)
    for app in state.apps.values():
        found |= {app.client_secret, app.signing_secret, app.verification_token}
        found |= set(app.app_tokens)
    for inst in state.installations.values():
        for hook in inst.incoming_webhooks:
            found.add(hook["url"].rsplit("/", 1)[1])  # the secret part of the URL
    found |= set(state.oauth_codes)
    found.add(state.configuration_token)
    return {s for s in found if s and len(s) >= 8}


async def test_no_secret_in_the_database_files_or_the_logs(
    captured_logs: io.StringIO, gateway: GatewayServer
) -> None:
    issued: list[str] = []  # OAuth states and browser cookies
    await gateway.provision(
        "rotating",
        token_rotation=True,
        user_scopes=["search:read"],
        bot_scopes=["chat:write", "incoming-webhook", "users:read"],
    )
    await gateway.provision("plain")
    async with browser() as b:
        for team, user, app in (
            (ACME, ALICE, "rotating"),
            (ACME, BOB, "rotating"),  # a reinstall by someone else
            (GLOBEX, ERIN, "rotating"),
            (ACME, ALICE, "plain"),
        ):
            authorize = await start_install(b, gateway, app=app, ref=f"ref-{team}")
            issued.append(parse_qs(urlsplit(authorize).query)["state"][0])
            issued.extend(v for v in b.cookies.values())
            page = await b.get(await consent(gateway.emulator, authorize, team, user))
            assert page.status_code == 200, page.text
        denied = await start_install(b, gateway, app="plain")
        await b.get(await consent(gateway.emulator, denied, GLOBEX, ERIN, deny=True))

    # Rotate every token once, bot and user.
    db = gateway.gateway.db
    soon = utcnow() + timedelta(minutes=1)
    async with db.transaction() as tx:
        await tx.execute(
            update(table_of(InstallationRow))
            .where(table_of(InstallationRow).c.bot_token_expires_at.is_not(None))
            .values(bot_token_expires_at=soon)
        )
        await tx.execute(update(table_of(UserTokenRow)).values(expires_at=soon))
    apps = {a.name: a for a in gateway.emulator.state.apps.values()}
    rotating = next(a for a in apps.values() if a.token_rotation)
    for team in (ACME, GLOBEX):
        await bot_token(gateway.gateway, team, app_id=rotating.id)
    assert await user_token(gateway.gateway, ACME, ALICE, app_id=rotating.id) is not None
    assert len(gateway.emulator.calls_to("oauth.v2.access", grant_type="refresh_token")) == 3

    secrets = _secrets(gateway, issued)
    assert len(secrets) > 20
    files = sorted(Path(gateway.settings.data_dir).glob("slackbridge.db*"))  # noqa: ASYNC240
    assert {f.name for f in files} >= {"slackbridge.db", "slackbridge.db-wal"}
    for path in files:
        data = path.read_bytes()
        leaked = [s for s in secrets if s.encode() in data]
        assert leaked == [], f"{path.name} holds {len(leaked)} secret(s) in plaintext"
    logs = captured_logs.getvalue()
    assert "refreshed the bot token" in logs  # the capture works
    leaked = [s for s in secrets if s in logs]
    assert leaked == [], f"the logs hold {len(leaked)} secret(s): " + ", ".join(
        s[:6] + "…" for s in leaked
    )
