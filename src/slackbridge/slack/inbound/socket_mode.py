"""Socket Mode: supervised websocket connections for apps that receive over a socket.

For every app configured with ``socket_mode`` and an app-level token (``xapp-…``), a supervisor
keeps one connection open: ``apps.connections.open`` gives a single-use URL, the websocket is
ready once Slack says ``hello``. Envelopes (``events_api``, ``slash_commands``, ``interactive``)
go into the same inbox as HTTP requests, with the same dedupe keys, and are acked only after
their row is committed (with a synchronous endpoint's answer as the ack payload when there is
one). An envelope whose row can't be committed is not acked, so Slack sends it again.

Supervision: a ``disconnect`` message (``warning``, ``refresh_requested``, ...) makes the
supervisor open a new connection first and then move over, letting the old one finish the
envelopes it is handling; a connection that closes, crashes or stops answering pings (silent) is
replaced, with exponential backoff and jitter between failed attempts. Each app's state is in
``/readyz`` as ``socket_mode:<app name>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from slackbridge import metrics
from slackbridge.domain.payloads import PayloadKind
from slackbridge.runtime import Gateway, Worker
from slackbridge.slack.inbound.group_commit import CommitUnavailable
from slackbridge.slack.inbound.ingress_checks import socket_dedupe_key
from slackbridge.slack.inbound.intake import Intake, accept
from slackbridge.store.elector import run_elected
from slackbridge.store.repositories.apps import SlackApp

#: Jitter from a generator of this module's own: the global one belongs to whoever else
#: draws from it (a property test's data generation, for one).
_JITTER = random.Random()

__all__ = ["ENVELOPE_KINDS", "AppConnection", "SocketModeSupervisor", "SocketModeWorker", "workers"]

_log = logging.getLogger("slackbridge.socket_mode")

#: Envelope type → the inbox kind of its payload.
ENVELOPE_KINDS: dict[str, PayloadKind] = {
    "events_api": "events",
    "slash_commands": "commands",
    "interactive": "interactivity",
}
_HELLO_TIMEOUT = 10.0
_RETIRE_GRACE = 10.0  # seconds an old connection may keep finishing its envelopes
_BACKOFF_MIN = 0.5
_BACKOFF_MAX = 30.0
_RESCAN_SECONDS = 5.0  # how soon a crashed supervisor or a newly added app is (re)started


class AppConnection:
    """One websocket of one app: reads messages, stores and acks envelopes."""

    def __init__(self, supervisor: SocketModeSupervisor, websocket: ClientConnection) -> None:
        self._supervisor = supervisor
        self._ws = websocket
        self.hello = asyncio.Event()
        self.closed = asyncio.Event()
        self.replace = asyncio.Event()  # Slack asked us to move to a new connection
        self.disconnect_reason: str | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        metrics.SOCKET_CONNECTIONS.inc()
        try:
            async for raw in self._ws:
                self._on_message(raw)
        except (ConnectionClosed, WebSocketException, OSError) as exc:
            _log.info("socket mode connection of %s lost: %r", self._supervisor.app_name, exc)
        finally:
            metrics.SOCKET_CONNECTIONS.dec()
            self.closed.set()

    def _on_message(self, raw: str | bytes) -> None:
        try:
            message = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        mtype = message.get("type")
        if mtype == "hello":
            self.hello.set()
        elif mtype == "disconnect":
            self.disconnect_reason = str(message.get("reason") or "")
            _log.info(
                "socket mode connection of %s: disconnect (%s); moving to a new connection",
                self._supervisor.app_name,
                self.disconnect_reason,
            )
            self.replace.set()
        elif isinstance(message.get("envelope_id"), str):
            task = asyncio.get_running_loop().create_task(self._envelope(message))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _envelope(self, message: dict[str, Any]) -> None:
        envelope_id = str(message["envelope_id"])
        kind = ENVELOPE_KINDS.get(str(message.get("type")))
        payload = message.get("payload")
        if kind is None or not isinstance(payload, dict):
            # Nothing slackbridge can use (and Slack would only send it again): ack it.
            metrics.SOCKET_ENVELOPES.labels("ignored").inc()
            await self._send({"envelope_id": envelope_id})
            return
        headers: dict[str, Any] = {"transport": "socket", "envelope_id": envelope_id}
        retry = message.get("retry_attempt")
        if isinstance(retry, int) and retry > 0:
            headers["retry_num"] = retry
            headers["retry_reason"] = str(message.get("retry_reason") or "")
        key = socket_dedupe_key(kind, payload)
        # Slack's legacy verification token rides along here too: it is never stored.
        stored = {k: v for k, v in payload.items() if k != "token"}
        item = Intake(kind, orjson.dumps(stored), stored, key, self._supervisor.app_ref, headers)
        try:
            accepted = await accept(self._supervisor.gateway, item)
        except CommitUnavailable as exc:
            metrics.SOCKET_ENVELOPES.labels("unavailable").inc()
            _log.warning("not acking envelope %s (Slack will resend it): %s", envelope_id, exc)
            return
        ack: dict[str, Any] = {"envelope_id": envelope_id}
        answer = accepted.answer
        if answer is not None and message.get("accepts_response_payload"):
            response = answer.payload()
            if response:
                ack["payload"] = response
        await self._send(ack)
        metrics.SOCKET_ENVELOPES.labels("acked" if accepted.new else "duplicate").inc()

    async def _send(self, message: dict[str, Any]) -> None:
        # A connection that closed meanwhile loses only the ack: the row is stored, Slack
        # resends the envelope and the inbox's unique key absorbs it.
        with contextlib.suppress(ConnectionClosed, WebSocketException, OSError):
            await self._ws.send(orjson.dumps(message).decode())

    async def retire(self) -> None:
        """Let running envelopes finish (a bounded while), then close."""
        if self._handlers:
            await asyncio.wait(set(self._handlers), timeout=_RETIRE_GRACE)
        await self.close()

    async def close(self) -> None:
        with contextlib.suppress(ConnectionClosed, WebSocketException, OSError):
            await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        for task in list(self._handlers):
            task.cancel()


class SocketModeSupervisor:
    """Keeps one app's Socket Mode connection open until told to stop."""

    def __init__(self, gateway: Gateway, app: SlackApp) -> None:
        self.gateway = gateway
        self.app_ref = app.id
        self.app_name = app.name
        self._app_token = app.app_token or ""
        self.component = f"socket_mode:{app.name}"
        self._retiring: set[asyncio.Task[None]] = set()
        self._app_key = app.app_id or f"app:{app.id}"
        self._stop = asyncio.Event()

    async def _budget(self) -> None:
        """Wait until Slack's budget for ``apps.connections.open`` (Tier 1, per app, shared by
        every gateway on PostgreSQL) lets this app open a connection. One process alone opens
        one connection at a time with backoff, well within the budget, and doesn't wait (the
        ``reserve_shared_call`` port answers 0 at once)."""
        reserve = self.gateway.ports.reserve_shared_call
        while True:
            wait = await reserve(self._app_key, "apps.connections.open", None)
            if wait <= 0:
                return
            await _sleep(self._stop, wait)
            if self._stop.is_set():
                raise ConnectionError("stopping")

    async def _open(self) -> AppConnection:
        await self._budget()
        client = self.gateway.slack_client(self._app_token)
        response = await client.apps_connections_open(app_token=self._app_token)
        url = str(response["url"])
        interval = self.gateway.settings.socket_ping_interval
        websocket = await connect(
            url,
            ping_interval=interval,
            ping_timeout=interval,
            open_timeout=_HELLO_TIMEOUT,
            close_timeout=2,
            max_size=2**24,
        )
        conn = AppConnection(self, websocket)
        try:
            await asyncio.wait_for(_first(conn.hello, conn.closed), _HELLO_TIMEOUT)
        except TimeoutError:
            await conn.close()
            raise ConnectionError("no hello from Slack within 10s") from None
        if not conn.hello.is_set():
            await conn.close()
            raise ConnectionError("the connection closed before Slack said hello")
        return conn

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, move over on disconnect messages, reconnect on loss, until ``stop``."""
        self._stop = stop
        current: AppConnection | None = None
        delay = _BACKOFF_MIN
        try:
            while not stop.is_set():
                if current is None or (current.closed.is_set() and not current.replace.is_set()):
                    if current is not None:
                        self.gateway.health.report(self.component, False, "reconnecting")
                    current = None
                    try:
                        current = await self._open()
                    except Exception as exc:
                        self.gateway.health.report(
                            self.component, False, f"can't connect: {_describe(exc)}"
                        )
                        _log.warning(
                            "socket mode for %s: can't connect (%s); retrying in %.1fs",
                            self.app_name,
                            _describe(exc),
                            delay,
                        )
                        await _sleep(stop, delay * _JITTER.uniform(0.8, 1.2))
                        delay = min(delay * 2, _BACKOFF_MAX)
                        continue
                    delay = _BACKOFF_MIN
                    self.gateway.health.report(self.component, True, "connected")
                await _first(stop, current.closed, current.replace)
                if stop.is_set():
                    break
                if current.replace.is_set():
                    current = await self._move_over(current, stop)
        finally:
            if current is not None:
                await current.close()
            for task in list(self._retiring):
                task.cancel()
            self.gateway.health.forget(self.component)

    async def _move_over(self, old: AppConnection, stop: asyncio.Event) -> AppConnection | None:
        """Open the replacement first, then retire ``old`` (it may still be acking)."""
        delay = _BACKOFF_MIN
        while not stop.is_set():
            try:
                new = await self._open()
            except Exception as exc:
                _log.warning(
                    "socket mode for %s: replacement failed (%s)", self.app_name, _describe(exc)
                )
                if old.closed.is_set():
                    self.gateway.health.report(self.component, False, "reconnecting")
                await _sleep(stop, delay * _JITTER.uniform(0.8, 1.2))
                delay = min(delay * 2, _BACKOFF_MAX)
                continue
            task = asyncio.get_running_loop().create_task(old.retire())
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
            self.gateway.health.report(self.component, True, "connected")
            return new
        await old.close()
        return None


def _describe(exc: BaseException) -> str:
    return str(exc) or exc.__class__.__name__


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def _rescan_or_stop(gateway: Gateway, stop: asyncio.Event) -> None:
    """Until the apps are to be read again (a signal, or :data:`_RESCAN_SECONDS`) or stop."""
    rescan = asyncio.ensure_future(gateway.wakeups.wait("socket_mode", _RESCAN_SECONDS))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({rescan, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        rescan.cancel()
        stopping.cancel()


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


class SocketModeWorker:
    """Runs a supervisor for every Socket Mode app. Apps added or changed later are picked up
    within a few seconds, or at once when ``gateway.wakeups.signal("socket_mode")`` is called."""

    name = "socket-mode"

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def run(self, stop: asyncio.Event) -> None:
        # Keyed by (app row id, app-level token): a changed token restarts the supervisor.
        running: dict[tuple[int, str], tuple[asyncio.Event, asyncio.Task[None]]] = {}
        self._gateway.health.report(f"worker:{self.name}", True, "supervising connections")
        try:
            while not stop.is_set():
                apps = await self._gateway.apps.apps(fresh=True)
                for app in apps:
                    if app.socket_mode and not app.app_token:
                        self._gateway.health.report(
                            f"socket_mode:{app.name}",
                            False,
                            "socket_mode is on but the app has no app-level token (xapp-…)",
                        )
                usable = {(a.id, a.app_token): a for a in apps if a.socket_mode and a.app_token}
                for key in [k for k in running if k not in usable]:
                    app_stop, task = running.pop(key)
                    app_stop.set()
                    await asyncio.gather(task, return_exceptions=True)
                for key, app in usable.items():
                    if key in running and running[key][1].done():
                        _log_crash(app.name, running.pop(key)[1])
                    if key not in running:
                        app_stop = asyncio.Event()
                        supervisor = SocketModeSupervisor(self._gateway, app)
                        task = asyncio.get_running_loop().create_task(
                            self._in_slot(app, supervisor, app_stop)
                        )
                        running[key] = (app_stop, task)
                await _rescan_or_stop(self._gateway, stop)
        finally:
            for app_stop, _ in running.values():
                app_stop.set()
            if running:
                await asyncio.gather(*(t for _, t in running.values()), return_exceptions=True)

    async def _in_slot(
        self, app: SlackApp, supervisor: SocketModeSupervisor, stop: asyncio.Event
    ) -> None:
        """Run the app's connection only while this gateway holds one of the app's slots:
        at most ``SLACKBRIDGE_SOCKET_CONNECTIONS_PER_APP`` gateways connect an app at once."""
        await run_elected(
            self._gateway.elector,
            f"socket-mode:{app.id}",
            lambda inner_stop, _held: supervisor.run(inner_stop),
            stop,
            slots=self._gateway.settings.socket_connections_per_app,
        )


def _log_crash(app_name: str, task: asyncio.Task[None]) -> None:
    error = None if task.cancelled() else task.exception()
    if error is not None:
        _log.error("socket mode supervisor of %s crashed (%r); restarting it", app_name, error)


def workers(gateway: Gateway) -> list[Worker]:
    """Gateway part hook: the Socket Mode connections."""
    return [SocketModeWorker(gateway)]
