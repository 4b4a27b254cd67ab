from __future__ import annotations

import pytest

from slackbridge.emulator.installs import (
    TOKEN_LIFETIME,
    find_incoming_webhook,
    install,
    refresh,
    revoke_token,
    uninstall,
)
from slackbridge.emulator.seed import build_state
from slackbridge.emulator.state import App, EmulatorState, Signal

TEAM = "T0ACME0001"
ALICE = "U0ACME0001"


def _app(state: EmulatorState, *, rotation: bool = False) -> App:
    app = App(
        id="A0TEST0001",
        name="Helpdesk",
        client_id="1.2",
        client_secret="secret",
        signing_secret="signing",
        verification_token="verify",
        manifest={},
        bot_display_name="helpdesk",
        token_rotation=rotation,
    )
    state.apps[app.id] = app
    return app


def _signals(state: EmulatorState) -> list[Signal]:
    seen: list[Signal] = []
    state.listeners.append(seen.append)
    return seen


def test_install_creates_bot_user_and_tokens() -> None:
    state = build_state()
    app = _app(state)
    result = install(
        state, app, TEAM, ALICE, bot_scopes=["chat:write"], user_scopes=["search:read"]
    )
    inst = result.installation
    bot = state.workspaces[TEAM].users[inst.bot_user_id]
    assert bot.is_bot and bot.app_id == app.id and bot.bot_id == inst.bot_id
    assert inst.bot_id.startswith("B") and inst.status == "active"
    assert result.bot_token is not None and result.bot_token.token.startswith("xoxb-")
    assert result.bot_token.user_id == inst.bot_user_id and result.bot_token.scopes == [
        "chat:write"
    ]
    assert result.user_token is not None and result.user_token.token.startswith("xoxp-")
    assert result.user_token.user_id == ALICE
    assert state.tokens[result.bot_token.token].installation_key == (app.id, TEAM)


def test_reinstall_keeps_bot_ids_adds_scopes_and_issues_new_tokens() -> None:
    state = build_state()
    app = _app(state)
    first = install(state, app, TEAM, ALICE, bot_scopes=["chat:write"], user_scopes=[])
    second = install(state, app, TEAM, ALICE, bot_scopes=["reactions:read"], user_scopes=[])
    assert second.installation.bot_user_id == first.installation.bot_user_id
    assert second.installation.bot_id == first.installation.bot_id
    assert second.bot_token is not None and first.bot_token is not None
    assert second.bot_token.token != first.bot_token.token
    assert second.bot_token.scopes == ["chat:write", "reactions:read"]
    assert not state.tokens[first.bot_token.token].revoked


def test_rotation_tokens_refresh_single_use() -> None:
    state = build_state()
    app = _app(state, rotation=True)
    result = install(state, app, TEAM, ALICE, bot_scopes=["chat:write"], user_scopes=[])
    token = result.bot_token
    assert token is not None and token.token.startswith("xoxe.xoxb-1-")
    assert token.refresh_token is not None and token.refresh_token.startswith("xoxe-1-")
    assert token.expires_at == pytest.approx(state.now() + TOKEN_LIFETIME, abs=5)
    new = refresh(state, app, token.refresh_token)
    assert new.token != token.token and new.refresh_token != token.refresh_token
    assert result.installation.bot_token == new.token
    assert not token.revoked  # the old token works until it expires
    with pytest.raises(LookupError):
        refresh(state, app, token.refresh_token)
    other = _app(state)
    other.id, other.client_id = "A0OTHER001", "3.4"
    state.apps[other.id] = other
    assert new.refresh_token is not None
    with pytest.raises(LookupError):
        refresh(state, other, new.refresh_token)


def test_revoking_bot_token_revokes_installation_and_announces() -> None:
    state = build_state()
    app = _app(state)
    result = install(
        state, app, TEAM, ALICE, bot_scopes=["chat:write"], user_scopes=["search:read"]
    )
    seen = _signals(state)
    assert result.user_token is not None and result.bot_token is not None
    revoke_token(state, result.user_token)
    assert result.user_token.revoked and result.installation.status == "active"
    assert seen[-1].kind == "tokens_revoked"
    assert seen[-1].data["tokens"] == {"oauth": [ALICE], "bot": []}
    revoke_token(state, result.bot_token)
    assert result.installation.status == "revoked"
    assert seen[-1].data == {
        "app_id": app.id,
        "tokens": {"oauth": [], "bot": [result.installation.bot_user_id]},
    }


def test_uninstall_revokes_everything_and_removes_bot() -> None:
    state = build_state()
    app = _app(state)
    result = install(
        state, app, TEAM, ALICE, bot_scopes=["chat:write", "incoming-webhook"], user_scopes=["a:b"]
    )
    hook = result.incoming_webhook
    assert hook is not None and hook["channel"] == "#general"
    parts = hook["url"].split("/services/")[1].split("/")
    assert find_incoming_webhook(state, *parts) is not None
    general = state.workspaces[TEAM].channels["C0ACME0GEN"]
    general.members.append(result.installation.bot_user_id)
    seen = _signals(state)
    uninstall(state, app.id, TEAM)
    assert result.installation.status == "uninstalled"
    assert all(t.revoked for t in state.tokens.values() if t.installation_key == (app.id, TEAM))
    assert result.installation.bot_user_id not in general.members
    assert state.workspaces[TEAM].users[result.installation.bot_user_id].deleted
    assert [s.kind for s in seen] == ["tokens_revoked", "app_uninstalled"]
    assert find_incoming_webhook(state, *parts) is None
    with pytest.raises(LookupError):
        uninstall(state, app.id, TEAM)
