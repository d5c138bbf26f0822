// The dispatch catalogue (派单目录): category → lead department, assisting departments, due
// days. Most cases dispatch in one click on its suggestion, so admins keep it current here.
import { $, api, clear, debounce, errorText, h, toast } from "/static/agent/common.js";
import { categoryPicker, loadDepartments, loadTaxonomy } from "/static/agent/caselist.js";

const BASE = "/api/v1/admin/catalogue";
let entries = [];
let departments = [];
let categories = [];
let names = new Map();
let picker = null;
let editing = null; // category code of the entry in the form, or null for a new one

const catSelects = () => [1, 2, 3, 4].map((l) => $(`#cat-cat-${l}`));

async function load() {
  const data = await api("GET", BASE);
  entries = data.entries || [];
  render();
}

function render() {
  const q = $("#cat-filter").value.trim();
  const rows = clear($("#catalogue tbody"));
  const dept = (code) => names.get(code) || code;
  for (const e of entries) {
    const lead = e.lead_name || dept(e.lead);
    const assisting = (e.assisting || []).map(dept).join("、");
    const text = `${e.category} ${e.category_name || ""} ${lead} ${assisting}`;
    if (q && !text.includes(q)) continue;
    rows.append(h("tr", { testid: "catalogue-row", dataset: { category: e.category } },
      h("td", {}, h("span", { class: "muted" }, e.category), " ", e.category_name || ""),
      h("td", { testid: "catalogue-lead" }, lead),
      h("td", {}, assisting || "—"),
      h("td", { class: "num", testid: "catalogue-days" }, e.due_days ? String(e.due_days) : "默认"),
      h("td", {}, h("button", { type: "button", testid: "catalogue-edit", onclick: () => fill(e) }, "编辑"))));
  }
}

// The taxonomy path (level 1 first) down to code.
function pathTo(code) {
  const byCode = new Map(categories.map((c) => [c.code, c]));
  const path = [];
  for (let c = byCode.get(code); c; c = c.parent ? byCode.get(c.parent) : null) path.unshift(c.code);
  return path;
}

function fill(entry) {
  editing = entry ? entry.category : null;
  $("#cat-form-title").textContent = entry ? `编辑派单目录：${entry.category_name || entry.category}` : "新增派单目录条目";
  picker.reset();
  const selects = catSelects();
  if (entry) {
    pathTo(entry.category).forEach((code, i) => {
      selects[i].value = code;
      selects[i].dispatchEvent(new Event("change"));
    });
  }
  for (const s of selects) s.disabled = s.disabled || !!entry; // the category is the entry's key
  $("#cat-editing").hidden = !entry;
  $("#cat-editing").textContent = entry ? `分类编码 ${entry.category}` : "";
  $("#cat-lead").value = entry ? entry.lead : "";
  for (const input of document.querySelectorAll("#cat-assisting input")) {
    input.checked = !!entry && (entry.assisting || []).includes(input.value);
  }
  $("#cat-days").value = entry && entry.due_days ? String(entry.due_days) : "";
  $("#cat-delete").hidden = !entry;
  $("#cat-result").textContent = "";
}

async function save() {
  const category = editing || picker.value();
  if (!category) {
    $("#cat-result").textContent = "请选择事项分类";
    return;
  }
  const lead = $("#cat-lead").value;
  const body = {
    lead,
    assisting: [...document.querySelectorAll("#cat-assisting input:checked")].map((i) => i.value).filter((c) => c !== lead),
    due_days: $("#cat-days").value ? Number($("#cat-days").value) : null,
  };
  try {
    await api("PUT", `${BASE}/${encodeURIComponent(category)}`, body);
    toast("派单目录已保存");
    await load();
    fill(entries.find((e) => e.category === category) || null);
    $("#cat-result").textContent = "已保存";
  } catch (err) {
    $("#cat-result").textContent = errorText(err);
  }
}

async function remove() {
  if (!editing || !window.confirm(`确定删除分类 ${editing} 的派单目录条目？`)) return;
  try {
    await api("DELETE", `${BASE}/${encodeURIComponent(editing)}`);
    toast("已删除");
    fill(null);
    await load();
  } catch (err) {
    $("#cat-result").textContent = errorText(err);
  }
}

async function start() {
  try {
    [departments, categories] = await Promise.all([loadDepartments(), loadTaxonomy()]);
  } catch (err) {
    $("#cat-error").textContent = `派单目录暂不可用：${errorText(err)}`;
    $("#cat-error").hidden = false;
    return;
  }
  names = new Map(departments.map((d) => [d.code, d.name]));
  picker = categoryPicker(catSelects(), categories, "请选择一级分类");
  const lead = $("#cat-lead");
  lead.append(h("option", { value: "" }, "请选择承办单位"), ...departments.map((d) => h("option", { value: d.code }, d.name)));
  $("#cat-assisting").append(...departments.map((d) => h("label", {},
    h("input", { type: "checkbox", value: d.code, testid: `cat-assist-${d.code}` }), d.name)));
  $("#cat-new").addEventListener("click", () => fill(null));
  $("#cat-form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("#cat-delete").addEventListener("click", remove);
  $("#cat-filter").addEventListener("input", debounce(render, 150));
  fill(null);
  try {
    await load();
  } catch (err) {
    $("#cat-error").textContent = errorText(err);
    $("#cat-error").hidden = false;
  }
}

start();
