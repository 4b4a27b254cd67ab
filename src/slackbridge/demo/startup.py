"""The demo's start-up, common to every example: the servers, the app, the key, the install.

:func:`start_everything` starts the emulator, the gateway and the example product, provisions the
app and makes the API key (both modes); :func:`install` does "Add to Slack" into Acme as alice
the way a browser does (the scripted walkthroughs), and :func:`start_and_install` is both, which
is what ``--scripted`` runs before the example's own steps.
"""

from __future__ import annotations

from typing import Any

import httpx

from slackbridge.demo.control import EmulatorControl
from slackbridge.demo.stack import DemoStack
from slackbridge.demo.steps import Failure, Steps

__all__ = ["ACME", "ALICE", "BOB", "CAROL", "install", "start_and_install", "start_everything"]

ACME = "T0ACME0001"
ALICE = "U0ACME0001"
BOB = "U0ACME0002"
CAROL = "U0ACME0003"


async def start_everything(stack: DemoStack, steps: Steps) -> None:
    """Start the emulator, the gateway and the product; provision the app; make the API key."""
    urls = stack.urls
    title = stack.example.title
    async with steps.step("Start the Slack emulator (rate limits on)") as step:
        await stack.start_emulator()
        step.note(urls.emulator)
    async with steps.step("Start the gateway on a fresh store") as step:
        await stack.start_gateway()
        step.note(f"{urls.gateway}, data in {stack.config.data_dir}/")
    async with steps.step(f"Provision {title} app from the manifest") as step:
        result = await stack.provision()
        if not result.events_url_verified:
            raise Failure(result.warning or "the events URL was not verified")
        step.note(f"apps.manifest.create → {result.app.app_id}, events URL verified")
    async with steps.step(f"Create an API key and point webhooks at {title}") as step:
        key = await stack.create_api_key()
        step.note(f"key {key[:12]}…, webhooks → {urls.webhook}")
    async with steps.step(f"Start {title} (the example product)") as step:
        await stack.start_product()
        step.note(urls.product)


async def install(stack: DemoStack, control: EmulatorControl, steps: Steps) -> dict[str, Any]:
    """ "Add to Slack" into Acme as alice, as a browser does it; the workspace from the API."""
    urls = stack.urls
    display = stack.example.app.display_name or stack.example.app.name
    async with steps.step("Install into Acme as alice (Add to Slack → consent → callback)") as s:
        async with httpx.AsyncClient(follow_redirects=False, timeout=10.0) as browser:
            start = await browser.get(urls.install)  # the product: on to a signed link
            if start.status_code == 302 and start.headers["location"].startswith(urls.gateway):
                start = await browser.get(start.headers["location"])
            authorize = start.headers.get("location", "")
            if start.status_code != 302 or not authorize.startswith(urls.emulator):
                raise Failure(
                    f"{urls.install} answered {start.status_code}, not a redirect to the "
                    f"emulator's consent page (location: {authorize or 'none'})"
                )
            consent = await browser.get(authorize)
            if consent.status_code != 200 or display not in consent.text:
                raise Failure(f"the consent page answered {consent.status_code}")
            back = await control.approve(authorize, ACME, ALICE)
            if not back.startswith(urls.gateway + "/slack/oauth/callback"):
                raise Failure(f"Slack sent the browser to {back}, not the gateway's callback")
            done = await browser.get(back)
            if done.status_code != 200 or "is now in Acme" not in done.text:
                raise Failure(f"the callback page answered {done.status_code}: {done.text[:200]}")
        headers = {"Authorization": f"Bearer {stack.api_key}"}
        async with httpx.AsyncClient(timeout=10.0, headers=headers) as api:
            listed = (await api.get(f"{urls.api}/workspaces")).json()
        workspace = next(
            (w for w in listed.get("workspaces", []) if w.get("team_id") == ACME), None
        )
        if workspace is None or workspace.get("status") != "active":
            raise Failure(f"GET /api/v1/workspaces does not list Acme as active: {listed}")
        s.note(f"Acme active, bot user {workspace['bot_user_id']}")
        stack.workspace = dict(workspace)
        return dict(workspace)


async def start_and_install(stack: DemoStack, steps: Steps) -> dict[str, Any]:
    """The common start-up of ``--scripted``: everything started, the app installed in Acme."""
    await start_everything(stack, steps)
    async with httpx.AsyncClient(timeout=10.0) as http:
        return await install(stack, EmulatorControl(http, stack.urls.emulator), steps)
