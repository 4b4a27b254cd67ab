"""Malformed requests for the emulator, as Hypothesis strategies.

A request is drawn with placeholders (``$BOT_TOKEN``, ``$TS``, ``$VIEW`` …) instead of real ids,
so that each example can run against a freshly reset world (``fuzz_world.fresh_world`` says what
each placeholder stands for); :func:`resolve` swaps them in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import httpx
from hypothesis import strategies as st

from tests.integration.emulator.fuzz_world import APP_URL

__all__ = ["PLACEHOLDERS", "Req", "app_answer", "json_args", "request_for", "resolve"]

# Argument and field names the emulator reads, so that drawn bodies reach past "missing field".
_NAMES = (  # noqa: SIM905 - a word list reads better as words
    "token channel channel_id user user_id users team team_id ts thread_ts message_ts text blocks "
    "attachments metadata username icon_url icon_emoji reply_broadcast name timestamp cursor "
    "limit types exclude_archived latest oldest inclusive is_private return_im email profile "
    "value view view_id external_id hash trigger_id filename length files title initial_comment "
    "file bot manifest app_id client_id client_secret code redirect_uri grant_type refresh_token "
    "test command action_id block_id values remove content content_base64 authorize_url deny "
    "enabled overrides reset method url status latency drop times error retry_after scopes reason "
    "connection_id callback_id type response_type replace_original delete_original include_locale "
    "include_num_members kind"
).split()
PLACEHOLDERS = (  # noqa: SIM905 - a word list reads better as words
    "$TEAM $CHANNEL $PRIVATE $DM $USER $BOT_USER $TS $HUMAN_TS $VIEW $APP $BOT_TOKEN $USER_TOKEN "
    "$APP_TOKEN $CONFIG_TOKEN $CLIENT_ID $CLIENT_SECRET $TRIGGER $FILE $RESPONSE $AUTHORIZE_URL "
    "$BOT_ID $CODE"
).split()
_ODD = (
    "",
    " ",
    "\x00",
    "\u202e\u202d",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
    "é" * 3,
    "\ufeff",
    "%",
    "%zz",
    "../../etc/passwd",
    "<@U0ACME0001>",
    "#general",
    "/ticket",
    "1e999",
    "NaN",
    "-1",
    "0",
    "1531420618.000200",
    "T0ACME0001",
    "C0ACME0GEN",
    "U0ACME0001",
    "null",
    "[]",
    "{}",
    '{"type": "modal"}',
    "true",
    "http://[::1",
    "http://app.test:abc/",
    "http://app.test:99999/oauth",
    "javascript:alert(1)",
    "http://app.test/oauth/../x",
)
_TEXT = st.text(max_size=40)  # any code point, lone surrogates included
# Huge strings, built lazily so that Hypothesis' reports stay readable.
_HUGE = st.sampled_from([("9", 5000), ("x", 60_000), ("é", 41_000)]).map(lambda p: p[0] * p[1])
_SCALAR = st.one_of(
    _TEXT,
    st.sampled_from(_ODD),
    _HUGE,
    st.sampled_from(PLACEHOLDERS),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.booleans(),
    st.none(),
)
_KEY = st.one_of(st.sampled_from(_NAMES), _TEXT)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEY, inner, max_size=3),
    max_leaves=8,
)


# A plausible value for each name (a list: one of them, None meaning absent): drawn bodies start
# from these and break a few of them, so that requests get past the first checks and reach the
# deeper ones.
_PLAUSIBLE: dict[str, Any] = {
    "channel": "$CHANNEL",
    "channel_id": "$CHANNEL",
    "team": "$TEAM",
    "team_id": "$TEAM",
    "user": "$USER",
    "user_id": "$USER",
    "users": "$BOT_USER",
    "ts": "$HUMAN_TS",
    "message_ts": "$TS",
    "thread_ts": "$HUMAN_TS",
    "timestamp": "$TS",
    "text": "hi",
    "name": "eyes",
    "view_id": ["$VIEW", None],
    "trigger_id": "$TRIGGER",
    "view": {"type": "modal", "title": {"type": "plain_text", "text": "T"}, "blocks": []},
    "file": "$FILE",
    "files": [{"id": "$FILE"}],
    "filename": "a.txt",
    "length": 2,
    "app_id": "$APP",
    "bot": "$BOT_ID",
    "email": "alice@acme.test",
    "command": "/ticket",
    "action_id": ["go", "pick", "when", "ext", "t"],
    "block_id": ["b", "sel", None, None],
    "value": ["a", "zz", "1700000000", ["a"], {"a": 1}],
    "values": {"in": {"t": "x"}, "sel": {"pick": "a"}, "dt": {"d": "soon"}},
    "callback_id": "new",
    "client_id": "$CLIENT_ID",
    "client_secret": "$CLIENT_SECRET",
    "code": "$CODE",
    "redirect_uri": [f"{APP_URL}/oauth", None],
    "grant_type": ["authorization_code", "refresh_token", None],
    "authorize_url": "$AUTHORIZE_URL",
    "manifest": {"display_information": {"name": "Fuzz"}},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}],
    "content": "hello",
    "profile": {"title": "x"},
    "types": "public_channel,private_channel,im,mpim",
    "limit": 2,
}


@st.composite
def _mutated_args(draw: st.DrawFn) -> dict[str, Any]:
    """Every plausible field, a few of them dropped and a few replaced by odd values."""
    names = sorted(_PLAUSIBLE)
    dropped = draw(st.sets(st.sampled_from(names), max_size=3))
    broken = draw(st.sets(st.sampled_from(names), max_size=3))
    out: dict[str, Any] = {}
    for name in names:
        if name in dropped:
            continue
        good = _PLAUSIBLE[name]
        if isinstance(good, list) and name != "files":
            good = draw(st.sampled_from(good))
            if good is None:
                continue
        out[name] = draw(_VALUE) if name in broken else good
    return out


def json_args() -> st.SearchStrategy[dict[str, Any]]:
    """An arguments object: plausible ones with a few values broken, or any names and values."""
    return st.one_of(_mutated_args(), st.dictionaries(_KEY, _VALUE, max_size=6))


@dataclass
class Req:
    """One HTTP request, placeholders still in it."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


# What an app might answer a command, an interaction or a suggestion request with.
_ANSWER_FIELDS: dict[str, Any] = {
    "response_type": ["in_channel", "ephemeral", None],
    "text": "answered",
    "blocks": [
        {
            "type": "actions",
            "block_id": "b",
            "elements": [{"type": "button", "action_id": "go", "text": {"type": "plain_text"}}],
        }
    ],
    "thread_ts": ["$HUMAN_TS", None],
    "response_action": ["errors", "update", "push", "clear", None],
    "errors": {"in": "Too short"},
    "view": _PLAUSIBLE["view"],
    "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}],
    "replace_original": [True, None],
}


@st.composite
def app_answer(draw: st.DrawFn) -> tuple[int, dict[str, str], bytes]:
    """The installed app's answer (status, headers, body): sensible or not."""
    status = draw(st.sampled_from([200, 200, 200, 204, 302, 400, 500]))
    kind = draw(st.sampled_from(["fields", "fields", "value", "text", "empty"]))
    if kind == "fields":
        answer: dict[str, Any] = {}
        for name, good in _ANSWER_FIELDS.items():
            if isinstance(good, list) and name not in ("blocks", "options"):
                good = draw(st.sampled_from(good))
            if good is not None and draw(st.booleans()):
                answer[name] = draw(st.one_of(st.just(good), st.just(good), _VALUE))
        return status, {"Content-Type": "application/json"}, _json_bytes(answer, True)
    if kind == "value":
        return status, {"Content-Type": "application/json"}, _json_bytes(draw(_VALUE), True)
    if kind == "text":
        return status, {"Content-Type": "text/plain"}, draw(st.binary(max_size=40))
    return status, {}, b""


def _as_form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json_bytes(value: Any, ascii_only: bool) -> bytes:
    # json (not orjson) writes NaN, huge integers and lone surrogates: all things a careless
    # client sends and a server must refuse politely.
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


_CONTENT_TYPES = (
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=latin-1",
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=bogus",
    "text/plain",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/xml",
    "image/png",
    "text/html; charset=utf-7",
    ";;;",
    "",
)


_KINDS = ("form", "json", "json_value", "multipart", "raw", "none")


@st.composite
def body(draw: st.DrawFn, usual: tuple[str, ...]) -> tuple[dict[str, str], bytes]:
    """Headers and bytes of a body: good-looking or broken, in any content type (half of them
    in one of the ``usual`` kinds of the route, so that most reach its handler)."""
    args = draw(json_args())
    kind = draw(st.one_of(st.sampled_from(usual), st.sampled_from(_KINDS)))
    if kind == "form":
        pairs = {k: _as_form_value(v) for k, v in args.items()}
        raw = urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode()
        return {"Content-Type": "application/x-www-form-urlencoded"}, raw
    if kind == "json":
        ctype = draw(st.sampled_from(_CONTENT_TYPES[:3]))
        return {"Content-Type": ctype}, _json_bytes(args, draw(st.booleans()))
    if kind == "json_value":
        return {"Content-Type": "application/json"}, _json_bytes(draw(_VALUE), True)
    if kind == "multipart":
        data = {
            k.encode("utf-8", "surrogatepass").decode("ascii", "replace"): _as_form_value(v)
            .encode("utf-8", "surrogatepass")
            .decode("utf-8", "replace")
            for k, v in args.items()
        }
        built = httpx.Request(
            "POST", "http://x/", data=data, files={"file": ("a.txt", draw(st.binary(max_size=64)))}
        )
        return {"Content-Type": built.headers["Content-Type"]}, built.read()
    if kind == "raw":
        ctype = draw(st.sampled_from(_CONTENT_TYPES))
        raw = draw(
            st.one_of(st.binary(max_size=200), st.sampled_from([b"{", b'{"a":', b"\xff\xfe"]))
        )
        return ({"Content-Type": ctype} if ctype else {}), raw
    return {}, b""


@st.composite
def _auth(draw: st.DrawFn) -> dict[str, str]:
    choice = draw(
        st.sampled_from(["none", "bot", "user", "app", "config", "garbage", "basic", "scheme"])
    )
    if choice == "none":
        return {}
    if choice in ("bot", "user", "app", "config"):
        return {"Authorization": f"Bearer ${choice.upper()}_TOKEN"}
    if choice == "basic":
        return {"Authorization": draw(st.sampled_from(["Basic $BASIC", "Basic !!!", "Basic "]))}
    if choice == "scheme":
        return {"Authorization": draw(st.sampled_from(["Bearer", "Token abc", "Bearer  "]))}
    ascii_text = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60)
    return {"Authorization": "Bearer " + draw(ascii_text)}


def _path_value(draw: st.DrawFn, name: str) -> str:
    known = {"team_id": "$TEAM", "channel_id": "$CHANNEL", "app_id": "$APP", "url_id": "$RESPONSE"}
    raw = draw(st.one_of(st.sampled_from([known.get(name, "x"), "$TEAM"]), _TEXT))
    return quote(raw.encode("utf-8", "surrogatepass"), safe="$/" if name == "url_id" else "$")


@st.composite
def request_for(
    draw: st.DrawFn,
    http_method: str,
    path: str,
    params: list[str],
    usual: tuple[str, ...] = ("json",),
) -> Req:
    """A request to one route: path parameters, auth, query string and body all drawn; bodies
    are mostly of the ``usual`` kinds (``form``, ``json``, ``multipart``)."""
    for name in params:
        path = path.replace("{" + name + ":path}", "{" + name + "}")
        path = path.replace("{" + name + "}", _path_value(draw, name))
    headers = draw(_auth())
    query = draw(st.dictionaries(st.sampled_from(_NAMES), st.sampled_from([*PLACEHOLDERS, "x"])))
    if query:
        path += "?" + urlencode(query)
    content = b""
    if http_method == "POST":
        extra, content = draw(body(usual))
        headers.update(extra)
    return Req(http_method, path, headers, content)


def resolve(req: Req, values: dict[str, str]) -> Req:
    """``req`` with every placeholder replaced by this world's value."""

    # Longest first, so that $TS never eats the start of $TSX-like names; form bodies and query
    # strings carry the placeholders URL-encoded.
    keys = sorted(values, key=len, reverse=True)
    pairs = [(k, values[k]) for k in keys] + [(quote(k, safe=""), quote(values[k])) for k in keys]

    def sub(text: str) -> str:
        for key, value in pairs:
            text = text.replace(key, value)
        return text

    content = req.content
    for key, value in pairs:
        content = content.replace(key.encode(), value.encode())
    headers = {k: sub(v) for k, v in req.headers.items()}
    return Req(req.method, sub(req.path), headers, content)
