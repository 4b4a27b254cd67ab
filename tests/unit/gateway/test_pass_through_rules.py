"""Which Web API methods the pass-through refuses, and why."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slackbridge.api.slack import method_refusal


@pytest.mark.parametrize(
    "method",
    [
        "auth.revoke",
        "Auth.revoke",
        "AUTH.REVOKE",
        "auth.revokE",
        "apps.uninstall",
        "APPS.Uninstall",
        "oauth.v2.access",
        "OAuth.access",
        "openid.connect.token",
        "apps.connections.open",
        "Apps.Connections.Open",
    ],
)
def test_denied_methods_in_any_case(method: str) -> None:
    for allow_admin in (False, True):
        refusal = method_refusal(method, allow_admin=allow_admin)
        assert refusal is not None and refusal.code == "method_forbidden"


def test_admin_methods_need_the_setting() -> None:
    for method in ("admin.users.list", "Admin.users.list", "ADMIN.TEAMS.CREATE"):
        refusal = method_refusal(method, allow_admin=False)
        assert refusal is not None and refusal.code == "method_forbidden"
        assert "SLACKBRIDGE_PASS_THROUGH_ADMIN_METHODS" in refusal.message
    assert method_refusal("admin.users.list", allow_admin=True) is None
    shouting = method_refusal("Admin.users.list", allow_admin=True)
    assert shouting is not None and shouting.code == "invalid_request"


@pytest.mark.parametrize(
    "method",
    ["chat.postMessage", "conversations.list", "users.profile.get", "apps.manifest.create"],
)
def test_ordinary_methods_pass(method: str) -> None:
    assert method_refusal(method, allow_admin=False) is None


@pytest.mark.parametrize("method", ["Chat.postMessage", "chat.PostMessage", "CONVERSATIONS.LIST"])
def test_other_spellings_are_invalid(method: str) -> None:
    refusal = method_refusal(method, allow_admin=False)
    assert refusal is not None and refusal.code == "invalid_request"


_DENIED = ["auth.revoke", "apps.uninstall", "oauth.v2.access", "apps.connections.open"]


@given(st.sampled_from(_DENIED), st.data())
def test_no_casing_of_a_denied_method_passes(method: str, data: st.DataObject) -> None:
    flips = data.draw(st.lists(st.booleans(), min_size=len(method), max_size=len(method)))
    cased = "".join(c.upper() if flip else c for c, flip in zip(method, flips, strict=True))
    assert method_refusal(cased, allow_admin=True) is not None
