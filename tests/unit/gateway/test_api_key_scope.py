"""What an API key's scope allows: permissions, workspaces and install refs."""

from __future__ import annotations

import pytest

from slackbridge.store.repositories.api_keys import (
    FULL_SCOPE,
    ApiKeyScope,
    parse_permissions,
)


def test_admin_includes_read_and_write() -> None:
    admin = ApiKeyScope(permissions=frozenset({"admin"}))
    assert all(admin.allows(p) for p in ("read", "write", "admin"))
    reader = ApiKeyScope(permissions=frozenset({"read"}))
    assert reader.allows("read") and not reader.allows("write") and not reader.allows("admin")
    assert ApiKeyScope().describe_permissions() == "read,write"
    assert FULL_SCOPE.describe_permissions() == "read,write,admin" and FULL_SCOPE.everywhere


def test_workspaces_and_refs_each_admit_a_workspace() -> None:
    scope = ApiKeyScope(team_ids=("T0ACME0001",), product_refs=("account-7",))
    assert not scope.everywhere
    assert scope.covers("T0ACME0001")
    assert scope.covers("T0GLBX0001", ["account-9", "account-7"])
    assert not scope.covers("T0GLBX0001", ["account-9", None])
    assert not scope.covers("T0GLBX0001")
    assert ApiKeyScope().covers("T0ANY00001")


def test_permissions_are_parsed_forgivingly_but_strictly() -> None:
    assert parse_permissions(" Read , write,") == {"read", "write"}
    with pytest.raises(ValueError, match="unknown permission 'delete'"):
        parse_permissions("read,delete")
    with pytest.raises(ValueError, match="at least one"):
        parse_permissions(" , ")
