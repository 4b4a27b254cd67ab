// The emulator's page. Everything goes through the control API under /_emulator/; the page
// polls it (the open channel about once a second) so that it stays simple and survives
// emulator restarts and resets without reconnect logic.
"use strict";

const POLL_MESSAGES_MS = 1000;
const POLL_STATE_MS = 3000;
const POLL_DELIVERIES_MS = 2500;
const SHOWN_DELIVERIES = 15;
const QUICK_REACTIONS = ["thumbsup", "white_check_mark", "eyes", "tada"];
const EMOJI = {
  thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎", white_check_mark: "✅",
  heavy_check_mark: "✔️", eyes: "👀", tada: "🎉", heart: "❤️", smile: "😄", joy: "😂",
  rocket: "🚀", fire: "🔥", wave: "👋", pray: "🙏", raised_hands: "🙌", x: "❌",
  warning: "⚠️", question: "❓", ok_hand: "👌", clap: "👏", thinking_face: "🤔",
  slightly_smiling_face: "🙂", wrench: "🔧", bug: "🐛", memo: "📝", ticket: "🎫",
};

const S = {
  state: null,        // GET /_emulator/state
  team: null,         // selected team id
  user: null,         // selected user id
  channel: null,      // selected channel id
  thread: null,       // ts of the open thread's root
  messages: [],       // the open channel's messages (roots with their replies)
  messagesKey: "",    // the last messages answer, to skip identical re-renders
  deliveriesKey: "",
  modal: null,        // {id, hash} of the modal on screen
  dismissed: new Set(),
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

function showStatus(text, ok) {
  const el = $("status");
  el.textContent = text || "";
  el.className = ok ? "status ok" : "status";
}

async function act(fn) {
  try {
    await fn();
    showStatus("");
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
  if (ch.kind === "public") return `# ${ch.name}`;
  if (ch.kind === "private") return `🔒 ${ch.name}`;
  const others = ch.members.filter((m) => m !== S.user).map(userName);
  return others.length ? others.join(", ") : userName(S.user) + " (you)";
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

// --- text formatting (Slack's mrkdwn, the common parts) ---------------------------------

function unescapeSlack(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function inlineStyles(text, into) {
  // `code`, *bold*, _italic_, ~strike~; everything else as plain text.
  const re = /`([^`]+)`|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;
  let last = 0;
  for (const m of text.matchAll(re)) {
    into.append(unescapeSlack(text.slice(last, m.index)));
    if (m[1] !== undefined) into.append(el("code", { text: unescapeSlack(m[1]) }));
    else if (m[2] !== undefined) into.append(el("b", { text: unescapeSlack(m[2]) }));
    else if (m[3] !== undefined) into.append(el("i", { text: unescapeSlack(m[3]) }));
    else into.append(el("s", { text: unescapeSlack(m[4]) }));
    last = m.index + m[0].length;
  }
  into.append(unescapeSlack(text.slice(last)));
}

function formatText(text) {
  const out = document.createDocumentFragment();
  const re = /<([^<>]+)>/g;
  let last = 0;
  for (const m of (text || "").matchAll(re)) {
    inlineStyles(text.slice(last, m.index), out);
    const [target, label] = m[1].split("|", 2);
    if (target.startsWith("@")) {
      out.append(el("span", { class: "mention", text: "@" + (label || userName(target.slice(1))) }));
    } else if (target.startsWith("#")) {
      const ws = workspace();
      const ch = ws && ws.channels.find((c) => c.id === target.slice(1));
      out.append(el("span", { class: "mention", text: "#" + (label || (ch ? ch.name : target)) }));
    } else if (target.startsWith("!")) {
      out.append(el("span", { class: "mention", text: "@" + (label || target.slice(1)) }));
    } else if (/^(https?|mailto):/.test(target)) {
      out.append(el("a", { href: target, target: "_blank", rel: "noopener", text: label || target }));
    } else {
      out.append(unescapeSlack(m[0]));
    }
    last = m.index + m[0].length;
  }
  inlineStyles((text || "").slice(last), out);
  return out;
}

function textObject(obj) {
  if (!obj) return document.createDocumentFragment();
  if (obj.type === "mrkdwn") return formatText(obj.text);
  return document.createTextNode(obj.text || "");
}

// --- Block Kit (the parts a demo needs) ----------------------------------------------------

const SHOWN_BLOCKS = new Set(["section", "header", "context", "divider", "actions", "image"]);

function buttonNode(element, blockId, msg) {
  const cls = "block-button" + (element.style ? " " + element.style : "");
  return el("button", {
    type: "button",
    class: cls,
    "data-action-id": element.action_id,
    text: element.text ? element.text.text : element.action_id,
    onclick: () => clickAction(msg, element.action_id, blockId),
  });
}

function elementNode(element, blockId, msg) {
  if (element.type === "button") return buttonNode(element, blockId, msg);
  const label = element.placeholder ? element.placeholder.text : element.type;
  return el("button", { type: "button", class: "block-button", disabled: "", text: label });
}

function blocksNode(blocks, msg) {
  const out = el("div", { class: "blocks" });
  for (const block of blocks) {
    const blockId = block.block_id || "";
    if (block.type === "section") {
      const node = el("div", { class: "block-section" });
      if (block.text) node.append(el("div", { class: "text" }, textObject(block.text)));
      for (const field of block.fields || []) {
        node.append(el("div", { class: "text" }, textObject(field)));
      }
      if (block.accessory) {
        node.append(el("div", { class: "block-actions" }, elementNode(block.accessory, blockId, msg)));
      }
      out.append(node);
    } else if (block.type === "header") {
      out.append(el("div", { class: "block-header" }, textObject(block.text)));
    } else if (block.type === "context") {
      const node = el("div", { class: "block-context" });
      for (const item of block.elements || []) {
        if (item.type !== "image") node.append(textObject(item), " ");
      }
      out.append(node);
    } else if (block.type === "divider") {
      out.append(el("hr", { class: "block-divider" }));
    } else if (block.type === "actions") {
      const node = el("div", { class: "block-actions" });
      for (const item of block.elements || []) node.append(elementNode(item, blockId, msg));
      out.append(node);
    } else if (block.type === "image") {
      out.append(el("div", { class: "block-context", text: `[image: ${block.alt_text || ""}]` }));
    }
  }
  return out;
}

// --- messages ------------------------------------------------------------------------------

function authorOf(msg) {
  if (msg.bot_id) {
    const name = msg.username || (msg.bot_profile && msg.bot_profile.name) || appName(msg.app_id);
    return { name, bot: true, key: msg.bot_id };
  }
  return { name: userName(msg.user), bot: false, key: msg.user || "?" };
}

function timeOf(ts) {
  const d = new Date(parseFloat(ts) * 1000);
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function isSystem(msg) {
  return ["channel_join", "channel_leave", "channel_topic", "channel_purpose"].includes(msg.subtype);
}

function messageNode(msg, inThread) {
  if (isSystem(msg)) {
    return el("div", { class: "message system", "data-ts": msg.ts }, formatText(msg.text));
  }
  const who = authorOf(msg);
  const meta = el(
    "div",
    { class: "meta" },
    el("span", { class: "author", text: who.name }),
    who.bot ? el("span", { class: "badge", text: "APP" }) : null,
    el("span", { class: "time", text: timeOf(msg.ts) }),
    msg.edited ? el("span", { class: "edited", text: "(edited)" }) : null,
  );
  const body = el("div", { class: "body" }, meta);
  if (msg.subtype === "thread_broadcast" && !inThread) {
    body.append(el("div", { class: "block-context", text: "replied to a thread:" }));
  }
  const blocks = (msg.blocks || []).filter((b) => SHOWN_BLOCKS.has(b.type));
  if (blocks.length) body.append(blocksNode(blocks, msg));
  else body.append(el("div", { class: "text" }, formatText(msg.text)));
  for (const file of msg.files || []) {
    body.append(el("div", { class: "file", text: `📎 ${file.title || file.name}` }));
  }
  if (msg.reactions && msg.reactions.length) {
    const row = el("div", { class: "reactions" });
    for (const r of msg.reactions) {
      const mine = r.users.includes(S.user);
      row.append(
        el("button", {
          type: "button",
          class: "reaction" + (mine ? " mine" : ""),
          title: r.users.map(userName).join(", "),
          "data-reaction": r.name,
          text: `${EMOJI[r.name] || ":" + r.name + ":"} ${r.count}`,
          onclick: () => react(msg.ts, r.name, mine),
        }),
      );
    }
    body.append(row);
  }
  if (!inThread && msg.reply_count) {
    const n = msg.reply_count;
    body.append(
      el("button", {
        type: "button",
        class: "replies-link",
        text: `${n} ${n === 1 ? "reply" : "replies"}`,
        onclick: () => openThread(msg.ts),
      }),
    );
  }
  const tools = el("div", { class: "tools" });
  for (const name of QUICK_REACTIONS) {
    tools.append(
      el("button", {
        type: "button",
        title: `React with :${name}:`,
        "data-quick-reaction": name,
        text: EMOJI[name],
        onclick: () => react(msg.ts, name, (msg.reactions || []).some(
          (r) => r.name === name && r.users.includes(S.user))),
      }),
    );
  }
  if (!inThread) {
    tools.append(el("button", {
      type: "button", title: "Reply in thread", class: "reply-button", text: "💬",
      onclick: () => openThread(msg.thread_ts || msg.ts),
    }));
  }
  const avatar = el("div", { class: "avatar", text: (who.name || "?").slice(0, 1).toUpperCase() });
  avatar.style.background = colorFor(who.key);
  return el("div", { class: "message", "data-ts": msg.ts }, avatar, body, tools);
}

function renderList(container, messages, inThread, emptyText) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  container.replaceChildren();
  if (!messages.length) container.append(el("div", { class: "empty", text: emptyText }));
  for (const msg of messages) container.append(messageNode(msg, inThread));
  if (atBottom || container.dataset.scrolled !== "1") {
    container.scrollTop = container.scrollHeight;
    container.dataset.scrolled = "1";
  }
}

function renderMessages() {
  const ws = workspace();
  const ch = ws && ws.channels.find((c) => c.id === S.channel);
  renderList($("messages"), S.messages, false,
    ch ? `This is the very beginning of ${channelLabel(ch)}.` : "");
  renderThread();
}

function renderThread() {
  const pane = $("thread");
  const root = S.thread && S.messages.find((m) => m.ts === S.thread);
  if (!root) {
    pane.hidden = true;
    return;
  }
  pane.hidden = false;
  renderList($("thread-messages"), [root, ...(root.replies || [])], true, "");
}

async function refreshMessages() {
  if (!S.team || !S.channel) return;
  const path = `/_emulator/conversations/${S.team}/${S.channel}/messages`;
  const response = await fetch(path);
  const text = await response.text();
  if (text === S.messagesKey) return;
  const data = JSON.parse(text);
  if (!data.ok) {
    // The channel went away (a reset, another seed): fall back to the first visible one.
    S.channel = null;
    renderSidebar();
    return;
  }
  S.messagesKey = text;
  S.messages = data.messages;
  renderMessages();
}

// --- acting as the chosen user -----------------------------------------------------------

async function post(text, threadTs, broadcast) {
  const body = { team_id: S.team, channel_id: S.channel, user_id: S.user, text };
  if (threadTs) body.thread_ts = threadTs;
  if (broadcast) body.reply_broadcast = true;
  await api("POST", "/_emulator/messages", body);
}

async function runCommand(line) {
  const [command, ...rest] = line.trim().split(/\s+/);
  const answer = await api("POST", "/_emulator/commands", {
    team_id: S.team, channel_id: S.channel, user_id: S.user, command, text: rest.join(" "),
  });
  const posted = answer.posted || {};
  if (posted.response_type === "ephemeral" && answer.response) {
    const reply = typeof answer.response === "string" ? answer.response : answer.response.text;
    if (reply) showStatus(`Only visible to you: ${reply}`, true);
  }
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

function wireComposer(formId, textId, threadTs, broadcastId) {
  const form = $(formId);
  const input = $(textId);
  const submit = () => act(async () => {
    const text = input.value.trim();
    if (!text || !S.channel) return;
    const thread = threadTs();
    if (!thread && text.startsWith("/")) await runCommand(text);
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
}

// --- modals (views.open) ------------------------------------------------------------------

function myModal() {
  if (!S.state) return null;
  const views = S.state.views.filter(
    (v) => v.kind === "modal" && v.user_id === S.user && v.team_id === S.team
      && !S.dismissed.has(v.id + v.hash),
  );
  return views.length ? views[views.length - 1] : null;
}

function inputNode(element, id) {
  const initial = element.initial_value || "";
  if (element.type === "static_select" || element.type === "radio_buttons") {
    const select = el("select", { id }, el("option", { value: "", text: "Choose…" }));
    for (const opt of element.options || []) {
      const option = el("option", { value: opt.value, text: opt.text ? opt.text.text : opt.value });
      if (element.initial_option && element.initial_option.value === opt.value) option.selected = true;
      select.append(option);
    }
    return select;
  }
  if (element.multiline) {
    const area = el("textarea", { id, rows: "3" });
    area.value = initial;
    return area;
  }
  const input = el("input", { id, type: element.type === "number_input" ? "number" : "text" });
  input.value = initial;
  return input;
}

function renderModal() {
  const view = myModal();
  const backdrop = $("modal");
  if (!view) {
    backdrop.hidden = true;
    S.modal = null;
    return;
  }
  if (S.modal && S.modal.id === view.id && S.modal.hash === view.hash) return;
  S.modal = { id: view.id, hash: view.hash, fields: [] };
  $("modal-title").textContent = view.title ? view.title.text : "";
  $("modal-submit").textContent = view.submit ? view.submit.text : "Submit";
  $("modal-submit").hidden = !view.submit;
  $("modal-cancel").textContent = view.close ? view.close.text : "Cancel";
  const body = $("modal-body");
  body.replaceChildren();
  for (const block of view.blocks || []) {
    if (block.type === "input" && block.element) {
      const id = `modal-${block.block_id}-${block.element.action_id}`;
      S.modal.fields.push({ blockId: block.block_id, actionId: block.element.action_id, id });
      body.append(
        el("label", { for: id, text: block.label ? block.label.text : block.block_id }),
        inputNode(block.element, id),
      );
      if (block.hint) body.append(el("div", { class: "hint", text: block.hint.text }));
      body.append(el("div", { class: "field-error", "data-block-id": block.block_id }));
    } else if (SHOWN_BLOCKS.has(block.type)) {
      body.append(blocksNode([block], {}));
    }
  }
  backdrop.hidden = false;
}

async function submitModal() {
  const modal = S.modal;
  if (!modal) return;
  const values = {};
  for (const f of modal.fields) {
    const value = $(f.id).value;
    if (value === "") continue;
    values[f.blockId] = values[f.blockId] || {};
    values[f.blockId][f.actionId] = value;
  }
  const answer = await api("POST", "/_emulator/views/submit", {
    view_id: modal.id, user_id: S.user, values,
  });
  for (const node of document.querySelectorAll(".field-error")) node.textContent = "";
  if (answer.response_action === "errors") {
    for (const [blockId, message] of Object.entries(answer.errors || {})) {
      const node = document.querySelector(`.field-error[data-block-id="${CSS.escape(blockId)}"]`);
      if (node) node.textContent = message;
    }
    return;
  }
  S.dismissed.add(modal.id + modal.hash);
  S.modal = null;
  await Promise.all([loadState(), refreshDeliveries()]);
}

async function cancelModal() {
  const modal = S.modal;
  if (!modal) return;
  S.dismissed.add(modal.id + modal.hash);
  S.modal = null;
  $("modal").hidden = true;
  await api("POST", "/_emulator/views/close", { view_id: modal.id, user_id: S.user });
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
    text: channelLabel(ch),
    onclick: () => selectChannel(ch.id),
  });
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
  $("channel-title").textContent = ch ? channelLabel(ch) : "No conversation";
  $("channel-topic").textContent = ch ? ch.topic || ch.purpose || "" : "";
  $("composer-text").placeholder = ch
    ? `Message ${channelLabel(ch)} as ${userName(S.user)} (/command runs a slash command)`
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
  S.messagesKey = "";
  S.messages = [];
  localStorage.setItem(`sb.channel.${S.team}`, id);
  $("messages").dataset.scrolled = "0";
  renderSidebar();
  renderMessages();
  act(refreshMessages);
}

function every(ms, fn) {
  const tick = async () => {
    try {
      if (!document.hidden) await fn();
    } catch (err) {
      showStatus(`Cannot reach the emulator: ${err.message}`);
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
    localStorage.setItem("sb.user", S.user);
    renderSidebar();
    renderMessages();
    renderModal();
  });
  $("thread-close").addEventListener("click", () => {
    S.thread = null;
    renderThread();
  });
  wireComposer("composer", "composer-text", () => null, null);
  wireComposer("thread-composer", "thread-text", () => S.thread, "thread-broadcast");
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
