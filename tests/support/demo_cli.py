"""``slackbridge demo`` for the tests: a free block of ports, the CLI run as a newcomer runs it
(a clean environment), and the check that a scripted walkthrough passed every step."""

from __future__ import annotations

import asyncio
import os
import random
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


def _below_ephemeral() -> tuple[int, int]:
    """Ports the kernel never hands out for outgoing connections (below its ephemeral range),
    so a port found free stays free for a demo about to bind it."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return (10000, 30000) if low <= 20000 else (10000, low - 3)


def free_port_base() -> int:
    """A port N with N, N+1 and N+2 free a moment ago (the demo's emulator, gateway, product),
    taken below the ephemeral range so that no outgoing connection can take one meanwhile."""
    low, high = _below_ephemeral()
    for _ in range(200):
        base = random.randrange(low, high)
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
    cwd: Path,
    *args: str,
    within: float = 90.0,
    env: dict[str, str] | None = None,
    retry_taken_port: bool = True,
) -> tuple[int, str, str]:
    """``slackbridge demo *args`` in ``cwd`` until it exits: its code, stdout and stderr.

    When the demo refuses to start because a port of its ``--port-base`` block was taken since
    it was found free (by another program on a shared machine), it runs again on a new block,
    unless ``retry_taken_port`` is False (a test of that refusal)."""
    for _ in range(3 if retry_taken_port else 1):
        code, out, err = await _run_demo_once(cwd, *args, within=within, env=env)
        if code == 2 and "is already in use" in out + err and "--port-base" in args:
            where = args.index("--port-base") + 1
            args = (*args[:where], str(free_port_base()), *args[where + 1 :])
            continue
        return code, out, err
    return code, out, err


async def _run_demo_once(
    cwd: Path, *args: str, within: float, env: dict[str, str] | None
) -> tuple[int, str, str]:
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
