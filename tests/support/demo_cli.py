"""``slackbridge demo`` for the tests: a free block of ports, the CLI run as a newcomer runs it
(a clean environment), and the check that a scripted walkthrough passed every step."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["DEMO_CLI", "assert_steps_passed", "demo_env", "free_port_base", "run_demo"]

#: The demo's command line, without the example's name and options.
DEMO_CLI = [sys.executable, "-m", "slackbridge.cli", "demo"]


def demo_env() -> dict[str, str]:
    """This process's environment without slackbridge's settings, wide and unbuffered."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")}
    return {**clean, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}


def free_port_base() -> int:
    """A port N with N, N+1 and N+2 free a moment ago (the demo's emulator, gateway, product)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        if base > 65000:
            continue
        taken = []
        try:
            for port in (base, base + 1, base + 2):
                sock = socket.socket()
                taken.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in taken:
                sock.close()
        return base
    raise AssertionError("no three consecutive free ports")


async def run_demo(
    cwd: Path, *args: str, within: float = 90.0, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """``slackbridge demo *args`` in ``cwd`` until it exits: its code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        *DEMO_CLI,
        *args,
        cwd=cwd,
        env={**demo_env(), **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), within)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"demo still running after {within} s:\n{out.decode()}") from None
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def assert_steps_passed(out: str, steps: Sequence[str], total: int | None = None) -> None:
    """Each of ``steps`` is ticked in ``out``, none failed, and the summary counts ``total``
    (default: as many as ``steps``)."""
    lines = out.splitlines()
    for title in steps:
        assert any(line.startswith(f"✓ {title} (") for line in lines), f"{title!r}:\n{out}"
    assert "✗" not in out
    assert f"All {len(steps) if total is None else total} steps passed" in out
