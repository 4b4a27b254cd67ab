"""The emulator's ASGI app: ``/api/{method}``, the control API, files, OAuth, Socket Mode, UI.

Routes come from the modules listed in :data:`_ROUTE_MODULES`; each exposes ``routes`` (a list of
Starlette routes, or a function returning one). Web API methods register themselves when
``webapi.methods`` imports their modules. Background machinery (event delivery, Socket Mode)
starts in the lifespan through :data:`_LIFESPAN_HOOKS`. Building the app is cheap: no I/O, no
threads; everything long-lived starts in the lifespan.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from slackbridge.emulator.control_common import unrouted
from slackbridge.emulator.seed import Seed, build_state
from slackbridge.emulator.state import EmulatorState
from slackbridge.emulator.webapi import methods as _methods
from slackbridge.emulator.webapi.dispatch import api_endpoint

__all__ = ["create_app"]

# Modules whose ``routes`` join the app, in order (earlier routes win on overlaps).
# To add routes, append the module's dotted name here.
_ROUTE_MODULES: list[str] = [
    "slackbridge.emulator.control",
    "slackbridge.emulator.file_routes",
    "slackbridge.emulator.control_delivery",
    "slackbridge.emulator.oauth_pages",
    "slackbridge.emulator.oidc",
    "slackbridge.emulator.responses",
    "slackbridge.emulator.socket_mode",
    "slackbridge.emulator.assistant",
    "slackbridge.emulator.ui",
]

# Lifespan hooks as "module:function"; each function takes the Starlette app and returns an
# async context manager entered at startup and exited at shutdown, in order (exits reversed).
# The app carries ``app.state.emulator`` (the EmulatorState) and
# ``app.state.delivery_transport`` (an httpx transport for outbound HTTP, or None).
_LIFESPAN_HOOKS: list[str] = [
    "slackbridge.emulator.outbound:lifespan",
    "slackbridge.emulator.scheduler:lifespan",
]

_Hook = Callable[[Starlette], AbstractAsyncContextManager[None]]


def _load(name: str) -> Any:
    return importlib.import_module(name)


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [Route("/api/{method}", api_endpoint, methods=["GET", "POST"])]
    for module_name in _ROUTE_MODULES:
        found = _load(module_name).routes
        routes.extend(found() if callable(found) else found)
    return routes


def _hooks() -> list[_Hook]:
    hooks = []
    for spec in _LIFESPAN_HOOKS:
        module_name, _, func = spec.partition(":")
        hooks.append(getattr(_load(module_name), func))
    return hooks


def create_app(
    state: EmulatorState | None = None,
    *,
    seed: Seed | None = None,
    speed: float = 1.0,
    rate_limits: bool = True,
    rate_limit_overrides: Mapping[str, Any] | None = None,
    base_url: str | None = None,
    delivery_transport: httpx.AsyncBaseTransport | None = None,
    ack_timeout: float | None = None,
    history_limits: str = "default",
) -> Starlette:
    """The emulator as an ASGI app.

    ``state`` (or a fresh one built from ``seed``, the default seed when None) is kept on
    ``app.state.emulator``. ``speed`` > 1 shortens Slack's waits (retries, expiries);
    ``rate_limits`` turns Web API limits on or off and ``rate_limit_overrides`` changes them
    (see ``ratelimit.RateLimiter.configure``). ``base_url`` fixes the address used in generated
    links (otherwise taken from the first Web API request); ``delivery_transport`` routes the
    emulator's outbound HTTP (tests pass an in-process transport). ``ack_timeout`` (real
    seconds) replaces Slack's 3-second answer timeout divided by ``speed``: tests that speed up
    retries keep answers from timing out on a loaded machine. ``history_limits`` is
    ``"default"`` (Tier 3, pages up to 999) or ``"non_marketplace"`` (conversations.history and
    .replies at 1 request per minute and at most 15 messages a page, Slack's 2025 limits for
    commercially distributed apps outside the Marketplace).
    """
    assert _methods.LOADED  # the Web API methods are registered
    if state is None:
        state = build_state(seed, speed=speed, rate_limits=rate_limits)
    if history_limits != "default":
        state.rate_limiter.set_history(history_limits)
    if rate_limit_overrides:
        state.rate_limiter.configure(rate_limit_overrides)
    if base_url:
        state.base_url = base_url.rstrip("/")
    if ack_timeout is not None:
        state.ack_timeout = ack_timeout
    hooks = _hooks()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for hook in hooks:
                await stack.enter_async_context(hook(app))
            yield

    app = Starlette(
        routes=_routes(), lifespan=lifespan, exception_handlers={404: unrouted, 405: unrouted}
    )
    # "/_emulator/faults/" must not become a redirect to "/_emulator/faults" (a DELETE there
    # clears every fault): a path no route takes is answered as not found.
    app.router.redirect_slashes = False
    app.state.emulator = state
    app.state.emulator_seed = seed
    app.state.delivery_transport = delivery_transport
    return app
