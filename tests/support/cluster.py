"""Several ``slackbridge serve`` processes on one PostgreSQL, behind a round-robin proxy.

Used by the cluster acceptance test and ``bench/cluster.py``:

* :class:`RoundRobinProxy`: a tiny TCP proxy on a loopback port; each new connection goes to the
  next backend that accepts it (a dead gateway is skipped), as a load balancer would;
* :class:`GatewayProcess`: one gateway subprocess that can be started, SIGKILLed and restarted
  on its own port, with its output appended to a log file;
* :func:`seed_database`: the schema, the app and Acme's installation stored as an install would,
  so every gateway can post for Acme at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = ["GatewayProcess", "RoundRobinProxy", "cluster_env", "seed_database"]


class RoundRobinProxy:
    """A loopback TCP proxy spreading connections over ``backends`` in turn."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = 0
        self.connections = 0
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        for writer in list(self._writers):
            await _close(writer)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in range(len(self.backends)):
            port = self.backends[self._next % len(self.backends)]
            self._next += 1
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                self._writers.add(writer)
                return reader, writer
        return None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        upstream = await self._connect()
        if upstream is None:  # every gateway is down: the client sees a closed connection
            await _close(writer)
            self._writers.discard(writer)
            return
        up_reader, up_writer = upstream
        tasks = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        for task in tasks:
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)
        await asyncio.gather(*tasks, return_exceptions=True)
        for done in (writer, up_writer):
            await _close(done)
            self._writers.discard(done)


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(writer.wait_closed(), 2)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@dataclass
class GatewayProcess:
    """``slackbridge serve`` on ``port`` (started again on the same port after a kill)."""

    env: dict[str, str]
    port: int
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    instance: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def start(self) -> None:
        self.starts += 1
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "slackbridge.cli",
                "serve",
                "--port",
                str(self.port),
                env=self.env,
                stdout=out,
                stderr=out,
            )

    async def ready(self, within: float = 60.0) -> dict[str, Any]:
        """Wait until ``/readyz`` answers 200; its body."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=5.0) as client:
            while True:
                assert self.running, self.log.read_text()[-3000:]
                with contextlib.suppress(httpx.HTTPError):
                    answer = await client.get(self.url + "/readyz")
                    if answer.status_code == 200:
                        body: dict[str, Any] = answer.json()
                        self.instance = body["checks"]["cluster"]["instance"]
                        return body
                assert time.monotonic() < deadline, (
                    "gateway not ready\n" + self.log.read_text()[-3000:]
                )
                await asyncio.sleep(0.1)

    async def leases(self) -> list[str]:
        """The names of the leases this gateway holds (``/readyz``), [] when it is down."""
        if not self.running:
            return []
        async with httpx.AsyncClient(timeout=5.0) as client:
            try:
                body = (await client.get(self.url + "/readyz")).json()
            except (httpx.HTTPError, ValueError):
                return []
        return [lease["name"] for lease in body["checks"]["cluster"]["leases"]]

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def cluster_env(**settings: str) -> dict[str, str]:
    """This process's environment without its SLACKBRIDGE_ settings, plus ``settings``
    (``DATABASE_URL="…"`` → ``SLACKBRIDGE_DATABASE_URL``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACKBRIDGE_")}
    env.update({f"SLACKBRIDGE_{name}": value for name, value in settings.items()})
    return env


async def seed_database(
    url: str,
    schema: str,
    secret_keys: str,
    *,
    app_name: str,
    app_id: str,
    team_id: str,
    bot_token: str,
    bot_user_id: str,
    bot_id: str,
) -> None:
    """Upgrade the schema and store the app and the workspace's installation."""
    from slackbridge.store.crypto import Keyring
    from slackbridge.store.db import open_database
    from slackbridge.store.migrate import upgrade_database
    from slackbridge.store.repositories.apps import AppSpec, AppsRepository
    from slackbridge.store.repositories.installations import (
        InstallationSpec,
        InstallationsRepository,
    )

    keyring = Keyring.parse(secret_keys)
    db = open_database(url, schema=schema)
    try:
        await upgrade_database(db)
        app = await AppsRepository(db, keyring).upsert(AppSpec(name=app_name, app_id=app_id))
        await InstallationsRepository(db, keyring).save(
            InstallationSpec(
                app_ref=app.id,
                team_id=team_id,
                team_name="Acme",
                bot_token=bot_token,
                bot_user_id=bot_user_id,
                bot_id=bot_id,
                bot_scopes=("chat:write", "channels:join", "channels:history"),
            )
        )
    finally:
        await db.close()
