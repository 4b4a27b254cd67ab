"""The demo's examples: what ``slackbridge demo NAME`` can start, and how.

An :class:`Example` is one product built on slackbridge (the Helpdesk, the task bot, …): the
Slack app the demo provisions for it, where it takes webhooks, how to build it as an ASGI app
from a :class:`ProductSetup`, its scripted walkthrough and the lines the interactive demo prints.
The demo's start-up is common to all of them (:mod:`slackbridge.demo.startup`).

Each example module builds its :class:`Example` and calls :func:`register`; the modules in
``_MODULES`` are imported at the end of this one, so :data:`EXAMPLES` is complete once this
module is imported (whichever module is imported first).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from slackbridge.settings import SlackAppConfig

if TYPE_CHECKING:
    from slackbridge.demo.stack import DemoStack, DemoUrls
    from slackbridge.demo.steps import Steps

__all__ = [
    "DEFAULT_EXAMPLE",
    "EXAMPLES",
    "Example",
    "ProductSetup",
    "Walkthrough",
    "register",
]

#: The scripted steps of one example, run after the common start-up and install.
Walkthrough = Callable[["DemoStack", "Steps"], Awaitable[None]]

DEFAULT_EXAMPLE = "helpdesk"


@dataclass(frozen=True)
class ProductSetup:
    """What a product needs to start: where everything is, its API key and webhook secret."""

    gateway_url: str
    api_url: str
    emulator_url: str
    product_url: str
    api_key: str
    webhook_secret: str
    #: Slack's addresses and the provisioned app's credentials, for a product that signs people
    #: in with Slack itself (the live chat's console); None before provisioning.
    slack_url: str | None = None
    slack_api_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Example:
    """One example product the demo can run (see the module docstring)."""

    name: str  # "helpdesk", "tasks", "calls": what `slackbridge demo NAME` takes
    title: str  # "the Helpdesk": shown in the steps and messages
    app: SlackAppConfig  # the Slack app the demo provisions (slash commands, scopes…)
    webhook_path: str  # where the product receives webhooks
    create_product: Callable[[ProductSetup], ASGIApp]
    walkthrough: Walkthrough  # the scripted steps after the common start-up and install
    guide: Callable[[DemoUrls], list[str]]  # what the interactive demo says to do, in order
    gateway_settings: Mapping[str, Any] = field(default_factory=dict)  # extra Settings values
    #: The channel the interactive demo invites the bot into once it is installed (or None).
    invite_channel: str | None = None
    #: What the demo's API key may do (``admin`` to declare commands or remove workspaces).
    api_permissions: frozenset[str] = frozenset({"read", "write"})
    #: Paths on the product added to the app's OAuth redirect URLs (a Sign in with Slack
    #: callback, for instance), as full URLs once the demo's ports are known.
    redirect_paths: tuple[str, ...] = ()
    #: More Slack apps the gateway serves beside ``app`` (configured, not provisioned: the
    #: walkthrough provisions and installs them itself).
    extra_apps: tuple[SlackAppConfig, ...] = ()


#: Every example, by name, in the order registered (the Helpdesk first).
EXAMPLES: dict[str, Example] = {}


def register(example: Example) -> Example:
    """Add ``example`` to :data:`EXAMPLES` (its module calls this when imported)."""
    if example.name in EXAMPLES and EXAMPLES[example.name] is not example:
        raise ValueError(f"two examples are called {example.name!r}")
    EXAMPLES[example.name] = example
    # The order of _MODULES, whichever example module happened to be imported first.
    ordered = sorted(EXAMPLES.values(), key=_rank)
    EXAMPLES.clear()
    EXAMPLES.update((e.name, e) for e in ordered)
    return example


def _rank(example: Example) -> int:
    module = getattr(example.walkthrough, "__module__", None)
    return _MODULES.index(module) if module in _MODULES else len(_MODULES)


#: The modules that register an example (each defines its examples' walkthroughs), in the
#: order `slackbridge demo` lists them.
_MODULES = (
    "slackbridge.demo.walkthrough",
    "slackbridge.demo.tasks.example",
    "slackbridge.demo.calls.example",
    "slackbridge.demo.servicedesk.example",
    "slackbridge.demo.livechat.example",
    "slackbridge.demo.comments.example",
)

for _module in _MODULES:
    importlib.import_module(_module)
