// Administration: staff accounts (roles, skills, capacity). Knowledge-base editing: admin_kb.js.
import { $, api, clear, errorText, h, logout, signIn, toast } from "/static/agent/common.js";

const ROLE_LABELS = { agent: "坐席", supervisor: "班长", department: "部门", admin: "管理员" };
let data = null;
let editing = null; // login being edited, or null for a new user

async function start() {
  const me = await signIn();
  $("#me-name").textContent = me.name;
  $("#logout").addEventListener("click", logout);
  $("#user-new").addEventListener("click", () => fill(null));
  $("#user-form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  await load();
  fill(null);
}

async function load() {
  data = await api("GET", "/api/v1/admin/users");
  const rows = clear($("#users tbody"));
  for (const u of data.users) {
    rows.append(h("tr", { testid: "user-row", dataset: { login: u.login } },
      h("td", {}, u.login), h("td", {}, u.name),
      h("td", {}, u.roles.map((r) => ROLE_LABELS[r] || r).join("、")),
      h("td", {}, Object.entries(u.skills).map(([q, l]) => `${q}:${l}`).join(" ")),
      h("td", { class: "num" }, String(u.max_chats)),
      h("td", {}, u.active ? "启用" : "停用"),
      h("td", {}, h("button", { type: "button", testid: "user-edit", onclick: () => fill(u) }, "编辑"))));
  }
}

function fill(user) {
  editing = user ? user.login : null;
  $("#user-form-title").textContent = user ? `编辑用户 ${user.login}` : "新建用户";
  $("#user-login").value = user ? user.login : "";
  $("#user-login").disabled = !!user;
  $("#user-name").value = user ? user.name : "";
  $("#user-password").value = "";
  $("#user-password").required = !user;
  $("#user-max-chats").value = user ? user.max_chats : 3;
  $("#user-department").value = user && user.department ? user.department : "";
  $("#user-endpoint").value = user && user.endpoint ? user.endpoint : "";
  $("#user-active").checked = user ? user.active : true;
  const roles = clear($("#user-roles"));
  for (const role of data.roles) {
    roles.append(h("label", {}, h("input", {
      type: "checkbox", value: role, testid: `user-role-${role}`,
      checked: user ? user.roles.includes(role) : role === "agent",
    }), ROLE_LABELS[role] || role));
  }
  const skills = clear($("#user-skills"));
  for (const q of data.queues) {
    const level = user && user.skills[q.name] ? String(user.skills[q.name]) : "";
    skills.append(h("label", { class: "row" }, h("span", { class: "muted" }, `${q.title}（${q.name}）`),
      h("input", { type: "number", min: "1", max: "10", value: level, dataset: { queue: q.name }, testid: `user-skill-${q.name}` })));
  }
  $("#user-result").textContent = "";
}

async function save() {
  const body = {
    name: $("#user-name").value,
    roles: [...document.querySelectorAll("#user-roles input:checked")].map((i) => i.value),
    skills: Object.fromEntries([...document.querySelectorAll("#user-skills input")]
      .filter((i) => i.value).map((i) => [i.dataset.queue, Number(i.value)])),
    max_chats: Number($("#user-max-chats").value),
    department: $("#user-department").value,
    endpoint: $("#user-endpoint").value.trim(),
    active: $("#user-active").checked,
  };
  const password = $("#user-password").value;
  if (password) body.password = password;
  try {
    if (editing) {
      await api("PUT", `/api/v1/admin/users/${encodeURIComponent(editing)}`, body);
    } else {
      body.login = $("#user-login").value.trim();
      delete body.active;
      await api("POST", "/api/v1/admin/users", body);
    }
    $("#user-result").textContent = "已保存";
    toast("已保存");
    await load();
  } catch (err) {
    $("#user-result").textContent = errorText(err);
  }
}

start().catch((err) => toast(errorText(err), "error"));
