"""Create or update a Slack app from this deployment's manifest (``slackbridge apps provision``).

With a configuration token, ``apps.manifest.create`` makes the app and returns its credentials,
which are stored (encrypted) at once, so the gateway can verify Slack's requests for it without
any further setting. Slack checks an events request URL with a signed ``url_verification``
request when it is set; a brand-new app's signing secret is unknown to the gateway until the
create call returns, so a new HTTP app is created *without* the events URL first and then
updated with the full manifest (``apps.manifest.update``), once its secret is stored. A second
run only updates the app (idempotent); an app deleted at Slack meanwhile is created again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slackbridge.settings import Settings, SlackAppConfig
from slackbridge.slack.workspaces.apps import SlackApp, save_app, spec_from_config
from slackbridge.slack.workspaces.manifest import build_manifest
from slackbridge.store.crypto import Keyring
from slackbridge.store.db import Database
from slackbridge.store.repositories.apps import AppSpec, AppsRepository

__all__ = ["ProvisionError", "ProvisionResult", "provision_app"]

_URL_CHECK_PAUSE = 0.5  # seconds before checking the events URL again (times the attempt)


class ProvisionError(RuntimeError):
    """Slack refused to create or update the app; ``error`` is Slack's code, ``details`` its
    ``errors`` list (manifest problems, with JSON pointers)."""

    def __init__(self, message: str, error: str, details: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.error = error
        self.details = details or []


@dataclass(frozen=True)
class ProvisionResult:
    """What provisioning did."""

    app: SlackApp
    created: bool  # a new app was made (False: an existing one was updated)
    manifest: dict[str, Any]
    events_url_verified: bool  # the events request URL was accepted (or none is needed)
    warning: str | None = None  # why it was not, and what to do
    authorize_url: str | None = None  # Slack's own install link (new apps only)


def _explain(exc: SlackApiError) -> tuple[str, list[dict[str, Any]]]:
    # No error code: the answer was not a Slack API answer at all (a wrong URL, a proxy).
    error = str(exc.response.get("error") or f"http_{exc.response.status_code}")
    errors = exc.response.get("errors")
    details = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    return error, details


def _failure(action: str, exc: SlackApiError) -> ProvisionError:
    error, details = _explain(exc)
    hints = {
        "invalid_auth": "the configuration token is not valid; create a new one",
        "not_authed": "no configuration token was given",
        "token_expired": "the configuration token expired; refresh or create a new one",
    }
    lines = [f"{action} failed: {error}"]
    if error in hints:
        lines.append(hints[error])
    elif not exc.response.get("error"):
        lines.append("that is not an answer of Slack's Web API: check SLACKBRIDGE_SLACK_API_URL")
    lines += [f"  {d.get('pointer', '/')}: {d.get('message', '')}" for d in details]
    return ProvisionError("\n".join(lines), error, details)


def _without_events_url(manifest: dict[str, Any]) -> dict[str, Any]:
    settings = {k: v for k, v in manifest["settings"].items() if k != "event_subscriptions"}
    return {**manifest, "settings": settings}


def _is_url_check_failure(details: list[dict[str, Any]]) -> bool:
    return any(
        str(d.get("pointer", "")).startswith("/settings/event_subscriptions/request_url")
        for d in details
    )


def _credentials_spec(base: AppSpec, answer: Any) -> AppSpec:
    creds = answer.get("credentials") or {}
    return replace(
        base,
        app_id=str(answer["app_id"]),
        client_id=creds.get("client_id") or base.client_id,
        client_secret=creds.get("client_secret") or base.client_secret,
        signing_secret=creds.get("signing_secret") or base.signing_secret,
        verification_token=creds.get("verification_token") or base.verification_token,
    )


async def _update(
    client: AsyncWebClient, app_id: str, manifest: dict[str, Any], *, attempts: int = 2
) -> tuple[bool, str | None]:
    """Update the app; ``(events URL verified, warning)``. Raises ProvisionError otherwise.

    A failed URL check is tried again after a pause: a gateway that runs in another process
    may take a moment to notice the app's new signing secret.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            await client.apps_manifest_update(app_id=app_id, manifest=manifest)
            return True, None
        except SlackApiError as exc:
            error, details = _explain(exc)
            if not (error == "invalid_manifest" and _is_url_check_failure(details)):
                raise _failure("apps.manifest.update", exc) from None
        if attempt >= attempts:
            url = manifest["settings"]["event_subscriptions"].get("request_url")
            return False, (
                f"Slack could not verify the events URL {url}: start the gateway "
                "(`slackbridge serve`) where SLACKBRIDGE_PUBLIC_URL points, then run "
                "`slackbridge apps provision` again"
            )
        await asyncio.sleep(_URL_CHECK_PAUSE * attempt)


async def provision_app(
    db: Database,
    keyring: Keyring,
    settings: Settings,
    config: SlackAppConfig,
    configuration_token: str,
) -> ProvisionResult:
    """Create the app named ``config.name`` at Slack, or update it if it was made before."""
    manifest = build_manifest(settings, config)
    client = AsyncWebClient(token=configuration_token, base_url=settings.slack_api_url)
    # apps.manifest.* are Tier 1 (a short burst, then about one call a minute): when Slack
    # says to wait, wait (Retry-After) rather than fail half-way through several apps.
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    stored = await AppsRepository(db, keyring).get_by_name(config.name)
    base = spec_from_config(config, stored)
    if stored is not None and base.app_id:
        try:
            verified, warning = await _update(client, base.app_id, manifest)
        except ProvisionError as exc:
            if exc.error not in ("invalid_app_id", "app_not_found"):
                raise
        else:
            app = await save_app(db, keyring, base)
            return ProvisionResult(app, False, manifest, verified, warning or _app_token_hint(app))
    needs_handshake = not config.socket_mode
    first = _without_events_url(manifest) if needs_handshake else manifest
    try:
        answer = await client.apps_manifest_create(manifest=first)
    except SlackApiError as exc:
        raise _failure("apps.manifest.create", exc) from None
    # Store the credentials before anything else can fail: Slack shows the secret only now.
    app = await save_app(db, keyring, _credentials_spec(base, answer))
    verified, warning = True, _app_token_hint(app)
    if needs_handshake:
        assert app.app_id is not None
        verified, warning = await _update(client, app.app_id, manifest)
    return ProvisionResult(
        app,
        True,
        manifest,
        verified,
        warning,
        authorize_url=answer.get("oauth_authorize_url"),
    )


def _app_token_hint(app: SlackApp) -> str | None:
    """Slack has no API that makes app-level tokens, which Socket Mode needs."""
    if not app.socket_mode or app.app_token:
        return None
    return (
        f"Socket Mode needs an app-level token: in the app's Basic Information → App-Level "
        f"Tokens, generate one with the connections:write scope and set it as app_token of "
        f"app {app.name!r} (the emulator makes one with POST /_emulator/apps/{app.app_id}"
        "/app_tokens)"
    )
