"""Run an example product's runner (``examples/*/app.py``) as a process, for its tests.

Each runner is configured from the environment (``SLACKBRIDGE_*`` and its own ``<PREFIX>_*``
variables); :class:`ExampleRunner` starts it with a clean environment, either to see it refuse a
bad one (:meth:`ExampleRunner.exit_of`) or to talk to it over HTTP once ``/healthz`` answers
(:meth:`ExampleRunner.running`). :func:`signed_webhook` makes a body and headers as the gateway
would send them.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from slackbridge.product.signing import sign_headers
from tests.support.processes import stop_process, wait_healthy
from tests.support.servers import free_port

__all__ = ["ExampleRunner", "signed_webhook"]


def signed_webhook(
    secret: str,
    webhook_id: str,
    kind: str,
    data: Mapping[str, object],
    timestamp: str = "2026-12-04T10:00:00Z",
) -> tuple[bytes, dict[str, str]]:
    """A webhook body of type ``kind`` and the headers that sign it with ``secret``."""
    body = orjson.dumps({"type": kind, "timestamp": timestamp, "data": data})
    return body, sign_headers(secret, webhook_id, int(time.time()), body)


@dataclass(frozen=True)
class ExampleRunner:
    """``app`` (the runner script), its variables' ``prefix`` and its ``name`` in messages."""

    app: Path
    prefix: str
    name: str

    def env(self, **values: str) -> dict[str, str]:
        """This process's environment without slackbridge's or the runner's variables, plus
        ``values``."""
        own = ("SLACKBRIDGE_", f"{self.prefix}_")
        keep = {k: v for k, v in os.environ.items() if not k.startswith(own)}
        return {**keep, **values}

    def configured(self, secret: str, **values: str) -> dict[str, str]:
        """A complete environment: a gateway address (none needs to listen), a key, ``secret``."""
        return self.env(
            SLACKBRIDGE_API_URL=f"http://127.0.0.1:{free_port()}",
            SLACKBRIDGE_API_KEY="sbk_example_key",
            **{f"{self.prefix}_WEBHOOK_SECRET": secret},
            **values,
        )

    async def exit_of(self, env: dict[str, str]) -> tuple[int, str]:
        """Run it with ``env`` until it exits: its exit code and stderr."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(self.app), env=env, stderr=asyncio.subprocess.PIPE
        )
        _, err = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode is not None
        return proc.returncode, err.decode()

    @asynccontextmanager
    async def running(self, env: dict[str, str]) -> AsyncIterator[str]:
        """Run it with ``env`` on a free port; its URL once ``/healthz`` answers."""
        port = free_port()
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(self.app),
            env={**env, f"{self.prefix}_PORT": str(port)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(proc, f"{url}/healthz", self.name)
            yield url
        finally:
            await stop_process(proc)
