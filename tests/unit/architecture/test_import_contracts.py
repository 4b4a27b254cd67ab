"""The import contracts in pyproject.toml hold, and they would catch a back-import.

`make lint` runs lint-imports on the real tree, and this test: it plants a forbidden import in a
copy of the package (the pipeline importing an edge, an edge importing another edge or the entry,
the domain importing the store, the emulator and the gateway importing each other, an operator
action importing a front end) and checks that the contract meant to catch it breaks, so a
contract that had silently stopped matching anything would be noticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
_LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(
    not _LINT_IMPORTS.exists(), reason="import-linter is not installed (pip install -e '.[dev]')"
)


_LAYERS = "One-way layers"
_LEAF = "The domain is a leaf"
_EMULATOR = "The emulator imports nothing of the gateway"
_GATEWAY = "The gateway imports nothing of the emulator"
_OPERATIONS = "Operator actions import no front end"


def _lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(_LINT_IMPORTS), "--config", str(_ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_tree_keeps_every_contract(tmp_path: Path) -> None:
    result = _lint(_ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    for contract in (_LAYERS, _LEAF, _EMULATOR, _GATEWAY, _OPERATIONS):
        assert _verdict(result.stdout, contract) == "KEPT", result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        # the pipeline reaching up into an edge, or an edge into the entry
        ("pipeline/normalize.py", "import slackbridge.slack.outbound.sender", _LAYERS),
        ("product/signing.py", "import slackbridge.api.app", _LAYERS),
        ("commands/match.py", "import slackbridge.server", _LAYERS),
        # an edge importing another edge
        ("slack/inbound/verify.py", "import slackbridge.slack.outbound.ratelimits", _LAYERS),
        ("slack/outbound/sender.py", "import slackbridge.slack.workspaces.tokens", _LAYERS),
        ("bridge/naming.py", "import slackbridge.commands.match", _LAYERS),
        ("product/webhook_policy.py", "import slackbridge.bridge.events", _LAYERS),
        # the ports, the domain and the store stay below everything else
        ("ports.py", "import slackbridge.pipeline.normalize", _LAYERS),
        ("store/queue.py", "import slackbridge.domain.events", _LAYERS),
        ("domain/events.py", "import slackbridge.store.ids", _LEAF),
        ("domain/payloads.py", "import slackbridge.settings", _LEAF),
        # the emulator and the gateway share nothing
        ("emulator/app.py", "import slackbridge.store.db", _EMULATOR),
        ("pipeline/normalize.py", "import slackbridge.emulator.state", _GATEWAY),
        # operator actions serve every front end and import none
        ("operations/workspaces.py", "import slackbridge.cli_workspaces", _OPERATIONS),
        ("operations/apps.py", "import slackbridge.api.workspaces", _OPERATIONS),
        ("operations/deliveries.py", "import slackbridge.server", _OPERATIONS),
    ],
)
def test_a_planted_back_import_breaks_its_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    src = tmp_path / "src"
    shutil.copytree(
        _ROOT / "src" / "slackbridge",
        src / "slackbridge",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    target = src / "slackbridge" / module
    target.write_text(target.read_text() + f"\n{line}  # planted by the test\n")
    result = _lint(src, tmp_path)
    assert result.returncode != 0, result.stdout
    assert _verdict(result.stdout, contract) == "BROKEN", result.stdout


def _verdict(stdout: str, contract: str) -> str:
    """``KEPT`` or ``BROKEN``: what the report says of the contract whose name starts so."""
    report = " ".join(stdout.split())  # long names wrap in the report
    start = report.index(contract)
    return min(
        (word for word in ("KEPT", "BROKEN") if word in report[start:]),
        key=lambda word: report.index(word, start),
    )
