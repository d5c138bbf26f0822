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
  const departments = clear($("#user-department"));
  departments.append(h("option", { value: "" }, "（不属于部门）"));
  for (const d of data.departments) departments.append(h("option", { value: d.code }, `${d.name}（${d.code}）`));
  const rows = clear($("#users tbody"));
  for (const u of data.users) {
    rows.append(h("tr", { testid: "user-row", dataset: { login: u.login } },
      h("td", {}, u.login), h("td", {}, u.name),
      h("td", {}, u.roles.map((r) => ROLE_LABELS[r] || r).join("、")),
      h("td", {}, Object.entries(u.skills).map(([q, l]) => `${queueTitle(q)}:${l}`).join(" ")),
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
    $("#user-result").textContent = zhReason(err.message || "") || errorText(err);
  }
}

// The admin API keeps English reasons for integrators; the page says them in Chinese.
const REASONS = [
  [/login (\S+) is already taken/, (m) => `账号 ${m[1]} 已被使用，请换一个`],
  [/password must have at least (\d+)/, (m) => `密码至少需要${m[1]}位`],
  [/roles must be among/, () => "请至少选择一个角色"],
  [/skill (\S+) is not a queue/, (m) => `技能 ${m[1]} 不是现有队列`],
  [/skill (\S+) needs a level/, (m) => `技能 ${queueTitle(m[1])} 的级别须为1–10`],
  [/'max_chats' must be an integer/, () => "最大并发会话须为1–20的整数"],
  [/login must be/, () => "账号须为2–32位小写字母、数字或 _ . -"],
  [/'name' is empty/, () => "请填写姓名"],
  [/cannot deactivate yourself/, () => "不能停用自己，也不能取消自己的管理员角色"],
  [/endpoint must look like/, () => "话机格式应如 PJSIP/1001（技术/号码）"],
  [/department (\S+) does not exist/, (m) => `部门 ${m[1]} 不存在`],
];

function zhReason(text) {
  for (const [pattern, say] of REASONS) {
    const m = pattern.exec(text);
    if (m) return say(m);
  }
  return null; // not one of ours: errorText says what the status means
}

function queueTitle(name) {
  const q = data && data.queues.find((x) => x.name === name);
  return q ? q.title : name;
}

start().catch((err) => toast(errorText(err), "error"));
