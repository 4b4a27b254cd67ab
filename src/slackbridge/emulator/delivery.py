"""Signed delivery of everything Slack sends to apps, with Slack's retry policy.

Events go out in the background: Slack waits up to 3 s for a 2xx, and on a timeout, an error
status or a failed connection retries up to 3 times (nearly immediately, after 1 minute, after 5
minutes; all scaled by the emulator's ``speed``) with ``X-Slack-Retry-Num`` and
``X-Slack-Retry-Reason``; ``X-Slack-No-Retry: 1`` on a failed answer stops the retries.
Slash commands, interactivity and the url_verification handshake are one synchronous attempt
whose answer the caller uses. Apps in Socket Mode get the same payloads over their websocket.
Every delivery and attempt is recorded for the control API.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson

from slackbridge.emulator.capture import captured
from slackbridge.emulator.delivery_records import (
    RETRY_DELAYS,
    Attempt,
    CallResult,
    Delivery,
    Kind,
    retry_delay,
)
from slackbridge.emulator.signing import signed_headers
from slackbridge.emulator.socket_mode import NoAck, NoConnection, SocketHub
from slackbridge.emulator.state import App, EmulatorState

__all__ = [
    "RETRY_DELAYS",
    "USER_AGENT",
    "Attempt",
    "CallResult",
    "Deliverer",
    "Delivery",
    "Kind",
    "retry_delay",
]

USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
ACK_TIMEOUT = 3.0  # seconds Slack waits for an app's answer
_MAX_RECORDS = 5_000


@dataclass
class _Outcome:
    status: int | None
    error: str | None
    no_retry: bool = False
    body: bytes = b""
    content_type: str = ""
    payload: dict[str, Any] | None = None
    connection_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Deliverer:
    """Sends payloads to apps over HTTP or Socket Mode and records what happened.

    ``transport`` lets tests route HTTP through an in-memory app; ``max_concurrency`` bounds the
    requests in flight. Call :meth:`start` and :meth:`stop` from the emulator's lifespan.
    """

    def __init__(
        self,
        state: EmulatorState,
        hub: SocketHub,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        max_concurrency: int = 32,
    ) -> None:
        self._state = state
        self._hub = hub
        self._transport = transport
        self._limit = asyncio.Semaphore(max_concurrency)
        self._client: httpx.AsyncClient | None = None
        self._records: deque[Delivery] = deque(maxlen=_MAX_RECORDS)
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                follow_redirects=True,
                max_redirects=2,
                headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
            )

    async def stop(self) -> None:
        self.cancel_pending()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def cancel_pending(self) -> None:
        """Drop queued retries (the world was reset)."""
        for task in list(self._tasks):
            task.cancel()

    def clear(self) -> None:
        self.cancel_pending()
        self._records.clear()

    async def wait_idle(self) -> None:
        """Return once no delivery (or scheduled retry) is outstanding."""
        while self._tasks:
            await self._idle.wait()
            await asyncio.sleep(0)

    # --- records --------------------------------------------------------------------------
    def records(
        self,
        *,
        app_id: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        team_id: str | None = None,
    ) -> list[Delivery]:
        return [
            d
            for d in self._records
            if (app_id is None or d.app_id == app_id)
            and (kind is None or d.kind == kind)
            and (status is None or d.status == status)
            and (team_id is None or d.team_id == team_id)
        ]

    def get(self, delivery_id: str) -> Delivery | None:
        return next((d for d in self._records if d.id == delivery_id), None)

    def _record(
        self,
        kind: Kind,
        app: App,
        team_id: str | None,
        url: str,
        body: str,
        content_type: str,
        event_id: str | None = None,
    ) -> Delivery:
        delivery = Delivery(
            id=f"D{next(self._ids):08d}",
            kind=kind,
            app_id=app.id,
            team_id=team_id,
            url=url,
            body=body,
            content_type=content_type,
            created_at=self._state.now(),
            event_id=event_id,
        )
        self._records.append(delivery)
        return delivery

    # --- events (background, retried) -------------------------------------------------------
    def enqueue_event(self, app: App, team_id: str, envelope: dict[str, Any]) -> Delivery | None:
        """Send an Events API envelope to ``app`` in the background, with retries.

        Returns None when the app has nowhere to receive events."""
        if app.socket_mode:
            url = "socket"
        elif app.event_request_url:
            url = app.event_request_url
        else:
            return None
        body = orjson.dumps(envelope).decode()
        delivery = self._record(
            "event", app, team_id, url, body, "application/json", envelope.get("event_id")
        )
        first_attempt = captured()  # an events_first answer waits for it (capture.py)
        self._spawn(self._deliver_event(app, delivery, envelope, first_attempt))
        return delivery

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        # The task drives the coroutine itself, so cancelling it before it starts (a reset)
        # closes the coroutine too instead of leaving it never awaited.
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        self._idle.clear()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    async def _deliver_event(
        self,
        app: App,
        delivery: Delivery,
        envelope: dict[str, Any],
        first_attempt: asyncio.Event | None = None,
    ) -> None:
        try:
            await self._attempt_event(app, delivery, envelope, first_attempt)
        finally:
            if first_attempt is not None:
                first_attempt.set()

    async def _attempt_event(
        self,
        app: App,
        delivery: Delivery,
        envelope: dict[str, Any],
        first_attempt: asyncio.Event | None,
    ) -> None:
        retry_num = 0
        reason: str | None = None
        avoid: str | None = None
        while True:
            if delivery.url == "socket":
                outcome = await self._socket_attempt(
                    app, delivery, "events_api", envelope, False, retry_num, reason, avoid
                )
                avoid = outcome.connection_id
            else:
                outcome = await self._http_attempt(
                    app, delivery, delivery.body.encode(), retry_num, reason
                )
            if first_attempt is not None:
                first_attempt.set()
            if outcome.ok:
                delivery.status = "delivered"
                delivery.response_status = outcome.status
                return
            delivery.response_status = outcome.status
            delay = retry_delay(retry_num + 1, self._state.speed)
            if outcome.no_retry or delay is None:
                delivery.status = "failed"
                return
            retry_num += 1
            reason = outcome.error
            if delay > 0:
                await asyncio.sleep(delay)

    # --- synchronous calls ----------------------------------------------------------------
    async def call(
        self,
        app: App,
        kind: Kind,
        team_id: str | None,
        *,
        url: str | None,
        form: dict[str, str] | None = None,
        payload: dict[str, Any] | None = None,
        socket_type: str = "interactive",
        accepts_response_payload: bool = True,
    ) -> CallResult:
        """One attempt whose answer the caller needs, over Socket Mode when the app uses it.

        Over HTTP, ``form`` is sent form-encoded (commands, interactivity) and ``payload`` alone
        as JSON (the url_verification handshake). Over Socket Mode the envelope's payload is
        ``form`` as an object (commands) or ``payload`` (interactivity)."""
        if app.socket_mode and kind != "url_verification":
            body_obj: dict[str, Any] = dict(form) if form is not None else dict(payload or {})
            delivery = self._record(
                kind, app, team_id, "socket", orjson.dumps(body_obj).decode(), "application/json"
            )
            outcome = await self._socket_attempt(
                app, delivery, socket_type, body_obj, accepts_response_payload, 0, None, None
            )
        else:
            if url is None:
                return CallResult(False, None, b"", "", "no_request_url")
            if form is not None:
                raw = urlencode(form).encode()
                content_type = "application/x-www-form-urlencoded"
            else:
                raw = orjson.dumps(payload or {})
                content_type = "application/json"
            delivery = self._record(kind, app, team_id, url, raw.decode(), content_type)
            outcome = await self._http_attempt(app, delivery, raw, 0, None)
        delivery.status = "delivered" if outcome.ok else "failed"
        delivery.response_status = outcome.status
        delivery.response_body = outcome.body.decode(errors="replace")
        return CallResult(
            ok=outcome.ok,
            status=outcome.status,
            body=outcome.body,
            content_type=outcome.content_type,
            error=outcome.error,
            payload=outcome.payload,
        )

    # --- attempts -------------------------------------------------------------------------
    async def _http_attempt(
        self, app: App, delivery: Delivery, body: bytes, retry_num: int, reason: str | None
    ) -> _Outcome:
        attempt = Attempt(at=self._state.now(), retry_num=retry_num)
        delivery.attempts.append(attempt)
        started = time.perf_counter()
        async with self._limit:
            outcome = await self._send(app, delivery, body, retry_num, reason)
        attempt.latency_ms = (time.perf_counter() - started) * 1000
        attempt.status = outcome.status
        attempt.error = outcome.error
        return outcome

    async def _send(
        self, app: App, delivery: Delivery, body: bytes, retry_num: int, reason: str | None
    ) -> _Outcome:
        timeout = self._state.answer_timeout(ACK_TIMEOUT)
        fault = self._state.faults.match_url(delivery.url)
        try:
            async with asyncio.timeout(timeout):
                if fault is not None and fault.latency:
                    await asyncio.sleep(fault.latency)
                if fault is not None and fault.drop:
                    return _Outcome(None, "connection_failed")
                if fault is not None and fault.status:
                    error = None if 200 <= fault.status < 300 else "http_error"
                    return _Outcome(fault.status, error)
                return await self._post(app, delivery, body, retry_num, reason)
        except TimeoutError:
            return _Outcome(None, "http_timeout")

    async def _post(
        self, app: App, delivery: Delivery, body: bytes, retry_num: int, reason: str | None
    ) -> _Outcome:
        if self._client is None:
            return _Outcome(None, "connection_failed")
        headers = {
            "Content-Type": delivery.content_type,
            **signed_headers(app.signing_secret, int(self._state.now()), body),
        }
        if retry_num:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = reason or "unknown_error"
        try:
            response = await self._client.post(delivery.url, content=body, headers=headers)
        except httpx.TooManyRedirects:
            return _Outcome(None, "too_many_redirects")
        except httpx.TimeoutException:
            return _Outcome(None, "http_timeout")
        except httpx.ConnectError as exc:
            error = "ssl_error" if "SSL" in str(exc) else "connection_failed"
            return _Outcome(None, error)
        except (httpx.HTTPError, httpx.InvalidURL):
            return _Outcome(None, "unknown_error")
        ok = 200 <= response.status_code < 300
        return _Outcome(
            status=response.status_code,
            error=None if ok else "http_error",
            no_retry=response.headers.get("X-Slack-No-Retry") == "1",
            body=response.content,
            content_type=response.headers.get("Content-Type", ""),
        )

    async def _socket_attempt(
        self,
        app: App,
        delivery: Delivery,
        envelope_type: str,
        payload: dict[str, Any],
        accepts_response_payload: bool,
        retry_num: int,
        reason: str | None,
        avoid: str | None,
    ) -> _Outcome:
        attempt = Attempt(at=self._state.now(), retry_num=retry_num)
        delivery.attempts.append(attempt)
        started = time.perf_counter()
        try:
            ack = await self._hub.send(
                app.id,
                envelope_type,
                payload,
                accepts_response_payload=accepts_response_payload,
                retry_attempt=retry_num if envelope_type == "events_api" else None,
                retry_reason=(reason or "") if envelope_type == "events_api" else None,
                avoid=avoid,
                ack_timeout=self._state.answer_timeout(ACK_TIMEOUT),
            )
            outcome = _Outcome(
                200,
                None,
                body=orjson.dumps(ack.payload) if ack.payload is not None else b"",
                content_type="application/json",
                payload=ack.payload,
                connection_id=ack.connection_id,
            )
        except NoConnection:
            outcome = _Outcome(None, "connection_failed")
        except NoAck as exc:
            outcome = _Outcome(None, "timeout", connection_id=exc.connection_id)
        attempt.latency_ms = (time.perf_counter() - started) * 1000
        attempt.status = outcome.status
        attempt.error = outcome.error
        return outcome
