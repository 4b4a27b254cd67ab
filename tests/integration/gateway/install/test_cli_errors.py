"""Every CLI command, given wrong arguments or a bad configuration, explains itself and exits
non-zero: never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from slackbridge.cli import app as cli

# Every command that reads the settings, with arguments that are valid on a good setup.
COMMANDS: list[list[str]] = [
    ["workspaces", "list"],
    ["workspaces", "list", "--json"],
    ["workspaces", "remove", "T0ACME0001", "--yes"],
    ["apps", "list"],
    ["apps", "provision", "--configuration-token", "xoxe.xoxp-1-x"],
    ["manifest"],
    ["manifest", "--json"],
    ["secrets", "rotate"],
    ["db", "upgrade"],
    ["apikey", "create", "helpdesk"],
    ["apikey", "list"],
    ["apikey", "revoke", "sbk_abcdefgh"],
    ["deliveries", "list"],
    ["deliveries", "retry", "--all-dead"],
    ["webhooks", "list"],
]
_STORE = [c for c in COMMANDS if c[0] not in ("manifest", "db")]  # open the store and the keys
_ALL = COMMANDS
_DATABASE = [c for c in COMMANDS if c[0] != "manifest"]

# (name, environment, slackbridge.toml text or None, commands that must fail, words they say)
BAD_CONFIGS: list[tuple[str, dict[str, str], str | None, list[list[str]], str]] = [
    ("toml", {}, 'database_url = "x\n[[apps', _ALL, "slackbridge.toml is not valid TOML"),
    (
        "toml typo",
        {},
        'pubilc_url = "https://bridge.example.com"\n',
        _ALL,
        "slackbridge.toml: unknown key 'pubilc_url' (did you mean 'public_url'?)",
    ),
    (
        "toml table typo",
        {},
        '[[webhooks]]\nurl = "https://product.example.com/hooks"\nsecrt = "s"\n',
        _ALL,
        "unknown key 'webhooks[0].secrt' (did you mean 'webhooks[0].secret'?)",
    ),
    ("type", {"SLACKBRIDGE_PORT": "abc"}, None, _ALL, "SLACKBRIDGE_PORT: Input should be"),
    ("apps json", {"SLACKBRIDGE_APPS": "[{nope"}, None, _ALL, "are JSON"),
    ("app field", {"SLACKBRIDGE_APPS": '[{"bot_scopes": 5}]'}, None, _ALL, "APPS[0].bot_scopes"),
    (
        "two apps, one name",
        {"SLACKBRIDGE_APPS": '[{"name": "a"}, {"name": "a"}]'},
        None,
        [c for c in _STORE if c[:2] != ["secrets", "rotate"]],
        "different name",
    ),
    ("db scheme", {"SLACKBRIDGE_DATABASE_URL": "mysql://u@h/db"}, None, _DATABASE, "unsupported"),
    (
        "db port",
        {"SLACKBRIDGE_DATABASE_URL": "postgresql+asyncpg://u@h:port/db"},
        None,
        _DATABASE,
        "not a valid URL",
    ),
    (
        "db down",
        {"SLACKBRIDGE_DATABASE_URL": "postgresql+asyncpg://u:hunter2@127.0.0.1:1/db"},
        None,
        _DATABASE,
        "SLACKBRIDGE_DATABASE_URL",
    ),
    ("keys", {"SLACKBRIDGE_SECRET_KEYS": "not-a-key"}, None, _STORE, "generate-key"),
]


def _invoke(args: list[str], env: dict[str, str], stdin: str = "") -> Result:
    base = {
        "COLUMNS": "200",
        "SLACKBRIDGE_SECRET_KEYS": "",
        "SLACKBRIDGE_DATABASE_URL": "",
        "SLACKBRIDGE_DATABASE_SCHEMA": "",
        "SLACKBRIDGE_APPS": "",
        "SLACKBRIDGE_CONFIG": "",
        # Nothing listens there: Slack is unreachable unless a test says otherwise.
        "SLACKBRIDGE_SLACK_API_URL": "http://127.0.0.1:1/api/",
    }
    full = {**base, **env}
    runner = CliRunner()
    return runner.invoke(cli, args, env={k: v or None for k, v in full.items()}, input=stdin)


def _explained(result: Result) -> None:
    """Exited (not crashed), and printed no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}\n{result.output}"
    )
    assert "Traceback" not in result.output


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLACKBRIDGE_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.parametrize(
    ("env", "toml", "failing", "says"),
    [
        pytest.param(env, toml, failing, says, id=name)
        for name, env, toml, failing, says in BAD_CONFIGS
    ],
)
def test_a_bad_configuration_is_explained_by_every_command(
    tmp_path: Path, env: dict[str, str], toml: str | None, failing: list[list[str]], says: str
) -> None:
    # A store (and its key) made with a good configuration: the commands that only work on an
    # existing store get as far as the bad setting.
    assert _invoke(["apikey", "create", "first"], {}).exit_code == 0
    if toml is not None:
        (tmp_path / "slackbridge.toml").write_text(toml)
    for args in COMMANDS:
        result = _invoke(args, env)
        _explained(result)
        if args in failing:
            assert result.exit_code == 1, (args, result.output)
            assert "Error:" in result.output, (args, result.output)
            assert says in result.output, (args, result.output)
            assert "hunter2" not in result.output


def test_a_fresh_setup_with_no_database_and_no_app_is_explained(tmp_path: Path) -> None:
    """No database yet, no app, Slack unreachable: each command says what to do next."""
    expected = {
        ("workspaces", "list"): (1, "no slackbridge store"),
        ("workspaces", "remove"): (1, "no slackbridge store"),
        ("apps", "list"): (1, "no slackbridge store"),
        ("apps", "provision"): (1, "could not reach Slack"),
        ("apikey", "revoke"): (1, "no active API key"),
        ("deliveries", "list"): (0, "No deliveries"),
        ("deliveries", "retry"): (0, "No dead deliveries"),
        ("webhooks", "list"): (0, "SLACKBRIDGE_WEBHOOK_URL"),
    }
    for args in COMMANDS:
        result = _invoke(args, {})
        _explained(result)
        code, says = expected.get((args[0], args[1] if len(args) > 1 else ""), (0, ""))
        assert result.exit_code == code, (args, result.output)
        assert says in result.output, (args, result.output)
    assert (tmp_path / "data" / "slackbridge.db").exists()


# Commands that read the store, or change records already in it.
_ON_EXISTING_STORE = [
    ["workspaces", "list"],
    ["workspaces", "list", "--json"],
    ["workspaces", "remove", "T0ACME0001", "--yes"],
    ["apps", "list"],
    ["apikey", "list"],
    ["apikey", "revoke", "sbk_abcdefgh"],
    ["deliveries", "list"],
    ["deliveries", "list", "--json"],
    ["deliveries", "retry", "--all-dead"],
    ["webhooks", "list"],
]


@pytest.mark.parametrize("args", _ON_EXISTING_STORE, ids=" ".join)
def test_a_command_on_the_store_creates_no_store_or_key_where_there_is_none(
    tmp_path: Path, args: list[str]
) -> None:
    result = _invoke(args, {})
    _explained(result)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert f"no slackbridge store at {tmp_path / 'data' / 'slackbridge.db'}" in text, text
    assert "SLACKBRIDGE_DATA_DIR" in text and "SLACKBRIDGE_DATABASE_URL" in text
    assert not (tmp_path / "data").exists()
    assert list(tmp_path.iterdir()) == []


def test_a_command_on_the_store_does_not_make_a_missing_key(tmp_path: Path) -> None:
    # A store made by `db upgrade` alone has no key yet: reading it must not invent one.
    assert _invoke(["db", "upgrade"], {}).exit_code == 0
    result = _invoke(["apikey", "list"], {})
    _explained(result)
    assert result.exit_code == 1 and "no secret key" in result.output, result.output
    assert not (tmp_path / "data" / "secret.key").exists()
    # A command that writes makes the key; from then on the list works.
    assert _invoke(["apikey", "create", "first"], {}).exit_code == 0
    listed = _invoke(["apikey", "list"], {})
    assert listed.exit_code == 0 and "first" in listed.output, listed.output


@pytest.mark.parametrize(
    "args",
    [
        ["workspaces", "remove"],
        ["workspaces", "list", "--bogus"],
        ["workspaces", "frobnicate"],
        ["apps", "provision", "--app"],
        ["manifest", "--app", "nope"],
        ["secrets", "rotate", "extra"],
        ["apikey", "create", "   "],
        ["apikey", "create", "x" * 300],
        ["deliveries", "list", "--status", "lost"],
        ["deliveries", "list", "--limit", "0"],
        ["deliveries", "retry"],
        ["deliveries", "retry", "1", "--all-dead"],
        ["deliveries", "retry", "not-a-number"],
        ["serve", "--port", "http"],
        ["serve", "--port", "70000"],
        ["demo", "--port-base", "x"],
        ["emulator", "--speed", "fast"],
        ["nonsense"],
    ],
    ids=lambda args: " ".join(args)[:40],
)
def test_wrong_arguments_are_explained(args: list[str]) -> None:
    result = _invoke(args, {"SLACKBRIDGE_APPS": '[{"name": "default"}]'})
    _explained(result)
    assert result.exit_code != 0, result.output
    assert "Error" in result.output or "Usage" in result.output, result.output


def test_removing_a_workspace_answered_no_changes_nothing(tmp_path: Path) -> None:
    result = _invoke(["workspaces", "remove", "T0ACME0001"], {}, stdin="n\n")
    _explained(result)
    assert result.exit_code == 1


def test_slackbridge_config_names_the_settings_file_when_the_command_runs(tmp_path: Path) -> None:
    named = tmp_path / "elsewhere.toml"
    named.write_text('public_url = "https://bridge.example.com"\n')
    (tmp_path / "slackbridge.toml").write_text('public_url = "https://ignored.example.com"\n')
    result = _invoke(["manifest", "--json"], {"SLACKBRIDGE_CONFIG": str(named)})
    _explained(result)
    assert "https://bridge.example.com/slack/events" in result.output
    default = _invoke(["manifest", "--json"], {})
    assert "https://ignored.example.com/slack/events" in default.output
    named.write_text("public_url = [")
    broken = _invoke(["manifest"], {"SLACKBRIDGE_CONFIG": str(named)})
    _explained(broken)
    assert broken.exit_code == 1 and "elsewhere.toml is not valid TOML" in broken.output


def test_an_unknown_environment_variable_is_tolerated(tmp_path: Path) -> None:
    """docs/configuration.md: SLACKBRIDGE_* variables no setting has are ignored (another
    version's), unlike unknown keys in slackbridge.toml."""
    (tmp_path / "slackbridge.toml").write_text('public_url = "https://bridge.example.com"\n')
    result = _invoke(["manifest", "--json"], {"SLACKBRIDGE_PUBILC_URL": "https://typo.example"})
    _explained(result)
    assert result.exit_code == 0, result.output
    assert "https://bridge.example.com/slack/events" in result.output
