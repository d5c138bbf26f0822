// A case from the open conversation: prefilled from the bot's entities, 4-level category
// picker as cascading selects. Before saving, open cases with the same phone or address and
// category are shown so a repeat report is merged (并单) instead of filed twice; a
// consultation answered on the spot can be closed at once (直接办结).
import { $, api, clear, debounce, errorText, h, LABELS, toast } from "/static/agent/common.js";
import { state } from "/static/agent/inbox_state.js";

const TYPES = Object.keys(LABELS.caseType).filter((t) => t !== "todo");
const CLOSE_NOW_TYPES = new Set(["consult", "praise", "suggestion", "public_affairs"]);
let categories = null; // [{code, name, parent, level}]
let draftFor = null; // conversation id whose draft fills the form
let similarFor = null; // the phone/address/category the shown matches were looked up for
let similarFound = []; // those matches
let saving = false;

export function initCaseForm() {
  const type = $("#case-type");
  for (const t of TYPES) type.append(h("option", { value: t }, LABELS.caseType[t]));
  for (let level = 1; level <= 4; level++) {
    $(`#case-cat-${level}`).addEventListener("change", () => { fillLevel(level + 1); lookSoon(); });
  }
  $("#case-form").addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  document.querySelector('.tab[data-tab="case-panel"]').addEventListener("click", loadDraft);
  $("#btn-case").addEventListener("click", loadDraft);
  type.addEventListener("change", syncCloseNow);
  $("#case-close-now").addEventListener("change", syncCloseNow);
  $("#case-phone").addEventListener("change", lookSoon);
  $("#case-address").addEventListener("change", lookSoon);
  $("#case-check-similar").addEventListener("click", () => lookUpSimilar(true));
  syncCloseNow();
}

export function resetCaseDraft(cid) {
  draftFor = null;
  clearResult();
  clearSimilar();
  if (!$("#case-panel").hidden && cid) loadDraft();
}

function clearResult() {
  const result = clear($("#case-result"));
  delete result.dataset.number;
}

async function loadDraft() {
  const selected = state.selected;
  if (!selected || draftFor === selected.id) return;
  draftFor = selected.id;
  delete $("#case-form").dataset.draft;
  clearSimilar();
  try {
    if (!categories) categories = (await api("GET", "/api/v1/agent/taxonomy")).categories;
    fillLevel(1);
    const { draft } = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(selected.id)}/case-draft`);
    $("#case-type").value = TYPES.includes(draft.type) ? draft.type : "consult";
    $("#case-title").value = draft.title;
    $("#case-description").value = draft.description;
    $("#case-phone").value = draft.contact_phone;
    $("#case-address").value = draft.address;
    $("#case-close-now").checked = false;
    $("#case-answer").value = "";
    syncCloseNow();
    $("#case-form").dataset.draft = selected.id; // the form now holds this conversation's draft
    lookSoon();
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

function syncCloseNow() {
  const allowed = CLOSE_NOW_TYPES.has($("#case-type").value);
  $("#case-close-now-box").hidden = !allowed;
  if (!allowed) $("#case-close-now").checked = false;
  const closing = $("#case-close-now").checked;
  $("#case-answer-label").hidden = !closing;
  $("#case-submit").textContent = closing ? "保存并办结" : "提交工单";
}

function category() {
  return [1, 2, 3, 4].map((l) => $(`#case-cat-${l}`).value).filter(Boolean);
}

function lookupKey() {
  return JSON.stringify([$("#case-phone").value.trim(), $("#case-address").value.trim(), category().pop() || ""]);
}

const lookSoon = debounce(() => lookUpSimilar(false), 300);

function clearSimilar() {
  similarFor = null;
  similarFound = [];
  const box = clear($("#case-similar"));
  box.hidden = true;
}

// Open cases like this one (same phone or address, same category, last 30 days).
async function lookUpSimilar(always) {
  const key = lookupKey();
  if (!always && key === similarFor) return similarFound;
  const [phone, address, code] = JSON.parse(key);
  if (!phone && !address) {
    clearSimilar();
    similarFor = key;
    return [];
  }
  const params = new URLSearchParams();
  if (phone) params.set("phone", phone);
  if (address) params.set("address", address);
  if (code) params.set("category", code);
  let found;
  try {
    found = (await api("GET", `/api/v1/cases/similar?${params}`)).cases || [];
  } catch (err) {
    toast(`查重失败：${errorText(err)}`, "error");
    return [];
  }
  if (key !== lookupKey()) return similarFound; // the form changed meanwhile
  similarFor = key;
  similarFound = found;
  renderSimilar(found, always);
  return found;
}

function renderSimilar(found, told) {
  const box = clear($("#case-similar"));
  box.hidden = !found.length && !told;
  if (!found.length) {
    box.append(h("p", { class: "muted" }, "未发现相似的在办工单"));
    return;
  }
  box.append(h("strong", {}, `发现 ${found.length} 件相似的在办工单，同一事项请并单：`));
  for (const c of found) {
    box.append(h("div", { class: "similar-case", testid: "similar-case", dataset: { number: c.number } },
      h("div", {}, h("a", { href: `/cases/${encodeURIComponent(c.number)}`, target: "_blank", rel: "noopener" }, c.number),
        " ", h("span", { class: "muted" }, `${c.state_label || LABELS.caseState[c.state] || c.state} · ${c.department_name || "未派单"}`)),
      h("div", {}, c.title),
      h("div", { class: "muted" }, [c.address, c.contact_phone].filter(Boolean).join(" · ")),
      h("button", { type: "button", testid: "merge-into", onclick: () => submit(c.number) }, "并入此工单")));
  }
}

async function submit(mergeInto) {
  const selected = state.selected;
  if (!selected || saving) return;
  const result = $("#case-result");
  const form = $("#case-form");
  if (!form.reportValidity()) return;
  const phoneError = checkPhone($("#case-phone").value);
  if (phoneError) {
    clearResult();
    result.textContent = phoneError;
    result.dataset.state = "error";
    $("#case-phone").focus();
    return;
  }
  delete result.dataset.state;
  const closing = $("#case-close-now").checked && CLOSE_NOW_TYPES.has($("#case-type").value);
  // Before a new case is saved, look for the same matter once more; matches stop the save
  // until the agent merges or presses 仍然新建.
  if (!mergeInto && !closing && result.dataset.confirmNew !== lookupKey()) {
    const found = await lookUpSimilar(false);
    if (found.length) {
      renderSimilar(found, false);
      clearResult();
      result.append("请先确认是否为重复诉求：", h("button", {
        type: "button", testid: "case-create-anyway",
        onclick: () => { result.dataset.confirmNew = lookupKey(); submit(); },
      }, "不是同一事项，仍然新建"));
      return;
    }
  }
  const body = {
    type: $("#case-type").value,
    title: $("#case-title").value,
    description: $("#case-description").value,
    contact_phone: $("#case-phone").value,
    address: $("#case-address").value,
    category: category(),
  };
  if (mergeInto) body.merge_into = mergeInto;
  if (closing) {
    body.close_now = true;
    body.reply = $("#case-answer").value.trim();
  }
  saving = true;
  try {
    const data = await api("POST", `/api/v1/agent/conversations/${encodeURIComponent(selected.id)}/cases`, body);
    const c = data.case;
    clearResult();
    delete result.dataset.confirmNew;
    const what = data.merged ? `已并入工单 ${c.number}` : closing ? `工单 ${c.number} 已创建并办结` : `工单 ${c.number} 已创建（${c.category_label || "未分类"}）`;
    result.append(what, " ", h("a", { href: `/cases/${encodeURIComponent(c.number)}`, testid: "case-result-link", target: "_blank", rel: "noopener" }, "查看工单"));
    result.dataset.number = c.number;
    toast(data.merged ? `已并入工单 ${c.number}` : `工单 ${c.number} 已创建`);
    clearSimilar();
  } catch (err) {
    clearResult();
    result.textContent = errorText(err);
    result.dataset.state = "error";
  } finally {
    saving = false;
  }
}

// A loose check before asking the server (which decides): digits, spaces, dashes, +, ().
function checkPhone(raw) {
  const value = raw.trim();
  if (!value) return "";
  const digits = value.replace(/\D/g, "");
  if (/[^\d\s\-+()（）]/.test(value) || digits.length < 5 || digits.length > 15) {
    return "联系电话格式不正确，请填写11位手机号或带区号的固定电话";
  }
  return "";
}
