// What the case workbench, the case page and the department portal share: the SLA light,
// dates, the department names, the taxonomy, one case table with its pager.
import { api, clear, h, label } from "/static/agent/common.js";

export const LIGHT_LABELS = { green: "正常", yellow: "预警", red: "超期" };
export const EXTENSION_LABELS = { requested: "延期待审", approved: "已延期", denied: "延期未批" };

// The light as a dot plus its word: colour is never the only signal.
export function lightBadge(row) {
  const light = row.light || "none";
  return h("span", {
    class: `light light-${light}`, testid: "case-light", dataset: { light },
    title: `办理时限：${row.light_label || LIGHT_LABELS[light] || "无"}`,
  }, row.light_label || LIGHT_LABELS[light] || "—");
}

const pad = (n) => String(n).padStart(2, "0");

export function fmtDateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export const isLate = (iso) => !!iso && new Date(iso).getTime() < Date.now();

let departments = null; // Promise<[{code, name}]>

export function loadDepartments() {
  if (!departments) {
    departments = api("GET", "/api/v1/departments")
      .then((data) => data.departments || [])
      .catch((err) => { departments = null; throw err; });
  }
  return departments;
}

export async function departmentNames() {
  try {
    return new Map((await loadDepartments()).map((d) => [d.code, d.name]));
  } catch (_) {
    return new Map();
  }
}

let taxonomy = null; // Promise<[{code, name, parent, level}]>

export function loadTaxonomy() {
  if (!taxonomy) {
    taxonomy = api("GET", "/api/v1/agent/taxonomy")
      .then((data) => data.categories)
      .catch((err) => { taxonomy = null; throw err; });
  }
  return taxonomy;
}

// Cascading selects for the 4 taxonomy levels; returns {value(): deepest code chosen, reset()}.
export function categoryPicker(selects, categories, firstLabel = "全部分类") {
  function fill(level) {
    if (level > selects.length) return;
    const parent = level === 1 ? null : selects[level - 2].value || undefined;
    for (let l = level; l <= selects.length; l++) {
      const select = clear(selects[l - 1]);
      select.append(h("option", { value: "" }, l === 1 ? firstLabel : `（${l}级分类）`));
      select.disabled = l !== level || parent === undefined;
    }
    if (parent === undefined) return;
    const children = categories.filter((c) => c.level === level && c.parent === parent);
    for (const c of children) selects[level - 1].append(h("option", { value: c.code }, c.name));
    selects[level - 1].disabled = !children.length;
  }
  selects.forEach((select, i) => select.addEventListener("change", () => fill(i + 2)));
  fill(1);
  return {
    value: () => selects.map((s) => s.value).filter(Boolean).pop() || "",
    path: () => selects.map((s) => s.value).filter(Boolean),
    reset: () => fill(1),
  };
}

export function stateLabel(row) {
  return row.state_label || label("caseState", row.state);
}

export function typeLabel(row) {
  return row.type_label || label("caseType", row.type);
}

export function caseLink(number) {
  return h("a", { href: `/cases/${encodeURIComponent(number)}`, testid: "case-link" }, number);
}

// One table row per case; a click anywhere on the row opens the case page.
// columns: "light", "number", "title", "type", "state", "department", "phone", "created",
// "due", "sign_by", "flags"
export function caseRows(tbody, rows, columns, names) {
  clear(tbody);
  if (!rows.length) {
    tbody.append(h("tr", {}, h("td", { colSpan: columns.length, class: "muted empty", testid: "cases-empty" }, "没有符合条件的工单")));
    return;
  }
  for (const row of rows) {
    const cells = columns.map((col) => cell(col, row, names));
    tbody.append(h("tr", {
      testid: "case-row",
      dataset: { number: row.number, light: row.light || "", state: row.state, supervised: String(!!row.supervised) },
      onclick: (e) => {
        if (e.target.closest("a")) return;
        location.href = `/cases/${encodeURIComponent(row.number)}`;
      },
    }, ...cells));
  }
}

function cell(col, row, names) {
  switch (col) {
    case "light": return h("td", {}, lightBadge(row));
    case "number": return h("td", {}, caseLink(row.number));
    case "title": return h("td", { class: "title", title: row.title, testid: "case-title" }, row.title);
    case "type": return h("td", {}, typeLabel(row));
    case "state": return h("td", { testid: "case-state" }, stateLabel(row));
    case "department": {
      const lead = row.department_name || (row.department && (names.get(row.department) || row.department)) || "—";
      const assisting = (row.assisting || []).map((c) => names.get(c) || c);
      return h("td", { testid: "case-department" }, lead,
        assisting.length ? h("span", { class: "muted" }, `（协办：${assisting.join("、")}）`) : null);
    }
    case "phone": return h("td", {}, row.contact_phone || "");
    case "created": return h("td", {}, fmtDateTime(row.created_at));
    case "due": return h("td", { class: row.light === "red" ? "late" : "" }, fmtDateTime(row.due_at));
    case "sign_by": {
      const waiting = row.state === "dispatched" && row.sign_by;
      const late = waiting && isLate(row.sign_by);
      return h("td", { testid: "case-sign-by", class: late ? "late" : "", dataset: { late: String(!!late) } },
        waiting ? `${fmtDateTime(row.sign_by)}${late ? "（签收超时）" : ""}` : "—");
    }
    case "flags": return h("td", {},
      row.supervised ? h("span", { class: "badge badge-supervised", testid: "case-supervised" }, "督办") : null,
      " ",
      EXTENSION_LABELS[row.extension] ? h("span", { class: "badge badge-extension" }, EXTENSION_LABELS[row.extension]) : null);
    default: return h("td", {});
  }
}

// "第 1/3 页 共 45 条" with previous/next buttons; onPage(n) loads page n.
export function renderPager(box, data, onPage) {
  clear(box);
  const pages = Math.max(1, Math.ceil((data.total || 0) / (data.per_page || 20)));
  const page = data.page || 1;
  box.append(
    h("span", { class: "muted", testid: "cases-total" }, `共 ${data.total || 0} 条 · 第 ${page}/${pages} 页`),
    h("button", { type: "button", testid: "page-prev", disabled: page <= 1, onclick: () => onPage(page - 1) }, "上一页"),
    h("button", { type: "button", testid: "page-next", disabled: page >= pages, onclick: () => onPage(page + 1) }, "下一页"),
  );
}
