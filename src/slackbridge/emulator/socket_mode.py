"""Socket Mode: the websocket at ``/link/`` that ``apps.connections.open`` points apps to.

A connection is opened with a single-use ticket. The server greets with ``hello``, then sends
envelopes (``events_api``, ``slash_commands``, ``interactive``) that the app acknowledges by
sending back ``{"envelope_id": …, "payload": …?}`` within 3 s (scaled by ``speed``). Each
envelope goes to one connection of the app, round robin; an app may hold up to 10 connections
(the 11th is told ``too_many_websockets``). The control API can send ``disconnect`` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from slackbridge.emulator.control_common import ControlError, endpoint, read_body
from slackbridge.emulator.state import EmulatorState

__all__ = [
    "DISCONNECT_REASONS",
    "MAX_CONNECTIONS",
    "NoAck",
    "NoConnection",
    "SocketAck",
    "SocketHub",
    "routes",
]

MAX_CONNECTIONS = 10
TICKET_TTL = 60.0  # seconds a ticket from apps.connections.open stays usable
DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled")
_CLOSING_REASONS = ("refresh_requested", "link_disabled", "too_many_websockets")
_HOST = "applink-emulator"


class NoConnection(Exception):
    """The app has no open Socket Mode connection."""


class NoAck(Exception):
    """The connection did not acknowledge the envelope in time (or went away)."""

    def __init__(self, connection_id: str) -> None:
        super().__init__(connection_id)
        self.connection_id = connection_id


@dataclass
class SocketAck:
    connection_id: str
    payload: dict[str, Any] | None


@dataclass
class _Connection:
    id: str
    app_id: str
    websocket: WebSocket
    connected_at: float
    pending: dict[str, asyncio.Future[dict[str, Any] | None]] = field(default_factory=dict)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    delivered: int = 0

    async def send_json(self, message: dict[str, Any]) -> None:
        async with self.send_lock:
            await self.websocket.send_text(orjson.dumps(message).decode())

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "app_id": self.app_id,
            "connected_at": self.connected_at,
            "pending_acks": len(self.pending),
            "delivered": self.delivered,
        }


@dataclass
class _Ticket:
    app_id: str
    expires_at: float


class SocketHub:
    """The open Socket Mode connections of every app, and the tickets that open them."""

    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._tickets: dict[str, _Ticket] = {}
        self._connections: dict[str, list[_Connection]] = {}
        self._rr: dict[str, itertools.count[int]] = {}
        self._ids = itertools.count(1)

    # --- tickets --------------------------------------------------------------------------
    def issue_ticket(self, app_id: str) -> str:
        now = self._state.now()
        for key in [k for k, t in self._tickets.items() if t.expires_at < now]:
            del self._tickets[key]
        ticket = str(uuid.UUID(bytes=secrets.token_bytes(16)))
        self._tickets[ticket] = _Ticket(app_id, now + TICKET_TTL)
        return ticket

    def _consume(self, ticket: str | None, app_id: str | None) -> str | None:
        found = self._tickets.pop(ticket or "", None)
        if found is None or found.expires_at < self._state.now():
            return None
        if app_id is not None and app_id != found.app_id:
            return None
        return found.app_id

    # --- connections ----------------------------------------------------------------------
    def connections(self, app_id: str | None = None) -> list[_Connection]:
        if app_id is not None:
            return list(self._connections.get(app_id, []))
        return [c for conns in self._connections.values() for c in conns]

    def _pick(self, app_id: str, avoid: str | None) -> _Connection:
        conns = self._connections.get(app_id, [])
        if not conns:
            raise NoConnection(app_id)
        candidates = [c for c in conns if c.id != avoid] or conns
        n = next(self._rr.setdefault(app_id, itertools.count()))
        return candidates[n % len(candidates)]

    async def send(
        self,
        app_id: str,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool,
        retry_attempt: int | None,
        retry_reason: str | None,
        avoid: str | None,
        ack_timeout: float,
    ) -> SocketAck:
        """Send one envelope to one connection and wait for its ack."""
        conn = self._pick(app_id, avoid)
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": payload,
            "type": envelope_type,
            "accepts_response_payload": accepts_response_payload,
        }
        if retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason or ""
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        conn.pending[envelope_id] = future
        try:
            try:
                await conn.send_json(envelope)
            except (RuntimeError, WebSocketDisconnect, OSError) as exc:
                raise NoAck(conn.id) from exc
            conn.delivered += 1
            try:
                ack = await asyncio.wait_for(future, ack_timeout)
            except (TimeoutError, NoAck) as exc:
                raise NoAck(conn.id) from exc
        finally:
            conn.pending.pop(envelope_id, None)
        return SocketAck(conn.id, ack)

    async def disconnect(self, app_id: str, reason: str, connection_id: str | None = None) -> int:
        """Send ``disconnect`` to the app's connections (or one); returns how many got it."""
        targets = [
            c for c in self.connections(app_id) if connection_id is None or c.id == connection_id
        ]
        for conn in targets:
            await self._send_disconnect(conn, reason)
        return len(targets)

    async def _send_disconnect(self, conn: _Connection, reason: str) -> None:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
            await conn.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": _HOST}}
            )
            if reason in _CLOSING_REASONS:
                await conn.websocket.close(code=1000)
        if reason in _CLOSING_REASONS:
            self._unregister(conn)

    async def close_all(self) -> None:
        for conn in self.connections():
            with contextlib.suppress(RuntimeError, WebSocketDisconnect, OSError):
                await conn.websocket.close(code=1001)
            self._unregister(conn)
        self._tickets.clear()

    def _unregister(self, conn: _Connection) -> None:
        conns = self._connections.get(conn.app_id, [])
        if conn in conns:
            conns.remove(conn)
        for future in conn.pending.values():
            if not future.done():
                future.set_exception(NoAck(conn.id))
        conn.pending.clear()

    # --- the websocket ----------------------------------------------------------------------
    async def serve(self, websocket: WebSocket) -> None:
        app_id = self._consume(
            websocket.query_params.get("ticket"), websocket.query_params.get("app_id")
        )
        if app_id is None:
            # Refusing the handshake answers HTTP 403, as an invalid or reused ticket does.
            await websocket.close(code=1008)
            return
        await websocket.accept()
        conn = _Connection(
            id=f"SM{next(self._ids):06d}",
            app_id=app_id,
            websocket=websocket,
            connected_at=self._state.now(),
        )
        conns = self._connections.setdefault(app_id, [])
        if len(conns) >= MAX_CONNECTIONS:
            await self._send_disconnect(conn, "too_many_websockets")
            return
        conns.append(conn)
        try:
            await conn.send_json(
                {
                    "type": "hello",
                    "num_connections": len(conns),
                    "debug_info": {
                        "host": _HOST,
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": app_id},
                }
            )
            while True:
                text = await websocket.receive_text()
                self._on_message(conn, text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            self._unregister(conn)

    @staticmethod
    def _on_message(conn: _Connection, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        if not isinstance(message, dict):
            return
        envelope_id = message.get("envelope_id")
        future = conn.pending.get(envelope_id) if isinstance(envelope_id, str) else None
        if future is not None and not future.done():
            payload = message.get("payload")
            future.set_result(payload if isinstance(payload, dict) and payload else None)


# --- routes -------------------------------------------------------------------------------------


def _hub(conn: HTTPConnection) -> SocketHub:
    return cast(SocketHub, conn.app.state.outbound.hub)


async def _link(websocket: WebSocket) -> None:
    await _hub(websocket).serve(websocket)


async def _disconnect(request: Request) -> dict[str, Any]:
    body = await read_body(request)
    app_id = body.get("app_id")
    reason = body.get("reason", "warning")
    state = cast(EmulatorState, request.app.state.emulator)
    if not isinstance(app_id, str) or app_id not in state.apps:
        raise ControlError("app_not_found", "app_id: no such app (see GET /_emulator/state)", 404)
    if reason not in DISCONNECT_REASONS:
        raise ControlError("invalid_reason", f"reason: one of {', '.join(DISCONNECT_REASONS)}")
    connection_id = body.get("connection_id")
    if connection_id is not None and not isinstance(connection_id, str):
        raise ControlError("invalid_connection_id", "connection_id: a string")
    return {"disconnected": await _hub(request).disconnect(app_id, reason, connection_id)}


async def _list(request: Request) -> dict[str, Any]:
    app_id = request.query_params.get("app_id") or None
    return {"connections": [c.to_json() for c in _hub(request).connections(app_id)]}


def routes() -> list[BaseRoute]:
    """The websocket endpoint and the Socket Mode control endpoints."""
    return [
        WebSocketRoute("/link/", _link),
        WebSocketRoute("/link", _link),
        Route("/_emulator/socket/disconnect", endpoint(_disconnect), methods=["POST"]),
        Route("/_emulator/socket/connections", endpoint(_list), methods=["GET"]),
    ]
