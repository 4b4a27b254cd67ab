"""docs/emulator.md stays true to the emulator: the default seed, the Web API methods, every
control-API route, and the seed-file examples."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.routing import Route

from slackbridge.emulator import create_app
from slackbridge.emulator.seed import DEFAULT_CONFIGURATION_TOKEN, build_state, load_seed
from slackbridge.emulator.webapi.registry import REGISTRY

DOC = Path(__file__).resolve().parents[3] / "docs" / "emulator.md"
TEXT = DOC.read_text()
ROWS = [line for line in TEXT.splitlines() if line.startswith("|")]


def _row_with(*cells: str) -> str | None:
    for row in ROWS:
        parts = [p.strip() for p in row.strip("|").split("|")]
        if all(cell in parts for cell in cells):
            return row
    return None


def test_every_id_of_the_default_seed_is_documented() -> None:
    state = build_state()
    missing = []
    for ws in state.workspaces.values():
        ids = [ws.id, *ws.users, *ws.channels]
        missing += [i for i in ids if f"`{i}`" not in TEXT]
    assert missing == []
    assert DEFAULT_CONFIGURATION_TOKEN in TEXT


def test_seed_tables_match_the_default_seed() -> None:
    state = build_state()
    for ws in state.workspaces.values():
        assert f"— `{ws.id}` (domain `{ws.domain}`)" in TEXT
        for user in ws.users.values():
            if user.id == "USLACKBOT":
                continue
            row = _row_with(f"`{user.id}`", user.name, user.real_name, user.email or "")
            assert row is not None, f"no table row for {user.id}"
            assert user.tz in row and (user.title in row if user.title else True)
            assert ("admin" in row) == user.is_admin and ("owner" in row) == user.is_owner
        for channel in ws.channels.values():
            members = ", ".join(ws.users[m].name for m in channel.members)
            row = _row_with(f"`{channel.id}`", members)
            assert row is not None, f"no table row for {channel.id} with members {members}"


def test_every_web_api_method_is_documented_with_its_tier_and_scopes() -> None:
    for name, spec in REGISTRY.items():
        row = _row_with(f"`{name}`")
        assert row is not None, f"{name} is not in the methods table"
        if isinstance(spec.tier, int):
            assert f"Tier {spec.tier}" in row, name
        for scope in spec.scopes:
            assert f"`{scope}`" in row, f"{name}: scope {scope} not documented"


def _control_routes() -> set[str]:
    found = set()
    for route in create_app().routes:
        if isinstance(route, Route) and route.path.startswith("/_emulator/"):
            path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", route.path)
            for verb in route.methods or ():
                if verb != "HEAD":
                    found.add(f"{verb} {path}")
    return found


def test_every_control_api_route_is_documented() -> None:
    routes = _control_routes()
    assert "POST /_emulator/messages" in routes  # the route listing itself works
    undocumented = sorted(r for r in routes if f"`{r}`" not in TEXT)
    assert undocumented == []


@pytest.mark.parametrize("fence", ["toml", "json"])
def test_seed_file_examples_load(fence: str, tmp_path: Path) -> None:
    blocks = re.findall(rf"```{fence}\n(.*?)```", TEXT, re.S)
    seeds = [b for b in blocks if "workspaces" in b]
    assert seeds, f"no {fence} seed example"
    path = tmp_path / f"world.{fence}"
    path.write_text(seeds[0])
    seed = load_seed(path)
    assert [w.name for w in seed.workspaces] == ["Shop"]


def test_toml_and_json_examples_describe_the_same_world(tmp_path: Path) -> None:
    loaded = []
    for fence in ("toml", "json"):
        block = next(b for b in re.findall(rf"```{fence}\n(.*?)```", TEXT, re.S) if "Shop" in b)
        path = tmp_path / f"world.{fence}"
        path.write_text(block)
        loaded.append(load_seed(path))
    assert loaded[0] == loaded[1]
