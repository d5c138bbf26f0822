// A case from the open conversation: prefilled from the bot's entities, 4-level category
// picker as cascading selects.
import { $, api, clear, errorText, h, LABELS, toast } from "/static/agent/common.js";
import { state } from "/static/agent/inbox_state.js";

const TYPES = Object.keys(LABELS.caseType).filter((t) => t !== "todo");
let categories = null; // [{code, name, parent, level}]
let draftFor = null; // conversation id whose draft fills the form

export function initCaseForm() {
  const type = $("#case-type");
  for (const t of TYPES) type.append(h("option", { value: t }, LABELS.caseType[t]));
  for (let level = 1; level <= 4; level++) {
    $(`#case-cat-${level}`).addEventListener("change", () => fillLevel(level + 1));
  }
  $("#case-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  document.querySelector('.tab[data-tab="case-panel"]').addEventListener("click", loadDraft);
  $("#btn-case").addEventListener("click", loadDraft);
}

export function resetCaseDraft(cid) {
  draftFor = null;
  $("#case-result").textContent = "";
  if (!$("#case-panel").hidden && cid) loadDraft();
}

async function loadDraft() {
  const selected = state.selected;
  if (!selected || draftFor === selected.id) return;
  draftFor = selected.id;
  try {
    if (!categories) categories = (await api("GET", "/api/v1/agent/taxonomy")).categories;
    fillLevel(1);
    const { draft } = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(selected.id)}/case-draft`);
    $("#case-type").value = TYPES.includes(draft.type) ? draft.type : "consult";
    $("#case-title").value = draft.title;
    $("#case-description").value = draft.description;
    $("#case-phone").value = draft.contact_phone;
    $("#case-address").value = draft.address;
  } catch (err) {
    draftFor = null;
    toast(errorText(err), "error");
  }
}

function fillLevel(level) {
  if (level > 4) return;
  const parent = level === 1 ? null : $(`#case-cat-${level - 1}`).value || undefined;
  for (let l = level; l <= 4; l++) {
    const select = clear($(`#case-cat-${l}`));
    select.append(h("option", { value: "" }, l === 1 ? "请选择一级分类" : `（${l}级分类，可不选）`));
    select.disabled = l !== level || parent === undefined;
  }
  if (parent === undefined) return;
  const select = $(`#case-cat-${level}`);
  const children = categories.filter((c) => c.level === level && c.parent === parent);
  for (const c of children) select.append(h("option", { value: c.code }, c.name));
  select.disabled = !children.length;
}

async function submit() {
  const selected = state.selected;
  if (!selected) return;
  const category = [1, 2, 3, 4].map((l) => $(`#case-cat-${l}`).value).filter(Boolean);
  const body = {
    type: $("#case-type").value,
    title: $("#case-title").value,
    description: $("#case-description").value,
    contact_phone: $("#case-phone").value,
    address: $("#case-address").value,
    category,
  };
  const result = $("#case-result");
  try {
    const { case: created } = await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(selected.id)}/cases`, body);
    result.textContent = `工单 ${created.number} 已创建（${created.category_label || "未分类"}）`;
    result.dataset.number = created.number;
    toast(`工单 ${created.number} 已创建`);
  } catch (err) {
    result.textContent = errorText(err);
  }
}
