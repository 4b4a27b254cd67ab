// Modals apps open with views.open, shown to the person they were opened for; submitting and
// cancelling go through the control API (part of the emulator's page).
"use strict";

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
