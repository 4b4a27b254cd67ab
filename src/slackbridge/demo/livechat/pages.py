"""The live chat's pages: the front page (Add to Slack), a customer's website with the chat
widget, and the console (Sign in with Slack, where chats go)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from slackbridge.demo.livechat.chats import Account, Chat
from slackbridge.demo.livechat.signin import Operator

__all__ = ["console_page", "front_page", "widget_page"]

_STYLE = (
    "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}"
    "a.button,button{background:#4a154b;color:#fff;border:0;border-radius:6px;"
    "padding:.5rem 1rem;text-decoration:none;cursor:pointer}"
    "#widget{position:fixed;right:2rem;bottom:2rem;width:22rem;border:1px solid #ccc;"
    "border-radius:10px;background:#fff;box-shadow:0 4px 16px #0002;padding:1rem}"
    "#log{height:16rem;overflow:auto;border:1px solid #eee;padding:.5rem;margin:.5rem 0}"
    ".visitor{text-align:right}.agent b{color:#4a154b}.system{color:#888;font-style:italic}"
    "</style>"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"{_STYLE}</head><body>{body}</body></html>"
    )


def front_page(accounts: Sequence[Account]) -> str:
    rows = "".join(
        f"<li>{html.escape(a.id)}: {html.escape(a.team_name or 'not installed yet')}"
        + (
            f" — <a href='/site/{html.escape(a.id)}'>its website with the chat</a>"
            if a.team_id
            else ""
        )
        + "</li>"
        for a in accounts
    )
    return _page(
        "Live chat",
        "<h1>Live chat</h1><p>Talk to your website's visitors from Slack.</p>"
        "<p><a class='button' id='add-to-slack' href='/install'>Add to Slack</a> "
        "(no sign-up: your account is made on the way)</p>"
        "<p><a href='/console'>Console</a> (Sign in with Slack)</p>"
        f"<h2>Accounts</h2><ul>{rows or '<li>None yet</li>'}</ul>",
    )


_WIDGET_JS = """
const account = document.body.dataset.account;
let chat = null, last = 0, source = null;
const log = document.getElementById('log');
function show(m) {
  let el = document.getElementById('m-' + m.id);
  if (!el) { el = document.createElement('div'); el.id = 'm-' + m.id; log.appendChild(el); }
  el.className = 'message ' + m.who;
  el.textContent = '';
  const who = document.createElement('b');
  who.textContent = m.who === 'visitor' ? 'You' : m.name;
  el.appendChild(who);
  el.appendChild(document.createTextNode(': ' + (m.deleted ? '(deleted)' : m.text)));
  for (const f of m.files) {
    const a = document.createElement('a');
    a.href = f.url + '?token=' + chat.token; a.textContent = ' 📎 ' + f.name; a.className = 'file';
    el.appendChild(a);
  }
  log.scrollTop = log.scrollHeight;
}
function status(text) { document.getElementById('status').textContent = text; }
function listen() {
  source = new EventSource(`/api/chats/${chat.number}/events?token=${chat.token}&after=${last}`);
  source.addEventListener('message', e => { last = +e.lastEventId; show(JSON.parse(e.data)); });
  source.addEventListener('claimed', e => { last = +e.lastEventId;
    status(JSON.parse(e.data).assignee + ' is answering'); });
  source.addEventListener('closed', e => { last = +e.lastEventId; const d = JSON.parse(e.data);
    status('Chat closed' + (d.note ? ': ' + d.note : ''));
    document.getElementById('send').disabled = true;
    source.close(); });
}
async function send(ev) {
  ev.preventDefault();
  const text = document.getElementById('text').value.trim();
  const input = document.getElementById('file');
  const files = [];
  for (const f of input.files) {
    const data = new Uint8Array(await f.arrayBuffer());
    let bin = ''; for (const b of data) bin += String.fromCharCode(b);
    files.push({filename: f.name, content_base64: btoa(bin)});
  }
  if (!text && !files.length) return;
  let answer;
  if (!chat) {
    const visitor = document.getElementById('name').value.trim() || 'Visitor';
    answer = await fetch(`/api/accounts/${account}/chats`, {method: 'POST',
      headers: {'content-type': 'application/json'}, body: JSON.stringify({visitor, text, files})});
  } else {
    answer = await fetch(`/api/chats/${chat.number}/messages?token=${chat.token}`, {method: 'POST',
      headers: {'content-type': 'application/json'}, body: JSON.stringify({text, files})});
  }
  const body = await answer.json();
  if (!answer.ok) { status(body.error.message); return; }
  if (!chat) { chat = body.chat; document.getElementById('name').disabled = true;
    status('Waiting for an agent…'); listen(); }
  document.getElementById('text').value = ''; input.value = '';
}
document.getElementById('form').addEventListener('submit', send);
"""


def widget_page(account: Account) -> str:
    team = html.escape(account.team_name or "our team")
    body = (
        f"<h1>Welcome to {team}'s website</h1><p>Questions? The chat in the corner reaches our "
        "team in Slack.</p>"
        "<div id='widget'><h3>Chat with us</h3><div id='status'></div><div id='log'></div>"
        "<form id='form'><input id='name' placeholder='Your name'><br>"
        "<input id='text' placeholder='Write a message…' size='28'>"
        "<input id='file' type='file'> <button id='send'>Send</button></form></div>"
        f"<script>{_WIDGET_JS}</script>"
    )
    return _page(f"{team} — chat", body).replace(
        "<body>", f"<body data-account='{html.escape(account.id)}'>"
    )


def console_page(
    operator: Operator | None,
    accounts: Sequence[Account],
    channels: dict[str, list[dict[str, Any]]],
    chats: Sequence[Chat],
    message: str | None = None,
) -> str:
    note = f"<p class='note'>{html.escape(message)}</p>" if message else ""
    if operator is None:
        return _page(
            "Live chat console",
            f"<h1>Console</h1>{note}<p><a class='button' id='sign-in' "
            "href='/console/login'>Sign in with Slack</a></p>",
        )
    parts = []
    for a in accounts:
        options = "".join(
            f"<option value='{html.escape(c['id'])}'"
            f"{' selected' if c['id'] == a.channel_id else ''}>#{html.escape(c['name'])}</option>"
            for c in channels.get(a.id, [])
        )
        own = [c for c in chats if c.account_id == a.id]
        listed = "".join(
            f"<li>{html.escape(c.key)} {html.escape(c.visitor)}: {c.state}"
            + (f", {html.escape(c.assignee)}" if c.assignee else "")
            + "</li>"
            for c in own
        )
        parts.append(
            f"<section><h2>{html.escape(a.team_name or a.id)} ({html.escape(a.id)})</h2>"
            f"<form method='post' action='/console/accounts/{html.escape(a.id)}'>"
            "Chats go to <select name='mode'>"
            f"<option value='still'{' selected' if a.mode == 'still' else ''}>a thread in</option>"
            f"<option value='noisy'{' selected' if a.mode == 'noisy' else ''}>"
            "their own channel (#chat-0042), or else</option></select> "
            f"<select name='channel_id'>{options}</select> <button>Save</button></form>"
            f"<p><a href='/site/{html.escape(a.id)}'>The website with the chat</a></p>"
            f"<ul>{listed}</ul></section>"
        )
    body = (
        f"<h1>Console</h1>{note}<p>Signed in as <b id='operator'>{html.escape(operator.name)}</b>"
        f" ({html.escape(operator.email or operator.user_id)}) · "
        "<form method='post' action='/console/logout' style='display:inline'>"
        "<button>Sign out</button></form></p>"
        + (
            "".join(parts)
            or "<p>No account for your workspace: <a href='/install'>Add to Slack</a></p>"
        )
    )
    return _page("Live chat console", body)
