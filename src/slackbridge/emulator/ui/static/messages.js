// Messages and threads: one node per message, the channel and thread panes, editing and
// deleting one's own messages, what only the chosen user sees (ephemeral messages), and
// polling the open channel (part of the emulator's page).
"use strict";

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

function isMine(msg) {
  return !msg.is_ephemeral && !msg.bot_id && !isSystem(msg) && msg.subtype !== "tombstone"
    && msg.user === S.user;
}

function toolButton(attrs, ...children) {
  return el("button", { type: "button", ...attrs }, ...children);
}

function reactionsNode(msg) {
  const row = el("div", { class: "reactions" });
  for (const r of msg.reactions) {
    const mine = r.users.includes(S.user);
    row.append(toolButton({
      class: "reaction" + (mine ? " mine" : ""),
      title: `:${r.name}: ${r.users.map(userName).join(", ")}`,
      "data-reaction": r.name,
      onclick: () => react(msg.ts, r.name, mine),
    }, emojiNode(r.name), el("span", { class: "count", text: ` ${r.count}` })));
  }
  return row;
}

function toolsNode(msg, inThread) {
  const tools = el("div", { class: "tools" });
  if (msg.is_ephemeral) {
    tools.append(toolButton({
      class: "dismiss", title: "Dismiss this message", text: "Dismiss",
      onclick: () => dismissEphemeral(msg),
    }));
    return tools;
  }
  for (const name of QUICK_REACTIONS) {
    tools.append(toolButton({
      title: `React with :${name}:`,
      "data-quick-reaction": name,
      onclick: () => react(msg.ts, name, (msg.reactions || []).some(
        (r) => r.name === name && r.users.includes(S.user))),
    }, emojiNode(name)));
  }
  if (!inThread) {
    tools.append(toolButton({
      title: "Reply in thread", class: "reply-button",
      onclick: () => openThread(msg.thread_ts || msg.ts),
    }, drawnIcon("reply", "Reply in thread")));
  }
  if (isMine(msg)) {
    tools.append(
      toolButton({
        title: "Edit message", class: "edit-button", onclick: () => startEdit(msg),
      }, drawnIcon("edit", "Edit message")),
      toolButton({
        title: "Delete message", class: "delete-button", onclick: () => deleteMessage(msg),
      }, drawnIcon("delete", "Delete message")),
    );
  }
  return tools;
}

function editorNode(msg) {
  const input = el("textarea", { class: "edit-text", rows: "2", "aria-label": "Edit message" });
  input.value = msg.text || "";
  const save = () => saveEdit(msg, input.value);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey) {
      ev.preventDefault();
      save();
    } else if (ev.key === "Escape") {
      cancelEdit();
    }
  });
  setTimeout(() => {
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  });
  return el(
    "div",
    { class: "editor" },
    input,
    el(
      "div",
      { class: "editor-buttons" },
      toolButton({ class: "edit-cancel", text: "Cancel", onclick: cancelEdit }),
      toolButton({ class: "edit-save primary", text: "Save", onclick: save }),
    ),
  );
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
  if (msg.is_ephemeral) {
    body.prepend(el("div", { class: "only-you", text: "Only visible to you" }));
  }
  const editing = S.editing === msg.ts && isMine(msg);
  if (msg.subtype === "thread_broadcast" && !inThread) {
    body.append(el("div", { class: "block-context", text: "replied to a thread:" }));
  }
  const blocks = (msg.blocks || []).filter((b) => SHOWN_BLOCKS.has(b.type));
  if (editing) body.append(editorNode(msg));
  else if (blocks.length) body.append(blocksNode(blocks, msg));
  else body.append(el("div", { class: "text" }, formatText(msg.text)));
  for (const file of msg.files || []) {
    const label = HAVE_EMOJI ? `📎 ${file.title || file.name}` : `File: ${file.title || file.name}`;
    body.append(el("div", { class: "file", text: label }));
  }
  if (msg.reactions && msg.reactions.length) body.append(reactionsNode(msg));
  if (!inThread && msg.reply_count) {
    const n = msg.reply_count;
    body.append(toolButton({
      class: "replies-link",
      text: `${n} ${n === 1 ? "reply" : "replies"}`,
      onclick: () => openThread(msg.ts),
    }));
  }
  const avatar = el("div", { class: "avatar", text: (who.name || "?").slice(0, 1).toUpperCase() });
  avatar.style.background = colorFor(who.key);
  const classes = "message" + (msg.is_ephemeral ? " ephemeral" : "") + (editing ? " editing" : "");
  return el("div", { class: classes, "data-ts": msg.ts }, avatar, body,
    editing ? null : toolsNode(msg, inThread));
}

// --- editing, deleting, dismissing ---------------------------------------------------------

function startEdit(msg) {
  S.editing = msg.ts;
  renderMessages();
}

function cancelEdit() {
  S.editing = null;
  renderMessages();
}

function saveEdit(msg, text) {
  return act(async () => {
    if (!text.trim()) {
      showStatus("A message needs some text: delete it instead.");
      return;
    }
    if (text !== msg.text) {
      await api("POST", "/_emulator/messages/edit", {
        team_id: S.team, channel_id: S.channel, user_id: S.user, ts: msg.ts, text,
      });
    }
    S.editing = null;
    renderMessages();
    await Promise.all([refreshMessages(), refreshDeliveries()]);
  });
}

function deleteMessage(msg) {
  if (!window.confirm("Delete this message? This can't be undone.")) return;
  act(async () => {
    await api("POST", "/_emulator/messages/delete", {
      team_id: S.team, channel_id: S.channel, user_id: S.user, ts: msg.ts,
    });
    if (S.thread === msg.ts) S.thread = null;
    await Promise.all([refreshMessages(), refreshDeliveries()]);
  });
}

// An ephemeral message stays until dismissed (this page only, as in Slack's client).
function dismissEphemeral(msg) {
  S.dismissed.add(`eph:${msg.ts}`);
  renderMessages();
}

// --- the panes -----------------------------------------------------------------------------

// Keyed by ts: a message whose rendering inputs did not change keeps its node, so polling
// never rebuilds what a person is hovering, clicking or typing in (the open editor is kept
// even if the message changes meanwhile).
function renderList(container, messages, inThread, emptyText) {
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 60;
  const previous = new Map();
  for (const node of container.children) {
    if (node.dataset.key) previous.set(node.dataset.key, node);
  }
  const wanted = messages.map((msg) => {
    const key = (msg.is_ephemeral ? "e" : "m") + msg.ts;
    const editing = S.editing === msg.ts && isMine(msg);
    const sig = JSON.stringify([msg, S.user, editing]);
    const old = previous.get(key);
    if (old && (old.dataset.sig === sig || (editing && old.classList.contains("editing")))) {
      return old;
    }
    const node = messageNode(msg, inThread);
    node.dataset.key = key;
    node.dataset.sig = sig;
    return node;
  });
  if (!wanted.length) {
    wanted.push(el("div", { class: "empty", text: emptyText }));
  }
  // Drop the stale nodes first, so that the kept ones never move (a moved node loses focus).
  const keep = new Set(wanted);
  for (const node of [...container.children]) {
    if (!keep.has(node)) node.remove();
  }
  wanted.forEach((node, i) => {
    if (container.children[i] !== node) container.insertBefore(node, container.children[i] || null);
  });
  if (atBottom || container.dataset.scrolled !== "1") {
    container.scrollTop = container.scrollHeight;
    container.dataset.scrolled = "1";
  }
}

function byTs(a, b) {
  return parseFloat(a.ts) - parseFloat(b.ts);
}

function visibleEphemerals(threadTs) {
  return S.ephemerals.filter((e) => !S.dismissed.has(`eph:${e.ts}`)
    && (threadTs ? e.thread_ts === threadTs : !e.thread_ts || e.thread_ts === e.ts));
}

function renderMessages() {
  const ws = workspace();
  const ch = ws && ws.channels.find((c) => c.id === S.channel);
  const shown = [...S.messages, ...visibleEphemerals(null)].sort(byTs);
  renderList($("messages"), shown, false,
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
  const replies = [...(root.replies || []), ...visibleEphemerals(root.ts)].sort(byTs);
  renderList($("thread-messages"), [root, ...replies], true, "");
}

async function refreshMessages() {
  if (!S.team || !S.channel) return;
  const viewer = S.user ? `?user_id=${encodeURIComponent(S.user)}` : "";
  const path = `/_emulator/conversations/${S.team}/${S.channel}/messages${viewer}`;
  const response = await fetch(path);
  const text = await response.text();
  if (text === S.messagesKey) return;
  const data = JSON.parse(text);
  if (!data.ok) {
    if (data.error === "user_not_found") return; // the user list is being reloaded
    // The channel went away (a reset, another seed): fall back to the first visible one.
    S.channel = null;
    renderSidebar();
    return;
  }
  S.messagesKey = text;
  S.messages = data.messages;
  S.ephemerals = data.ephemerals || [];
  renderMessages();
}
