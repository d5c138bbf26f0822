// One case: header with its light, the citizen's words, attachments, links, the timeline of
// every event, and a form for each action the API says this user may take now. Every write
// carries the case's version; a 409 (someone else acted first, or the state moved on) shows
// the API's Chinese reason and reloads the case, so nothing is overwritten blindly.
import {
  $, api, clear, errorText, h, hasRole, label, logout, signIn, toast, upload,
} from "/static/agent/common.js";
import {
  EXTENSION_LABELS, fmtDateTime, isLate, lightBadge, loadDepartments, stateLabel, typeLabel,
} from "/static/agent/caselist.js";

const NUMBER = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
const SATISFACTION = [
  ["satisfied", "满意"], ["neutral", "一般"], ["dissatisfied", "不满意"], ["unreachable", "无法联系"],
];
const SATISFACTION_LABELS = Object.fromEntries(SATISFACTION);
const DATA_LABELS = {
  department: "承办单位", assisting: "协办单位", days: "天数", due_days: "办理时限",
  reply: "回复内容", satisfaction: "回访结果", attachments: "附件", until: "督办时限",
  conversation_id: "来源会话", merged_from: "并入", number: "工单号",
};
const DATA_ORDER = Object.keys(DATA_LABELS);
// Who acted, when it was not a member of staff.
const ACTORS = { sms: "短信回访", wechat: "微信回访", system: "系统", bot: "机器人" };
// Actions whose buttons sit together in one form.
const GROUPS = { approve_return: "audit_return", reject_return: "audit_return",
  approve_extension: "audit_extension", deny_extension: "audit_extension" };

let me = null;
let detail = null; // the case as the API gave it
let suggestion = null;
let departments = []; // [{code, name}]
let names = new Map();
let busy = false;

async function start() {
  me = await signIn();
  $("#me-name").textContent = me.name;
  $("#logout").addEventListener("click", logout);
  const centre = hasRole(me, "agent") || hasRole(me, "supervisor");
  $("#link-workbench").hidden = !centre;
  $("#link-inbox").hidden = !centre;
  $("#link-dept").hidden = !me.roles.includes("department");
  $("#link-supervisor").hidden = !hasRole(me, "supervisor");
  try {
    departments = await loadDepartments();
  } catch (_) {
    departments = [];
  }
  names = new Map(departments.map((d) => [d.code, d.name]));
  await load();
}

async function load() {
  let data;
  try {
    data = await api("GET", `/api/v1/cases/${encodeURIComponent(NUMBER)}`);
  } catch (err) {
    const box = $("#case-error");
    box.textContent = err.status === 404 ? `工单 ${NUMBER} 不存在` : errorText(err);
    box.hidden = false;
    $("#case-page").hidden = true;
    return;
  }
  detail = data.case;
  suggestion = data.suggestion || null;
  $("#case-error").hidden = true;
  $("#case-page").hidden = false;
  document.title = `工单 ${detail.number} - 12345`;
  renderHeader();
  renderBody();
  renderTimeline();
  renderActions();
  loadNotices();
}

// The SMS sent about this case (to the citizen and the department) with their delivery state;
// staff who may see the case but not its SMS log simply don't get the panel.
const NOTICE_PURPOSES = {
  accepted: "受理通知", dispatched: "派单通知", department: "部门派单通知", completed: "办结通知",
  closed: "办结通知", survey_thanks: "回访致谢", reply: "回复",
};
const NOTICE_STATES = { pending: "待发送", sent: "已发送", delivered: "已送达", failed: "发送失败", skipped: "未发送（已退订）" };

async function loadNotices() {
  let data;
  try {
    data = await api("GET", `/api/v1/cases/${encodeURIComponent(NUMBER)}/sms`);
  } catch (_) {
    $("#case-notices-panel").hidden = true;
    return;
  }
  const list = clear($("#case-notices"));
  for (const sms of data.sms || []) {
    list.append(h("li", { testid: "case-notice", dataset: { purpose: sms.purpose, state: sms.state } },
      h("div", { class: "when" }, fmtDateTime(sms.created_at), " ",
        h("span", { class: "what" }, NOTICE_PURPOSES[sms.purpose] || sms.purpose), " → ", sms.to, " ",
        h("span", { class: `badge state-${sms.state}` }, NOTICE_STATES[sms.state] || sms.state)),
      h("div", { class: "comment" }, sms.text),
      sms.error ? h("div", { class: "data" }, `原因：${sms.error}`) : null));
  }
  $("#case-notices-panel").hidden = !(data.sms || []).length;
}

const deptName = (code) => (code ? names.get(code) || code : "");

function renderHeader() {
  const c = detail;
  $("#case-page").dataset.state = c.state;
  $("#case-page").dataset.version = String(c.version);
  $("#case-number").textContent = `工单 ${c.number}`;
  $("#case-type").textContent = typeLabel(c);
  $("#case-state").textContent = stateLabel(c);
  $("#case-state").dataset.state = c.state;
  clear($("#case-light-slot")).append(lightBadge(c));
  const ext = EXTENSION_LABELS[c.extension];
  $("#case-extension").hidden = !ext;
  $("#case-extension").textContent = ext || "";
  $("#case-title").textContent = c.title;
  const banner = $("#case-supervised");
  banner.hidden = !c.supervised;
  clear(banner);
  if (c.supervised) {
    banner.append(h("strong", {}, "督办件"),
      c.supervise_by ? `（督办时限 ${fmtDateTime(c.supervise_by)}）` : "",
      c.supervise_note ? `：${c.supervise_note}` : "");
  }
  const due = $("#case-due");
  due.textContent = fmtDateTime(c.due_at) || "—";
  due.className = c.light === "red" ? "late" : "";
  $("#case-department").textContent = c.department_name || deptName(c.department) || "未派单";
  $("#case-assisting").textContent = (c.assisting || []).map(deptName).join("、") || "—";
  const signBy = $("#case-sign-by");
  const waiting = c.state === "dispatched" && c.sign_by;
  const late = waiting && isLate(c.sign_by);
  signBy.textContent = waiting ? `${fmtDateTime(c.sign_by)}${late ? "（签收超时）" : ""}` : "—";
  signBy.className = late ? "late" : "";
  signBy.dataset.late = String(!!late);
  $("#case-category").textContent = (c.category || []).map((x) => x.name || x.code).join(" / ") || "未分类";
  $("#case-created").textContent = fmtDateTime(c.created_at);
  $("#case-channel").textContent = c.channel ? label("channel", c.channel) : "—";
  $("#case-contact").textContent = c.contact_phone_full || c.contact_phone || "—";
  $("#case-address").textContent = c.address || "—";
  $("#case-satisfaction").textContent = c.satisfaction_label || SATISFACTION_LABELS[c.satisfaction] || "—";
}

function renderBody() {
  const c = detail;
  $("#case-description").textContent = c.description || "（无）";
  $("#case-reply-box").hidden = !c.reply;
  $("#case-reply").textContent = c.reply || "";
  const box = clear($("#case-attachments"));
  const files = c.attachments || [];
  if (!files.length) box.append(h("p", { class: "muted" }, "无附件"));
  for (const file of files) box.append(attachment(file));
  const links = clear($("#case-links"));
  const linked = c.linked || [];
  links.append(h("p", { testid: "case-linked" }, "关联工单：",
    linked.length ? linked.flatMap((n, i) => [i ? "、" : "", h("a", { href: `/cases/${encodeURIComponent(n)}` }, n)]) : "无"));
  if (c.conversation_id) {
    const centre = hasRole(me, "agent") || hasRole(me, "supervisor");
    links.append(h("p", { testid: "case-conversation" }, "来源会话：",
      centre
        ? h("a", { href: `/?conversation=${encodeURIComponent(c.conversation_id)}` }, `${label("channel", c.channel)}会话 ${c.conversation_id}`)
        : `${label("channel", c.channel)}会话`));
  }
}

function attachment(file) {
  if (!file.url) {
    return h("figure", { testid: "case-attachment", dataset: { id: file.id, image: "false" } },
      h("figcaption", { class: "muted" }, `${file.name || "附件"}（无法读取）`));
  }
  const image = /^image\//.test(file.content_type || "");
  if (/^audio\//.test(file.content_type || "")) { // a call's recording or a voicemail
    return h("figure", { testid: "case-attachment", dataset: { id: file.id, image: "false" } },
      h("audio", { controls: true, preload: "none", src: file.url, testid: "case-attachment-audio" }),
      h("figcaption", {}, h("a", { href: file.url, download: file.name }, file.name)));
  }
  return h("figure", { testid: "case-attachment", dataset: { id: file.id, image: String(image) } },
    image ? h("a", { href: file.url, target: "_blank", rel: "noopener" }, h("img", { src: file.url, alt: file.name, testid: "case-attachment-image" })) : null,
    h("figcaption", {}, h("a", { href: file.url, target: "_blank", rel: "noopener", download: image ? undefined : file.name }, file.name)));
}

function renderTimeline() {
  const list = clear($("#case-timeline"));
  const files = new Map((detail.attachments || []).map((f) => [f.id, f]));
  for (const e of detail.events || []) {
    list.append(h("li", { testid: "timeline-event", dataset: { action: e.action, seq: String(e.seq) } },
      h("div", {},
        h("span", { class: "when" }, fmtDateTime(e.at)),
        h("span", { class: "what", testid: "timeline-action" }, e.action_label || e.action),
        h("span", { class: "muted", testid: "timeline-actor" }, actorName(e)),
        e.to_state && e.to_state !== e.from_state ? h("span", { class: "muted" }, ` → ${e.to_state_label || label("caseState", e.to_state)}`) : null),
      e.comment ? h("div", { class: "comment", testid: "timeline-comment" }, e.comment) : null,
      ...eventData(e.data || {}, files)));
  }
}

function actorName(e) {
  if (e.actor_name && e.actor_name !== e.actor) return e.actor_name;
  return ACTORS[e.actor] || e.actor || "";
}

function eventData(data, files) {
  const out = [];
  const rank = (key) => (DATA_ORDER.includes(key) ? DATA_ORDER.indexOf(key) : DATA_ORDER.length);
  const entries = Object.entries(data).sort(([a], [b]) => rank(a) - rank(b));
  for (const [key, raw] of entries) {
    if (raw === null || raw === undefined || raw === "") continue;
    const list = Array.isArray(raw) ? raw : key === "assisting" || key === "attachments" ? String(raw).split(",").filter(Boolean) : null;
    let value;
    if (key === "department") value = deptName(String(raw));
    else if (key === "assisting") value = list.map(deptName).join("、");
    else if (key === "days" || key === "due_days") value = `${raw}个工作日`;
    else if (key === "satisfaction") value = SATISFACTION_LABELS[raw] || String(raw);
    else if (key === "until") value = fmtDateTime(String(raw)) || String(raw);
    else if (key === "attachments") {
      out.push(h("div", { class: "data", testid: "timeline-data", dataset: { key } }, "附件：",
        ...list.flatMap((id, i) => {
          const f = files.get(id);
          return [i ? "、" : "", f && f.url ? h("a", { href: f.url, target: "_blank", rel: "noopener" }, f.name) : (f ? f.name : id)];
        })));
      continue;
    } else value = typeof raw === "object" ? JSON.stringify(raw) : String(raw);
    out.push(h("div", { class: "data", testid: "timeline-data", dataset: { key } }, `${DATA_LABELS[key] || key}：${value}`));
  }
  return out;
}

// ------------------------------------------------------------------ actions

function renderActions() {
  const body = clear($("#actions-body"));
  const actions = (detail.actions || []).filter((a) => a.action !== "merge"); // 并单 is done at intake
  if (!actions.length) {
    body.append(h("p", { class: "muted", testid: "no-actions" }, "当前状态下没有您可执行的操作"));
    return;
  }
  const labels = Object.fromEntries(actions.map((a) => [a.action, a.label]));
  const done = new Set();
  for (const { action } of actions) {
    const group = GROUPS[action];
    if (group) {
      if (done.has(group)) continue;
      done.add(group);
      body.append(group === "audit_return" ? auditReturnForm(labels) : auditExtensionForm(labels));
      continue;
    }
    const build = FORMS[action] || simpleForm;
    body.append(build(action, labels[action] || action));
  }
}

function fieldset(name, legend, ...children) {
  return h("fieldset", { class: "action-form stack", testid: `action-${name}`, dataset: { action: name } },
    h("legend", {}, legend), ...children,
    h("p", { class: "error", testid: "action-result", role: "status" }));
}

function button(action, text, kind, onclick) {
  return h("button", { type: "button", class: kind || "primary", testid: `do-${action}`, onclick }, text);
}

function comment(placeholder, testid = "action-comment", rows = 2) {
  return h("textarea", { rows, maxlength: 2000, placeholder, testid });
}

function resultOf(el) {
  return el.closest("fieldset").querySelector('[data-testid="action-result"]');
}

async function act(trigger, action, extra) {
  if (busy) return;
  const result = resultOf(trigger);
  result.textContent = "";
  busy = true;
  for (const b of document.querySelectorAll("#actions-body button")) b.disabled = true;
  try {
    await api("POST", `/api/v1/cases/${encodeURIComponent(detail.number)}/actions`, {
      action, version: detail.version, ...extra,
    });
    toast(`${trigger.textContent}：已完成`);
    busy = false;
    await load();
  } catch (err) {
    busy = false;
    if (err.status === 409) {
      toast(`操作未执行：${err.message}。已重新加载工单`, "error");
      await load();
      return;
    }
    for (const b of document.querySelectorAll("#actions-body button")) b.disabled = false;
    result.textContent = err.status ? `操作未执行：${err.message}` : errorText(err);
  } finally {
    busy = false;
  }
}

// A button, with an optional note.
function simpleForm(action, title) {
  const note = comment("备注（可不填）");
  const go = button(action, title, action === "close" ? "primary" : "", () => act(go, action, withComment(note)));
  return fieldset(action, title, note, go);
}

function withComment(textarea, extra = {}) {
  const value = textarea.value.trim();
  return value ? { ...extra, comment: value } : extra;
}

// A reason is required: the button stays off until one is typed.
function reasonForm(action, title, placeholder, kind = "danger") {
  const reason = comment(placeholder, "action-reason", 3);
  const go = button(action, title, kind, () => act(go, action, { comment: reason.value.trim() }));
  go.disabled = true;
  reason.addEventListener("input", () => { go.disabled = !reason.value.trim(); });
  return fieldset(action, title, reason, go);
}

function dispatchForm(action, title) {
  const lead = h("select", { testid: "dispatch-lead", required: true },
    h("option", { value: "" }, "请选择承办单位"),
    ...departments.map((d) => h("option", { value: d.code }, d.name)));
  const checks = h("div", { class: "checks", testid: "dispatch-assisting" },
    ...departments.map((d) => h("label", {}, h("input", { type: "checkbox", value: d.code, testid: `assist-${d.code}` }), d.name)));
  const days = h("input", { type: "number", min: 1, max: 60, testid: "dispatch-days", placeholder: "按类型默认" });
  const note = comment("派单意见（可不填）");
  const hint = h("p", { class: "suggestion-note", testid: "dispatch-suggestion" });
  if (suggestion) {
    lead.value = suggestion.lead;
    const assisting = (suggestion.assisting || []).map((a) => (typeof a === "string" ? { code: a, name: deptName(a) } : a));
    for (const input of checks.querySelectorAll("input")) input.checked = assisting.some((a) => a.code === input.value);
    if (suggestion.due_days) days.value = String(suggestion.due_days);
    hint.textContent = `派单目录建议：${suggestion.lead_name || deptName(suggestion.lead)}`
      + (assisting.length ? `（协办：${assisting.map((a) => a.name || deptName(a.code)).join("、")}）` : "")
      + (suggestion.due_days ? `，${suggestion.due_days}个工作日办结` : "");
  } else {
    hint.textContent = "派单目录中没有该分类的建议，请选择承办单位";
    hint.className = "muted";
  }
  const syncLead = () => {
    for (const input of checks.querySelectorAll("input")) {
      const isLead = input.value === lead.value;
      if (isLead) input.checked = false;
      input.disabled = isLead;
    }
    go.disabled = !lead.value;
  };
  const go = button(action, title, "primary", () => {
    const body = {
      department: lead.value,
      assisting: [...checks.querySelectorAll("input:checked")].map((i) => i.value),
    };
    if (days.value) body.due_days = Number(days.value);
    act(go, action, withComment(note, body));
  });
  lead.addEventListener("change", syncLead);
  syncLead();
  return fieldset(action, title, hint,
    h("label", {}, "承办单位 ", lead),
    h("div", {}, h("span", { class: "muted" }, "协办单位"), checks),
    h("label", {}, "办理时限（工作日） ", days), note, go);
}

function extensionForm(action, title) {
  const days = h("input", { type: "number", min: 1, max: 60, value: 3, testid: "extension-days" });
  const reason = comment("延期理由", "action-reason", 3);
  const go = button(action, title, "primary", () => act(go, action, { days: Number(days.value), comment: reason.value.trim() }));
  go.disabled = true;
  reason.addEventListener("input", () => { go.disabled = !reason.value.trim(); });
  return fieldset(action, title, h("label", {}, "延长天数（工作日） ", days), reason, go);
}

function auditExtensionForm(labels) {
  const asked = [...(detail.events || [])].reverse().find((e) => e.action === "request_extension");
  const askedDays = asked && asked.data ? asked.data.days : null;
  const days = h("input", { type: "number", min: 1, max: 60, testid: "approve-days", value: askedDays || "" });
  const note = comment("审批意见（可不填）");
  const parts = [
    h("p", { testid: "extension-request" }, asked
      ? `申请延期${askedDays ? ` ${askedDays} 个工作日` : ""}${asked.comment ? `：${asked.comment}` : ""}`
      : "部门申请延期"),
    h("label", {}, "批准天数（工作日） ", days), note,
  ];
  const row = h("div", { class: "row" });
  if (labels.approve_extension) {
    const yes = button("approve_extension", labels.approve_extension, "primary", () => {
      act(yes, "approve_extension", withComment(note, days.value ? { days: Number(days.value) } : {}));
    });
    row.append(yes);
  }
  if (labels.deny_extension) {
    const no = button("deny_extension", labels.deny_extension, "danger", () => act(no, "deny_extension", withComment(note)));
    row.append(no);
  }
  return fieldset("audit_extension", "延期审批", ...parts, row);
}

function auditReturnForm(labels) {
  const asked = [...(detail.events || [])].reverse().find((e) => e.action === "return");
  const note = comment("审核意见（驳回时请说明理由）");
  const row = h("div", { class: "row" });
  if (labels.approve_return) {
    const yes = button("approve_return", labels.approve_return, "primary", () => act(yes, "approve_return", withComment(note)));
    row.append(yes);
  }
  if (labels.reject_return) {
    const no = button("reject_return", labels.reject_return, "danger", () => act(no, "reject_return", withComment(note)));
    row.append(no);
  }
  return fieldset("audit_return", "审核退单",
    h("p", { testid: "return-reason" }, `退单理由：${asked && asked.comment ? asked.comment : "（未填写）"}`),
    h("p", { class: "muted" }, "同意后工单回到中心重新派单（改派）；驳回则退回原单位继续办理。"),
    note, row);
}

function replyForm(action, title) {
  const text = h("textarea", { rows: 5, maxlength: 5000, testid: "reply-text", placeholder: "办理结果（将告知市民）" });
  const files = h("input", { type: "file", multiple: true, testid: "reply-files", accept: "image/*,.pdf,.doc,.docx,.xls,.xlsx,.txt" });
  const go = button(action, title, "primary", async () => {
    const result = resultOf(go);
    const ids = [];
    go.disabled = true;
    try {
      for (const file of files.files) {
        result.textContent = `正在上传 ${file.name}…`;
        const { attachment } = await upload(`/api/v1/cases/${encodeURIComponent(detail.number)}/attachments`, file);
        ids.push(attachment.id);
      }
    } catch (err) {
      result.textContent = err.status ? `附件上传失败：${err.message}` : errorText(err);
      go.disabled = false;
      return;
    }
    result.textContent = "";
    const body = { reply: text.value.trim() };
    if (ids.length) body.attachments = ids;
    await act(go, action, body);
  });
  go.disabled = true;
  text.addEventListener("input", () => { go.disabled = !text.value.trim(); });
  return fieldset(action, title, text, h("label", {}, "附件（图片或文件） ", files), go);
}

function revisitForm(action, title) {
  const name = `satisfaction-${Math.random().toString(36).slice(2)}`;
  const options = h("div", { class: "checks", testid: "revisit-options" },
    ...SATISFACTION.map(([value, text]) => h("label", {},
      h("input", { type: "radio", name, value, testid: `revisit-${value}` }), text)));
  const note = comment("回访记录（可不填）");
  const go = button(action, title, "primary", () => {
    const chosen = options.querySelector("input:checked");
    act(go, action, withComment(note, { satisfaction: chosen.value }));
  });
  go.disabled = true;
  options.addEventListener("change", () => { go.disabled = !options.querySelector("input:checked"); });
  return fieldset(action, title, options, note, go);
}

function superviseForm(action, title) {
  const note = comment("督办意见", "action-reason", 3);
  const until = h("input", { type: "datetime-local", testid: "supervise-until" });
  const go = button(action, title, "danger", () => {
    const body = { comment: note.value.trim() };
    if (until.value) body.until = new Date(until.value).toISOString();
    act(go, action, body);
  });
  go.disabled = true;
  note.addEventListener("input", () => { go.disabled = !note.value.trim(); });
  return fieldset(action, title, note, h("label", {}, "督办时限 ", until), go);
}

const FORMS = {
  dispatch: dispatchForm,
  return: (a, t) => reasonForm(a, t, "退单理由（如：非本单位职责，建议派往…）"),
  request_extension: extensionForm,
  reply: replyForm,
  reject_reply: (a, t) => reasonForm(a, t, "不通过的理由"),
  revisit: revisitForm,
  reopen: (a, t) => reasonForm(a, t, "重办理由"),
  supervise: superviseForm,
};

start().catch((err) => toast(errorText(err), "error"));
