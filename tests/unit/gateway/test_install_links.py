"""Signed install links: what is accepted, what is refused."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from slackbridge.slack.workspaces.install_links import (
    LINK_PURPOSE,
    check_install_link,
    make_install_link,
    signed_install_query,
)
from slackbridge.store.crypto import Keyring, generate_key

NOW = 1_800_000_000
OLD, NEW = generate_key(), generate_key()


def _check(keyring: Keyring, query: dict[str, str], now: float = NOW) -> str:
    return check_install_link(
        keyring,
        ref=query["ref"],
        app=query.get("app"),
        team=query.get("team"),
        expires=query.get("expires"),
        sig=query.get("sig"),
        now=now,
    )


def test_a_signed_link_is_valid_until_it_expires() -> None:
    keyring = Keyring.parse(OLD)
    query = signed_install_query(keyring, ref="acct-1", app="sales", team="T1", expires=NOW + 60)
    assert _check(keyring, query) == "signed"
    assert _check(keyring, query, now=NOW + 60) == "expired"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ref", "acct-2"),
        ("app", "default"),
        ("team", "T2"),
        ("expires", str(NOW + 10**6)),
        ("sig", "A" * 43),
        ("expires", "soon"),
    ],
)
def test_any_change_makes_it_forged(field: str, value: str) -> None:
    keyring = Keyring.parse(OLD)
    query = signed_install_query(keyring, ref="acct-1", app="sales", team="T1", expires=NOW + 60)
    assert _check(keyring, {**query, field: value}) == "forged"


def test_unsigned_half_signed_and_foreign_links() -> None:
    keyring = Keyring.parse(OLD)
    assert _check(keyring, {"ref": "acct-1"}) == "unsigned"
    query = signed_install_query(keyring, ref="acct-1", app=None, team=None, expires=NOW + 60)
    assert _check(keyring, {"ref": "acct-1", "sig": query["sig"]}) == "forged"
    assert _check(keyring, {"ref": "acct-1", "expires": query["expires"]}) == "forged"
    assert _check(Keyring.parse(NEW), query) == "forged"  # another gateway's keys


def test_links_signed_before_a_key_rotation_stay_valid() -> None:
    before = signed_install_query(Keyring.parse(OLD), ref="a", app=None, team=None, expires=NOW + 9)
    rotated = Keyring.parse(f"{NEW},{OLD}")
    assert _check(rotated, before) == "signed"
    after = signed_install_query(rotated, ref="a", app=None, team=None, expires=NOW + 9)
    assert after["sig"] != before["sig"]  # signed with the new key
    assert _check(Keyring.parse(OLD), after) == "forged"
    # The derived keys are not the keyring's keys, and differ per purpose.
    derived = rotated.derived_keys(LINK_PURPOSE)
    assert len(derived) == 2
    assert derived[0] != rotated.derived_keys("oauth-state")[0]


def test_make_install_link() -> None:
    keyring = Keyring.parse(OLD)
    base = "https://bridge.example.com/slack/install"
    link = make_install_link(base, keyring, ref="acct 1&x", team="T1", ttl_seconds=600, now=NOW)
    assert link.expires_at is not None and int(link.expires_at.timestamp()) == NOW + 600
    parts = urlsplit(link.url)
    query = dict(parse_qsl(parts.query))
    assert parts.path == "/slack/install"
    assert query["ref"] == "acct 1&x"
    assert _check(keyring, query) == "signed"
    plain = make_install_link(base, keyring, ref=None, app="sales", now=NOW)
    assert (plain.url, plain.expires_at) == (base + "?app=sales", None)
