"""Signed "Add to Slack" links made by the operator action, checked by the Slack edge."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from slackbridge.operations.errors import AppNotFound, InvalidInput
from slackbridge.operations.install_links import make_install_link
from slackbridge.settings import Settings
from slackbridge.slack.workspaces.install_links import check_install_link
from slackbridge.store.store import Store

from .conftest import add_app

NOW = 1_900_000_000.0


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_a_link_with_a_ref_is_signed_and_expires(store: Store, settings: Settings) -> None:
    await add_app(store, "alpha", "A0ALPHA")
    await add_app(store, "beta", "A0BETA")
    link = await make_install_link(
        store.db,
        store.keyring,
        settings,
        ref="acct-1",
        app="A0BETA",
        team="T0ONE",
        ttl_seconds=3600,
        now=NOW,
    )
    assert link.url.startswith("https://gw.example/slack/install?")
    assert link.expires_at is not None and link.expires_at.timestamp() == NOW + 3600
    query = _query(link.url)
    assert query["app"] == "beta"  # the app's name, whichever way it was named
    verdict = check_install_link(
        store.keyring,
        ref="acct-1",
        app="beta",
        team="T0ONE",
        expires=query["expires"],
        sig=query["sig"],
        now=NOW + 10,
    )
    assert verdict == "signed"
    first = await make_install_link(store.db, store.keyring, settings, ref="acct-1", now=NOW)
    assert "app" not in _query(first.url)  # no app asked: the first, not named in the link


async def test_a_link_without_a_ref_is_plain(store: Store, settings: Settings) -> None:
    await add_app(store, "alpha", "A0ALPHA")
    link = await make_install_link(store.db, store.keyring, settings, ref=None, team="T0ONE")
    assert link.url == "https://gw.example/slack/install?team=T0ONE"
    assert link.expires_at is None


@pytest.mark.parametrize(
    ("ref", "team", "ttl", "reason"),
    [
        ("", None, 3600, "the account id must be 1 to 255 characters"),
        ("x" * 256, None, 3600, "the account id must be 1 to 255 characters"),
        ("acct", "nope", 3600, "'nope' is not a Slack workspace id"),
        ("acct", None, 59, "a link must stay valid between 60 and 2592000 seconds"),
        ("acct", None, 2_592_001, "a link must stay valid between 60 and 2592000 seconds"),
    ],
)
async def test_bad_input_is_refused(
    store: Store, settings: Settings, ref: str, team: str | None, ttl: int, reason: str
) -> None:
    await add_app(store, "alpha", "A0ALPHA")
    with pytest.raises(InvalidInput) as exc:
        await make_install_link(
            store.db, store.keyring, settings, ref=ref, team=team, ttl_seconds=ttl
        )
    assert exc.value.reason == reason


async def test_an_unknown_app_is_refused(store: Store, settings: Settings) -> None:
    with pytest.raises(AppNotFound):
        await make_install_link(store.db, store.keyring, settings, ref="acct")
    await add_app(store, "alpha", "A0ALPHA")
    with pytest.raises(AppNotFound, match=r"known apps: alpha"):
        await make_install_link(store.db, store.keyring, settings, ref="acct", app="gamma")
