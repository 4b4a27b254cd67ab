"""The import contracts in pyproject.toml hold, and they would catch a back-import.

`make lint` runs lint-imports on the real tree; this test also plants a forbidden import in a
copy of the package and checks that the same contracts break on it, so a contract that had
silently stopped matching anything would be noticed.
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


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("emulator/app.py", "import slackbridge.store.db"),
        ("pipeline/normalize.py", "import slackbridge.emulator.state"),
        ("operations/workspaces.py", "import slackbridge.cli_workspaces"),
        ("operations/apps.py", "import slackbridge.api.workspaces"),
        ("operations/deliveries.py", "import slackbridge.server"),
    ],
)
def test_a_planted_back_import_breaks_a_contract(tmp_path: Path, module: str, line: str) -> None:
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
    assert "BROKEN" in result.stdout
