"""Which scopes a workspace lacks, and the reinstall hint."""

from __future__ import annotations

from slackbridge.slack.workspaces.scopes import missing_scopes, reinstall_hint, reinstall_url


def test_missing_scopes_in_the_apps_order() -> None:
    assert missing_scopes(["a", "b", "c", "b"], ["b"]) == ["a", "c"]
    assert missing_scopes(["a"], ["a", "z"]) == []


def test_reinstall_url_and_hint() -> None:
    url = reinstall_url("https://gw.example/", "T1", "default", None)
    assert url == "https://gw.example/slack/install?team=T1"
    assert reinstall_url("https://gw.example", "T1", "other", None) == (
        "https://gw.example/slack/install?app=other&team=T1"
    )
    assert reinstall_url("https://gw.example", "T1", "default", "acct-1") is None
    assert reinstall_hint([], url, None) is None
    hint = reinstall_hint(["channels:manage"], url, None)
    assert hint is not None and "channels:manage" in hint and url in hint
    signed = reinstall_hint(["channels:manage"], None, "acct-1")
    assert signed is not None and "install-url" in signed
