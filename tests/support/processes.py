"""Server processes in tests: wait until one answers its health URL, stop it however it is."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx

__all__ = ["stop_process", "wait_healthy"]


async def wait_healthy(
    proc: asyncio.subprocess.Process,
    health_url: str,
    name: str,
    *,
    log: Callable[[], str] = lambda: "",
    within: float = 30.0,
) -> None:
    """Poll ``health_url`` until it answers 200; if ``proc`` (``name`` in the messages) exits
    first or ``within`` seconds pass, fail the test, with ``log()`` (its output) if given."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            assert proc.returncode is None, f"{name} exited while starting\n{log()}"
            try:
                if (await client.get(health_url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{name} did not start\n{log()}"
            await asyncio.sleep(0.1)


async def stop_process(proc: asyncio.subprocess.Process) -> None:
    """Terminate ``proc`` (if it still runs) and wait for it; kill it if it will not stop."""
    if proc.returncode is not None:
        return
    proc.terminate()
    try:
        await asyncio.wait_for(proc.wait(), 15)
    except TimeoutError:
        proc.kill()
        await proc.wait()
