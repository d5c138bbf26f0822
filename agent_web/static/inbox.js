// The unified inbox: lists (offers, my conversations, waiting), presence, the live feed.
import { $, alertDetails, alertLine, api, visitorLabel, channelBadge, clear, connectSocket, debounce, errorText, fmtWait, h, hasRole, label, logout, notificationButton, notify, showCaseAlert, signIn, tagBadges, toast } from "/static/agent/common.js";
import { initCaseForm } from "/static/agent/casefile.js";
import { initComposer } from "/static/agent/composer.js";
import {
  accept, appendLive, initConversation, markUndelivered, openConversation, refreshSelected,
} from "/static/agent/conversation.js";
import { initKb } from "/static/agent/kb.js";
import { showTab, state } from "/static/agent/inbox_state.js";

async function start() {
  state.me = await signIn();
  $("#me-name").textContent = state.me.name;
  $("#logout").addEventListener("click", logout);
  $("#link-supervisor").hidden = !hasRole(state.me, "supervisor");
  $("#link-admin").hidden = !hasRole(state.me, "admin");
  notificationButton($("#enable-notify"));
  if (!hasRole(state.me, "agent") && !hasRole(state.me, "supervisor")) {
    $("#no-seat").hidden = false;
    $("#inbox").hidden = true;
    $("#presence").hidden = true;
    return;
  }
  for (const button of document.querySelectorAll("#presence button")) {
    button.addEventListener("click", () => setStatus(button.dataset.status));
  }
  for (const tab of document.querySelectorAll(".tabs .tab")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  state.refresh = debounce(loadInbox, 150);
  state.directory = await api("GET", "/api/v1/agent/directory");
  initConversation();
  initComposer();
  initKb();
  initCaseForm();
  state.socket = connectSocket(onEvent, (up) => {
    const light = $("#ws-state");
    light.dataset.connected = String(up);
    light.textContent = up ? "已连接" : "重连中…";
    if (up) state.refresh();
  });
  // /?conversation=<id>: opened from a case page; stays open until another is chosen
  state.requested = new URLSearchParams(location.search).get("conversation");
  await loadInbox();
  if (state.requested && !(state.selected && state.selected.id === state.requested)) {
    openConversation(state.requested);
  }
  setInterval(tickCountdowns, 1000);
}

async function loadInbox() {
  let data;
  try {
    data = await api("GET", "/api/v1/agent/inbox");
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  const now = Date.now();
  state.conversations = data.conversations;
  state.offers = data.offers.map((o) => ({ ...o, deadline: now + o.ttl_s * 1000 }));
  state.waiting = data.waiting;
  renderPresence(data.me);
  renderOffers();
  renderMine();
  renderWaiting();
  autoOpen();
}

const loadWaiting = debounce(async () => {
  try {
    state.waiting = (await api("GET", "/api/v1/agent/waiting")).waiting;
    renderWaiting();
  } catch (err) {
    toast(errorText(err), "error");
  }
}, 300);

// The screen pop: open a new assignment, or preview a new offer, when nothing is open.
function autoOpen() {
  const selected = state.selected && state.selected.id;
  const stillRelevant = selected && (selected === state.requested
    || state.conversations.some((c) => c.id === selected)
    || state.offers.some((o) => o.conversation_id === selected));
  if (state.requested && !selected) return; // the requested one opens after the first load
  if (stillRelevant) {
    refreshSelected();
    return;
  }
  const next = state.conversations.find((c) => c.state === "assigned")
    || (state.offers[0] && state.offers[0].conversation);
  if (next) openConversation(next.id);
  else if (selected) refreshSelected();
}

function renderPresence(me) {
  state.presence = me;
  const light = $("#presence-status");
  light.dataset.status = me.status;
  light.textContent = label("status", me.status);
  for (const button of document.querySelectorAll("#presence button")) {
    button.classList.toggle("active", button.dataset.status === me.status);
  }
  $("#agent-load").textContent = `负载 ${me.load}/${me.max_chats}`;
}

async function setStatus(status) {
  try {
    renderPresence((await api("POST", "/api/v1/agent/status", { status })).me);
  } catch (err) {
    toast(errorText(err), "error");
  }
}

// A visitor without a name: channel + the last digits of a phone (or a short stable code)
// and a colour from the customer id, so two visitors are told apart at a glance.
const VISITOR_COLOURS = ["#1d5fd1", "#16a34a", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#b45309"];

function visitorHue(id) {
  let n = 0;
  for (const ch of String(id || "")) n = (n * 31 + ch.charCodeAt(0)) >>> 0;
  return VISITOR_COLOURS[n % VISITOR_COLOURS.length];
}

const customerName = visitorLabel;

function visitorDot(conv) {
  const c = conv.customer || {};
  return h("span", { class: "visitor-dot", testid: "visitor-dot", dataset: { colour: visitorHue(c.id) }, "aria-hidden": "true" });
}

// The lists by keyboard: Tab reaches a row, ↑/↓ move between rows, Enter opens one.
function rowKeys(e) {
  const rows = [...document.querySelectorAll(".sidebar .card[tabindex]")];
  const i = rows.indexOf(e.currentTarget);
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    e.preventDefault();
    const next = rows[(i + (e.key === "ArrowDown" ? 1 : rows.length - 1)) % rows.length];
    if (next) next.focus();
  } else if ((e.key === "Enter" || e.key === " ") && e.target === e.currentTarget) {
    e.preventDefault();
    e.currentTarget.click();
  }
}

// CSP forbids inline styles from markup, but a property set from script is allowed.
function paintDots(root) {
  for (const dot of root.querySelectorAll(".visitor-dot")) dot.style.background = dot.dataset.colour;
}

function renderOffers() {
  const box = clear($("#offers"));
  $("#offers-count").textContent = String(state.offers.length);
  for (const offer of state.offers) {
    const conv = offer.conversation;
    box.append(h("div", {
      class: "card offer", testid: "offer-card", dataset: { conversationId: offer.conversation_id },
      tabindex: "0", role: "button", onkeydown: rowKeys,
      onclick: () => openConversation(offer.conversation_id),
    },
    h("div", { class: "card-line" }, channelBadge(conv.channel), visitorDot(conv), h("strong", {}, customerName(conv)),
      ...tagBadges(conv.customer.tags)),
    h("div", { class: "card-line muted" }, offer.queue_title, " · ", label("reason", conv.escalation_reason)),
    h("div", { class: "card-line" },
      h("span", { class: "countdown", testid: "offer-countdown", dataset: { deadline: String(offer.deadline) } },
        `${offer.ttl_s}秒`),
      h("button", { type: "button", class: "primary", testid: "offer-accept", onclick: (e) => { e.stopPropagation(); accept(offer.conversation_id); } }, "接受"),
      h("button", { type: "button", testid: "offer-decline", onclick: (e) => { e.stopPropagation(); decline(offer.conversation_id); } }, "拒绝"))));
  }
  paintDots(box);
}

function tickCountdowns() {
  const now = Date.now();
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Math.max(0, Math.round((Number(el.dataset.deadline) - now) / 1000));
    el.textContent = `${left}秒`;
    el.classList.toggle("urgent", left <= 5);
  }
  for (const el of document.querySelectorAll("[data-queued-at]")) {
    el.textContent = fmtWait((now - Date.parse(el.dataset.queuedAt)) / 1000);
  }
  for (const el of document.querySelectorAll("[data-waiting-since]")) {
    el.textContent = `客户已等 ${fmtWait((now - Date.parse(el.dataset.waitingSince)) / 1000)}`;
  }
  for (const el of document.querySelectorAll("[data-reply-due]")) {
    const left = Math.max(0, (Date.parse(el.dataset.replyDue) - now) / 1000);
    el.textContent = el.dataset.long
      ? `客户正在等待回复：请在 ${fmtWait(left)}内回复，超时未回复会话将自动转给其他坐席`
      : `${fmtWait(left)}后转走`;
    el.classList.toggle("urgent", left <= 60);
  }
}

async function decline(cid) {
  try {
    await api("POST", `/api/v1/agent/offers/${encodeURIComponent(cid)}/decline`);
  } catch (err) {
    toast(errorText(err), "error");
  }
  state.refresh();
}

function renderMine() {
  const box = clear($("#my-conversations"));
  $("#mine-count").textContent = String(state.conversations.length);
  if (!state.conversations.length) box.append(h("p", { class: "muted empty" }, "暂无会话"));
  for (const conv of state.conversations) {
    const unread = state.unread.get(conv.id) || 0;
    const preview = state.previews.get(conv.id) || label("reason", conv.escalation_reason);
    box.append(h("div", {
      class: `card conversation-item${state.selected && state.selected.id === conv.id ? " selected" : ""}`,
      testid: "conversation-item", dataset: { conversationId: conv.id, state: conv.state },
      tabindex: "0", role: "button", onkeydown: rowKeys,
      onclick: () => openConversation(conv.id),
    },
    h("div", { class: "card-line" }, channelBadge(conv.channel), visitorDot(conv), h("strong", {}, customerName(conv)),
      ...tagBadges(conv.customer.tags),
      unread ? h("span", { class: "unread", testid: "unread" }, String(unread)) : null),
    h("div", { class: "card-line muted preview", testid: "conversation-preview" },
      label("state", conv.state), " · ", preview),
    conv.reply_due_at ? h("div", { class: "card-line reply-wait", testid: "reply-wait" },
      h("span", { testid: "waiting-time", dataset: { waitingSince: conv.awaiting_reply_since } },
        `客户已等 ${fmtWait((Date.now() - Date.parse(conv.awaiting_reply_since)) / 1000)}`),
      h("span", { class: "reply-countdown", testid: "reply-countdown", dataset: { replyDue: conv.reply_due_at } }, "")) : null));
  }
  paintDots(box);
  tickCountdowns();
}

function renderWaiting() {
  const box = clear($("#waiting"));
  const queues = state.waiting.filter((q) => q.count > 0 || q.manual);
  if (!queues.length) box.append(h("p", { class: "muted empty" }, "没有排队的客户"));
  for (const queue of queues) {
    box.append(h("h3", { class: "queue-title", dataset: { queue: queue.queue } },
      queue.title, " ", h("span", { class: "count", testid: "waiting-count" }, String(queue.count)),
      queue.manual ? h("span", { class: "muted" }, "（手动接入）") : null));
    for (const entry of queue.entries) {
      box.append(h("div", {
        class: "card waiting-item", testid: "waiting-item",
        dataset: { conversationId: entry.conversation_id, queue: entry.queue },
      },
      h("div", { class: "card-line" }, channelBadge(entry.channel), h("strong", {}, customerName(entry)),
        ...tagBadges(entry.customer.tags)),
      h("div", { class: "card-line muted" }, `第${entry.position}位 · 已等待 `,
        h("span", { dataset: { queuedAt: entry.queued_at } }, fmtWait(entry.waited_s)),
        " · ", label("reason", entry.escalation_reason)),
      entry.pickable ? h("button", { type: "button", class: "primary", testid: "waiting-pick", onclick: () => pick(entry.conversation_id) }, "接入") : null));
    }
  }
}

async function pick(cid) {
  try {
    await api("POST", `/api/v1/agent/waiting/${encodeURIComponent(cid)}/pick`);
    await loadInbox();
    openConversation(cid);
  } catch (err) {
    toast(errorText(err), "error");
    loadWaiting();
  }
}

function onEvent(event) {
  switch (event.type) {
    case "hello":
      renderPresence(event.me);
      break;
    case "offer":
      if (event.mine) {
        notify("新的会话邀请", "有客户等待接入，请在倒计时内接受");
        state.refresh();
      }
      break;
    case "assigned":
      if (event.mine) {
        notify("新会话已分配", "请及时回复客户");
        state.refresh();
      }
      break;
    case "unassigned":
      if (event.mine) movedAway(event);
      if (event.mine) state.refresh();
      break;
    case "offer_withdrawn":
    case "closed":
    case "status":
      // supervisors also get everyone else's: only mine change this inbox
      if (event.mine) state.refresh();
      break;
    case "queue":
    case "queued":
      loadWaiting();
      break;
    case "message":
      onMessage(event.message);
      break;
    case "delivery_failed":
      markUndelivered(event);
      toast(`消息未送达：${event.reason}`, "error");
      break;
    case "alert":
      showAlert(event);
      break;
    case "case_alert":
      showCaseAlert(event);
      break;
    default:
      break;
  }
}

const MOVED_REASONS = {
  no_reply: "客户等待超时未获回复，会话已被收回并重新分配给其他坐席",
  transferred: "会话已转接",
  disconnected: "您已断线，会话已转给其他坐席",
  handed_to_bot: "会话已转回机器人",
  taken_over: "值班长已强插接管该会话，您已退出服务",
};

// Said where the agent looks: a chat that left my list, and why.
function movedAway(event) {
  const why = MOVED_REASONS[event.reason] || "会话已转出";
  const conv = state.conversations.find((c) => c.id === event.conversation_id);
  const who = conv ? customerName(conv) : "客户";
  const text = `${who}：${why}`;
  if (event.reason === "no_reply") notify("会话已转走", text);
  toast(text, event.reason === "no_reply" || event.reason === "taken_over" ? "error" : "info");
  if (state.selected && state.selected.id === event.conversation_id) {
    const box = $("#moved-away");
    box.textContent = text;
    box.dataset.reason = event.reason;
    box.hidden = false;
    $("#reply-due").hidden = true;
  }
}

function onMessage(message) {
  const cid = message.conversation_id;
  // a customer's message starts (or keeps) the reply clock; mine stops it
  if (message.sender === "customer" || message.sender === "agent") state.refresh();
  if (state.selected && state.selected.id === cid) {
    appendLive(message);
  } else if (message.sender === "customer") {
    state.unread.set(cid, (state.unread.get(cid) || 0) + 1);
  }
  if (!message.internal) state.previews.set(cid, message.text.slice(0, 60));
  if (!state.conversations.some((c) => c.id === cid)) state.refresh();
  else renderMine();
}

async function showAlert(event) {
  const details = await alertDetails(event);
  const banner = $("#alert-banner");
  banner.hidden = false;
  banner.dataset.kind = event.kind;
  clear(banner).append(...alertLine(event, details),
    " ", h("button", { type: "button", testid: "alert-dismiss", onclick: () => { banner.hidden = true; } }, "知道了"));
  notify(event.kind === "emergency" ? "紧急求助告警" : "坐席请求协助",
    details.words ? `${details.words}（地址：${details.address || "未提供"}）` : event.text);
}

start().catch((err) => toast(errorText(err), "error"));
