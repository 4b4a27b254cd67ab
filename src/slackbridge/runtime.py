"""The per-process state of one gateway, typed, and the shape of the parts that use it.

:class:`Gateway` is the runtime: the resources every part shares (settings, store, keyring,
HTTP client, health, wake-ups) and the state this process keeps beside the store (the elector,
the inbox handoff, caches), each a typed field. One composition function builds it
(:func:`slackbridge.compose.build_runtime`) for every way the gateway runs (``slackbridge
serve``, the CLI, Bolt apps), so no module keeps state of its own keyed by database or process.

A :class:`Part` is what the server assembles: routes, start-up hooks, workers and readiness
checks. Each part module declares one (``part = PartSpec(...)``); the composition lists them.

This module sits low: it imports only the store, the settings and the metrics, so that every
layer may import it, and it imports no edge.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

import httpx
from fastapi import APIRouter, Request
from slack_sdk.web.async_client import AsyncWebClient
from starlette.types import ASGIApp

from slackbridge.backlog import BacklogCache
from slackbridge.ports import Ports
from slackbridge.settings import Settings
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.elector import Elector
from slackbridge.store.inbox_handoff import Handoff
from slackbridge.store.leases import leases_for
from slackbridge.store.repositories.apps_cache import AppsCache
from slackbridge.store.wakeups import LocalWakeups, Wakeups

__all__ = [
    "Gateway",
    "Health",
    "Part",
    "PartSpec",
    "Readiness",
    "Slot",
    "Worker",
    "gateway_of",
]

_T = TypeVar("_T")


class Worker(Protocol):
    """A long-running job (a queue worker, a Socket Mode connection, ...)."""

    name: str

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; return promptly after it is."""


#: Checks a part adds to ``/readyz``: ``{name: {"ok": bool, "detail": str, ...}}``.
Readiness = dict[str, dict[str, Any]]


@dataclass
class Health:
    """What each component last said about itself; /readyz reports it."""

    _status: dict[str, tuple[bool, str, float]] = field(default_factory=dict)

    def report(self, component: str, ok: bool, detail: str = "") -> None:
        self._status[component] = (ok, detail, time.time())

    def forget(self, component: str) -> None:
        self._status.pop(component, None)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"ok": ok, "detail": detail, "since": since}
            for name, (ok, detail, since) in sorted(self._status.items())
        }

    @property
    def ok(self) -> bool:
        return all(ok for ok, _, _ in self._status.values())


def _instance_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{time.monotonic_ns()}"


@dataclass
class Gateway:
    """The runtime of one gateway process: shared resources and per-process state."""

    settings: Settings
    db: Database
    keyring: Keyring
    http: httpx.AsyncClient
    #: What replaced the network for product webhooks, if anything (``create_app``'s argument).
    http_transport: httpx.AsyncBaseTransport | None = None
    health: Health = field(default_factory=Health)
    instance_id: str = field(default_factory=_instance_id)
    #: Queue wake-ups: ``wakeups.signal(queue)`` after inserting rows skips the worker's poll.
    wakeups: Wakeups = field(default_factory=LocalWakeups)
    #: Each queue's backlog, read at most once a second (``/readyz``, ``/metrics``).
    backlogs: BacklogCache = field(default_factory=BacklogCache)
    #: Inbox rows the ingress stored leased to this process's inbox worker, waiting for it.
    handoff: Handoff = field(default_factory=Handoff)
    #: The singletons (retention, Socket Mode slots, catch-up) this process holds, by lease;
    #: its holder name is :attr:`instance_id`.
    elector: Elector = field(init=False)
    #: Every stored Slack app as this process last read it (the ingress checks signatures
    #: against them on every request); ``apps.forget()`` after storing one.
    apps: AppsCache = field(init=False)
    #: What the edges reach each other through (:mod:`slackbridge.ports`), bound by the
    #: composition (:func:`slackbridge.compose.build_runtime`) before any part starts.
    ports: Ports = field(default_factory=Ports)
    #: State owned by the parts, whose classes live in their own layers (see :class:`Slot`).
    part_state: dict[Slot[Any], Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.apps = AppsCache(self.db, self.keyring)
        self.elector = Elector(
            leases_for(self.db), self.instance_id, ttl=self.settings.cluster_lease_seconds
        )

    def slack_client(self, token: str | None = None) -> AsyncWebClient:
        """A Web API client pointed at the configured Slack (or the emulator)."""
        return AsyncWebClient(token=token, base_url=self.settings.slack_api_url)


class Slot(Generic[_T]):
    """A typed place in the runtime for state that a part owns (a cache, a committer, the rate
    limiter), whose class lives in the part's own layer, above this module.

    The part declares the slot once (``_KEYS = Slot("ingress keys", IngressKeys)``, holding
    nothing itself) and reads its state with ``_KEYS.of(gateway)``: made from the runtime on
    first use, kept in :attr:`Gateway.part_state`, gone with the runtime. So every runtime (a
    server, a CLI command, a test's) has its own, and no module keeps state keyed by database
    or process.
    """

    __slots__ = ("_make", "name")

    def __init__(self, name: str, make: Callable[[Gateway], _T]) -> None:
        self.name = name
        self._make = make

    def of(self, gateway: Gateway) -> _T:
        """This runtime's value (made on first use)."""
        state = gateway.part_state
        if self in state:
            return cast(_T, state[self])
        value = state[self] = self._make(gateway)
        return value

    def peek(self, gateway: Gateway) -> _T | None:
        """This runtime's value if it was made, else None (to forget without making it)."""
        return cast(_T | None, gateway.part_state.get(self))

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


def gateway_of(request: Request) -> Gateway:
    """The Gateway serving ``request`` (lifespan state: works in mounted sub-apps as well)."""
    gateway: Gateway = request.state.gateway
    return gateway


class Part(Protocol):
    """One part of the gateway, as the server assembles it (all members may be empty)."""

    @property
    def name(self) -> str:
        """The part's name (its module's, e.g. ``slackbridge.cluster``)."""

    @property
    def router(self) -> APIRouter | None:
        """Routes served through FastAPI."""

    @property
    def mounts(self) -> Sequence[tuple[str, ASGIApp]]:
        """Sub-apps mounted at a path (e.g. the product API with its own OpenAPI document)."""

    @property
    def raw_routes(self) -> Mapping[str, ASGIApp]:
        """Hot paths answered before FastAPI's middleware and routing (Slack's ingress)."""

    async def on_startup(self, gateway: Gateway) -> None:
        """Run once, in the parts' order, before any worker starts."""

    def workers(self, gateway: Gateway) -> Sequence[Worker]:
        """The long-running jobs to keep running under supervision."""

    def readiness(self, gateway: Gateway) -> Readiness:
        """Checks of its own for ``/readyz``."""


async def _no_startup(gateway: Gateway) -> None:
    return None


def _no_workers(gateway: Gateway) -> Sequence[Worker]:
    return ()


def _no_readiness(gateway: Gateway) -> Readiness:
    return {}


@dataclass(frozen=True)
class PartSpec:
    """A :class:`Part` made of plain values and functions (what a part module declares)."""

    name: str
    router: APIRouter | None = None
    mounts: Sequence[tuple[str, ASGIApp]] = ()
    raw_routes: Mapping[str, ASGIApp] = field(default_factory=dict)
    startup: Callable[[Gateway], Awaitable[None]] = _no_startup
    make_workers: Callable[[Gateway], Sequence[Worker]] = _no_workers
    checks: Callable[[Gateway], Readiness] = _no_readiness

    async def on_startup(self, gateway: Gateway) -> None:
        await self.startup(gateway)

    def workers(self, gateway: Gateway) -> Sequence[Worker]:
        return self.make_workers(gateway)

    def readiness(self, gateway: Gateway) -> Readiness:
        return self.checks(gateway)
