// Canned replies: personal ones for everybody, shared ones for supervisors.
import { $, api, clear, errorText, h, hasRole, logout, signIn, toast } from "/static/agent/common.js";

let editing = null;

async function start() {
  const me = await signIn();
  $("#me-name").textContent = me.name;
  $("#logout").addEventListener("click", logout);
  $("#canned-shared-label").hidden = !hasRole(me, "supervisor");
  $("#canned-form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("#canned-new").addEventListener("click", () => fill(null));
  await load();
}

async function load() {
  const { replies } = await api("GET", "/api/v1/agent/canned");
  const rows = clear($("#canned-list tbody"));
  for (const r of replies) {
    rows.append(h("tr", { testid: "canned-row", dataset: { shortcut: r.shortcut, id: r.id } },
      h("td", {}, h("code", {}, `/${r.shortcut}`)), h("td", {}, r.title), h("td", {}, r.text),
      h("td", {}, r.shared ? "共享" : "个人"),
      h("td", {}, r.editable ? h("span", { class: "row" },
        h("button", { type: "button", testid: "canned-edit", onclick: () => fill(r) }, "编辑"),
        h("button", { type: "button", class: "danger", testid: "canned-delete", onclick: () => remove(r) }, "删除")) : null)));
  }
}

function fill(reply) {
  editing = reply ? reply.id : null;
  $("#canned-form-title").textContent = reply ? "编辑快捷回复" : "新建快捷回复";
  $("#canned-shortcut").value = reply ? reply.shortcut : "";
  $("#canned-title").value = reply ? reply.title : "";
  $("#canned-text").value = reply ? reply.text : "";
  $("#canned-shared").checked = reply ? reply.shared : false;
  $("#canned-shared").disabled = !!reply;
  $("#canned-result").textContent = "";
}

async function save() {
  const body = {
    shortcut: $("#canned-shortcut").value, title: $("#canned-title").value, text: $("#canned-text").value,
  };
  try {
    if (editing) await api("PUT", `/api/v1/agent/canned/${encodeURIComponent(editing)}`, body);
    else await api("POST", "/api/v1/agent/canned", { ...body, shared: $("#canned-shared").checked });
    $("#canned-result").textContent = "已保存";
    fill(null);
    await load();
  } catch (err) {
    $("#canned-result").textContent = errorText(err);
  }
}

async function remove(reply) {
  if (!confirm(`删除快捷回复 /${reply.shortcut}？`)) return;
  try {
    await api("DELETE", `/api/v1/agent/canned/${encodeURIComponent(reply.id)}`);
    await load();
  } catch (err) {
    toast(errorText(err), "error");
  }
}

start().catch((err) => toast(errorText(err), "error"));
