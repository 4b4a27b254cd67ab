// Messages and threads: one node per message, the channel and thread panes, and polling the
// open channel (part of the emulator's page).
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
