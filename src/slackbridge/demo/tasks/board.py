"""The task bot's state and rules, with no I/O: accounts, tasks, workspaces and the answers.

Tasks belong to the tracker's own accounts, which a Slack user is matched to by email (the
``user.email`` slackbridge puts in ``command.matched``). A workspace is ``active`` once installed
and ``disconnected`` (or ``removed``) when the app is uninstalled, its token dies, or someone
removes it here: commands from such a workspace are ignored and nothing is sent to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slackbridge.demo.product_common import SeenWebhooks

__all__ = [
    "COMMANDS",
    "DEFAULT_ACCOUNTS",
    "Account",
    "Answer",
    "Board",
    "Task",
    "WorkspaceState",
]

#: The commands the task bot declares (slackbridge's command routing does the parsing and help).
COMMANDS: list[dict[str, Any]] = [
    {
        "name": "add",
        "pattern": "add {title:text} [due {due:date}]",
        "description": "Add a task (with a due date if you like)",
        "examples": ['add "Write release notes" due friday', "add order pizza"],
        "slash": "/tasks",
        "via": ["slash", "mention", "dm"],
    },
    {
        "name": "list",
        "pattern": "list",
        "description": "Your open tasks",
        "examples": ["list"],
        "slash": "/tasks",
        "via": ["slash", "mention", "dm"],
    },
    {
        "name": "done",
        "pattern": "done {id:number}",
        "description": "Mark a task done",
        "examples": ["done 3"],
        "slash": "/tasks",
        "via": ["slash", "mention", "dm"],
    },
]


@dataclass(frozen=True)
class Account:
    """A person with an account in the tracker (not a Slack user: matched to one by email)."""

    email: str
    name: str


#: The demo's accounts: alice and bob of Acme have one; carol does not.
DEFAULT_ACCOUNTS = (
    Account("alice@acme.test", "Alice Archer"),
    Account("bob@acme.test", "Bob Baker"),
)


@dataclass
class Task:
    number: int
    title: str
    owner: str  # the account's email
    team_id: str
    due: dt.date | None = None
    done: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "owner": self.owner,
            "team_id": self.team_id,
            "due": self.due.isoformat() if self.due else None,
            "done": self.done,
        }

    def line(self) -> str:
        due = f" (due {self.due:%a %-d %b})" if self.due else ""
        mark = "✅" if self.done else "•"
        return f"{mark} #{self.number} {self.title}{due}"


@dataclass
class WorkspaceState:
    team_id: str
    name: str | None
    status: str  # active, disconnected, removed
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "team_id": self.team_id,
            "name": self.name,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Answer:
    """What to say, and whether only the person should see it."""

    text: str
    private: bool = False


@dataclass
class Board:
    """Accounts, tasks and workspaces (one per app)."""

    accounts: dict[str, Account] = field(
        default_factory=lambda: {a.email: a for a in DEFAULT_ACCOUNTS}
    )
    tasks: dict[int, Task] = field(default_factory=dict)
    workspaces: dict[str, WorkspaceState] = field(default_factory=dict)
    _seen: SeenWebhooks = field(default_factory=SeenWebhooks)

    def first_time(self, webhook_id: str) -> bool:
        """False for a webhook already applied (slackbridge retries with the same id)."""
        return self._seen.first_time(webhook_id)

    # --- workspaces -----------------------------------------------------------------------------

    def connected(self, team_id: str | None) -> bool:
        ws = self.workspaces.get(team_id or "")
        return ws is not None and ws.status == "active"

    def workspace_event(self, kind: str, data: Mapping[str, Any]) -> WorkspaceState | None:
        """Apply ``workspace.installed``/``uninstalled``/``disconnected``; the workspace."""
        workspace = data.get("workspace") or {}
        team_id = workspace.get("team_id")
        if not isinstance(team_id, str) or not team_id:
            return None
        name = workspace.get("team_name")
        current = self.workspaces.get(team_id)
        if kind == "workspace.installed":
            status, reason = "active", None
        elif kind == "workspace.uninstalled":
            status, reason = "disconnected", str(data.get("reason") or "uninstalled")
            if current is not None and current.status == "removed":
                status, reason = "removed", current.reason
        elif kind == "workspace.disconnected":
            status, reason = "disconnected", str(data.get("error") or "token refused")
        else:
            return None
        state = WorkspaceState(team_id, name if isinstance(name, str) else None, status, reason)
        if current is not None and state.name is None:
            state.name = current.name
        self.workspaces[team_id] = state
        return state

    def learn_workspace(self, team_id: str, name: str | None, status: str) -> None:
        """A workspace the API lists (at start-up), unless a webhook said more already."""
        if team_id not in self.workspaces:
            mapped = "active" if status == "active" else "disconnected"
            self.workspaces[team_id] = WorkspaceState(team_id, name, mapped, None)

    def mark_removed(self, team_id: str) -> None:
        current = self.workspaces.get(team_id)
        name = current.name if current else None
        self.workspaces[team_id] = WorkspaceState(team_id, name, "removed", "removed here")

    # --- commands -------------------------------------------------------------------------------

    def run(
        self, command: str, arguments: Mapping[str, Any], team_id: str, email: str | None
    ) -> Answer:
        """Run a matched command for the person with ``email``; what to answer."""
        account = self.accounts.get((email or "").lower())
        if account is None:
            who = email or "your Slack account (no email visible)"
            return Answer(
                f"I don't know {who}: ask for an account in the task tracker first.", True
            )
        if command == "add":
            return self._add(account, team_id, arguments)
        if command == "list":
            return self._list(account, team_id)
        if command == "done":
            return self._done(account, team_id, arguments)
        return Answer(f"I can't do `{command}` yet.", True)

    def _add(self, account: Account, team_id: str, arguments: Mapping[str, Any]) -> Answer:
        title = str(arguments.get("title") or "").strip()
        if not title:
            return Answer('A task needs a title: `add "Write release notes"`.', True)
        due_text = arguments.get("due")
        due = dt.date.fromisoformat(due_text) if isinstance(due_text, str) else None
        task = Task(len(self.tasks) + 1, title, account.email, team_id, due)
        self.tasks[task.number] = task
        return Answer(f"Added {task.line()} for {account.name}.")

    def _list(self, account: Account, team_id: str) -> Answer:
        mine = [
            t
            for t in self.tasks.values()
            if t.owner == account.email and t.team_id == team_id and not t.done
        ]
        if not mine:
            return Answer(f"{account.name}, you have no open tasks. 🎉", True)
        mine.sort(key=lambda t: (t.due or dt.date.max, t.number))
        lines = "\n".join(t.line() for t in mine)
        return Answer(f"{account.name}'s open tasks:\n{lines}", True)

    def _done(self, account: Account, team_id: str, arguments: Mapping[str, Any]) -> Answer:
        number = arguments.get("id")
        task = self.tasks.get(number) if isinstance(number, int) else None
        if task is None or task.team_id != team_id:
            return Answer(f"There is no task #{number}.", True)
        if task.owner != account.email:
            return Answer(f"#{task.number} is not yours.", True)
        if task.done:
            return Answer(f"#{task.number} was already done.", True)
        task.done = True
        return Answer(f"Done: {task.line()}")

    def snapshot(self) -> dict[str, Any]:
        return {
            "accounts": [{"email": a.email, "name": a.name} for a in self.accounts.values()],
            "tasks": [t.to_json() for t in self.tasks.values()],
            "workspaces": [w.to_json() for w in self.workspaces.values()],
        }
