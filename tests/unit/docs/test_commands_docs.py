"""docs/commands.md stays true: its configuration example is valid and does what the page says,
every argument type is in its table, and its error example is what the gateway says."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from slackbridge.commands.choose import Matched, choose
from slackbridge.commands.declaration import CommandError, build_commands
from slackbridge.commands.pattern import ARG_TYPES

DOC = Path(__file__).parents[3] / "docs" / "commands.md"
FRIDAY_WEEK = date(2026, 12, 2)  # a Wednesday: "friday" is 2026-12-04, as the page shows


def _toml() -> dict[str, object]:
    (block,) = re.findall(r"```toml\n(.*?)```", DOC.read_text(), re.S)
    return tomllib.loads(block)


def test_the_configuration_example_is_valid_and_behaves_as_described() -> None:
    commands = build_commands(_toml()["commands"])  # type: ignore[arg-type]
    found = choose(commands, 'add "Write release notes" due friday', "dm", today=FRIDAY_WEEK)
    assert isinstance(found, Matched)
    assert found.arguments == {"title": "Write release notes", "due": "2026-12-04"}
    called = choose(commands, "<@U0ACME0002> <@U0ACME0003>", "slash", "/call")
    assert isinstance(called, Matched)
    assert called.arguments == {"who": ["U0ACME0002", "U0ACME0003"]}


def test_every_argument_type_is_documented() -> None:
    text = DOC.read_text()
    for name in ARG_TYPES:
        assert f"| `{name}` |" in text


def test_the_error_example_is_the_gateways() -> None:
    with pytest.raises(CommandError) as caught:
        build_commands([{"name": "snooze", "pattern": "snooze {id:number} {for:dur}"}])
    assert f'"message": "{caught.value}"' in DOC.read_text()
    assert f'"column": {(caught.value.position or 0) + 1}' in DOC.read_text()
