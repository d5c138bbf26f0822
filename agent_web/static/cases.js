// The case workbench (agents and supervisors): worklists as tabs, a search form, a paged table
// sorted by urgency (the API sorts), one SLA light per row; a click opens the case page.
// The list, the filters and the page live in the address (/cases?list=overdue&page=2), so
// the supervisor's counters link straight to a list and the back button returns to it.
import { $, api, errorText, h, hasRole, LABELS, logout, signIn, toast } from "/static/agent/common.js";
import {
  caseRows, categoryPicker, departmentNames, loadDepartments, loadTaxonomy, renderPager,
} from "/static/agent/caselist.js";

export const WORKLISTS = [
  ["mine", "我的工单"], ["to_accept", "待受理"], ["overdue", "已超期"], ["audit", "待审核"],
  ["returned", "退单待审"], ["to_revisit", "待回访"], ["todo_due", "到期待办"],
  ["sign_off_late", "签收超时"], ["supervised", "督办件"], ["all", "全部"],
];
const FILTERS = ["number", "phone", "address", "text", "type", "category", "department", "state", "from", "to"];
const COLUMNS = ["light", "number", "title", "type", "state", "department", "phone", "created", "due", "flags"];
const PER_PAGE = 20;

let current = { list: "mine", page: 1, filters: {} };
let names = new Map();
let picker = null;
let loading = 0;

async function start() {
  const me = await signIn();
  $("#me-name").textContent = me.name;
  $("#logout").addEventListener("click", logout);
  $("#link-supervisor").hidden = !hasRole(me, "supervisor");
  $("#link-admin").hidden = !hasRole(me, "admin");
  current = fromAddress();
  renderTabs();
  fillSelects();
  $("#case-search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
  $("#case-search").addEventListener("reset", () => {
    setTimeout(() => { if (picker) picker.reset(); search(); }, 0);
  });
  window.addEventListener("popstate", () => { current = fromAddress(); renderTabs(); fillForm(); load(); });
  const [deps, categories] = await Promise.all([
    loadDepartments().catch(() => []), loadTaxonomy().catch(() => []),
  ]);
  names = new Map(deps.map((d) => [d.code, d.name]));
  const depSelect = $("#q-department");
  for (const d of deps) depSelect.append(h("option", { value: d.code }, d.name));
  picker = categoryPicker([1, 2, 3, 4].map((l) => $(`#q-cat-${l}`)), categories);
  fillForm();
  await load();
}

function fromAddress() {
  const params = new URLSearchParams(location.search);
  const list = params.get("list");
  const filters = {};
  for (const key of FILTERS) if (params.get(key)) filters[key] = params.get(key);
  return {
    list: WORKLISTS.some(([code]) => code === list) ? list : "mine",
    page: Math.max(1, Number(params.get("page")) || 1),
    filters,
  };
}

function query() {
  const params = new URLSearchParams({ list: current.list });
  for (const [key, value] of Object.entries(current.filters)) if (value) params.set(key, value);
  if (current.page > 1) params.set("page", String(current.page));
  return params;
}

function renderTabs() {
  const box = $("#worklists");
  box.replaceChildren(...WORKLISTS.map(([code, title]) => h("button", {
    type: "button", role: "tab", class: `tab${code === current.list ? " active" : ""}`,
    testid: `worklist-${code}`, dataset: { list: code }, "aria-selected": String(code === current.list),
    onclick: () => { current = { ...current, list: code, page: 1 }; go(); },
  }, title)));
  const title = WORKLISTS.find(([code]) => code === current.list);
  $("#list-title").textContent = title ? title[1] : "工单";
}

function fillSelects() {
  for (const [code, title] of Object.entries(LABELS.caseType)) $("#q-type").append(h("option", { value: code }, title));
  for (const [code, title] of Object.entries(LABELS.caseState)) $("#q-state").append(h("option", { value: code }, title));
}

function fillForm() {
  for (const key of ["number", "phone", "address", "text", "type", "state", "department", "from", "to"]) {
    $(`#q-${key}`).value = current.filters[key] || "";
  }
}

function search() {
  const filters = {};
  for (const key of ["number", "phone", "address", "text", "type", "state", "department", "from", "to"]) {
    const value = $(`#q-${key}`).value.trim();
    if (value) filters[key] = value;
  }
  const category = picker ? picker.value() : "";
  if (category) filters.category = category;
  current = { ...current, filters, page: 1 };
  go();
}

function go() {
  history.pushState(null, "", `/cases?${query()}`);
  renderTabs();
  load();
}

async function load() {
  const ticket = ++loading;
  const params = query();
  params.set("per_page", String(PER_PAGE));
  if (!params.has("page")) params.set("page", "1");
  const error = $("#cases-error");
  let data;
  try {
    data = await api("GET", `/api/v1/cases?${params}`);
  } catch (err) {
    if (ticket !== loading) return;
    error.textContent = errorText(err);
    error.hidden = false;
    return;
  }
  if (ticket !== loading) return; // a later click won
  error.hidden = true;
  if (!names.size) names = await departmentNames();
  caseRows($("#cases tbody"), data.cases || [], COLUMNS, names);
  renderPager($("#pager"), data, (page) => { current = { ...current, page }; go(); });
  const filtered = Object.keys(current.filters).length;
  $("#list-note").textContent = filtered ? "按紧急程度排序 · 已按条件筛选" : "按紧急程度排序";
}

start().catch((err) => toast(errorText(err), "error"));
