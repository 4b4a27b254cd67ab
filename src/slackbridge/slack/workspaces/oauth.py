""" "Add to Slack": ``/slack/install`` and ``/slack/oauth/callback``.

``GET /slack/install?ref=<product account id>&expires=…&sig=…[&app=<name>][&team=T…][&page=1]``
checks the link (a ``ref`` must come signed by the product API, see ``install_links.py``, unless
``SLACKBRIDGE_ALLOW_UNSIGNED_REF``), issues a state (signed, single use, valid 10 minutes; stored
nowhere until it comes back, see ``store/repositories/oauth_states.py``) and a browser token in
an HttpOnly, SameSite=Lax cookie, then redirects to Slack's authorize URL, or with ``page=1``
shows a page with an "Add to Slack" button.

``GET /slack/oauth/callback`` checks the state and the cookie, exchanges the code with
``oauth.v2.access``, learns the bot id with ``auth.test``, stores the installation (a reinstall
updates it; one under another ref is refused unless configured, see ``install_save.py``),
records it in the audit log, dispatches ``workspace.installed`` and shows a success page, or a
failure page with a status that says what went wrong (see ``install_result.py``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from slack_sdk.errors import SlackApiError

from slackbridge.runtime import Gateway, gateway_of
from slackbridge.slack.workspaces.apps import (
    AppNotFound,
    SlackApp,
    app_by_ref,
    forget_apps,
    resolve_app,
    save_app,
    spec_of,
)
from slackbridge.slack.workspaces.call_budget import within_budget
from slackbridge.slack.workspaces.install_links import check_install_link, signed_install_query
from slackbridge.slack.workspaces.install_result import (
    InstallAnswerError,
    OutcomePage,
    installation_spec,
    outcome_page,
)
from slackbridge.slack.workspaces.install_save import RefConflict, save_install
from slackbridge.slack.workspaces.manifest import redirect_uri
from slackbridge.slack.workspaces.oauth_access import exchange_code
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.oauth_states import OAuthStatesRepository, StateCheck

__all__ = ["STATE_TTL_SECONDS", "authorize_url", "cookie_name", "router"]

_log = logging.getLogger("slackbridge.oauth")

STATE_TTL_SECONDS = 600
_COOKIE_PREFIX = "slackbridge_oauth_"
_COOKIE_PATH = "/slack/oauth"
_MAX_REF = 255
_MAX_APP_NAME = 100
_TEAM_ID = re.compile(r"[TE][A-Z0-9]{2,31}")
_SLACK_CODE = re.compile(r"[a-z0-9_]{1,64}")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})

router = APIRouter()
_templates = Environment(
    loader=PackageLoader("slackbridge.slack.workspaces.lifecycle", "templates"),
    autoescape=select_autoescape(["html"]),
)


def cookie_name(state: str) -> str:
    """The cookie carrying the browser token of one install flow. Named after the state, so
    that two installs started in two tabs of one browser don't overwrite each other's."""
    return _COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def authorize_url(gateway: Gateway, app: SlackApp, state: str, team: str | None = None) -> str:
    """Slack's consent URL for ``app`` with ``state``."""
    query = {
        "client_id": app.client_id or "",
        "scope": ",".join(app.bot_scopes),
        "user_scope": ",".join(app.user_scopes),
        "redirect_uri": redirect_uri(gateway.settings),
        "state": state,
    }
    if team:
        query["team"] = team
    base = gateway.settings.slack_url.rstrip("/")
    return f"{base}/oauth/v2/authorize?{urlencode(query, safe=',:')}"


def _render(template: str, status: int, kind: str, **context: Any) -> HTMLResponse:
    body = _templates.get_template(template).render(kind=kind, **context)
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def _retry_url(gateway: Gateway, check: StateCheck | None, app: SlackApp | None) -> str:
    """The link to start again: for a ref, signed again with the first link's expiry (a retry
    never makes a link live longer), or as it came when unsigned refs are allowed."""
    ref = check.product_ref if check is not None else None
    name = app.name if app else None
    query: dict[str, str] = {"app": name} if name else {}
    if ref is not None and check is not None and check.link_expires is not None:
        query = signed_install_query(
            gateway.keyring, ref=ref, app=name, team=None, expires=check.link_expires
        )
    elif ref is not None:
        query = {"ref": ref, **query}
    return "/slack/install" + (f"?{urlencode(query)}" if query else "")


def _outcome(
    page: OutcomePage,
    *,
    gateway: Gateway | None = None,
    check: StateCheck | None = None,
    app: SlackApp | None = None,
) -> HTMLResponse:
    return _render(
        "result.html",
        page.status,
        "ok" if page.ok else "error",
        title=page.heading,
        heading=page.heading,
        message=page.message,
        code=page.code,
        retry_url=_retry_url(gateway, check, app) if page.retry and gateway else None,
    )


def _invalid_link(
    message: str,
    *,
    status: int = 400,
    heading: str = "Invalid install link",
    code: str = "invalid_link",
) -> HTMLResponse:
    return _render(
        "result.html", status, "error", title=heading, heading=heading, message=message, code=code
    )


_ASK_AGAIN = "Ask the product (where you clicked Add to Slack) for a new link."


def _refused_link(
    gateway: Gateway,
    ref: str,
    app: str | None,
    team: str | None,
    expires: str | None,
    sig: str | None,
) -> tuple[HTMLResponse | None, int | None]:
    """Whether the link may tie the install to ``ref``: (a refusal page, None), or (None, the
    signed link's expiry: None for an unsigned link allowed by the settings)."""
    verdict = check_install_link(
        gateway.keyring, ref=ref, app=app, team=team, expires=expires, sig=sig, now=time.time()
    )
    if verdict == "signed":
        return None, int(expires or 0)
    if verdict == "unsigned" and gateway.settings.allow_unsigned_ref:
        return None, None
    if verdict == "expired":
        page = _invalid_link(
            "Add to Slack links are valid for a limited time, and this one is past it. "
            + _ASK_AGAIN,
            status=410,
            heading="This install link has expired",
            code="link_expired",
        )
    elif verdict == "unsigned":
        page = _invalid_link(
            "A link that ties the install to an account must be made by the product, signed "
            "(POST /api/v1/workspaces/install-url). " + _ASK_AGAIN,
            status=403,
            heading="This install link is not signed",
            code="unsigned_ref",
        )
    else:
        page = _invalid_link(
            "Its signature does not match: the link was changed, or not made here. " + _ASK_AGAIN,
            heading="This install link is not valid",
            code="invalid_signature",
        )
    return page, None


def _link_problem(
    ref: str | None, app: str | None, team: str | None, page: str | None
) -> str | None:
    """What is wrong with the install link's parameters, or None."""
    if ref is not None and len(ref) > _MAX_REF:
        return f"The ref parameter is longer than {_MAX_REF} characters."
    if app is not None and not 0 < len(app) <= _MAX_APP_NAME:
        return f"The app parameter must be 1 to {_MAX_APP_NAME} characters."
    if team is not None and not _TEAM_ID.fullmatch(team):
        return "The team parameter must be a Slack workspace id (T…)."
    if page is not None and page.lower() not in _TRUE | _FALSE:
        return "The page parameter must be 1 or 0."
    return None


@router.get("/slack/install", include_in_schema=False)
async def install(
    request: Request,
    ref: str | None = None,
    app: str | None = None,
    team: str | None = None,
    page: str | None = None,
    expires: str | None = None,
    sig: str | None = None,
) -> Response:
    """Start an install: redirect to Slack's consent page (or show the Add to Slack page)."""
    gateway = gateway_of(request)
    ref, app, team = ref or None, app or None, team or None  # an empty parameter is no parameter
    problem = _link_problem(ref, app, team, page)
    if problem is None and ref is None and (expires or sig):
        problem = "The expires and sig parameters belong to a link that names a ref."
    if problem is not None:
        return _invalid_link(problem)
    link_expires: int | None = None
    if ref is not None:
        refused, link_expires = _refused_link(gateway, ref, app, team, expires, sig)
        if refused is not None:
            return refused
    try:
        slack_app = await resolve_app(gateway, app)
    except AppNotFound as exc:
        status = 404 if app else 503
        return _render(
            "result.html",
            status,
            "error",
            title="Unknown Slack app",
            heading="This install link names no Slack app here" if app else "Slack is not set up",
            message=str(exc),
            code="unknown_app" if app else "no_app",
        )
    if not slack_app.client_id or not slack_app.client_secret:
        return _outcome(
            replace(
                outcome_page("no_app"),
                message=f"The Slack app {slack_app.name!r} has no client id and secret yet: "
                "run `slackbridge apps provision` or configure them.",
            )
        )
    states = OAuthStatesRepository(gateway.db, gateway.keyring)
    issued = await states.issue(
        slack_app.id, product_ref=ref, link_expires=link_expires, ttl_seconds=STATE_TTL_SECONDS
    )
    url = authorize_url(gateway, slack_app, issued.state, team)
    response: Response
    if page is not None and page.lower() in _TRUE:
        response = _render(
            "install.html",
            200,
            "install",
            title=f"Add {slack_app.name} to Slack",
            app_name=slack_app.name,
            bot_scopes=slack_app.bot_scopes,
            user_scopes=slack_app.user_scopes,
            authorize_url=url,
            minutes=STATE_TTL_SECONDS // 60,
        )
    else:
        response = RedirectResponse(url, status_code=302, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        cookie_name(issued.state),
        issued.browser_token,
        max_age=STATE_TTL_SECONDS,
        path=_COOKIE_PATH,
        secure=gateway.settings.public_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    return response


async def _exchange(gateway: Gateway, app: SlackApp, code: str) -> dict[str, Any]:
    await within_budget(gateway, app.app_id, "oauth.v2.access")
    answer = await exchange_code(gateway.slack_client(), app, code, redirect_uri(gateway.settings))
    return dict(answer.data) if isinstance(answer.data, dict) else {}


def _team_of(answer: dict[str, Any]) -> str | None:
    team = answer.get("team")
    found = team.get("id") if isinstance(team, dict) else None
    return str(found) if found else None


async def _bot_id(gateway: Gateway, team_id: str | None, bot_token: str | None) -> str | None:
    if not bot_token:
        return None
    await within_budget(gateway, team_id, "auth.test")
    try:
        answer = await gateway.slack_client(bot_token).auth_test()
    except Exception as exc:
        _log.warning("auth.test after install failed: %s", exc)
        return None
    bot_id = answer.get("bot_id")
    return str(bot_id) if bot_id else None


async def _remember_app_id(gateway: Gateway, app: SlackApp, app_id: object) -> SlackApp:
    """Fill in Slack's app id when it was not configured (the answer tells it)."""
    if app.app_id or not isinstance(app_id, str) or not app_id:
        return app
    saved = await save_app(gateway.db, gateway.keyring, replace(spec_of(app), app_id=app_id))
    forget_apps(gateway)
    return saved


@router.get("/slack/oauth/callback", include_in_schema=False)
async def callback(
    request: Request,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> Response:
    """Finish an install (see the module docstring)."""
    gateway = gateway_of(request)
    if not state:
        return _outcome(outcome_page("missing_state"))
    cookie = cookie_name(state)
    states = OAuthStatesRepository(gateway.db, gateway.keyring)
    check = await states.consume(state, request.cookies.get(cookie))
    app = await app_by_ref(gateway, check.app_ref) if check.app_ref is not None else None

    def failed(page: OutcomePage) -> HTMLResponse:
        return _outcome(page, gateway=gateway, check=check, app=app)

    if not check.ok:
        _log.info("install callback refused: %s", check.outcome)
        return failed(outcome_page(check.outcome))
    # Housekeeping, here rather than on every (unauthenticated) hit of /slack/install: the
    # records of used states are of no use once the states expired.
    await states.purge(older_than=utcnow())
    if app is None:
        return _outcome(outcome_page("no_app"))
    if error:
        # Shown on the page: only something shaped like Slack's error codes is repeated.
        reason = error if _SLACK_CODE.fullmatch(error) else "unrecognized_error"
        return _forget_cookie(
            failed(outcome_page("access_denied" if error == "access_denied" else reason)), cookie
        )
    if not code:
        return failed(outcome_page("missing_code"))
    try:
        answer = await _exchange(gateway, app, code)
    except SlackApiError as exc:
        slack_error = str(exc.response.get("error") or "unknown_error")
        _log.warning("oauth.v2.access failed for app %s: %s", app.name, slack_error)
        return failed(outcome_page("slack_error", slack_error))
    except Exception as exc:
        _log.warning("oauth.v2.access unreachable for app %s: %r", app.name, exc)
        return failed(outcome_page("slack_unreachable"))
    try:
        spec = installation_spec(
            answer,
            app_ref=app.id,
            bot_id=await _bot_id(gateway, _team_of(answer), answer.get("access_token")),
            product_ref=check.product_ref,
            now=utcnow(),
        )
    except InstallAnswerError as exc:
        _log.warning("unusable oauth.v2.access answer: %s", exc)
        return failed(outcome_page("slack_error", "invalid_answer"))
    app = await _remember_app_id(gateway, app, answer.get("app_id"))
    saved = await save_install(gateway, app, spec, answer)
    if isinstance(saved, RefConflict):
        return _forget_cookie(_outcome(outcome_page("ref_conflict")), cookie)
    inst = saved.installation
    page = OutcomePage(
        200,
        f"{app.name} is now in {inst.team_name or inst.enterprise_name or 'your workspace'}",
        "The install is complete. You can close this window and go back to the product.",
    )
    return _forget_cookie(_outcome(page), cookie)


def _forget_cookie(response: Response, name: str) -> Response:
    response.delete_cookie(name, path=_COOKIE_PATH, httponly=True, samesite="lax")
    return response
