"""The gateway never draws from the global ``random`` state.

Its workers run beside whatever else shares the process, and a draw from the global state in a
background task changes what a property test generates at that moment (Hypothesis then reports
the test as flaky). Jitter comes from a generator of the module's own (``random.Random()``).
"""

from __future__ import annotations

import ast
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[3] / "src" / "slackbridge"
#: The global state's drawing functions.
_GLOBAL = {"random", "uniform", "randint", "randrange", "choice", "choices", "shuffle", "sample"}


def _global_draws(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "random"
            and node.func.attr in _GLOBAL
        ):
            lines.append(node.lineno)
    return lines


def test_no_module_draws_from_the_global_random_state() -> None:
    found = {
        path.relative_to(_PACKAGE).as_posix(): lines
        for path in sorted(_PACKAGE.rglob("*.py"))
        if not path.relative_to(_PACKAGE).as_posix().startswith(("emulator/", "demo/"))
        and (lines := _global_draws(path))
    }
    assert found == {}, f"use a generator of the module's own (random.Random()): {found}"
