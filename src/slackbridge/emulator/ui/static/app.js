// The emulator's page. Everything goes through the control API under /_emulator/; the page
// polls it (the open channel about once a second) so that it stays simple and survives
// emulator restarts and resets without reconnect logic. This file holds the shared state and
// helpers, acting as the chosen user, the sidebar and side panel, and main(); icons.js,
// blocks.js, messages.js, modal.js and invite.js (loaded first) hold the rest.
"use strict";

const POLL_MESSAGES_MS = 1000;
const POLL_STATE_MS = 3000;
const POLL_DELIVERIES_MS = 2500;
const SHOWN_DELIVERIES = 15;
const QUICK_REACTIONS = ["thumbsup", "white_check_mark", "eyes", "tada"];

const S = {
  state: null,        // GET /_emulator/state
  team: null,         // selected team id
  user: null,         // selected user id
  channel: null,      // selected channel id
  thread: null,       // ts of the open thread's root
  messages: [],       // the open channel's messages (roots with their replies)
  ephemerals: [],     // what only the chosen user sees in the open channel
  editing: null,      // ts of the message being edited
  messagesKey: "",    // the last messages answer, to skip identical re-renders
  deliveriesKey: "",
  modal: null,        // {id, hash} of the modal on screen
  dismissed: new Set(), // modals closed and ephemeral messages dismissed on this page
  unreachable: false,    // the last poll failed: the status bar says so until one succeeds
};

const $ = (id) => document.getElementById(id);

// --- talking to the emulator -------------------------------------------------------------

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    throw new Error(`${path}: HTTP ${response.status}`);
  }
  if (!response.ok || data.ok === false) {
    throw new Error(data.detail || data.error || `HTTP ${response.status}`);
  }
  return data;
}

let statusShown = 0; // counts showStatus calls, so act() keeps a message its action showed

function showStatus(text, ok) {
  const el = $("status");
  el.textContent = text || "";
  el.className = ok ? "status ok" : "status";
  statusShown += 1;
}

async function act(fn) {
  const before = statusShown;
  try {
    await fn();
    if (statusShown === before) showStatus("");
  } catch (err) {
    showStatus(err.message);
  }
}

// --- lookups -----------------------------------------------------------------------------

function workspace() {
  return S.state ? S.state.workspaces.find((w) => w.id === S.team) : null;
}

function userById(id) {
  const ws = workspace();
  return ws ? ws.users.find((u) => u.id === id) : null;
}

function userName(id) {
  const u = userById(id);
  return u ? (u.profile.display_name || u.real_name || u.name) : id;
}

function people(ws) {
  return ws.users.filter((u) => !u.is_bot && !u.deleted && u.id !== "USLACKBOT");
}

function canSee(channel, userId) {
  if (channel.kind === "public") return !channel.is_archived;
  return channel.members.includes(userId);
}

function channelLabel(ch) {
  // Private channels show a lock drawn by lockIcon() beside their name, never an emoji: the
  // page must read the same on machines without emoji fonts.
  if (ch.kind === "public") return `# ${ch.name}`;
  if (ch.kind === "private") return ch.name;
  const others = ch.members.filter((m) => m !== S.user).map(userName);
  return others.length ? others.join(", ") : userName(S.user) + " (you)";
}

function lockIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "lock");
  svg.setAttribute("viewBox", "0 0 10 12");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "private channel");
  const shackle = document.createElementNS(ns, "path");
  shackle.setAttribute("d", "M2.6 5.2V3.6a2.4 2.4 0 0 1 4.8 0v1.6");
  shackle.setAttribute("class", "shackle");
  const body = document.createElementNS(ns, "rect");
  body.setAttribute("x", "1");
  body.setAttribute("y", "5.2");
  body.setAttribute("width", "8");
  body.setAttribute("height", "6.3");
  body.setAttribute("rx", "1.2");
  svg.append(shackle, body);
  return svg;
}

function channelLabelNode(ch) {
  const out = document.createDocumentFragment();
  if (ch.kind === "private") out.append(lockIcon());
  out.append(channelLabel(ch));
  return out;
}

function appName(appId) {
  const app = S.state && S.state.apps.find((a) => a.id === appId);
  return app ? app.name : appId;
}

function colorFor(key) {
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h}, 45%, 42%)`;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

// --- acting as the chosen user -----------------------------------------------------------

async function post(text, threadTs, broadcast) {
  const body = { team_id: S.team, channel_id: S.channel, user_id: S.user, text };
  if (threadTs) body.thread_ts = threadTs;
  if (broadcast) body.reply_broadcast = true;
  await api("POST", "/_emulator/messages", body);
}

// A file shared as the chosen user (in the thread when threadTs is set): apps hear the
// file_share message and file_shared, as for a file dropped into Slack.
async function shareFile(file, threadTs, comment) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const body = {
    team_id: S.team, channel_id: S.channel, user_id: S.user,
    filename: file.name, content_base64: btoa(binary),
  };
  if (comment) body.initial_comment = comment;
  if (threadTs) body.thread_ts = threadTs;
  await api("POST", "/_emulator/files", body);
}

// An app's answer only for the user (ephemeral, now or later through its response_url) shows
// in the channel, marked "Only visible to you", with the next poll of the channel.
async function runCommand(line) {
  const [command, ...rest] = line.trim().split(/\s+/);
  await api("POST", "/_emulator/commands", {
    team_id: S.team, channel_id: S.channel, user_id: S.user, command, text: rest.join(" "),
  });
}

function react(ts, name, remove) {
  return act(async () => {
    await api("POST", "/_emulator/reactions", {
      team_id: S.team, channel_id: S.channel, user_id: S.user, ts, name, remove: !!remove,
    });
    await refreshMessages();
  });
}

function clickAction(msg, actionId, blockId) {
  return act(async () => {
    await api("POST", "/_emulator/actions", {
      team_id: S.team, channel_id: S.channel, user_id: S.user,
      message_ts: msg.ts, action_id: actionId, block_id: blockId || undefined,
    });
    await Promise.all([refreshMessages(), loadState(), refreshDeliveries()]);
  });
}

function openThread(ts) {
  S.thread = ts;
  $("thread-messages").dataset.scrolled = "0";
  renderThread();
  $("thread-text").focus();
}

function wireComposer(formId, textId, threadTs, broadcastId, fileId) {
  const form = $(formId);
  const input = $(textId);
  const submit = () => act(async () => {
    const text = input.value.trim();
    if (!text || !S.channel) return;
    const thread = threadTs();
    if (isInvite(text)) await runInvite(text);
    else if (!thread && text.startsWith("/")) await runCommand(text);
    else await post(text, thread, broadcastId && $(broadcastId).checked);
    input.value = "";
    await Promise.all([refreshMessages(), loadState(), refreshDeliveries()]);
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit();
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      submit();
    }
  });
  const picker = $(fileId);
  picker.addEventListener("change", () => act(async () => {
    const file = picker.files && picker.files[0];
    picker.value = "";
    if (!file || !S.channel) return;
    await shareFile(file, threadTs(), input.value.trim());
    input.value = "";
    await Promise.all([refreshMessages(), loadState(), refreshDeliveries()]);
  }));
}

// --- sidebar, selects, side panel ----------------------------------------------------------

function renderSelects() {
  const wsSelect = $("workspace");
  wsSelect.replaceChildren(
    ...S.state.workspaces.map((w) => el("option", { value: w.id, text: w.name })),
  );
  if (!workspace()) S.team = S.state.workspaces.length ? S.state.workspaces[0].id : null;
  wsSelect.value = S.team || "";
  const ws = workspace();
  const users = ws ? people(ws) : [];
  $("user").replaceChildren(
    ...users.map((u) => el("option", { value: u.id, text: `${u.real_name} (@${u.name})` })),
  );
  if (!users.some((u) => u.id === S.user)) S.user = users.length ? users[0].id : null;
  $("user").value = S.user || "";
}

function channelItem(ch) {
  return el("li", {
    class: ch.id === S.channel ? "active" : "",
    "data-channel-id": ch.id,
    onclick: () => selectChannel(ch.id),
  }, channelLabelNode(ch));
}

function renderSidebar() {
  const ws = workspace();
  $("team-name").textContent = ws ? ws.name : "";
  const visible = ws ? ws.channels.filter((c) => canSee(c, S.user)) : [];
  const rooms = visible.filter((c) => c.kind === "public" || c.kind === "private");
  const dms = visible.filter((c) => c.kind === "im" || c.kind === "mpim");
  if (!visible.some((c) => c.id === S.channel)) {
    const remembered = localStorage.getItem(`sb.channel.${S.team}`);
    const pick = visible.find((c) => c.id === remembered) || rooms[0] || dms[0];
    S.channel = pick ? pick.id : null;
    S.thread = null;
    S.messagesKey = "";
  }
  $("channels").replaceChildren(...rooms.map(channelItem));
  $("dms").replaceChildren(...dms.map(channelItem));
  const ch = visible.find((c) => c.id === S.channel);
  $("channel-title").replaceChildren(ch ? channelLabelNode(ch) : "No conversation");
  $("channel-topic").textContent = ch ? ch.topic || ch.purpose || "" : "";
  $("composer-text").placeholder = ch
    ? `Message ${channelLabel(ch)} as ${userName(S.user)}`
      + " (/command runs a slash command; /invite @name adds someone)"
    : "";
}

function renderInstallations() {
  const list = $("installations");
  const mine = S.state.installations.filter((i) => i.team_id === S.team);
  if (!mine.length) {
    list.replaceChildren(el("li", { class: "none", text: "No apps installed in this workspace." }));
    return;
  }
  list.replaceChildren(
    ...mine.map((i) => el(
      "li",
      { "data-app-id": i.app_id },
      el("b", { text: appName(i.app_id) }), " ",
      el("span", { class: `pill ${i.status}`, text: i.status }),
      el("div", { class: "sub", text: `${i.app_id} · bot ${userName(i.bot_user_id)}` }),
      el("div", { class: "sub", text: `${i.bot_scopes.length} scopes` }),
    )),
  );
}

function deliverySummary(d) {
  try {
    if (d.kind === "event" || d.kind === "url_verification") {
      const body = JSON.parse(d.body);
      if (body.type !== "event_callback") return body.type;
      const ev = body.event || {};
      return ev.subtype ? `${ev.type} (${ev.subtype})` : ev.type;
    }
    if (d.kind === "command") return new URLSearchParams(d.body).get("command") || "command";
    const form = new URLSearchParams(d.body);
    const payload = form.get("payload");
    return payload ? JSON.parse(payload).type : d.kind;
  } catch (err) {
    return d.kind;
  }
}

async function refreshDeliveries() {
  if (!S.team) return;
  const response = await fetch(`/_emulator/deliveries?team_id=${encodeURIComponent(S.team)}`);
  const data = await response.json();
  const recent = (data.deliveries || []).slice(-SHOWN_DELIVERIES).reverse();
  const key = JSON.stringify(recent.map((d) => [d.id, d.status, d.attempts.length]));
  if (key === S.deliveriesKey) return;
  S.deliveriesKey = key;
  const list = $("deliveries");
  if (!recent.length) {
    list.replaceChildren(el("li", { class: "none", text: "Nothing delivered to apps yet." }));
    return;
  }
  list.replaceChildren(
    ...recent.map((d) => el(
      "li",
      { "data-delivery-id": d.id },
      el("b", { text: deliverySummary(d) }), " ",
      el("span", { class: `pill ${d.status}`, text: d.status }),
      el("div", {
        class: "sub",
        text: `${appName(d.app_id)} · ${d.transport} · ${d.attempts.length} attempt(s)`
          + (d.response_status ? ` · HTTP ${d.response_status}` : ""),
      }),
    )),
  );
}

async function loadState() {
  S.state = await api("GET", "/_emulator/state");
  renderSelects();
  renderSidebar();
  renderInstallations();
  renderModal();
}

function selectChannel(id) {
  S.channel = id;
  S.thread = null;
  S.editing = null;
  S.messagesKey = "";
  S.messages = [];
  S.ephemerals = [];
  localStorage.setItem(`sb.channel.${S.team}`, id);
  $("messages").dataset.scrolled = "0";
  renderSidebar();
  renderMessages();
  act(refreshMessages);
}

const UNREACHABLE = "Cannot reach the emulator: ";

function every(ms, fn) {
  const tick = async () => {
    try {
      if (!document.hidden) {
        await fn();
        if (S.unreachable) {
          // Back: take the warning down (unless something else was said since).
          S.unreachable = false;
          if ($("status").textContent.startsWith(UNREACHABLE)) showStatus("");
        }
      }
    } catch (err) {
      S.unreachable = true;
      showStatus(UNREACHABLE + err.message);
    } finally {
      setTimeout(tick, ms);
    }
  };
  setTimeout(tick, ms);
}

async function main() {
  S.team = localStorage.getItem("sb.team");
  S.user = localStorage.getItem("sb.user");
  $("workspace").addEventListener("change", (ev) => {
    S.team = ev.target.value;
    S.user = null;
    S.channel = null;
    S.deliveriesKey = "";
    localStorage.setItem("sb.team", S.team);
    act(async () => {
      await loadState();
      selectChannel(S.channel);
      await refreshDeliveries();
    });
  });
  $("user").addEventListener("change", (ev) => {
    S.user = ev.target.value;
    S.editing = null;
    S.ephemerals = [];
    S.messagesKey = "";
    localStorage.setItem("sb.user", S.user);
    renderSidebar();
    renderMessages();
    renderModal();
    act(refreshMessages);
  });
  $("thread-close").addEventListener("click", () => {
    S.thread = null;
    renderThread();
  });
  wireComposer("composer", "composer-text", () => null, null, "composer-file");
  wireComposer("thread-composer", "thread-text", () => S.thread, "thread-broadcast", "thread-file");
  $("modal-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    act(submitModal);
  });
  $("modal-cancel").addEventListener("click", () => act(cancelModal));
  await act(async () => {
    await loadState();
    await Promise.all([refreshMessages(), refreshDeliveries()]);
  });
  every(POLL_MESSAGES_MS, refreshMessages);
  every(POLL_STATE_MS, loadState);
  every(POLL_DELIVERIES_MS, refreshDeliveries);
}

main();
