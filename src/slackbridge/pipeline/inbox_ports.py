"""What the inbox worker calls on each batch, given to it at composition.

The pipeline sits below the edges and imports none of them: the Slack side, the product's
webhooks, the bridge and the declared commands reach the worker as the callables below, which
the entry level wires once (``compose_inbox.py``). Each is the narrowest thing the worker
needs, so a test can hand it fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slackbridge.domain.events import DomainEvent, Normalized, SlackListener
from slackbridge.pipeline.enrich import LookupUser
from slackbridge.pipeline.normalize import OwnIdentity
from slackbridge.store.repositories.deliveries import NewDelivery
from slackbridge.store.repositories.endpoints import WebhookEndpoint

__all__ = ["FanOut", "InboxPorts"]

#: The product's webhook fan-out: the deliveries of events (in order) to the endpoints that
#: want each type, with the times before which some endpoints' deliveries must not go.
FanOut = Callable[
    [Sequence[WebhookEndpoint], Sequence[DomainEvent], Mapping[int, datetime] | None],
    list[NewDelivery],
]


@dataclass(frozen=True, slots=True)
class InboxPorts:
    """The edges as the inbox worker sees them."""

    #: slackbridge's own bots and apps in a workspace (the loop guard's input).
    own_identity: Callable[[str | None], Awaitable[OwnIdentity]]
    #: Slack's app id (``A…``) of a configured app, by its reference (the app whose signing
    #: secret or token a request carried), when it has one.
    app_id_of: Callable[[int], Awaitable[str | None]]
    #: The workspace's life: ``app_uninstalled`` or a revoked bot token (team, app, enterprise,
    #: the Slack event type that said so).
    uninstall: Callable[[str, str | None, str | None, str], Awaitable[object]]
    #: ``tokens_revoked`` for people's user tokens (team, app, user ids).
    revoke_user_tokens: Callable[[str, str | None, Sequence[str]], Awaitable[object]]
    #: Declared commands: a row's events routed (help answers queued).
    route: Callable[[Normalized], Awaitable[Normalized]]
    #: The enabled webhook endpoints (cached by the product side).
    endpoints: Callable[[], Awaitable[Sequence[WebhookEndpoint]]]
    #: The product's webhook fan-out.
    fan_out: FanOut
    #: users.info for enrichment (``pipeline/enrich.py``); None reads the user cache only.
    lookup_user: LookupUser | None = None
    #: What else makes webhooks of a batch (the bridge's inbound side): one call per batch.
    listeners: Sequence[SlackListener] = ()
