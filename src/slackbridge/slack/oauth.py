""" "Add to Slack": ``/slack/install`` and ``/slack/oauth/callback``.

``GET /slack/install?ref=<product account id>[&app=<name>][&team=T…][&page=1]`` issues a state
(random, single use, valid 10 minutes; only its digest is stored, with the product's ``ref``)
and a browser token in an HttpOnly, SameSite=Lax cookie, then redirects to Slack's authorize
URL, or with ``page=1`` shows a page with an "Add to Slack" button.

``GET /slack/oauth/callback`` checks the state and the cookie, exchanges the code with
``oauth.v2.access``, learns the bot id with ``auth.test``, stores the installation (a reinstall
updates it), records it in the audit log, dispatches ``workspace.installed`` and shows a success
page, or a failure page with a status that says what went wrong (see ``install_result.py``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from slack_sdk.errors import SlackApiError

from slackbridge.server import Gateway, gateway_of
from slackbridge.slack.apps import (
    AppNotFound,
    SlackApp,
    app_by_ref,
    resolve_app,
    save_app,
    spec_of,
)
from slackbridge.slack.install_result import (
    InstallAnswerError,
    OutcomePage,
    installation_spec,
    outcome_page,
    scopes_of,
)
from slackbridge.slack.manifest import redirect_uri
from slackbridge.slack.oauth_access import exchange_code
from slackbridge.slack.workspaces import audit_repo, emit_workspace_event, installations_repo
from slackbridge.store.models_base import utcnow
from slackbridge.store.repositories.oauth_states import OAuthStatesRepository

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
    loader=PackageLoader("slackbridge.slack", "templates"),
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


def _retry_url(ref: str | None, app: SlackApp | None) -> str:
    query = {k: v for k, v in (("ref", ref), ("app", app.name if app else None)) if v}
    return "/slack/install" + (f"?{urlencode(query)}" if query else "")


def _outcome(
    page: OutcomePage, *, ref: str | None = None, app: SlackApp | None = None
) -> HTMLResponse:
    return _render(
        "result.html",
        page.status,
        "ok" if page.ok else "error",
        title=page.heading,
        heading=page.heading,
        message=page.message,
        code=page.code,
        retry_url=_retry_url(ref, app) if page.retry else None,
    )


def _invalid_link(message: str) -> HTMLResponse:
    return _render(
        "result.html",
        400,
        "error",
        title="Invalid install link",
        heading="Invalid install link",
        message=message,
        code="invalid_link",
    )


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
) -> Response:
    """Start an install: redirect to Slack's consent page (or show the Add to Slack page)."""
    gateway = gateway_of(request)
    ref, app, team = ref or None, app or None, team or None  # an empty parameter is no parameter
    problem = _link_problem(ref, app, team, page)
    if problem is not None:
        return _invalid_link(problem)
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
    issued = await states.issue(slack_app.id, product_ref=ref, ttl_seconds=STATE_TTL_SECONDS)
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
    # Housekeeping: states expired for an hour are of no use even to explain a failure.
    await states.purge(older_than=utcnow() - timedelta(hours=1))
    return response


async def _exchange(gateway: Gateway, app: SlackApp, code: str) -> dict[str, Any]:
    answer = await exchange_code(gateway.slack_client(), app, code, redirect_uri(gateway.settings))
    return dict(answer.data) if isinstance(answer.data, dict) else {}


async def _bot_id(gateway: Gateway, bot_token: str | None) -> str | None:
    if not bot_token:
        return None
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
    return await save_app(gateway.db, gateway.keyring, replace(spec_of(app), app_id=app_id))


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
    if not check.ok:
        _log.info("install callback refused: %s", check.outcome)
        return _outcome(outcome_page(check.outcome), ref=check.product_ref, app=app)
    if app is None:
        return _outcome(outcome_page("no_app"))
    if error:
        # Shown on the page: only something shaped like Slack's error codes is repeated.
        reason = error if _SLACK_CODE.fullmatch(error) else "unrecognized_error"
        page = outcome_page("access_denied" if error == "access_denied" else reason)
        return _forget_cookie(_outcome(page, ref=check.product_ref, app=app), cookie)
    if not code:
        return _outcome(outcome_page("missing_code"), ref=check.product_ref, app=app)
    try:
        answer = await _exchange(gateway, app, code)
    except SlackApiError as exc:
        slack_error = str(exc.response.get("error") or "unknown_error")
        _log.warning("oauth.v2.access failed for app %s: %s", app.name, slack_error)
        return _outcome(outcome_page("slack_error", slack_error), ref=check.product_ref, app=app)
    except Exception as exc:
        _log.warning("oauth.v2.access unreachable for app %s: %r", app.name, exc)
        return _outcome(outcome_page("slack_unreachable"), ref=check.product_ref, app=app)
    try:
        spec = installation_spec(
            answer,
            app_ref=app.id,
            bot_id=await _bot_id(gateway, answer.get("access_token")),
            product_ref=check.product_ref,
            now=utcnow(),
        )
    except InstallAnswerError as exc:
        _log.warning("unusable oauth.v2.access answer: %s", exc)
        return _outcome(
            outcome_page("slack_error", "invalid_answer"), ref=check.product_ref, app=app
        )
    app = await _remember_app_id(gateway, app, answer.get("app_id"))
    repo = installations_repo(gateway)
    async with gateway.db.transaction() as tx:
        saved = await repo.save(spec, session=tx)
        inst = saved.installation
        await audit_repo(gateway).record(
            "workspace.installed" if saved.created else "workspace.reinstalled",
            actor=f"slack:{inst.installer_user_id or 'unknown'}",
            team_id=inst.team_id or inst.enterprise_id,
            detail={
                "app": app.name,
                "installation_id": inst.id,
                "scopes": list(inst.bot_scopes),
                "user_scopes": list(scopes_of(_user_scope(answer))),
                "ref": inst.product_ref,
            },
            session=tx,
        )
    _log.info(
        "%s %s into %s (%s)",
        "installed" if saved.created else "reinstalled",
        app.name,
        inst.team_id or inst.enterprise_id,
        inst.team_name,
    )
    await emit_workspace_event(
        gateway,
        "workspace.installed",
        app,
        inst,
        {
            "reinstall": not saved.created,
            "installer": {"id": inst.installer_user_id},
            "scopes": list(inst.bot_scopes),
            "user_scopes": list(scopes_of(_user_scope(answer))),
        },
    )
    page = OutcomePage(
        200,
        f"{app.name} is now in {inst.team_name or inst.enterprise_name or 'your workspace'}",
        "The install is complete. You can close this window and go back to the product.",
    )
    return _forget_cookie(_outcome(page), cookie)


def _user_scope(answer: dict[str, Any]) -> object:
    user = answer.get("authed_user")
    return user.get("scope") if isinstance(user, dict) else None


def _forget_cookie(response: Response, name: str) -> Response:
    response.delete_cookie(name, path=_COOKIE_PATH, httponly=True, samesite="lax")
    return response
