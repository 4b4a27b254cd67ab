"""Builds the gateway's ASGI app and its lifespan.

The app is assembled from *parts* (:class:`~slackbridge.runtime.Part`: ``router``, ``mounts``,
``raw_routes`` answered before FastAPI's middleware and routing, e.g. Slack's ingress,
``on_startup``, ``workers`` and ``readiness`` checks of their own for ``/readyz``), by default
every part the composition lists (:data:`slackbridge.compose.PARTS`). The lifespan gets the
runtime from :func:`slackbridge.compose.build_runtime` (the store opened and its schema
upgraded), runs the parts' start-up hooks, then keeps every worker running under supervision (a
worker that crashes is restarted with backoff) until shutdown. Parts reach the runtime through
``request.state.gateway`` (lifespan state, so mounted sub-apps see it too;
:func:`~slackbridge.runtime.gateway_of` reads it).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from slackbridge import __version__
from slackbridge.compose import PARTS, build_runtime, parts_named
from slackbridge.landing import FAVICON_SVG, render_landing
from slackbridge.runtime import Gateway, Health, Part, Worker, gateway_of
from slackbridge.settings import Settings, get_settings

__all__ = ["PARTS", "Gateway", "Health", "Part", "Worker", "create_app", "gateway_of"]

_log = logging.getLogger("slackbridge.server")

#: Allocations between two collections of the youngest generation while the gateway runs.
_YOUNG_GC_THRESHOLD = 20_000


class _GatewayApp(FastAPI):
    """FastAPI plus a few raw ASGI routes that skip its middleware stack (see module doc)."""

    raw_routes: dict[str, ASGIApp]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = self.raw_routes.get(scope["path"])
            if handler is not None:
                await handler(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _supervise(worker: Worker, stop: asyncio.Event, health: Health) -> None:
    """Run ``worker`` until stop; restart it with backoff if it crashes."""
    delay = 0.5
    while not stop.is_set():
        started = time.monotonic()
        try:
            await worker.run(stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            health.report(f"worker:{worker.name}", False, f"crashed: {exc!r}")
            _log.exception("worker %s crashed; restarting in %.1fs", worker.name, delay)
        else:
            if stop.is_set():
                return
        if time.monotonic() - started > 60:
            delay = 0.5
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, 30.0)


def create_app(
    settings: Settings | None = None,
    *,
    parts: Sequence[Part | str] | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    on_ready: Callable[[Gateway], None] | None = None,
) -> FastAPI:
    """The gateway ASGI app. ``parts`` replaces :data:`~slackbridge.compose.PARTS` (part
    objects, or the names of the composition's parts); ``http_transport`` replaces the network
    for product webhooks (tests pass the product's ASGI app); ``on_ready`` is called with the
    Gateway after start-up."""
    settings = settings or get_settings()
    chosen = list(PARTS) if parts is None else parts_named(parts)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with build_runtime(settings, http_transport=http_transport) as gateway:
            app.state.gateway = gateway
            async with _running(gateway, chosen, on_ready):
                yield {"gateway": gateway}

    app = _GatewayApp(
        title="slackbridge",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.raw_routes = {}

    @app.get("/", include_in_schema=False)
    async def landing(request: Request) -> HTMLResponse:
        """What is running here and where to go next (a person opening the address)."""
        return HTMLResponse(render_landing(__version__, gateway_of(request).health.snapshot()))

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(FAVICON_SVG, media_type="image/svg+xml")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> Response:
        """Readiness: the store answers and every component reports healthy."""
        gateway = gateway_of(request)
        checks = gateway.health.snapshot()
        for part in chosen:  # parts may add checks of their own (e.g. ``cluster``)
            checks.update(part.readiness(gateway))
        try:
            from sqlalchemy import text

            async with gateway.db.session() as session:
                await session.execute(text("SELECT 1"))
            checks["store"] = {"ok": True, "detail": gateway.db.dialect, "since": time.time()}
            queues = await gateway.backlogs.publish(gateway.db, gateway.keyring)
            checks["queues"] = {
                "ok": True,  # a backlog is reported, it doesn't make the gateway unready
                "detail": ", ".join(
                    f"{name}: {b.depth} waiting, oldest {b.oldest_seconds:.1f}s"
                    for name, b in queues.items()
                ),
                "since": time.time(),
                "backlog": {
                    name: {"depth": b.depth, "oldest_seconds": round(b.oldest_seconds, 3)}
                    for name, b in queues.items()
                },
            }
        except Exception as exc:
            checks["store"] = {"ok": False, "detail": repr(exc), "since": time.time()}
        ready = all(check["ok"] for check in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics (each queue's backlog read fresh, at most once a second)."""
        with contextlib.suppress(Exception):  # the store's state shows in /readyz
            gateway = gateway_of(request)
            await gateway.backlogs.publish(gateway.db, gateway.keyring)
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for part in chosen:
        if part.router is not None:
            app.include_router(part.router)
        for path, sub_app in part.mounts:
            app.mount(path, sub_app)
        app.raw_routes.update(part.raw_routes)
    return app


@contextlib.asynccontextmanager
async def _running(
    gateway: Gateway, parts: Sequence[Part], on_ready: Callable[[Gateway], None] | None
) -> AsyncIterator[None]:
    """The parts started (their hooks in order, then their workers under supervision) for the
    block; the workers stopped after it."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    threshold = gc.get_threshold()
    try:
        for part in parts:
            await part.on_startup(gateway)
        for part in parts:
            for worker in part.workers(gateway):
                tasks.append(
                    asyncio.create_task(_supervise(worker, stop, gateway.health), name=worker.name)
                )
        if on_ready:
            on_ready(gateway)
        # Start-up leaves many long-lived objects (SQLAlchemy, FastAPI, pydantic): moved out
        # of the cyclic collector's way, every later collection is cheap (measured: about a
        # quarter of the ingress's CPU per request went to walking them again and again).
        gc.collect()
        gc.freeze()
        # Each request allocates a few hundred short-lived objects that reference counting
        # frees; collecting the young generation after every 700 allocations (the default)
        # cost about a tenth of the ingress's CPU per request, after every 20,000 it is
        # noise. Garbage cycles wait a little longer for it; nothing else changes.
        gc.set_threshold(_YOUNG_GC_THRESHOLD, *threshold[1:])
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()  # collectable again (e.g. when tests run many gateways in one process)
        stop.set()
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
