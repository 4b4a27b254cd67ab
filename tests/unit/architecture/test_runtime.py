"""The runtime sits low and only the entry modules import the server."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[3] / "src" / "slackbridge"

#: What the runtime may load of the package besides the store and the domain: the ports (typed
#: callables, no part behind them), the settings and the small shared modules.
_LOW = {"slackbridge", "slackbridge.backlog", "slackbridge.metrics", "slackbridge.logs"}
_LOW |= {"slackbridge.runtime", "slackbridge.settings", "slackbridge.ports"}

#: The modules that may import slackbridge.server: the command line, the demo that starts it.
_ENTRY = ("cli", "demo/")


def test_the_runtime_imports_only_the_store_ports_settings_and_metrics() -> None:
    code = (
        "import sys, slackbridge.runtime; "
        "print('\\n'.join(m for m in sys.modules if m.startswith('slackbridge')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    above = [
        m
        for m in loaded
        if m not in _LOW and not m.startswith(("slackbridge.store", "slackbridge.domain"))
    ]
    assert above == []


def _imports_server(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "slackbridge.server":
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "slackbridge"
            and any(alias.name == "server" for alias in node.names)
        ):
            return True
        if isinstance(node, ast.Import) and any(
            alias.name == "slackbridge.server" for alias in node.names
        ):
            return True
    return False


def test_only_entry_modules_import_the_server() -> None:
    importers = sorted(
        str(path.relative_to(_PACKAGE))
        for path in _PACKAGE.rglob("*.py")
        if path.name != "server.py" and _imports_server(path)
    )
    assert importers, "the command line starts the server"
    assert [m for m in importers if not m.startswith(_ENTRY)] == []
