"""The default seed's data: Acme and Globex with fixed ids that the docs and tests cite.

Two workspaces with four people each (one admin and owner), ``#general`` and ``#support``
(public), ``#staff`` (private), DMs and a group DM, and a configuration token that stays the same
from run to run so documentation can show it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_CONFIGURATION_TOKEN", "DEFAULT_SEED"]

DEFAULT_CONFIGURATION_TOKEN = "xoxe.xoxp-1-Mi0yLTAwMDAwMDAwMDEtZW11bGF0b3ItY29uZmln"


def _user(uid: str, name: str, real: str, domain: str, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "name": name, "real_name": real, "email": f"{name}@{domain}", **extra}


DEFAULT_SEED: dict[str, Any] = {
    "configuration_token": DEFAULT_CONFIGURATION_TOKEN,
    "configuration_user": "U0ACME0001",
    "workspaces": [
        {
            "id": "T0ACME0001",
            "name": "Acme",
            "domain": "acme",
            "email_domain": "acme.test",
            "users": [
                _user(
                    "U0ACME0001",
                    "alice",
                    "Alice Archer",
                    "acme.test",
                    admin=True,
                    owner=True,
                    title="Head of Support",
                ),
                _user("U0ACME0002", "bob", "Bob Baker", "acme.test", title="Engineer"),
                _user(
                    "U0ACME0003",
                    "carol",
                    "Carol Chen",
                    "acme.test",
                    title="Support Agent",
                    tz="Europe/London",
                ),
                _user("U0ACME0004", "dave", "Dave Diaz", "acme.test", title="Sales"),
            ],
            "channels": [
                {
                    "id": "C0ACME0GEN",
                    "name": "general",
                    "creator": "alice",
                    "purpose": "Company-wide announcements",
                },
                {
                    "id": "C0ACME0SUP",
                    "name": "support",
                    "creator": "alice",
                    "members": ["alice", "bob", "carol"],
                    "topic": "Customer questions",
                },
                {
                    "id": "G0ACME0STF",
                    "name": "staff",
                    "private": True,
                    "creator": "alice",
                    "members": ["alice", "bob"],
                },
            ],
            "dms": [
                {"id": "D0ACME0001", "members": ["alice", "bob"]},
                {"id": "D0ACME0002", "members": ["alice", "carol"]},
                {"id": "G0ACME0MPM", "members": ["alice", "bob", "carol"]},
            ],
        },
        {
            "id": "T0GLBX0001",
            "name": "Globex",
            "domain": "globex",
            "email_domain": "globex.test",
            "users": [
                _user(
                    "U0GLBX0001",
                    "erin",
                    "Erin Evans",
                    "globex.test",
                    admin=True,
                    owner=True,
                    title="CTO",
                ),
                _user(
                    "U0GLBX0002",
                    "frank",
                    "Frank Fischer",
                    "globex.test",
                    tz="Europe/Berlin",
                ),
                _user("U0GLBX0003", "grace", "Grace Garcia", "globex.test"),
                _user("U0GLBX0004", "heidi", "Heidi Hall", "globex.test"),
            ],
            "channels": [
                {"id": "C0GLBX0GEN", "name": "general", "creator": "erin"},
                {
                    "id": "C0GLBX0SUP",
                    "name": "support",
                    "creator": "erin",
                    "members": ["erin", "frank", "grace"],
                },
                {
                    "id": "G0GLBX0STF",
                    "name": "staff",
                    "private": True,
                    "creator": "erin",
                    "members": ["erin", "frank"],
                },
            ],
            "dms": [
                {"id": "D0GLBX0001", "members": ["erin", "frank"]},
                {"id": "D0GLBX0002", "members": ["erin", "grace"]},
            ],
        },
    ],
}
