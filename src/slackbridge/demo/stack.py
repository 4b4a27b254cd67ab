"""The demo's three servers in one process: the Slack emulator, the gateway and an example product.

Each start-up stage is a method so that the runner can time and print it:
:meth:`DemoStack.bind_ports` (all three ports, up front), :meth:`~DemoStack.start_emulator`,
:meth:`~DemoStack.start_gateway` (a fresh SQLite store and generated key in the data dir, the
product's webhook URL and a generated signing secret), :meth:`~DemoStack.provision` (the app
from the gateway's manifest through the emulator's ``apps.manifest.create``, exactly as
``slackbridge apps provision`` does), :meth:`~DemoStack.create_api_key` and
:meth:`~DemoStack.start_product`. Which product is the :class:`~slackbridge.demo.examples.Example`
the stack is made with. :meth:`~DemoStack.aclose` stops them in reverse order.
"""

from __future__ import annotations

import socket
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from slackbridge.demo.servers import bind_port, serve
from slackbridge.runtime import Gateway
from slackbridge.settings import Settings, SlackAppConfig

if TYPE_CHECKING:
    from slackbridge.demo.examples import Example

__all__ = [
    "DEMO_REF",
    "DemoConfig",
    "DemoStack",
    "DemoUrls",
]

HOST = "127.0.0.1"
#: The product reference carried through "Add to Slack" (the example's account id).
DEMO_REF = "demo"
#: Where a product takes webhooks unless its example says otherwise.
DEFAULT_WEBHOOK_PATH = "/webhooks/slackbridge"


class _DemoSettings(Settings):
    """Settings from the given values only: no environment variable and no slackbridge.toml
    (not even a broken one) can change or stop the demo."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


@dataclass(frozen=True)
class DemoConfig:
    """Where the demo runs: the gateway on ``port_base``, the emulator on ``port_base + 1``, the
    example product on ``port_base + 2``; the gateway's store in ``data_dir``."""

    port_base: int = 8000
    data_dir: Path = Path(".slackbridge/demo")

    @property
    def gateway_port(self) -> int:
        return self.port_base

    @property
    def emulator_port(self) -> int:
        return self.port_base + 1

    @property
    def product_port(self) -> int:
        return self.port_base + 2


@dataclass(frozen=True)
class DemoUrls:
    """Every address a person (or the scripted walkthrough) needs."""

    gateway: str
    emulator: str
    product: str
    webhook_path: str = DEFAULT_WEBHOOK_PATH

    @classmethod
    def of(cls, config: DemoConfig, webhook_path: str = DEFAULT_WEBHOOK_PATH) -> DemoUrls:
        return cls(
            gateway=f"http://{HOST}:{config.gateway_port}",
            emulator=f"http://{HOST}:{config.emulator_port}",
            product=f"http://{HOST}:{config.product_port}",
            webhook_path=webhook_path,
        )

    @property
    def install(self) -> str:
        """The "Add to Slack" link: the product's, which asks the product API for a signed
        link to the gateway's ``/slack/install`` (for the account ``DEMO_REF``) and redirects."""
        return f"{self.product}/install"

    @property
    def api(self) -> str:
        """The product API's base URL."""
        return f"{self.gateway}/api/v1"

    @property
    def slack_api(self) -> str:
        return f"{self.emulator}/api/"

    @property
    def webhook(self) -> str:
        return f"{self.product}{self.webhook_path}"


class DemoStack:
    """Starts and stops the demo's servers (see the module docstring for the stages)."""

    def __init__(self, config: DemoConfig, example: Example) -> None:
        self.config = config
        self.example = example
        self.urls = DemoUrls.of(config, example.webhook_path)
        self._exit = AsyncExitStack()
        self._gateway_exit: AsyncExitStack | None = None
        self._sockets: dict[str, socket.socket] = {}
        self.emulator_state: Any = None  # slackbridge.emulator.state.EmulatorState
        self.settings: Settings | None = None
        self.gateway: Gateway | None = None
        self.app_id: str | None = None
        self.api_key: str | None = None
        self.webhook_secret: str | None = None
        self.product: Any = None  # the running product's ASGI app (its state, for walkthroughs)
        self.workspace: dict[str, Any] | None = None  # the installed workspace, from the API
        self.provisioned: Any = None  # the provisioned app (its client id and secret)

    # --- stages -------------------------------------------------------------------------------

    def bind_ports(self) -> None:
        """Take all three ports now; raises PortUnavailable naming the first one in use."""
        wanted = [
            ("gateway", self.config.gateway_port, "the gateway"),
            ("emulator", self.config.emulator_port, "the Slack emulator"),
            ("product", self.config.product_port, self.example.title),
        ]
        try:
            for key, port, role in wanted:
                self._sockets[key] = bind_port(HOST, port, role)
        except OSError:
            self._close_sockets()
            raise

    async def start_emulator(self) -> None:
        """The emulator with its default seed (Acme and Globex) and Slack's rate limits on."""
        from slackbridge.emulator import create_app
        from slackbridge.emulator.seed import build_state

        state = build_state(rate_limits=True)
        app = create_app(state, base_url=self.urls.emulator)
        await self._exit.enter_async_context(
            serve(app, self._sockets.pop("emulator"), "the Slack emulator")
        )
        self.emulator_state = state

    def gateway_settings(self, webhook_secret: str) -> Settings:
        """The gateway's settings: everything explicit, so nothing in the environment or a
        slackbridge.toml in the working directory changes the demo."""
        data_dir = self.config.data_dir
        return _DemoSettings(
            data_dir=data_dir,
            database_url=f"sqlite+aiosqlite:///{(data_dir / 'slackbridge.db').as_posix()}",
            database_schema=None,
            secret_keys=None,  # generated into the data dir
            public_url=self.urls.gateway,
            host=HOST,
            port=self.config.gateway_port,
            slack_api_url=self.urls.slack_api,
            slack_url=self.urls.emulator,
            slack_configuration_token=self.configuration_token,
            apps=[self.app, *self.example.extra_apps],
            webhook_url=self.urls.webhook,
            webhook_secret=webhook_secret,
            webhooks=[],
            api_keys=None,
            **dict(self.example.gateway_settings),
        )

    async def start_gateway(self) -> None:
        """The gateway on a fresh store, sending webhooks to the product."""
        from slackbridge.product.signing import generate_secret

        self.config.data_dir.mkdir(parents=True, exist_ok=True)
        self.webhook_secret = generate_secret()
        self.settings = self.gateway_settings(self.webhook_secret)
        self._exit.push_async_callback(self.stop_gateway)
        await self._serve_gateway(self._sockets.pop("gateway"))

    async def _serve_gateway(self, sock: socket.socket) -> None:
        from slackbridge.server import create_app

        assert self.settings is not None
        ready: list[Gateway] = []
        app = create_app(self.settings, on_ready=ready.append)
        gateway_exit = AsyncExitStack()
        try:
            await gateway_exit.enter_async_context(serve(app, sock, "the gateway"))
        except BaseException:
            await gateway_exit.aclose()
            raise
        self._gateway_exit = gateway_exit
        self.gateway = ready[0]

    async def provision(self, app: SlackAppConfig | None = None) -> Any:
        """Create the example's app (or ``app``, one of its ``extra_apps``) at the emulator from
        the manifest; the ProvisionResult."""
        from slackbridge.slack.workspaces.apps import forget_apps
        from slackbridge.slack.workspaces.provision import provision_app

        gateway = self._running_gateway()
        result = await provision_app(
            gateway.db,
            gateway.keyring,
            gateway.settings,
            app or self.app,
            self.configuration_token,
        )
        forget_apps(gateway)
        if app is None:
            self.app_id = result.app.app_id
            self.provisioned = result.app
        return result

    async def add_app_token(self) -> str:
        """An app-level token (``xapp-…``) for the provisioned app, made at the emulator as
        Slack's app settings page makes one, and stored for the gateway, whose Socket Mode
        supervisor is woken to connect with it (as a configured ``app_token`` would be)."""
        import dataclasses

        import httpx

        from slackbridge.slack.workspaces.apps import (
            app_by_api_app_id,
            forget_apps,
            save_app,
            spec_of,
        )

        gateway = self._running_gateway()
        async with httpx.AsyncClient(timeout=10.0) as http:
            answer = await http.post(
                f"{self.urls.emulator}/_emulator/apps/{self.app_id}/app_tokens", json={}
            )
        answer.raise_for_status()
        token = str(answer.json()["token"])
        app = await app_by_api_app_id(gateway, str(self.app_id))
        if app is None:
            raise RuntimeError("provision the app first")
        spec = dataclasses.replace(spec_of(app), app_token=token)
        await save_app(gateway.db, gateway.keyring, spec)
        forget_apps(gateway)
        gateway.wakeups.signal("socket_mode")
        return token

    async def create_api_key(self) -> str:
        """A product API key for the example (stored hashed, as ``slackbridge apikey create``)."""
        from slackbridge.store.repositories.api_keys import ApiKeyScope, ApiKeysRepository

        gateway = self._running_gateway()
        scope = ApiKeyScope(permissions=frozenset(self.example.api_permissions))
        keys = ApiKeysRepository(gateway.db, gateway.keyring)
        created = await keys.create(f"{self.example.name} demo", scope)
        self.api_key = created.secret
        return created.secret

    async def start_product(self) -> None:
        """The example product, talking to the gateway's API with the new key."""
        from slackbridge.demo.examples import ProductSetup

        if self.api_key is None or self.webhook_secret is None:
            raise RuntimeError("start the gateway and create the API key first")
        setup = ProductSetup(
            gateway_url=self.urls.gateway,
            api_url=self.urls.api,
            emulator_url=self.urls.emulator,
            product_url=self.urls.product,
            api_key=self.api_key,
            webhook_secret=self.webhook_secret,
            slack_url=self.urls.emulator,
            slack_api_url=self.urls.slack_api,
            client_id=getattr(self.provisioned, "client_id", None),
            client_secret=getattr(self.provisioned, "client_secret", None),
        )
        app = self.example.create_product(setup)
        await self._exit.enter_async_context(
            serve(app, self._sockets.pop("product"), self.example.title)
        )
        self.product = app

    async def aclose(self) -> None:
        """Stop every server started (newest first) and release unused ports."""
        try:
            await self._exit.aclose()
        finally:
            self._close_sockets()

    # --- an outage (the Helpdesk walkthrough's catch-up) ------------------------------------

    async def stop_gateway(self) -> None:
        """Stop the gateway (the walkthrough's outage; Slack's events meet a closed port)."""
        gateway_exit, self._gateway_exit = self._gateway_exit, None
        self.gateway = None
        if gateway_exit is not None:
            await gateway_exit.aclose()

    async def restart_gateway(self) -> None:
        """Start the stopped gateway again on its port, store and secrets."""
        if self._gateway_exit is not None or self.settings is None:
            raise RuntimeError("the gateway is running (or was never started)")
        await self._serve_gateway(bind_port(HOST, self.config.gateway_port, "the gateway"))

    # --- helpers ------------------------------------------------------------------------------

    @property
    def app(self) -> SlackAppConfig:
        """The example's Slack app, with the product's redirect URLs (its ``redirect_paths``)."""
        app = self.example.app
        if not self.example.redirect_paths:
            return app
        extra = [self.urls.product + path for path in self.example.redirect_paths]
        return app.model_copy(update={"redirect_urls": [*app.redirect_urls, *extra]})

    @property
    def configuration_token(self) -> str:
        if self.emulator_state is None:
            raise RuntimeError("start the emulator first")
        return str(self.emulator_state.configuration_token)

    def _running_gateway(self) -> Gateway:
        if self.gateway is None:
            raise RuntimeError("start the gateway first")
        return self.gateway

    def _close_sockets(self) -> None:
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()
