// The supervisors' board: queues, agents, conversations; monitor one live, whisper, take over.
import { $, alertDetails, alertLine, api, channelBadge, clear, connectSocket, debounce, errorText, fmtTime, fmtWait, h, hasRole, label, logout, notificationButton, notify, showCaseAlert, signIn, tagBadges, toast } from "/static/agent/common.js";

let me = null;
let socket = null;
let monitored = null; // {id, messageIds}
let agentNames = new Map();
let queueTitles = new Map();

async function start() {
  me = await signIn();
  $("#me-name").textContent = me.name;
  $("#logout").addEventListener("click", logout);
  $("#link-admin").hidden = !hasRole(me, "admin");
  notificationButton($("#enable-notify"));
  $("#whisper-form").addEventListener("submit", (e) => { e.preventDefault(); whisper(); });
  $("#take-over").addEventListener("click", takeOver);
  for (const button of document.querySelectorAll("#call-monitor [data-mode]")) {
    button.addEventListener("click", () => monitorCall(button.dataset.mode));
  }
  await Promise.all([loadBoard(), loadConversations(), loadCaseBoard()]);
  socket = connectSocket(onEvent, (up) => {
    const light = $("#ws-state");
    light.dataset.connected = String(up);
    light.textContent = up ? "已连接" : "重连中…";
    if (up) refresh();
  });
  setInterval(loadBoard, 15000); // waits grow without events
  setInterval(loadCaseBoard, 60000); // deadlines pass without events
}

// The wallboard's case counters; each opens its list in the workbench.
const CASE_COUNTERS = [
  ["open", "在办", "all", false], ["overdue", "超期", "overdue", true],
  ["due_today", "今日到期", "all", true], ["awaiting_audit", "待审核", "audit", true],
  ["sign_off_late", "签收超时", "sign_off_late", true], ["to_revisit", "待回访", "to_revisit", false],
];

async function loadCaseBoard() {
  let board;
  try {
    board = await api("GET", "/api/v1/supervisor/case-board");
  } catch (err) {
    $("#case-board-error").textContent = `工单概况暂不可用：${errorText(err)}`;
    $("#case-board-error").hidden = false;
    return;
  }
  $("#case-board-error").hidden = true;
  clear($("#case-board")).append(...CASE_COUNTERS.map(([key, title, list, alarm]) => {
    const value = Number(board[key] || 0);
    return h("a", {
      class: `counter${alarm && value > 0 ? " alarm" : ""}`, href: `/cases?list=${list}`,
      testid: `case-counter-${key}`, dataset: { value: String(value) },
    }, h("strong", {}, String(value)), title);
  }));
  $("#case-board-updated").textContent = `更新于 ${fmtTime(new Date().toISOString())}`;
}

const refresh = debounce(() => { loadBoard(); loadConversations(); }, 250);

async function loadBoard() {
  let board;
  try {
    board = await api("GET", "/api/v1/supervisor/board");
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  queueTitles = new Map(board.queues.map((q) => [q.queue, q.title]));
  const queues = clear($("#queue-board tbody"));
  for (const q of board.queues) {
    const sl = q.service_level;
    queues.append(h("tr", { testid: "queue-row", dataset: { queue: q.queue, waiting: String(q.waiting) } },
      h("td", {}, q.title),
      h("td", { class: "num", testid: "queue-waiting" }, String(q.waiting)),
      h("td", { class: "num" }, String(q.offered)),
      h("td", { class: "num", testid: "queue-longest" }, fmtWait(q.longest_wait_s)),
      h("td", { class: `num ${sl == null ? "" : sl < 0.8 ? "sl-bad" : "sl-good"}`, testid: "queue-sl" },
        sl == null ? "—" : `${Math.round(sl * 100)}%`),
      h("td", { class: "num" }, String(q.answered)),
      h("td", { class: "num" }, `${q.agents_ready}/${q.agents_signed_in}`)));
  }
  const agents = clear($("#agent-board tbody"));
  agentNames = new Map(board.agents.map((a) => [a.login, a.name]));
  for (const a of board.agents) {
    agents.append(h("tr", { testid: "agent-row", dataset: { login: a.login, status: a.status } },
      h("td", {}, a.name),
      h("td", { testid: "agent-status" }, h("span", { class: "status-dot", dataset: { status: a.status } }, label("status", a.status))),
      h("td", { class: "num", testid: "agent-load" }, `${a.load}/${a.max_chats}`),
      h("td", { class: "num", testid: "agent-missed" }, String(a.missed_offers)),
      h("td", { class: "num" }, String(a.assigned_total)),
      h("td", {}, a.connected ? "是" : "否")));
  }
  $("#board-updated").textContent = `更新于 ${fmtTime(new Date().toISOString())}`;
}

async function loadConversations() {
  let data;
  try {
    data = await api("GET", "/api/v1/supervisor/conversations");
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  $("#active-count").textContent = String(data.total);
  const rows = clear($("#active-conversations tbody"));
  for (const c of data.conversations) {
    rows.append(h("tr", {
      testid: "active-conversation", class: monitored && monitored.id === c.id ? "monitoring" : "",
      dataset: { conversationId: c.id, state: c.state },
    },
    h("td", {}, channelBadge(c.channel)),
    h("td", {}, c.customer.name || `访客 ${String(c.customer.id).slice(-6)}`, " ", ...tagBadges(c.customer.tags)),
    h("td", {}, label("state", c.state)),
    h("td", {}, queueTitles.get(c.queue) || c.queue || ""),
    h("td", { testid: "active-agent" }, c.agent ? (agentNames.get(c.agent) || c.agent) : "—"),
    h("td", {}, h("button", { type: "button", testid: "monitor-open", onclick: () => monitor(c.id) }, "监听"))));
  }
}

async function monitor(cid) {
  monitored = { id: cid, messageIds: new Set() };
  socket.watch(cid);
  clear($("#monitor-transcript"));
  for (const row of document.querySelectorAll("#active-conversations tbody tr")) {
    row.classList.toggle("monitoring", row.dataset.conversationId === cid);
  }
  try {
    const data = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(cid)}`);
    const c = data.conversation;
    const title = clear($("#monitor-title"));
    title.append(channelBadge(c.channel), " ", c.customer.name || "访客", ` · ${label("state", c.state)}`,
      c.agent ? ` · ${agentNames.get(c.agent) || c.agent}` : "");
    for (const m of data.messages) addMessage(m);
    $("#call-monitor").hidden = !(c.media === "voice" && c.state === "assigned");
  } catch (err) {
    toast(errorText(err), "error");
  }
}

// A call: the supervisor's own phone rings and joins it (listen / whisper / barge, ARI snoop).
async function monitorCall(mode) {
  if (!monitored) return;
  try {
    await api("POST", `/api/v1/calls/${encodeURIComponent(monitored.id)}/monitor`, { mode });
    toast("正在呼叫您的话机，接起即加入通话", "info");
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function addMessage(m) {
  if (!monitored || m.conversation_id !== monitored.id || monitored.messageIds.has(m.id)) return;
  monitored.messageIds.add(m.id);
  const who = m.sender === "agent" ? (agentNames.get(m.sender_id) || m.sender_id || "坐席") : label("sender", m.sender);
  const list = $("#monitor-transcript");
  list.append(h("li", {
    class: `msg msg-${m.sender}${m.internal ? " internal" : ""}`, testid: "monitor-message",
    dataset: { sender: m.sender, internal: String(!!m.internal) },
  },
  h("div", { class: "msg-meta" }, who, m.internal ? h("span", { class: "badge-internal" }, "内部") : null, " ", fmtTime(m.created_at)),
  h("div", { class: "msg-text" }, m.text)));
  list.scrollTop = list.scrollHeight;
}

async function whisper() {
  const input = $("#whisper-input");
  if (!monitored || !input.value.trim()) return;
  try {
    const data = await api("POST", `/api/v1/supervisor/conversations/${encodeURIComponent(monitored.id)}/whisper`, { text: input.value });
    addMessage(data.message);
    input.value = "";
  } catch (err) {
    toast(errorText(err), "error");
  }
}

async function showAlert(event) {
  const details = await alertDetails(event);
  const banner = $("#alert-banner");
  banner.hidden = false;
  banner.dataset.kind = event.kind;
  clear(banner).append(...alertLine(event, details),
    " ", h("button", { type: "button", testid: "alert-monitor", onclick: () => monitor(event.conversation_id) }, "监听该会话"),
    h("button", { type: "button", testid: "alert-dismiss", onclick: () => { banner.hidden = true; } }, "知道了"));
  notify(event.kind === "emergency" ? "紧急求助告警" : "坐席请求协助",
    details.words ? `${details.words}（地址：${details.address || "未提供"}）` : event.text);
}

async function takeOver() {
  if (!monitored) return;
  if (!confirm("确定强插接管该会话？接管后由您直接服务市民，原坐席将退出并收到通知。")) return;
  try {
    await api("POST", `/api/v1/supervisor/conversations/${encodeURIComponent(monitored.id)}/take-over`);
    toast("已接管会话，请在坐席工作台中继续服务");
    refresh();
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function onEvent(event) {
  if (event.type === "message") {
    addMessage(event.message);
    return;
  }
  if (event.type === "alert") showAlert(event);
  if (event.type === "case_alert") {
    showCaseAlert(event);
    loadCaseBoard();
  }
  if (["queue", "queued", "assigned", "unassigned", "closed", "status", "offer", "offer_withdrawn"].includes(event.type)) {
    refresh();
  }
}

start().catch((err) => toast(errorText(err), "error"));
