// Slack's mrkdwn and the Block Kit parts a demo needs, rendered as DOM nodes (part of the
// emulator's page; app.js holds the shared state and helpers these use).
"use strict";

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
