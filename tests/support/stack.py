"""The emulator and the gateway on real loopback ports, wired together, for integration tests.

::

    async with run_emulator() as emulator, run_gateway(emulator, tmp_path) as gw:
        app = await gw.provision()                        # apps.manifest.create (+ update)
        async with browser() as b:
            page = await install_via_browser(b, gw, emulator, "T0ACME0001", "U0ACME0001")

* :func:`run_emulator` serves the emulator (default seed: Acme ``T0ACME0001`` with alice
  ``U0ACME0001``, Globex ``T0GLBX0001`` with erin ``U0GLBX0001``) and records every Web API
  call it answers (:attr:`EmulatorServer.calls`).
* :func:`run_gateway` serves the gateway with settings pointing at the emulator, a data dir of
  its own and SQLite there (or ``database_url``/``database_schema`` for PostgreSQL), and hands
  back the live :class:`~slackbridge.runtime.Gateway`.
* :meth:`GatewayServer.provision` provisions an app as ``slackbridge apps provision`` does.
* :func:`install_via_browser` runs "Add to Slack" as a browser would: the install link, the
  consent (approved or denied through ``POST /_emulator/oauth/approve``), the callback.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import httpx
import orjson

from tests.support.servers import RunningServer, bind_loopback, serve_asgi

if TYPE_CHECKING:
    from slackbridge.runtime import Part

__all__ = [
    "ApiCall",
    "EmulatorServer",
    "GatewayServer",
    "browser",
    "consent",
    "install_via_browser",
    "run_emulator",
    "run_gateway",
    "start_install",
]


@dataclass(frozen=True)
class ApiCall:
    """One Web API call the emulator received (arguments from the query, form or JSON)."""

    method: str
    args: dict[str, Any]
    authorization: str | None


class _CallRecorder:
    """ASGI middleware that records ``/api/<method>`` calls, then passes them on untouched."""

    def __init__(self, app: Any, calls: list[ApiCall]) -> None:
        self.app = app
        self.calls = calls

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        messages: list[Any] = []
        while True:
            message = await receive()
            messages.append(message)
            chunks.append(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        body = b"".join(chunks)
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        args: dict[str, Any] = dict(parse_qsl(scope.get("query_string", b"").decode()))
        if headers.get("content-type", "").startswith("application/json") and body:
            with contextlib.suppress(ValueError):
                parsed = orjson.loads(body)
                if isinstance(parsed, dict):
                    args.update(parsed)
        elif body:
            args.update(parse_qsl(body.decode(errors="replace")))
        self.calls.append(ApiCall(path[len("/api/") :], args, headers.get("authorization")))

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


@dataclass
class EmulatorServer:
    """The emulator running on a loopback port."""

    server: RunningServer
    state: Any  # slackbridge.emulator.state.EmulatorState
    calls: list[ApiCall] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def api_url(self) -> str:
        return self.server.url + "/api/"

    @property
    def configuration_token(self) -> str:
        return str(self.state.configuration_token)

    def calls_to(self, method: str, **matching: str) -> list[ApiCall]:
        """The recorded calls of ``method`` whose arguments include ``matching``."""
        return [
            c
            for c in self.calls
            if c.method == method and all(c.args.get(k) == v for k, v in matching.items())
        ]


@contextlib.asynccontextmanager
async def run_emulator(state: Any = None, **create_kwargs: Any) -> AsyncIterator[EmulatorServer]:
    """Serve the emulator (``create_kwargs`` go to ``slackbridge.emulator.create_app``)."""
    from slackbridge.emulator.app import create_app
    from slackbridge.emulator.seed import build_state

    state = state if state is not None else build_state()
    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app(state, base_url=url, **create_kwargs)
    calls: list[ApiCall] = []
    async with serve_asgi(_CallRecorder(app, calls), sock=sock) as server:
        yield EmulatorServer(server=server, state=state, calls=calls)


@dataclass
class GatewayServer:
    """The gateway running on a loopback port, with its live Gateway object."""

    server: RunningServer
    settings: Any  # slackbridge.settings.Settings
    gateway: Any  # slackbridge.runtime.Gateway
    emulator: EmulatorServer

    @property
    def url(self) -> str:
        return self.server.url

    async def provision(self, name: str = "default", **config: Any) -> Any:
        """Create (or update) app ``name`` at the emulator as ``slackbridge apps provision``
        does, storing its credentials in this gateway's store; returns the stored app
        (a ``slackbridge.slack.workspaces.apps.SlackApp``)."""
        return (await self.provision_result(name, **config)).app

    def signed_install_params(
        self, ref: str, *, app: str | None = None, team: str | None = None, ttl: int = 3600
    ) -> dict[str, str]:
        """The query of an install link for ``ref`` signed as the product API signs it."""
        import time

        from slackbridge.slack.workspaces.install_links import signed_install_query

        expires = int(time.time()) + ttl
        keyring = self.gateway.keyring
        return signed_install_query(keyring, ref=ref, app=app, team=team, expires=expires)

    async def provision_result(self, name: str = "default", **config: Any) -> Any:
        """Like :meth:`provision`, returning the whole ``ProvisionResult``."""
        from slackbridge.settings import SlackAppConfig
        from slackbridge.slack.workspaces.apps import forget_apps
        from slackbridge.slack.workspaces.provision import provision_app

        result = await provision_app(
            self.gateway.db,
            self.gateway.keyring,
            self.settings,
            SlackAppConfig(name=name, **config),
            self.emulator.configuration_token,
        )
        forget_apps(self.gateway)
        # The gateway installs into many workspaces: turn on public distribution, as its
        # operator does on Slack's "Manage Distribution" page.
        self.emulator.state.apps[result.app.app_id].distributed = True
        return result


@contextlib.asynccontextmanager
async def run_gateway(
    emulator: EmulatorServer,
    data_dir: Path,
    *,
    parts: Sequence[Part | str] | None = None,
    http_transport: httpx.AsyncBaseTransport | None = None,
    database_url: str | None = None,
    database_schema: str | None = None,
    **settings: Any,
) -> AsyncIterator[GatewayServer]:
    """Serve the gateway against ``emulator``. ``settings`` override Settings fields (e.g.
    ``apps=[...]``, ``webhook_url=...``); ``parts`` replaces compose.PARTS (parts, or their
    names)."""
    from slackbridge.server import create_app
    from slackbridge.settings import Settings

    sock = bind_loopback()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "public_url": url,
        "slack_api_url": emulator.api_url,
        "slack_url": emulator.url,
        "database_url": database_url,
        "database_schema": database_schema,
        **settings,
    }
    config = Settings(**values)
    ready: list[Any] = []
    app = create_app(config, parts=parts, http_transport=http_transport, on_ready=ready.append)
    async with serve_asgi(app, sock=sock) as server:
        yield GatewayServer(server=server, settings=config, gateway=ready[0], emulator=emulator)


@contextlib.asynccontextmanager
async def browser() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that keeps cookies like a browser (redirects are followed by hand)."""
    async with httpx.AsyncClient(follow_redirects=False, timeout=20.0) as client:
        yield client


async def install_via_browser(
    client: httpx.AsyncClient,
    gateway: GatewayServer,
    team_id: str,
    user_id: str,
    *,
    ref: str | None = None,
    app: str | None = None,
    deny: bool = False,
    extra_params: Sequence[tuple[str, str]] = (),
) -> httpx.Response:
    """Click "Add to Slack", approve (or deny) as ``user_id`` of ``team_id``, follow the way
    back; returns the gateway's final page (the callback's response)."""
    authorize = await start_install(client, gateway, ref=ref, app=app, extra_params=extra_params)
    redirect = await consent(gateway.emulator, authorize, team_id, user_id, deny=deny)
    return await client.get(redirect)


async def start_install(
    client: httpx.AsyncClient,
    gateway: GatewayServer,
    *,
    ref: str | None = None,
    app: str | None = None,
    extra_params: Sequence[tuple[str, str]] = (),
) -> str:
    """GET /slack/install (a ``ref`` comes in a signed link, as the product API makes them);
    returns Slack's authorize URL it redirects to."""
    if ref is not None:
        params = list(gateway.signed_install_params(ref, app=app).items())
    else:
        params = [("app", app)] if app is not None else []
    response = await client.get(gateway.url + "/slack/install", params=[*params, *extra_params])
    assert response.status_code == 302, response.text
    return response.headers["location"]


async def consent(
    emulator: EmulatorServer, authorize_url: str, team_id: str, user_id: str, *, deny: bool = False
) -> str:
    """Approve (or deny) the consent page; returns the URL Slack sends the browser back to."""
    async with httpx.AsyncClient(timeout=20.0) as control:
        answer = await control.post(
            emulator.url + "/_emulator/oauth/approve",
            json={
                "authorize_url": authorize_url,
                "team_id": team_id,
                "user_id": user_id,
                "deny": deny,
            },
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["redirect_url"])
