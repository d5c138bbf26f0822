// Shared by every staff page: API calls with the CSRF token, safe DOM building, labels,
// the live socket, sound and desktop notifications.
// Rule: user-supplied text only ever reaches the page through textContent (h() below).

export const LABELS = {
  channel: {
    wechat: "微信", sms: "短信", webchat: "网页", web: "网页", voice: "电话",
    telegram: "Telegram", rest: "API", internal: "内部", phone: "电话",
  },
  status: { ready: "就绪", busy: "示忙", away: "小休", wrap_up: "话后处理", offline: "离线" },
  state: {
    bot: "机器人", queued: "排队中", offered: "待接入", assigned: "服务中",
    wrap_up: "话后处理", closed: "已结束",
  },
  tag: { elderly: "老人", vip: "VIP", important: "重点", blacklist: "黑名单" },
  intent: {
    greet: "问候", goodbye: "再见", thank: "感谢", ask_human: "转人工", consult: "咨询",
    complaint: "投诉", suggestion: "建议", praise: "表扬", order_domestic_service: "家政预约",
    report_repair: "报修", emergency_help: "紧急求助", query_case_status: "查询工单进度",
    rate_service: "服务评价", affirm: "肯定", deny: "否定", out_of_scope: "无法识别",
  },
  entity: {
    phone: "电话", address: "地址", district: "区县", service_type: "服务类型",
    time: "时间", case_no: "工单号",
  },
  reason: {
    ask_human: "客户要求转人工", complaint: "投诉", emergency: "紧急求助", elderly: "老年客户",
    vip: "VIP客户", bot_unsure: "机器人无法解答", emergency_help: "紧急求助",
    ivr_agent: "来电按键转人工", ivr_transfer: "语音导航转人工", report_repair: "报修",
    order_domestic_service: "家政服务预约", callback_request: "预约回电",
  },
  caseType: {
    consult: "咨询", complaint: "投诉", suggestion: "建议", praise: "表扬",
    domestic_service_order: "家政服务订单", repair: "报修", emergency: "紧急求助",
    todo: "待办提醒", public_affairs: "公共事务",
  },
  caseState: {
    new: "新建", accepted: "已受理", dispatched: "已派单", confirmed: "已签收",
    in_progress: "办理中", returned: "已退回", replied: "已回复", revisited: "已回访",
    closed: "已办结", reopened: "已重办",
  },
  wrapUp: {
    resolved: "已解答", case_created: "已建工单", transferred: "已转办", callback: "需回电",
    invalid: "无效咨询", other: "其他",
  },
  sender: { customer: "客户", bot: "机器人", agent: "坐席", system: "系统" },
};

export const label = (group, key) => (LABELS[group] && LABELS[group][key]) || key || "";

// h("div", {class: "x", dataset: {id: 1}, onclick: fn}, "text", child) — text children become
// text nodes; there is deliberately no way to pass HTML.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (/html/i.test(key)) throw new Error("h() never sets HTML");
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "testid") el.setAttribute("data-testid", value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else if (key in el && key !== "list") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.reason) || `HTTP ${status}`);
    this.status = status;
    this.error = body && body.error;
  }
}

let csrfToken = "";

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await resp.json(); } catch (_) { data = null; }
  if (resp.status === 401 && !path.startsWith("/api/v1/auth/login")) {
    location.href = "/login";
    throw new ApiError(401, data);
  }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// A file upload (multipart, one "file" field) with the CSRF token; answers as api() does.
export async function upload(path, file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const resp = await fetch(path, {
    method: "POST", headers: { Accept: "application/json", "X-CSRF-Token": csrfToken },
    credentials: "same-origin", body: form,
  });
  let data = null;
  try { data = await resp.json(); } catch (_) { data = null; }
  if (!resp.ok) throw new ApiError(resp.status, data);
  return data;
}

// Who is signed in; remembers the CSRF token for later calls.
export async function signIn() {
  const me = await api("GET", "/api/v1/auth/me");
  csrfToken = me.csrf_token;
  return me;
}

export const hasRole = (me, role) => me.roles.includes(role) || me.roles.includes("admin");

export function errorText(err) {
  const byStatus = {
    400: "输入有误", 403: "没有权限执行此操作", 404: "对象不存在或已被删除",
    409: "操作未执行：会话或数据状态已变化", 415: "请求格式错误", 429: "操作过于频繁",
  };
  if (err instanceof ApiError) {
    // the API's reasons may be English (for integrators): the page then says only what it means
    const head = byStatus[err.status] || "操作失败";
    return /[\u4e00-\u9fff]/.test(err.message || "") ? `${head}（${err.message}）` : head;
  }
  return "网络错误，请稍后重试";
}

export function toast(text, kind = "info") {
  let box = $("#toasts");
  if (!box) {
    box = h("div", { id: "toasts" });
    document.body.append(box);
  }
  const item = h("div", { class: `toast ${kind}`, testid: "toast" }, text);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

export function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const today = new Date().toDateString() === d.toDateString();
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return today ? time : `${d.getMonth() + 1}-${pad(d.getDate())} ${time}`;
}

export function fmtWait(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s}秒` : `${Math.floor(s / 60)}分${s % 60}秒`;
}

export function channelBadge(channel) {
  return h("span", {
    class: `channel channel-${channel}`, testid: "channel-icon", dataset: { channel },
    title: label("channel", channel),
  }, label("channel", channel));
}

export function tagBadges(tags) {
  return (tags || []).map((t) => h("span", {
    class: `tag tag-${t}`, testid: "customer-tag", dataset: { tag: t },
  }, label("tag", t)));
}

// The live feed: reconnects with backoff; onState(true|false) drives the "已连接" light.
export function connectSocket(onEvent, onState) {
  let delay = 500;
  let ws = null;
  const watchers = { wanted: null };
  function open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    ws = new WebSocket(`${scheme}://${location.host}/api/v1/agent/ws`);
    ws.onopen = () => {
      delay = 500;
      onState(true);
      if (watchers.wanted) ws.send(JSON.stringify({ type: "watch", conversation_id: watchers.wanted }));
    };
    ws.onmessage = (msg) => {
      let event;
      try { event = JSON.parse(msg.data); } catch (_) { return; }
      onEvent(event);
    };
    ws.onclose = () => {
      onState(false);
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 10000);
    };
  }
  open();
  return {
    watch(cid) {
      watchers.wanted = cid;
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify(cid ? { type: "watch", conversation_id: cid } : { type: "unwatch" }));
      }
    },
  };
}

let audio = null;
// Browsers allow sound only after a user gesture: the first click anywhere unlocks it.
document.addEventListener("click", () => {
  if (!audio && window.AudioContext) audio = new AudioContext();
}, { once: true });

export function beep(times = 2) {
  if (!audio) return;
  for (let i = 0; i < times; i++) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.15;
    osc.connect(gain).connect(audio.destination);
    const start = audio.currentTime + i * 0.3;
    osc.start(start);
    osc.stop(start + 0.15);
  }
}

export function notify(title, body) {
  document.body.dataset.lastNotification = title; // for tests and screen readers
  beep();
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try { new Notification(title, { body, tag: title }); } catch (_) { /* not in this context */ }
}

export function notificationButton(button) {
  if (!("Notification" in window) || Notification.permission !== "default") {
    button.hidden = true;
    return;
  }
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission !== "default";
  });
}

export async function logout() {
  try { await api("POST", "/api/v1/auth/logout"); } finally { location.href = "/login"; }
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// A case deadline near or gone (签收超时, 即将超期, 已超期, 督办到期, 待办提醒): a lasting notice
// with a link to the case, a sound and a desktop notification.
export function showCaseAlert(event) {
  let box = $("#case-alerts");
  if (!box) {
    box = h("ul", { id: "case-alerts", class: "case-alerts", testid: "case-alerts", role: "status" });
    document.body.append(box);
  }
  const item = h("li", { class: `case-alert case-alert-${event.kind}`, testid: "case-alert", dataset: { kind: event.kind, case: event.case } },
    h("strong", {}, `${event.label}：`),
    h("a", { href: `/cases/${encodeURIComponent(event.case)}` }, `工单${event.case}`),
    `（${event.title}）`, " ",
    h("button", { type: "button", onclick: () => item.remove() }, "知道了"));
  box.append(item);
  notify(event.label, `工单${event.case}：${event.title}`);
}

// An emergency alert in words a supervisor acts on: what the citizen said and where (from
// what the bot understood), not the routing reason's code.
export async function alertDetails(event) {
  try {
    const data = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(event.conversation_id)}`);
    const said = data.messages.filter((m) => m.sender === "customer" && !m.internal);
    const words = said.slice(-2).map((m) => m.text).join(" / ");
    let address = "";
    for (const m of said) {
      const found = m.nlu && m.nlu.entities && (m.nlu.entities.address || m.nlu.entities.district);
      if (found) address = found;
    }
    return { words, address };
  } catch (_) {
    return { words: "", address: "" };
  }
}

export function alertLine(event, details) {
  const emergency = event.kind === "emergency";
  const parts = [h("strong", {}, emergency ? "紧急求助：" : "坐席求助：")];
  if (details.words) parts.push(h("span", { testid: "alert-words" }, `“${details.words}”`));
  else parts.push(h("span", { testid: "alert-words" }, emergency ? "市民发起紧急求助" : event.text));
  parts.push(" ", h("span", { testid: "alert-address" }, `地址：${details.address || "未提供"}`));
  return parts;
}

// A customer's label: the name, else channel + the last digits of a phone (or a short stable
// code from the customer id), so two visitors are told apart.
export function visitorLabel(conv) {
  const c = conv.customer || {};
  if (c.name) return c.name;
  const phone = (c.identities || []).find((i) => i.kind === "phone");
  const digits = phone ? phone.value.replace(/\D/g, "").slice(-4) : "";
  const code = digits ? `尾号${digits}` : String(c.id || "").slice(-4).toUpperCase();
  return `${label("channel", conv.channel || "web")}访客 ${code}`;
}
