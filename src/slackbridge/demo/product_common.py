"""The plumbing every example product shares: webhooks in, follow-up work, Add to Slack.

The Helpdesk (:mod:`slackbridge.demo.helpdesk`), the task bot (:mod:`slackbridge.demo.tasks`)
and Calls (:mod:`slackbridge.demo.calls`) each receive slackbridge's signed webhooks the same
way (verify, apply each webhook id once, answer 2xx at once and do the slow part after), and each
sends people to Add to Slack through a fresh signed link from the API. That part lives here, so
the products' own modules hold only what makes them different; :func:`listen_address` is the
examples' runners' (``examples/*/app.py``) shared start, :class:`ProductState` how the
walkthroughs read a product's state.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from slackbridge.client import (
    Slackbridge,
    SlackbridgeError,
    WebhookEvent,
    WebhookVerificationError,
    parse_webhook,
)

__all__ = [
    "WEBHOOK_PATH",
    "ProductBase",
    "ProductState",
    "SeenWebhooks",
    "error",
    "form_or_json",
    "healthz",
    "json_object",
    "listen_address",
    "product_app",
    "receive_webhook",
]

#: Where each example product receives slackbridge's webhooks.
WEBHOOK_PATH = "/webhooks/slackbridge"
_SEEN_LIMIT = 10_000


def error(status: int, code: str, message: str) -> JSONResponse:
    """The products' JSON error: ``{"error": {"code", "message"}}`` with ``status``."""
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def json_object(request: Request) -> Mapping[str, Any] | None:
    """The request's body as a JSON object, or None if it is not one."""
    try:
        payload = await request.json()
    except ValueError:
        return None
    return payload if isinstance(payload, Mapping) else None


async def form_or_json(request: Request) -> Mapping[str, Any] | None:
    """A JSON object body (None if the body is not one), or the page's form fields."""
    if request.headers.get("content-type", "").startswith("application/json"):
        return await json_object(request)
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def healthz(_request: Request) -> Response:
    return JSONResponse({"ok": True})


async def receive_webhook(secret: str, request: Request) -> WebhookEvent | Response:
    """The verified webhook in ``request``, or the 401/400 answer to send back instead."""
    body = await request.body()
    try:
        return parse_webhook(secret, request.headers, body)
    except WebhookVerificationError as exc:
        return error(401, "invalid_signature", f"webhook not verified: {exc}")
    except (ValidationError, ValueError):
        return error(400, "invalid_body", "the body is not a slackbridge webhook")


class SeenWebhooks:
    """The webhook ids already applied (slackbridge delivers at least once and retries with the
    same ``webhook-id``); bounded, the oldest forgotten first."""

    def __init__(self, limit: int = _SEEN_LIMIT) -> None:
        self._limit = limit
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, webhook_id: str) -> bool:
        """True the first time ``webhook_id`` is seen (a webhook without an id always is)."""
        if not webhook_id:
            return True
        if webhook_id in self._seen:
            return False
        self._seen[webhook_id] = None
        while len(self._seen) > self._limit:
            self._seen.popitem(last=False)
        return True


class ProductBase:
    """What each product's app object holds: its API client, its account's ref for Add to Slack
    links, and the follow-up jobs started after a webhook is answered."""

    def __init__(self, client: Slackbridge, account_ref: str) -> None:
        self.client = client
        self.account_ref = account_ref
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """What the product does as the app starts (nothing here; products add to it)."""

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run ``job`` after the webhook is answered (slackbridge waits for our 2xx)."""
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Let follow-up calls finish (tests use this; shutdown cancels them)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.client.aclose()

    async def install(self, _request: Request) -> Response:
        """Add to Slack: a fresh link from slackbridge's API for our account (signed, it expires,
        so it is made when someone clicks rather than printed once), then on to it."""
        try:
            url = await self.client.workspaces.install_url(self.account_ref)
        except (SlackbridgeError, httpx.HTTPError) as exc:
            return error(503, "slackbridge_unreachable", f"no install link: {exc}")
        return RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})


def product_app(
    product: ProductBase,
    webhook: Callable[[Request], Coroutine[Any, Any, Response]],
    routes: Sequence[BaseRoute],
) -> Starlette:
    """``product`` as an ASGI app: its ``routes``, plus what every product serves (``webhook`` at
    :data:`WEBHOOK_PATH`, ``/install``, ``/healthz``); :meth:`ProductBase.start` as it starts,
    :meth:`ProductBase.close` as it stops."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await product.start()
        try:
            yield
        finally:
            await product.close()

    shared = [
        Route("/healthz", healthz),
        Route("/install", product.install),
        Route(WEBHOOK_PATH, webhook, methods=["POST"]),
    ]
    return Starlette(routes=[*routes, *shared], lifespan=lifespan)


def listen_address(
    product: str, prefix: str, required: Mapping[str, str]
) -> tuple[str, int] | None:
    """The examples' runners: check the environment variables ``required`` (name → what to put
    there) and read ``<prefix>_HOST``/``<prefix>_PORT`` (default 127.0.0.1:8002). What is missing
    or wrong goes to stderr, and the answer is None (the runner exits with 2)."""
    missing = [name for name in required if not os.environ.get(name)]
    if missing:
        print(f"{product} needs these environment variables:", file=sys.stderr)
        for name in missing:
            print(f"  {name}: {required[name]}", file=sys.stderr)
        return None
    host = os.environ.get(f"{prefix}_HOST", "127.0.0.1")
    port_text = os.environ.get(f"{prefix}_PORT", "8002")
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        print(f"{prefix}_PORT must be a port number, not {port_text!r}", file=sys.stderr)
        return None
    return host, int(port_text)


class ProductState:
    """A product's ``GET /api/state`` (what its page shows), as the walkthroughs read it."""

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base = base_url

    async def state(self) -> dict[str, Any]:
        response = await self._http.get(f"{self._base}/api/state")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    async def find(self, listing: str, key: str, value: object) -> dict[str, Any] | None:
        """The first entry of the state's ``listing`` whose ``key`` is ``value``, if any."""
        for entry in (await self.state())[listing]:
            if entry[key] == value:
                return dict(entry)
        return None
