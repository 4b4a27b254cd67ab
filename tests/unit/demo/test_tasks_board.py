"""The task bot's pure core: accounts matched by email, tasks, answers and workspace status."""

from __future__ import annotations

import datetime as dt

from slackbridge.commands.declaration import build_commands
from slackbridge.demo.tasks.board import COMMANDS, Board

ACME = "T0ACME0001"
GLOBEX = "T0GLOBEX01"


def _installed(board: Board, team_id: str = ACME) -> None:
    board.workspace_event(
        "workspace.installed", {"workspace": {"team_id": team_id, "team_name": "Acme"}}
    )


def test_add_list_done_for_the_account_matched_by_email() -> None:
    board = Board()
    added = board.run(
        "add", {"title": "Write release notes", "due": "2026-12-04"}, ACME, "Alice@Acme.test"
    )
    assert not added.private
    assert added.text == "Added • #1 Write release notes (due Fri 4 Dec) for Alice Archer."
    board.run("add", {"title": "Order pizza", "due": None}, ACME, "alice@acme.test")
    board.run("add", {"title": "Bob's task", "due": None}, ACME, "bob@acme.test")

    listed = board.run("list", {}, ACME, "alice@acme.test")
    assert listed.private
    assert listed.text.splitlines() == [
        "Alice Archer's open tasks:",
        "• #1 Write release notes (due Fri 4 Dec)",  # due first, then the undated
        "• #2 Order pizza",
    ]
    assert board.run("done", {"id": 3}, ACME, "alice@acme.test").text == "#3 is not yours."
    assert board.run("done", {"id": 1}, ACME, "alice@acme.test").text.startswith("Done: ✅ #1")
    assert board.run("done", {"id": 1}, ACME, "alice@acme.test").text == "#1 was already done."
    assert board.run("done", {"id": 9}, ACME, "alice@acme.test").text == "There is no task #9."
    assert board.tasks[1].done and board.tasks[1].due == dt.date(2026, 12, 4)
    assert "#1" not in board.run("list", {}, ACME, "alice@acme.test").text


def test_tasks_stay_in_their_workspace() -> None:
    board = Board()
    board.run("add", {"title": "In Acme", "due": None}, ACME, "alice@acme.test")
    assert "no open tasks" in board.run("list", {}, GLOBEX, "alice@acme.test").text
    assert board.run("done", {"id": 1}, GLOBEX, "alice@acme.test").text == "There is no task #1."


def test_a_person_without_an_account_is_told_so() -> None:
    board = Board()
    answer = board.run("add", {"title": "x", "due": None}, ACME, "carol@acme.test")
    assert answer.private
    assert "I don't know carol@acme.test" in answer.text
    assert "no email visible" in board.run("list", {}, ACME, None).text
    assert not board.tasks


def test_workspace_status_follows_the_webhooks() -> None:
    board = Board()
    assert not board.connected(ACME)
    _installed(board)
    assert board.connected(ACME)
    board.workspace_event(
        "workspace.disconnected", {"workspace": {"team_id": ACME}, "error": "invalid_auth"}
    )
    assert not board.connected(ACME)
    assert board.workspaces[ACME].to_json() == {
        "team_id": ACME,
        "name": "Acme",
        "status": "disconnected",
        "reason": "invalid_auth",
    }
    _installed(board)  # installed again
    assert board.connected(ACME)
    board.workspace_event(
        "workspace.uninstalled", {"workspace": {"team_id": ACME}, "reason": "app_uninstalled"}
    )
    assert board.workspaces[ACME].status == "disconnected"
    assert board.workspaces[ACME].reason == "app_uninstalled"


def test_a_removed_workspace_stays_removed_when_the_uninstall_webhook_follows() -> None:
    board = Board()
    _installed(board)
    board.mark_removed(ACME)
    board.workspace_event(
        "workspace.uninstalled", {"workspace": {"team_id": ACME}, "reason": "removed"}
    )
    assert board.workspaces[ACME].status == "removed"
    assert board.workspace_event("workspace.ref_changed", {"workspace": {"team_id": ACME}}) is None
    assert board.workspace_event("workspace.installed", {"workspace": {}}) is None


def test_learned_workspaces_do_not_override_webhooks() -> None:
    board = Board()
    _installed(board)
    board.learn_workspace(ACME, "Acme", "uninstalled")
    board.learn_workspace(GLOBEX, "Globex", "uninstalled")
    assert board.connected(ACME)
    assert board.workspaces[GLOBEX].status == "disconnected"


def test_each_webhook_is_applied_once() -> None:
    board = Board()
    assert board.first_time("msg_1")
    assert not board.first_time("msg_1")
    assert board.first_time("")  # no id: nothing to recognise it by


def test_the_declared_commands_are_valid_and_their_examples_fit() -> None:
    built = build_commands(COMMANDS)  # raises on a bad pattern or an example that doesn't fit
    assert [c.name for c in built] == ["add", "list", "done"]
