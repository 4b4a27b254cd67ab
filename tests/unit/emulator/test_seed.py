"""The default seed, seed files, and resetting a state to its seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from slackbridge.emulator.seed import (
    DEFAULT_CONFIGURATION_TOKEN,
    SeedError,
    build_state,
    default_seed,
    describe_seed,
    load_seed,
    reset_state,
)
from slackbridge.emulator.state import Signal


def test_default_seed_has_two_workspaces_with_fixed_ids() -> None:
    state = build_state()
    assert list(state.workspaces) == ["T0ACME0001", "T0GLBX0001"]
    acme = state.workspaces["T0ACME0001"]
    people = [u for u in acme.users.values() if u.id != "USLACKBOT"]
    assert len(people) >= 4 and all(u.email for u in people)
    assert [u.name for u in people if u.is_admin] == ["alice"]
    kinds = {c.name: c.kind for c in acme.channels.values()}
    assert kinds["general"] == "public" and kinds["support"] == "public"
    assert kinds["staff"] == "private"
    assert {c.kind for c in acme.channels.values()} >= {"im", "mpim"}
    assert state.channel("T0ACME0001", "G0ACME0STF").id.startswith("G")  # type: ignore[union-attr]
    assert state.configuration_token == DEFAULT_CONFIGURATION_TOKEN
    config = state.tokens[DEFAULT_CONFIGURATION_TOKEN]
    assert config.kind == "config" and config.user_id == "U0ACME0001"


def test_building_twice_gives_the_same_world() -> None:
    a, b = build_state(), build_state()
    assert [c.id for w in a.workspaces.values() for c in w.channels.values()] == [
        c.id for w in b.workspaces.values() for c in w.channels.values()
    ]
    assert a.ids.next("U") == b.ids.next("U")


def test_load_toml_with_names_and_generated_ids(tmp_path: Path) -> None:
    path = tmp_path / "seed.toml"
    path.write_text(
        """
configuration_token = "xoxe.xoxp-1-custom"

[[workspaces]]
name = "Initech"

[[workspaces.users]]
name = "peter"
real_name = "Peter Gibbons"
email = "peter@initech.test"
admin = true

[[workspaces.users]]
name = "milton"

[[workspaces.channels]]
name = "tps-reports"
members = ["peter"]

[[workspaces.dms]]
members = ["peter", "milton"]
"""
    )
    state = build_state(load_seed(path))
    ws = next(iter(state.workspaces.values()))
    assert ws.domain == "initech" and ws.id.startswith("T")
    channel = next(c for c in ws.channels.values() if c.name == "tps-reports")
    peter = next(u for u in ws.users.values() if u.name == "peter")
    assert channel.members == [peter.id]
    assert any(c.kind == "im" for c in ws.channels.values())
    assert state.configuration_token == "xoxe.xoxp-1-custom"
    assert state.tokens["xoxe.xoxp-1-custom"].user_id == peter.id


def test_load_json(tmp_path: Path) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"workspaces": [{"name": "Solo", "users": [{"name": "sam"}]}]}))
    state = build_state(load_seed(path))
    assert state.configuration_token.startswith("xoxe.xoxp-1-")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("seed.yaml", "x: 1", "must end in .toml or .json"),
        ("seed.json", "{", "not valid JSON"),
        ("seed.toml", "workspaces = [", "not valid TOML"),
        ("seed.json", '{"workspaces": []}', "workspaces"),
        (
            "seed.json",
            '{"workspaces": [{"name": "A", "users": [{"name": "Bad Name"}]}]}',
            "workspaces.0.users.0.name",
        ),
        (
            "seed.json",
            '{"workspaces": [{"name": "A", "users": [{"name": "a"}], '
            '"channels": [{"name": "x", "members": ["ghost"]}]}]}',
            "no user 'ghost'",
        ),
        (
            "seed.json",
            '{"workspaces": [{"name": "A", "users": [{"name": "a"}]}], "surprise": 1}',
            "surprise",
        ),
    ],
)
def test_bad_seed_files(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SeedError, match=message):
        load_seed(path)


def test_missing_seed_file(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="cannot read"):
        load_seed(tmp_path / "nope.toml")


def test_reset_keeps_listeners_and_settings() -> None:
    state = build_state(speed=5, rate_limits=False)
    heard: list[Signal] = []
    state.listeners.append(heard.append)
    state.base_url = "http://127.0.0.1:9"
    state.workspaces.clear()
    reset_state(state, default_seed())
    assert "T0ACME0001" in state.workspaces
    assert state.speed == 5 and state.rate_limits_enabled is False
    assert state.base_url == "http://127.0.0.1:9"
    assert [s.kind for s in heard] == ["reset"]


def test_describe_seed_mentions_everything() -> None:
    console = Console(record=True, width=200)
    console.print(describe_seed(build_state()))
    text = console.export_text()
    for expected in ("Acme", "Globex", "alice@acme.test", "#staff", DEFAULT_CONFIGURATION_TOKEN):
        assert expected in text
