// Emoji the page shows (reactions, the hover toolbar) and icons it draws itself (part of the
// emulator's page). A machine without an emoji font would show empty boxes: the page checks
// once whether emoji render in colour and, if not, draws the common reactions as small inline
// SVGs and writes the others as :shortcodes:, as Slack names them. Nothing is fetched.
"use strict";

const EMOJI = {
  thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎", white_check_mark: "✅",
  heavy_check_mark: "✔️", eyes: "👀", tada: "🎉", heart: "❤️", smile: "😄", joy: "😂",
  rocket: "🚀", fire: "🔥", wave: "👋", pray: "🙏", raised_hands: "🙌", x: "❌",
  warning: "⚠️", question: "❓", ok_hand: "👌", clap: "👏", thinking_face: "🤔",
  slightly_smiling_face: "🙂", wrench: "🔧", bug: "🐛", memo: "📝", ticket: "🎫",
};

// [tag, attributes] shapes on a 16×16 grid.
const DRAWN = {
  thumbsup: [
    ["rect", { x: "1.5", y: "7", width: "3", height: "7.5", rx: "0.8", fill: "#c98a2b" }],
    ["path", {
      d: "M5.5 7.2 8.3 1.8c.9-.3 1.9.3 1.8 1.4L9.6 6h3.6c1 0 1.7.9 1.5 1.9l-1.1 5.2"
        + "c-.2.8-.8 1.4-1.6 1.4H5.5z",
      fill: "#f5c33b", stroke: "#c98a2b", "stroke-width": "0.8",
    }],
  ],
  thumbsdown: [
    ["rect", { x: "1.5", y: "1.5", width: "3", height: "7.5", rx: "0.8", fill: "#c98a2b" }],
    ["path", {
      d: "M5.5 8.8 8.3 14.2c.9.3 1.9-.3 1.8-1.4L9.6 10h3.6c1 0 1.7-.9 1.5-1.9l-1.1-5.2"
        + "c-.2-.8-.8-1.4-1.6-1.4H5.5z",
      fill: "#f5c33b", stroke: "#c98a2b", "stroke-width": "0.8",
    }],
  ],
  white_check_mark: [
    ["rect", { x: "1", y: "1", width: "14", height: "14", rx: "3", fill: "#2eb67d" }],
    ["path", {
      d: "M4.2 8.3 6.9 11l5-6", fill: "none", stroke: "#fff", "stroke-width": "2",
      "stroke-linecap": "round", "stroke-linejoin": "round",
    }],
  ],
  eyes: [
    ["ellipse", { cx: "4.8", cy: "8", rx: "3.3", ry: "5.5", fill: "#fff", stroke: "#555" }],
    ["ellipse", { cx: "11.2", cy: "8", rx: "3.3", ry: "5.5", fill: "#fff", stroke: "#555" }],
    ["circle", { cx: "5.6", cy: "9", r: "1.7", fill: "#222" }],
    ["circle", { cx: "12", cy: "9", r: "1.7", fill: "#222" }],
  ],
  tada: [
    ["path", { d: "M1.5 14.5 5 4.5l6.5 6.5z", fill: "#f5a623", stroke: "#c77c02",
      "stroke-width": "0.7", "stroke-linejoin": "round" }],
    ["circle", { cx: "9.5", cy: "2.5", r: "1.2", fill: "#e01e5a" }],
    ["circle", { cx: "13.5", cy: "6", r: "1.2", fill: "#36c5f0" }],
    ["circle", { cx: "12.5", cy: "1.8", r: "0.9", fill: "#2eb67d" }],
    ["path", { d: "M8 5.5c1-1 2.5-1.3 3.5-.5M10.5 8c1-.6 2.5-.5 3.5.5", fill: "none",
      stroke: "#7c3085", "stroke-width": "1", "stroke-linecap": "round" }],
  ],
  heart: [
    ["path", { d: "M8 14.2S1.3 10 1.3 5.6A3.4 3.4 0 0 1 8 4.3a3.4 3.4 0 0 1 6.7 1.3"
      + "C14.7 10 8 14.2 8 14.2z", fill: "#e01e5a" }],
  ],
  x: [
    ["path", { d: "M3.5 3.5l9 9m0-9-9 9", stroke: "#e01e5a", "stroke-width": "2.6",
      "stroke-linecap": "round" }],
  ],
  // Page icons, drawn in the text colour.
  reply: [
    ["path", { d: "M2 3.5C2 2.7 2.7 2 3.5 2h9c.8 0 1.5.7 1.5 1.5v6c0 .8-.7 1.5-1.5 1.5H7l-3.5 3"
      + "V11h0C2.7 11 2 10.3 2 9.5z", fill: "none", stroke: "currentColor",
      "stroke-width": "1.4", "stroke-linejoin": "round" }],
  ],
  edit: [
    ["path", { d: "M10.8 2.2l3 3L6 13H3v-3z M9.3 3.7l3 3", fill: "none", stroke: "currentColor",
      "stroke-width": "1.4", "stroke-linejoin": "round" }],
  ],
  delete: [
    ["path", { d: "M2.5 4h11M6 4V2.5h4V4M4 4l.8 9.5h6.4L12 4M6.8 6.5v4.5M9.2 6.5v4.5",
      fill: "none", stroke: "currentColor", "stroke-width": "1.3", "stroke-linejoin": "round",
      "stroke-linecap": "round" }],
  ],
};
DRAWN["+1"] = DRAWN.thumbsup;
DRAWN["-1"] = DRAWN.thumbsdown;

// Does the browser draw emoji in colour? A missing emoji font gives a monochrome box.
function emojiRenders() {
  const forced = localStorage.getItem("sb.emoji");
  if (forced === "font") return true;
  if (forced === "fallback") return false;
  try {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 24;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.textBaseline = "top";
    ctx.font = "20px sans-serif";
    ctx.fillStyle = "#000";
    ctx.fillText("👍", 0, 0);
    const data = ctx.getImageData(0, 0, 24, 24).data;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && (Math.abs(r - g) > 20 || Math.abs(g - b) > 20)) return true;
    }
  } catch (err) {
    // No canvas: keep to what always renders.
  }
  return false;
}

const HAVE_EMOJI = emojiRenders();
document.documentElement.dataset.emoji = HAVE_EMOJI ? "font" : "fallback";

function drawnIcon(name, label) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", `icon icon-${name}`);
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label || name);
  for (const [tag, attrs] of DRAWN[name]) {
    const shape = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
    svg.append(shape);
  }
  return svg;
}

// An emoji by its Slack name: the character where emoji render, else a drawing, else
// ":name:" (readable anywhere).
function emojiNode(name) {
  if (HAVE_EMOJI && EMOJI[name]) return document.createTextNode(EMOJI[name]);
  if (DRAWN[name]) return drawnIcon(name, `:${name}:`);
  return el("span", { class: "shortcode", text: `:${name}:` });
}
