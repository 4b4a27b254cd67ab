"""``slackbridge emulator``: friendly errors before anything is served."""

from __future__ import annotations

import socket
from pathlib import Path

from typer.testing import CliRunner

from slackbridge.cli import app


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["emulator", *args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_bad_seed_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text('{"workspaces": [{"name": "A", "users": [{"name": "Bad Name"}]}]}')
    code, output = _run("--seed", str(seed))
    assert code == 2
    assert "workspaces.0.users.0.name" in output
    assert "leave out --seed" in output


def test_missing_seed_file(tmp_path: Path) -> None:
    code, output = _run("--seed", str(tmp_path / "absent.toml"))
    assert code == 2 and "cannot read seed file" in output


def test_bad_speed() -> None:
    code, output = _run("--speed", "0")
    assert code == 2 and "--speed" in output


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, output = _run("--port", str(port))
    assert code == 2 and "already in use" in output
