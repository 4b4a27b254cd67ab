"""docs/configuration.md: a key in slackbridge.toml that no setting has stops the start with its
name and the closest known key; unknown SLACKBRIDGE_* environment variables are ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from slackbridge.settings import Settings, SettingsFileError, get_settings, unknown_keys


def test_unknown_keys_name_the_closest_setting_at_every_level() -> None:
    data = {
        "PORT": 9000,  # top-level keys are matched regardless of case
        "webhok_url": "https://x",
        "zzzz": 1,
        "apps": [{"name": "a"}, {"name": "b", "signing_secert": "s"}],
        "webhooks": [{"url": "https://x", "event_type": []}],
        "commands": [{"name": "t", "pattern": "t", "Slash": "/t"}],
    }
    assert unknown_keys(Settings, data) == [
        "unknown key 'webhok_url' (did you mean 'webhook_url'?)",
        "unknown key 'zzzz'",
        "unknown key 'apps[1].signing_secert' (did you mean 'apps[1].signing_secret'?)",
        "unknown key 'webhooks[0].event_type' (did you mean 'webhooks[0].event_types'?)",
        "unknown key 'commands[0].Slash' (did you mean 'commands[0].slash'?)",
    ]
    assert unknown_keys(Settings, {"port": 1, "apps": [{"name": "a", "socket_mode": True}]}) == []


def test_the_file_is_refused_and_the_environment_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACKBRIDGE_CONFIG", "SLACKBRIDGE_APPS", "SLACKBRIDGE_WEBHOOKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACKBRIDGE_FROM_ANOTHER_VERSION", "1")
    (tmp_path / "slackbridge.toml").write_text('[[webhooks]]\nurl = "https://x"\nsecrt = "s"\n')
    with pytest.raises(SettingsFileError) as refused:
        get_settings()
    assert refused.value.file == Path("slackbridge.toml")
    assert refused.value.problems == [
        "unknown key 'webhooks[0].secrt' (did you mean 'webhooks[0].secret'?)"
    ]
    (tmp_path / "slackbridge.toml").write_text('[[webhooks]]\nurl = "https://x"\nsecret = "s"\n')
    assert [w.url for w in get_settings().webhooks] == ["https://x"]
