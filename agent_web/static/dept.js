// The department portal: the cases dispatched to the signed-in department (the API forces the
// department's own list), supervised cases on top, the sign-off deadline (签收时限) shown and
// red when it has passed. A click opens the case page with the department's actions.
import { $, api, errorText, h, LABELS, logout, signIn, toast } from "/static/agent/common.js";
import { caseRows, departmentNames, isLate, renderPager } from "/static/agent/caselist.js";

const COLUMNS = ["light", "flags", "number", "title", "type", "state", "sign_by", "due", "created"];
const STATES = ["dispatched", "confirmed", "in_progress", "returned", "replied", "revisited", "closed", "reopened"];
let page = 1;
let names = new Map();

async function start() {
  const me = await signIn();
  $("#me-name").textContent = me.name;
  $("#logout").addEventListener("click", logout);
  for (const s of STATES) $("#d-state").append(h("option", { value: s }, LABELS.caseState[s]));
  $("#dept-search").addEventListener("submit", (e) => { e.preventDefault(); page = 1; load(); });
  $("#d-refresh").addEventListener("click", () => load());
  names = await departmentNames();
  if (me.department) $("#dept-name").textContent = names.get(me.department) || me.department;
  await load();
  setInterval(load, 60000); // sign-off deadlines run out without any event
}

async function load() {
  const params = new URLSearchParams({ list: "department", page: String(page), per_page: "50" });
  for (const key of ["number", "text", "state"]) {
    const value = $(`#d-${key}`).value.trim();
    if (value) params.set(key, value);
  }
  let data;
  try {
    data = await api("GET", `/api/v1/cases?${params}`);
  } catch (err) {
    $("#dept-error").textContent = errorText(err);
    $("#dept-error").hidden = false;
    return;
  }
  $("#dept-error").hidden = true;
  // supervised first, then those whose sign-off time has run out; otherwise the API's order
  // (most urgent first) is kept
  const tier = (c) => (c.supervised ? 0 : c.state === "dispatched" && isLate(c.sign_by) ? 1 : 2);
  const rows = [...(data.cases || [])].sort((a, b) => tier(a) - tier(b));
  $("#dept-count").textContent = String(data.total || 0);
  caseRows($("#dept-cases tbody"), rows, COLUMNS, names);
  renderPager($("#pager"), data, (n) => { page = n; load(); });
}

start().catch((err) => toast(errorText(err), "error"));
