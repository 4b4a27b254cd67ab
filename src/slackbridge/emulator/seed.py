"""The emulator's starting world: a deterministic default seed, or one loaded from TOML or JSON.

A seed file has this structure (TOML shown; JSON uses the same keys)::

    configuration_token = "xoxe.xoxp-1-…"   # optional: the token for apps.manifest.*
    configuration_user = "alice"            # optional: its owner (default: the first admin)

    [[workspaces]]
    id = "T0ACME0001"                       # optional: generated when absent
    name = "Acme"
    domain = "acme"                         # optional: from the name
    email_domain = "acme.test"              # optional

    [[workspaces.users]]
    id = "U0ACME0001"                       # optional
    name = "alice"
    real_name = "Alice Archer"
    email = "alice@acme.test"               # optional
    admin = true                            # optional (also: owner, title, tz, display_name)

    [[workspaces.channels]]
    id = "C0ACME0GEN"                       # optional; private channels get G… ids
    name = "general"
    private = false
    members = ["alice", "bob"]              # user names or ids; default: every person
    topic = ""                              # optional (also: purpose, creator)

    [[workspaces.dms]]
    members = ["alice", "bob"]              # two members: a DM (D…); three or more: a group DM
    id = "D0ACME0001"                       # optional

Every workspace also gets Slack's ``USLACKBOT`` user. Ids written in the seed are kept as they
are, so documentation and tests can cite them; ids generated from a seed are deterministic too.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from rich.console import Group
from rich.table import Table

from slackbridge.emulator.ids import IdFactory
from slackbridge.emulator.ops_channels import channel_name_error
from slackbridge.emulator.seed_default import DEFAULT_CONFIGURATION_TOKEN, DEFAULT_SEED
from slackbridge.emulator.state import (
    Channel,
    ChannelKind,
    EmulatorState,
    Token,
    User,
    Workspace,
)

__all__ = [
    "DEFAULT_CONFIGURATION_TOKEN",
    "Seed",
    "SeedError",
    "build_state",
    "default_seed",
    "describe_seed",
    "load_seed",
    "reset_state",
]

# The seed's creation time: channels report it as ``created`` so that seeded worlds are equal.
_SEED_EPOCH = 1_700_000_000


class SeedError(ValueError):
    """A seed that cannot be loaded; the message says where and what to fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedUser(_Model):
    id: str | None = Field(default=None, pattern=r"^[UW][A-Z0-9]{2,}$")
    name: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9._-]+$")
    real_name: str = ""
    email: str | None = None
    admin: bool = False
    owner: bool = False
    title: str = ""
    tz: str = "America/Los_Angeles"
    display_name: str = ""


class SeedChannel(_Model):
    id: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,}$")
    name: str
    private: bool = False
    members: list[str] | None = None
    topic: str = ""
    purpose: str = ""
    creator: str | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        error = channel_name_error(name)
        if error:
            raise ValueError(f"{error}: lowercase letters, digits, - and _ only, up to 80")
        return name


class SeedDM(_Model):
    id: str | None = Field(default=None, pattern=r"^[DG][A-Z0-9]{2,}$")
    members: list[str] = Field(min_length=2, max_length=9)


class SeedWorkspace(_Model):
    id: str | None = Field(default=None, pattern=r"^T[A-Z0-9]{2,}$")
    name: str = Field(min_length=1)
    domain: str | None = Field(default=None, pattern=r"^[a-z0-9-]+$")
    email_domain: str = ""
    users: list[SeedUser] = Field(min_length=1)
    channels: list[SeedChannel] = Field(default_factory=list)
    dms: list[SeedDM] = Field(default_factory=list)


class Seed(_Model):
    """A whole starting world (see the module docstring for the file format)."""

    configuration_token: str | None = Field(default=None, pattern=r"^xoxe\.xoxp-\S+$")
    configuration_user: str | None = None
    workspaces: list[SeedWorkspace] = Field(min_length=1)


def default_seed() -> Seed:
    """Two workspaces, Acme and Globex, with fixed ids that the docs and tests cite."""
    return Seed.model_validate(DEFAULT_SEED)


def load_seed(path: str | Path) -> Seed:
    """A seed from a ``.toml`` or ``.json`` file; :class:`SeedError` says what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SeedError(f"cannot read seed file {path}: {exc.strerror or exc}") from exc
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() == ".json":
            data = json.loads(raw)
        else:
            raise SeedError(f"seed file {path} must end in .toml or .json")
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SeedError(f"seed file {path} is not valid {path.suffix[1:].upper()}: {exc}") from exc
    try:
        seed = Seed.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'seed'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise SeedError(f"seed file {path} is invalid: {problems}") from exc
    build_state(seed)  # resolve names and duplicate ids now, so errors surface at load time
    return seed


def _resolve(ws: Workspace, ref: str, where: str) -> str:
    if ref in ws.users:
        return ref
    for user in ws.users.values():
        if user.name == ref:
            return user.id
    raise SeedError(f"{where}: no user {ref!r} in workspace {ws.name}")


def _build_workspace(state: EmulatorState, index: int, spec: SeedWorkspace) -> Workspace:
    where = f"workspaces.{index}"
    ws = Workspace(
        id=spec.id or state.ids.next("T"),
        name=spec.name,
        domain=spec.domain or "".join(c for c in spec.name.lower() if c.isalnum()) or "team",
        email_domain=spec.email_domain,
    )
    if ws.id in state.workspaces:
        raise SeedError(f"{where}.id: duplicate workspace id {ws.id}")
    ws.users["USLACKBOT"] = User(
        id="USLACKBOT",
        team_id=ws.id,
        name="slackbot",
        real_name="Slackbot",
        tz="America/Los_Angeles",
    )
    for i, u in enumerate(spec.users):
        user = User(
            id=u.id or state.ids.next("U"),
            team_id=ws.id,
            name=u.name,
            real_name=u.real_name or u.name,
            email=u.email,
            is_admin=u.admin or u.owner,
            is_owner=u.owner,
            tz=u.tz,
            title=u.title,
            display_name=u.display_name,
        )
        if user.id in ws.users or any(x.name == user.name for x in ws.users.values()):
            raise SeedError(f"{where}.users.{i}: duplicate user {user.name} ({user.id})")
        ws.users[user.id] = user
    people = [u.id for u in ws.users.values() if not u.is_bot and u.id != "USLACKBOT"]
    for i, c in enumerate(spec.channels):
        cwhere = f"{where}.channels.{i}"
        members = (
            [_resolve(ws, m, cwhere + ".members") for m in c.members]
            if c.members is not None
            else list(people)
        )
        creator = _resolve(ws, c.creator, cwhere + ".creator") if c.creator else people[0]
        channel = Channel(
            id=c.id or state.ids.next("G" if c.private else "C"),
            team_id=ws.id,
            name=c.name,
            kind="private" if c.private else "public",
            creator=creator,
            created=_SEED_EPOCH,
            members=list(dict.fromkeys(members)),
            topic=c.topic,
            purpose=c.purpose,
        )
        if any(x.id == channel.id or x.name == channel.name for x in ws.channels.values()):
            raise SeedError(f"{cwhere}: duplicate channel {channel.name} ({channel.id})")
        ws.channels[channel.id] = channel
    for i, d in enumerate(spec.dms):
        dwhere = f"{where}.dms.{i}"
        members = list(dict.fromkeys(_resolve(ws, m, dwhere + ".members") for m in d.members))
        kind: ChannelKind = "im" if len(members) == 2 else "mpim"
        if len(members) < 2:
            raise SeedError(f"{dwhere}.members: a DM needs two different users")
        channel_id = d.id or state.ids.next("D" if kind == "im" else "G")
        if (kind == "im") != channel_id.startswith("D"):
            raise SeedError(f"{dwhere}.id: DMs use D… ids, group DMs G… ids")
        names = [ws.users[m].name for m in members]
        channel = Channel(
            id=channel_id,
            team_id=ws.id,
            name=channel_id if kind == "im" else "mpdm-" + "--".join(names) + "-1",
            kind=kind,
            creator=members[0],
            created=_SEED_EPOCH,
            members=members,
        )
        if channel.id in ws.channels:
            raise SeedError(f"{dwhere}.id: duplicate conversation id {channel.id}")
        ws.channels[channel.id] = channel
    return ws


def build_state(
    seed: Seed | None = None, *, speed: float = 1.0, rate_limits: bool = True
) -> EmulatorState:
    """A fresh :class:`EmulatorState` holding ``seed`` (the default seed when None)."""
    seed = seed or default_seed()
    if speed <= 0:
        raise SeedError("speed must be greater than 0")
    state = EmulatorState(ids=IdFactory(salt=0), speed=speed, rate_limits_enabled=rate_limits)
    for i, spec in enumerate(seed.workspaces):
        ws = _build_workspace(state, i, spec)
        state.workspaces[ws.id] = ws
    first = next(iter(state.workspaces.values()))
    owner_ref = seed.configuration_user
    owner = None
    if owner_ref:
        for ws in state.workspaces.values():
            try:
                owner = ws.users[_resolve(ws, owner_ref, "configuration_user")]
                break
            except SeedError:
                continue
        if owner is None:
            raise SeedError(f"configuration_user: no user {owner_ref!r} in any workspace")
    else:
        owner = next(
            (u for u in first.users.values() if u.is_admin),
            next(u for u in first.users.values() if u.id != "USLACKBOT"),
        )
    token = seed.configuration_token or state.ids.token("xoxe.xoxp-1")
    state.configuration_token = token
    state.tokens[token] = Token(
        token=token, kind="config", team_id=owner.team_id, user_id=owner.id, app_id=None, scopes=[]
    )
    return state


def reset_state(state: EmulatorState, seed: Seed | None = None) -> None:
    """Put ``state`` back to ``seed`` in place, keeping its listeners, speed, base URL and
    rate-limit settings; listeners hear a ``reset`` signal."""
    from slackbridge.emulator.state import Signal

    fresh = build_state(seed, speed=state.speed, rate_limits=state.rate_limits_enabled)
    keep = {
        "listeners",
        "speed",
        "ack_timeout",
        "rate_limits_enabled",
        "base_url",
        "rate_limiter",
        "oidc_key",  # id_tokens signed before a reset still verify against the key set
    }
    for name in state.__dataclass_fields__:
        if name not in keep:
            setattr(state, name, getattr(fresh, name))
    state.rate_limiter.reset()
    state.emit(Signal(kind="reset", team_id=""))


def describe_seed(state: EmulatorState) -> Group:
    """Rich tables of the workspaces, their users and channels, and the configuration token."""
    parts: list[Any] = []
    for ws in state.workspaces.values():
        users = Table(title=f"{ws.name} ({ws.id}, {ws.domain}) — users", title_justify="left")
        for col in ("id", "name", "real name", "email", "role"):
            users.add_column(col)
        for u in ws.users.values():
            if u.id == "USLACKBOT":
                continue
            role = "owner" if u.is_owner else "admin" if u.is_admin else "bot" if u.is_bot else ""
            users.add_row(u.id, u.name, u.real_name, u.email or "", role)
        channels = Table(title=f"{ws.name} — conversations", title_justify="left")
        for col in ("id", "name", "kind", "members"):
            channels.add_column(col)
        for ch in ws.channels.values():
            names = ", ".join(ws.users[m].name if m in ws.users else m for m in ch.members)
            label = f"#{ch.name}" if ch.kind in {"public", "private"} else ch.name
            channels.add_row(ch.id, label, ch.kind, names)
        parts += [users, channels]
    token = state.tokens.get(state.configuration_token)
    owner = f" (owner {token.user_id} in {token.team_id})" if token else ""
    parts.append(f"Configuration token{owner}: [bold]{state.configuration_token}[/bold]")
    return Group(*parts)
