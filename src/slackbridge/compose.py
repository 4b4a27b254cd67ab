"""The composition: the one place that builds a gateway's runtime and lists its parts.

:func:`build_runtime` opens the store (upgrading its schema) with its keys, opens the HTTP
client and makes the :class:`~slackbridge.runtime.Gateway` with its per-process state; the
server's lifespan (:func:`slackbridge.server.create_app`), the CLI and Bolt apps
(:func:`slackbridge.standalone.open_gateway`) all get their runtime from it, and
:class:`~slackbridge.store.store.Store` opens the store the same way (:func:`open_store`).

:data:`PARTS` are the gateway's parts, in start-up order, as typed
:class:`~slackbridge.runtime.Part` objects: the server includes their routes, runs their
start-up hooks, supervises their workers and adds their readiness checks. A part is named
after its module (tests pick parts by name, :func:`parts_named`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

import httpx

from slackbridge import cluster, compose_bridge, compose_inbox
from slackbridge.api import app as api
from slackbridge.bridge import settle
from slackbridge.commands import declared
from slackbridge.product import webhooks
from slackbridge.runtime import Gateway, Part, PartSpec
from slackbridge.settings import Settings
from slackbridge.slack.inbound import ingress, socket_mode
from slackbridge.slack.outbound import sender
from slackbridge.slack.workspaces import apps, oauth, tokens
from slackbridge.store.store import open_store
from slackbridge.wiring import compose_ports

__all__ = ["PARTS", "build_runtime", "parts_named"]

#: The parts that make up the gateway, in start-up order.
PARTS: tuple[Part, ...] = (
    PartSpec(
        "slackbridge.cluster",
        startup=cluster.on_startup,
        make_workers=cluster.workers,
        checks=cluster.readiness,
    ),
    PartSpec("slackbridge.slack.workspaces.apps", startup=apps.on_startup),
    PartSpec("slackbridge.slack.workspaces.oauth", router=oauth.router),
    PartSpec("slackbridge.slack.workspaces.tokens", make_workers=tokens.workers),
    PartSpec(
        "slackbridge.product.webhooks", startup=webhooks.on_startup, make_workers=webhooks.workers
    ),
    PartSpec("slackbridge.commands.declared", startup=declared.on_startup),
    PartSpec(
        "slackbridge.slack.inbound.ingress",
        raw_routes=ingress.raw_routes,
        make_workers=ingress.workers,
    ),
    PartSpec("slackbridge.slack.inbound.socket_mode", make_workers=socket_mode.workers),
    PartSpec(
        "slackbridge.compose_inbox",
        startup=compose_inbox.on_startup,
        make_workers=compose_inbox.workers,
    ),
    PartSpec("slackbridge.compose_bridge", make_workers=compose_bridge.workers),
    PartSpec("slackbridge.api.app", router=api.router, mounts=api.mounts),
    PartSpec("slackbridge.slack.outbound.sender", make_workers=sender.workers),
    PartSpec("slackbridge.bridge.settle", make_workers=settle.workers),
)

_BY_NAME: dict[str, Part] = {part.name: part for part in PARTS}


def parts_named(names: Iterable[str | Part]) -> list[Part]:
    """The parts called ``names`` (a :class:`Part` given as such is kept), in that order."""
    found: list[Part] = []
    for name in names:
        if not isinstance(name, str):
            found.append(name)
        elif name in _BY_NAME:
            found.append(_BY_NAME[name])
        else:
            raise KeyError(f"no gateway part named {name!r} (parts: {', '.join(_BY_NAME)})")
    return found


@contextlib.asynccontextmanager
async def build_runtime(
    settings: Settings,
    *,
    http_transport: httpx.AsyncBaseTransport | None = None,
    pool_size: int = 10,
    create_key: bool = True,
) -> AsyncIterator[Gateway]:
    """The runtime of one gateway process, open for the block and closed after it.

    ``http_transport`` replaces the network for product webhooks (tests pass the product's
    ASGI app); ``create_key=False`` refuses to generate the key file (a command on an existing
    store); ``pool_size`` bounds the database connections (the CLI needs few)."""
    db, keyring = await open_store(settings, pool_size=pool_size, create_key=create_key)
    try:
        async with httpx.AsyncClient(transport=http_transport, timeout=10.0) as http:
            gateway = Gateway(
                settings=settings,
                db=db,
                keyring=keyring,
                http=http,
                http_transport=http_transport,
            )
            # What the edges reach each other through, bound before any part starts.
            gateway.ports = compose_ports(gateway)
            yield gateway
    finally:
        await db.close()
