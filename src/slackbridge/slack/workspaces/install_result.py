"""Reading an ``oauth.v2.access`` answer into what the store keeps (pure functions).

With token rotation the answer's bot part and ``authed_user`` carry ``refresh_token`` and
``expires_in``; org-wide installs have ``team: null`` and an ``enterprise``; a user token is
present only when user scopes were granted; ``incoming_webhook`` only with that scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slackbridge.store.repositories.installations import InstallationSpec, UserTokenSpec

__all__ = [
    "InstallAnswerError",
    "OutcomePage",
    "expiry_of",
    "installation_spec",
    "outcome_page",
    "scopes_of",
]


class InstallAnswerError(ValueError):
    """The answer lacks what an installation needs (no team and no enterprise, no token)."""


def scopes_of(value: object) -> tuple[str, ...]:
    """Slack's comma-separated scope string as a tuple (empty parts dropped)."""
    if not isinstance(value, str):
        return ()
    return tuple(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))


def _obj(answer: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = answer.get(key)
    return value if isinstance(value, Mapping) else {}


def expiry_of(part: Mapping[str, Any], now: datetime) -> datetime | None:
    """When the token described by ``part`` (an answer with ``expires_in``) expires; None
    when it does not (no token rotation)."""
    expires_in = part.get("expires_in")
    if isinstance(expires_in, int | float) and expires_in > 0:
        return now + timedelta(seconds=float(expires_in))
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def installation_spec(
    answer: Mapping[str, Any],
    *,
    app_ref: int,
    bot_id: str | None,
    product_ref: str | None,
    now: datetime,
) -> InstallationSpec:
    """The installation described by an ``oauth.v2.access`` (authorization_code) answer."""
    team = _obj(answer, "team")
    enterprise = _obj(answer, "enterprise")
    is_org = bool(answer.get("is_enterprise_install"))
    team_id = None if is_org else _str(team.get("id"))
    enterprise_id = _str(enterprise.get("id"))
    if team_id is None and enterprise_id is None:
        raise InstallAnswerError("Slack's answer names neither a team nor an enterprise")
    # The top-level token is the bot's (Slack says token_type "bot"; a legacy user-only answer
    # would say "user").
    bot_token = _str(answer.get("access_token")) if answer.get("token_type") != "user" else None
    user = _obj(answer, "authed_user")
    installer = _str(user.get("id"))
    user_token = None
    if installer and _str(user.get("access_token")):
        user_token = UserTokenSpec(
            user_id=installer,
            token=_str(user.get("access_token")),
            refresh_token=_str(user.get("refresh_token")),
            expires_at=expiry_of(user, now),
            scopes=scopes_of(user.get("scope")),
        )
    if bot_token is None and user_token is None:
        raise InstallAnswerError("Slack's answer holds no token")
    hook = _obj(answer, "incoming_webhook")
    return InstallationSpec(
        app_ref=app_ref,
        team_id=team_id,
        team_name=_str(team.get("name")),
        enterprise_id=enterprise_id,
        enterprise_name=_str(enterprise.get("name")),
        is_enterprise_install=is_org,
        bot_token=bot_token,
        bot_refresh_token=_str(answer.get("refresh_token")) if bot_token else None,
        bot_token_expires_at=expiry_of(answer, now) if bot_token else None,
        bot_user_id=_str(answer.get("bot_user_id")),
        bot_id=bot_id,
        bot_scopes=scopes_of(answer.get("scope")) if bot_token else (),
        installer_user_id=installer,
        incoming_webhook_url=_str(hook.get("url")),
        incoming_webhook_channel=_str(hook.get("channel")),
        incoming_webhook_channel_id=_str(hook.get("channel_id")),
        incoming_webhook_configuration_url=_str(hook.get("configuration_url")),
        product_ref=product_ref,
        user_token=user_token,
    )


@dataclass(frozen=True)
class OutcomePage:
    """A page shown at the end of the install flow."""

    status: int
    heading: str
    message: str
    code: str | None = None
    retry: bool = False

    @property
    def ok(self) -> bool:
        return self.status < 400


_OUTCOMES: dict[str, OutcomePage] = {
    "missing_state": OutcomePage(
        400,
        "This install link is incomplete",
        "Slack sent the browser back without the state that identifies the install. "
        "Start again from the product's Add to Slack button.",
    ),
    "unknown": OutcomePage(
        400,
        "This install link is not valid",
        "The install could not be matched to one started here. Start again from the "
        "product's Add to Slack button.",
    ),
    "expired": OutcomePage(
        410,
        "This install link has expired",
        "Installs must be approved within 10 minutes of clicking Add to Slack.",
        retry=True,
    ),
    "used": OutcomePage(
        409,
        "This install link was already used",
        "Each Add to Slack link works once. If the app was just installed, there is nothing "
        "more to do; otherwise start again.",
        retry=True,
    ),
    "browser_mismatch": OutcomePage(
        403,
        "This install was started in another browser",
        "For your security the install must finish in the browser where Add to Slack was "
        "clicked (and with cookies enabled). Start again here.",
        retry=True,
    ),
    "access_denied": OutcomePage(
        403,
        "The app was not installed",
        "The permissions were not approved, so nothing was added to your workspace.",
        retry=True,
    ),
    "missing_code": OutcomePage(
        400,
        "Slack did not send an authorization code",
        "The install could not be completed. Start again.",
        retry=True,
    ),
    "slack_error": OutcomePage(
        502,
        "Slack refused the install",
        "Slack answered with an error while completing the install. Start again; if it keeps "
        "failing, tell the product's support team the reason below.",
        retry=True,
    ),
    "slack_unreachable": OutcomePage(
        502,
        "Slack could not be reached",
        "Completing the install needs a call to Slack, which failed. Try again in a moment.",
        retry=True,
    ),
    "ref_conflict": OutcomePage(
        409,
        "This workspace is connected to another account",
        "The app is already installed in this workspace for another account of the product, "
        "so nothing was changed. To move the workspace, ask the product's support team, or "
        "uninstall the app from the workspace first.",
    ),
    "no_app": OutcomePage(
        503,
        "Slack is not set up yet",
        "No Slack app is configured for this gateway.",
    ),
}


def outcome_page(kind: str, code: str | None = None) -> OutcomePage:
    """The failure page for ``kind`` (a state check outcome or an install failure)."""
    page = _OUTCOMES.get(kind) or _OUTCOMES["slack_error"]
    if kind not in _OUTCOMES and code is None:
        code = kind
    return OutcomePage(page.status, page.heading, page.message, code, page.retry)
