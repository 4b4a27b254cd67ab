"""Every command's --help: a flag is shown as a plain flag (no value), an option that takes a
value shows its type, and a flag given a value is refused with a clear message."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from slackbridge.cli import app

_WIDE = {"COLUMNS": "200", "TERMINAL_WIDTH": "200", "NO_COLOR": "1"}
_COMMANDS = [
    [],
    ["manifest"],
    ["emulator"],
    ["serve"],
    ["demo"],
    ["workspaces", "list"],
    ["deliveries", "list"],
    ["apikey", "list"],
    ["webhooks", "list"],
]


def _help(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env=_WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def _row(text: str, option: str) -> str:
    found = [line for line in text.splitlines() if re.search(rf"{re.escape(option)}\b", line)]
    assert found, f"{option} not in help:\n{text}"
    return found[0]


@pytest.mark.parametrize("command", _COMMANDS, ids=lambda c: " ".join(c) or "slackbridge")
def test_no_flag_shows_a_value_type(command: list[str]) -> None:
    text = _help(*command)
    assert "<bool>" not in text, text
    assert "--help" in _row(text, "--help")


def test_flags_are_plain_and_valued_options_keep_their_type() -> None:
    manifest = _help("manifest")
    assert "<bool>" not in _row(manifest, "--json")
    assert "<str>" in _row(manifest, "--app")
    emulator = _help("emulator")
    assert "<int>" in _row(emulator, "--port")
    rate_limits = _row(emulator, "--rate-limits")
    assert "--no-rate-limits" in rate_limits and "<" not in rate_limits
    deliveries = _help("deliveries", "list")
    assert "<int range>" in _row(deliveries, "--limit")
    assert "<bool>" not in _row(deliveries, "--json")


def test_a_flag_given_a_value_says_it_takes_none() -> None:
    result = CliRunner().invoke(app, ["manifest", "--json=true"], env=_WIDE)
    assert result.exit_code == 2
    assert "does not take a value" in result.output
