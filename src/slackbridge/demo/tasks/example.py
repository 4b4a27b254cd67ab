"""The task bot as the demo's ``tasks`` example: its app, its guide and its scripted walkthrough.

The walkthrough (after the common start-up and install) does what a team would do in Slack,
through the emulator's control API: mention the bot to add a task with a due date, list, mark it
done, mistype a command and ask for help (the gateway answers both), DM the bot, and finally
uninstall the app in Slack, which the task bot hears (``workspace.uninstalled``) and shows as
disconnected. ``tasks-socket`` is the same over Socket Mode.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from slackbridge.client import Slackbridge
from slackbridge.demo.control import EmulatorControl, find_channel, find_message
from slackbridge.demo.examples import Example, ProductSetup, register
from slackbridge.demo.product_common import ProductState
from slackbridge.demo.stack import DEMO_REF, DemoStack, DemoUrls
from slackbridge.demo.startup import ACME, ALICE, socket_mode_check
from slackbridge.demo.steps import Failure, Steps, wait_until
from slackbridge.demo.tasks.app import WEBHOOK_PATH, create_tasks_app
from slackbridge.settings import SlackAppConfig

__all__ = [
    "TASKS",
    "TASKS_APP",
    "TASKS_SOCKET",
    "TASKS_SOCKET_APP",
    "run_socket_walkthrough",
    "run_tasks_walkthrough",
]

#: The Slack app the task bot's demo provisions: the bot ``@tasks`` and ``/tasks``; ``im:write``
#: on top of the default scopes, to open a DM with a person (``conversations.open``).
TASKS_APP = SlackAppConfig(
    name="tasks",
    display_name="Tasks",
    slash_commands=["/tasks"],
    bot_scopes=[*SlackAppConfig().bot_scopes, "im:write"],
)
_FIRST = "Write release notes"
_SECOND = "Book the venue"
_WAIT = 15.0


class _TaskPage(ProductState):
    """The task bot's JSON state, which its page shows."""

    async def task(self, title: str) -> dict[str, Any] | None:
        return await self.find("tasks", "title", title)

    async def workspace(self, team_id: str) -> dict[str, Any] | None:
        return await self.find("workspaces", "team_id", team_id)


async def _bot_reply(
    control: EmulatorControl, channel: str, root: str, contains: str
) -> dict[str, Any]:
    """The bot's reply in ``root``'s thread that holds ``contains`` (waiting for it)."""

    async def found() -> dict[str, Any] | None:
        message = find_message(await control.messages(ACME, channel), root) or {}
        for reply in message.get("replies") or []:
            if reply.get("bot_id") and contains in str(reply.get("text")):
                return dict(reply)
        return None

    return await wait_until(found, f"the bot's reply “{contains}…” in the thread", within=_WAIT)


async def _ephemerals(
    http: httpx.AsyncClient, urls: DemoUrls, channel: str, user: str
) -> list[dict[str, Any]]:
    """The ephemeral messages ``user`` has seen in ``channel``, oldest first."""
    response = await http.get(
        f"{urls.emulator}/_emulator/conversations/{ACME}/{channel}/messages",
        params={"user_id": user},
    )
    return list(response.json().get("ephemerals") or [])


async def _ephemeral(
    http: httpx.AsyncClient,
    urls: DemoUrls,
    channel: str,
    user: str,
    contains: str,
    *,
    after: int = 0,
) -> dict[str, Any]:
    """The ephemeral message ``user`` sees in ``channel`` that holds ``contains`` (skipping
    the first ``after``)."""

    async def found() -> dict[str, Any] | None:
        for message in (await _ephemerals(http, urls, channel, user))[after:]:
            if contains in str(message.get("text")):
                return dict(message)
        return None

    return await wait_until(found, f"an ephemeral “{contains}…” for {user}", within=_WAIT)


async def run_tasks_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """What a team does with the task bot once it is installed in Acme; raises StepFailed at
    the first failure."""
    if stack.workspace is None or stack.api_key is None:
        raise RuntimeError("install the app first")
    urls = stack.urls
    bot = str(stack.workspace["bot_user_id"])
    async with httpx.AsyncClient(timeout=10.0) as http:
        control = EmulatorControl(http, urls.emulator)
        page = _TaskPage(http, urls.product)

        async with steps.step("The task bot declares its commands (PUT /api/v1/commands)") as s:
            state = await wait_until(lambda: _declared(page), "the commands declared", within=_WAIT)
            async with Slackbridge(urls.gateway, stack.api_key) as api:
                names = [c.name for c in await api.commands.list()]
            s.note(f"{', '.join(names)} ({len(state['accounts'])} accounts)")

        async with steps.step("alice invites the task bot into #general") as s:
            general = find_channel(await control.state(), ACME, "general")
            if general is None:
                raise Failure("Acme has no #general channel")
            channel = str(general["id"])
            await control.invite(ACME, channel, ALICE, [bot])
            s.note(f"#general is {channel}")

        async with steps.step('alice: @tasks add "Write release notes" due friday') as s:
            root = await control.post(ACME, channel, ALICE, f"<@{bot}> add “{_FIRST}” due friday")
            task = await wait_until(lambda: page.task(_FIRST), "the task added", within=_WAIT)
            due = dt.date.fromisoformat(task["due"]) if task["due"] else None
            if due is None or due.weekday() != 4:
                raise Failure(f"the task is not due on a Friday: {task}")
            s.note(f"#{task['number']} for {task['owner']}, due {due:%a %Y-%m-%d}")
            number = int(task["number"])

        async with steps.step("The task bot confirms in the thread") as s:
            reply = await _bot_reply(control, channel, root, f"#{number} {_FIRST}")
            s.note(f"“{reply['text']}”")

        async with steps.step("alice: @tasks list (only she sees the answer)") as s:
            await control.post(ACME, channel, ALICE, f"<@{bot}> list")
            listed = await _ephemeral(http, urls, channel, ALICE, _FIRST)
            s.note(f"ephemeral: “{listed['text'].splitlines()[0]}…”")

        async with steps.step(f"alice: @tasks done {number}") as s:
            done_ts = await control.post(ACME, channel, ALICE, f"<@{bot}> done {number}")

            async def finished() -> bool | None:
                current = await page.task(_FIRST) or {}
                return True if current.get("done") else None

            await wait_until(finished, f"task #{number} done", within=_WAIT)
            await _bot_reply(control, channel, done_ts, "Done")
            s.note("marked done, confirmed in the thread")

        async with steps.step("A near miss (@tasks dnoe 1) gets the gateway's help") as s:
            await control.post(ACME, channel, ALICE, f"<@{bot}> dnoe {number}")
            helped = await _ephemeral(http, urls, channel, ALICE, "Did you mean")
            if "done" not in helped["text"]:
                raise Failure(f"the help does not suggest done: {helped['text']}")
            s.note("“Did you mean `done`?”, from the gateway, ephemeral")

        async with steps.step("alice: @tasks help (built in: the commands with examples)") as s:
            seen = len(await _ephemerals(http, urls, channel, ALICE))
            await control.post(ACME, channel, ALICE, f"<@{bot}> help")
            helped = await _ephemeral(http, urls, channel, ALICE, "done 3", after=seen)
            for usage in ("add", "list", "done"):
                if usage not in helped["text"]:
                    raise Failure(f"the help does not show {usage}: {helped['text']}")
            s.note(f"{len(helped['text'].splitlines())} lines, from the gateway")

        async with steps.step("alice DMs the bot: add “Book the venue” due 2026-12-24") as s:
            async with Slackbridge(urls.gateway, stack.api_key) as api:
                opened = await api.slack.call(ACME, "conversations.open", {"users": ALICE})
            if not opened.get("ok"):
                raise Failure(f"conversations.open failed: {opened}")
            dm = str(opened["channel"]["id"])
            await control.post(ACME, dm, ALICE, f"add “{_SECOND}” due 2026-12-24")
            second = await wait_until(lambda: page.task(_SECOND), "the DM's task", within=_WAIT)
            if second["due"] != "2026-12-24":
                raise Failure(f"the task's due date is {second['due']}, not 2026-12-24")

            async def answered_in_dm() -> dict[str, Any] | None:
                for message in await control.messages(ACME, dm):
                    if message.get("bot_id") and _SECOND in str(message.get("text")):
                        return dict(message)
                return None

            await wait_until(answered_in_dm, "the bot's answer in the DM", within=_WAIT)
            s.note(f"#{second['number']} added, answered in the DM {dm}")

        async with steps.step("The task page lists both tasks") as s:
            shown = await http.get(f"{urls.product}/")
            for title in (_FIRST, _SECOND):
                if title not in shown.text:
                    raise Failure(f"{urls.product}/ does not show “{title}”")
            s.note(f"{urls.product}/")

        async with steps.step("Acme uninstalls the app; the task bot marks it disconnected") as s:
            answer = await http.post(
                f"{urls.emulator}/_emulator/apps/{stack.app_id}/uninstall",
                json={"team_id": ACME},
            )
            if answer.status_code != 200:
                raise Failure(f"the emulator refused the uninstall: {answer.text}")

            async def disconnected() -> dict[str, Any] | None:
                ws = await page.workspace(ACME) or {}
                return ws if ws.get("status") == "disconnected" else None

            ws = await wait_until(disconnected, "Acme disconnected on the page", within=_WAIT)
            s.note(f"workspace.uninstalled ({ws['reason']})")


async def _declared(page: _TaskPage) -> dict[str, Any] | None:
    state = await page.state()
    return state if state.get("commands_declared") else None


def _create(setup: ProductSetup) -> Any:
    return create_tasks_app(
        setup.gateway_url, setup.api_key, setup.webhook_secret, account_ref=DEMO_REF
    )


def _guide(urls: DemoUrls) -> list[str]:
    return [
        f"Open [bold]Add to Slack[/] ({urls.install}): choose [bold]Acme[/] and "
        "[bold]alice[/], then Allow.",
        "The demo invites the Tasks bot into Acme's [bold]#general[/] for you.",
        f"In the emulator ({urls.emulator}/), open Acme › #general as alice or bob and type "
        '[bold]@Tasks add "Write release notes" due friday[/], then [bold]@Tasks list[/] and '
        "[bold]@Tasks done 1[/]; try a typo, or [bold]@Tasks help[/].",
        "Or DM the bot without the mention (add …, list, done …), or use [bold]/tasks[/].",
        f"The tasks are on the task bot's page ({urls.product}/); remove the workspace there, "
        "or uninstall the app in the emulator, and it shows Acme disconnected.",
    ]


TASKS = register(
    Example(
        name="tasks",
        title="the task bot",
        app=TASKS_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_tasks_walkthrough,
        guide=_guide,
        invite_channel="general",
        api_permissions=frozenset({"read", "write", "admin"}),
    )
)


async def run_socket_walkthrough(stack: DemoStack, steps: Steps) -> None:
    """The task bot over Socket Mode: the gateway's supervised connection survives Slack
    dropping it, then the same story as over HTTP, every event arriving over the websocket."""
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        steps.step("Slack drops the connection; the gateway reconnects") as s,
    ):
        before = await _connections(http, stack)
        if not before:
            raise Failure("the gateway has no Socket Mode connection at the emulator")
        dropped = await http.post(
            f"{stack.urls.emulator}/_emulator/socket/disconnect",
            json={"app_id": stack.app_id, "reason": "link_disabled"},
        )
        if dropped.status_code != 200:
            raise Failure(f"the emulator refused the disconnect: {dropped.text}")

        async def replaced() -> list[str] | None:
            now = await _connections(http, stack)
            return now if now and not set(now) & set(before) else None

        now = await wait_until(replaced, "a new Socket Mode connection", within=_WAIT)
        await wait_until(
            lambda: socket_mode_check(stack, connected=True), "/readyz connected", within=_WAIT
        )
        s.note(f"{', '.join(before)} → {', '.join(now)}; /readyz connected")
    await run_tasks_walkthrough(stack, steps)
    async with (
        httpx.AsyncClient(timeout=10.0) as http,
        steps.step("Every event reached the gateway over the websocket") as s,
    ):
        answer = await http.get(
            f"{stack.urls.emulator}/_emulator/deliveries",
            params={"app_id": stack.app_id, "kind": "event"},
        )
        deliveries = answer.json().get("deliveries") or []
        transports = {str(d.get("transport")) for d in deliveries}
        if not deliveries or transports != {"socket"}:
            raise Failure(f"events went over {sorted(transports) or 'nothing'}, not only socket")
        s.note(f"{len(deliveries)} events, all over Socket Mode")


async def _connections(http: httpx.AsyncClient, stack: DemoStack) -> list[str]:
    answer = await http.get(
        f"{stack.urls.emulator}/_emulator/socket/connections", params={"app_id": stack.app_id}
    )
    return [str(c["id"]) for c in answer.json().get("connections") or []]


#: The same app with Socket Mode on: no request URLs, events over the gateway's websocket.
TASKS_SOCKET_APP = TASKS_APP.model_copy(update={"socket_mode": True})

TASKS_SOCKET = register(
    Example(
        name="tasks-socket",
        title="the task bot",
        app=TASKS_SOCKET_APP,
        webhook_path=WEBHOOK_PATH,
        create_product=_create,
        walkthrough=run_socket_walkthrough,
        guide=lambda urls: [
            *_guide(urls),
            f"Slack talks to the gateway over Socket Mode here: its connection is in "
            f"{urls.gateway}/readyz (socket_mode:tasks).",
        ],
        invite_channel="general",
        api_permissions=frozenset({"read", "write", "admin"}),
    )
)
