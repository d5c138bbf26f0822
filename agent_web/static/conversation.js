// The open conversation: header, actions, transcript (with what the bot understood).
import {
  $, api, channelBadge, clear, errorText, fmtTime, h, label, tagBadges, toast, visitorLabel,
} from "/static/agent/common.js";
import { resetCaseDraft } from "/static/agent/casefile.js";
import { showScreenPop } from "/static/agent/screenpop.js";
import { isMine, isOpenForReply, offerFor, showTab, state } from "/static/agent/inbox_state.js";

const enc = encodeURIComponent;
const base = (cid) => `/api/v1/agent/conversations/${enc(cid)}`;

export function initConversation() {
  $("#btn-accept").addEventListener("click", () => state.selected && accept(state.selected.id));
  $("#btn-transfer").addEventListener("click", openTransfer);
  $("#btn-invite").addEventListener("click", openInvite);
  $("#btn-help").addEventListener("click", () => act("help", { text: "" }, "已通知班长"));
  $("#btn-case").addEventListener("click", () => showTab("case-panel"));
  $("#btn-hand-back").addEventListener("click", () => {
    if (confirm("确定将客户转回机器人服务？")) act("hand-back", undefined, "已转回机器人");
  });
  $("#btn-end").addEventListener("click", () => act("end", undefined, "已结束服务，请填写小结后关闭"));
  $("#btn-call-hangup").addEventListener("click", hangUpCall);
  $("#btn-hold").addEventListener("click", toggleHold);
  $("#btn-close").addEventListener("click", openClose);
  $("#dlg-transfer").addEventListener("close", confirmTransfer);
  $("#dlg-invite").addEventListener("close", confirmInvite);
  $("#dlg-close").addEventListener("close", confirmClose);
}

export async function accept(cid) {
  try {
    await api("POST", `/api/v1/agent/offers/${enc(cid)}/accept`);
    state.refresh();
    await openConversation(cid);
  } catch (err) {
    toast(errorText(err), "error");
    state.refresh();
  }
}

export async function openConversation(cid) {
  const selected = { id: cid, conversation: null, messageIds: new Set(), pending: [] };
  state.selected = selected;
  state.unread.delete(cid);
  for (const item of document.querySelectorAll(".conversation-item")) {
    item.classList.toggle("selected", item.dataset.conversationId === cid);
  }
  clear($("#transcript"));
  $("#moved-away").hidden = true;
  $("#reply-due").hidden = true;
  resetCaseDraft(cid);
  if (state.socket && !isMineId(cid)) state.socket.watch(cid);
  else if (state.socket) state.socket.watch(null);
  let data;
  try {
    data = await api("GET", base(cid));
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  if (state.selected !== selected) return; // another one was opened meanwhile
  selected.conversation = data.conversation;
  renderHeader();
  for (const m of data.messages) addMessage(m);
  for (const m of selected.pending) addMessage(m);
  selected.pending = [];
  scrollDown();
  showScreenPop(cid);
}

function isMineId(cid) {
  return state.conversations.some((c) => c.id === cid && isMine(c));
}

// After an inbox refresh: the selected conversation's state may have changed.
export async function refreshSelected() {
  const selected = state.selected;
  if (!selected || !selected.conversation) return;
  try {
    const data = await api("GET", base(selected.id));
    if (state.selected !== selected) return;
    selected.conversation = data.conversation;
    renderHeader();
    for (const m of data.messages) addMessage(m);
  } catch (err) {
    if (err.status === 403) {
      state.selected = null;
      clear($("#transcript"));
      $("#reply-due").hidden = true;
      $("#conv-title").textContent = "会话已转出";
      $("#conv-actions").hidden = true;
      $("#composer").hidden = true;
    }
  }
}

export function appendLive(message) {
  const selected = state.selected;
  if (!selected) return;
  if (!selected.conversation) {
    selected.pending.push(message);
    return;
  }
  const atBottom = isAtBottom();
  addMessage(message);
  if (atBottom) scrollDown();
}

function renderHeader() {
  const conv = state.selected.conversation;
  const customer = conv.customer || {};
  const title = clear($("#conv-title"));
  title.append(channelBadge(conv.channel), " ", visitorLabel(conv),
    " ", ...tagBadges(customer.tags));
  const stateEl = $("#conv-state");
  const queue = conv.queue && state.directory.queues.find((q) => q.name === conv.queue);
  stateEl.textContent = `${label("state", conv.state)}${queue ? ` · ${queue.title}` : ""}`;
  stateEl.dataset.state = conv.state;
  const serving = isOpenForReply(conv);
  const owner = serving && conv.agent === state.me.login;
  const offered = !!offerFor(conv.id);
  $("#conv-actions").hidden = !(serving || offered);
  $("#btn-accept").hidden = !offered;
  for (const id of ["#btn-transfer", "#btn-invite", "#btn-help", "#btn-hand-back", "#btn-close"]) {
    $(id).hidden = !owner;
  }
  $("#btn-end").hidden = !(owner && conv.state === "assigned");
  // a call: the agent hangs up here (the caller stays for the survey), or holds the caller
  $("#call-controls").hidden = !(owner && conv.media === "voice" && conv.state === "assigned");
  $("#btn-case").hidden = !serving;
  $("#composer").hidden = !serving;
  $("#composer-hint").textContent = conv.state === "wrap_up" ? "话后处理中：可写内部备注" : "";
  const due = $("#reply-due");
  due.hidden = !(serving && conv.reply_due_at);
  if (conv.reply_due_at) {
    due.dataset.replyDue = conv.reply_due_at;
    due.dataset.long = "1";
  } else {
    delete due.dataset.replyDue;
  }
}

function addMessage(m) {
  const selected = state.selected;
  if (!selected || m.conversation_id !== selected.id) return;
  if (selected.messageIds.has(m.id)) {
    // a live message carries no files: the re-read transcript adds them
    const shown = document.querySelector(`#transcript li[data-message-id="${CSS.escape(m.id)}"]`);
    if (shown && (m.attachments || []).length && !shown.querySelector(".attachments")) {
      shown.querySelector(".msg-text").after(attachmentsBox(m.attachments));
    }
    return;
  }
  selected.messageIds.add(m.id);
  const who = m.sender === "agent" ? (agentName(m.sender_id) || label("sender", "agent")) : label("sender", m.sender);
  const item = h("li", {
    class: `msg msg-${m.sender}${m.internal ? " internal" : ""}`, testid: "message",
    dataset: { sender: m.sender, internal: String(!!m.internal), messageId: m.id },
  },
  h("div", { class: "msg-meta" }, who, m.internal ? h("span", { class: "badge-internal" }, "内部备注") : null,
    " ", h("time", {}, fmtTime(m.created_at))),
  h("div", { class: "msg-text", testid: "message-text" }, m.text),
  (m.attachments || []).length ? attachmentsBox(m.attachments) : null);
  if (m.nlu) item.append(nluLine(m.nlu));
  if (m.delivery === "failed") item.append(failureLine(m.error));
  else if (earlyFailures.has(m.id)) item.append(failureLine(earlyFailures.get(m.id)));
  earlyFailures.delete(m.id);
  $("#transcript").append(item);
}

async function hangUpCall() {
  const cid = state.selected && state.selected.id;
  if (!cid || !confirm("确定挂断这通电话？市民将听到满意度评价。")) return;
  try {
    await api("POST", `/api/v1/calls/${enc(cid)}/hangup`);
    toast("已挂断，请填写小结后关闭", "info");
    state.refresh();
    await openConversation(cid);
  } catch (err) {
    toast(errorText(err), "error");
  }
}

async function toggleHold() {
  const cid = state.selected && state.selected.id;
  const button = $("#btn-hold");
  const on = button.dataset.on !== "1";
  try {
    await api("POST", `/api/v1/calls/${enc(cid)}/hold`, { on });
    button.dataset.on = on ? "1" : "";
    button.textContent = on ? "恢复通话" : "保持";
  } catch (err) {
    toast(errorText(err), "error");
  }
}

// A citizen's photos inline (a click opens the full size), other files as a download link.
function attachmentsBox(files) {
  const box = h("div", { class: "attachments", testid: "message-attachments" });
  for (const file of files) {
    const name = file.name || (file.kind === "image" ? "图片" : "文件");
    if (!file.url) {
      box.append(h("span", { class: "attachment muted", testid: "message-attachment" }, `${name}（该渠道的文件无法在此打开）`));
    } else if (file.kind === "voice" || /^audio\//.test(file.mime || "")) {
      box.append(h("span", { class: "attachment audio", testid: "message-attachment" },
        h("audio", { controls: true, preload: "none", src: file.url, testid: "message-audio", "aria-label": name }),
        " ", h("a", { href: file.url, download: name }, "下载")));
    } else if (file.kind === "image" || /^image\//.test(file.mime || "")) {
      box.append(h("a", { class: "attachment image", href: file.url, target: "_blank", rel: "noopener", testid: "message-attachment", title: `查看原图：${name}` },
        h("img", { src: file.url, alt: name, testid: "message-image", loading: "lazy" })));
    } else {
      box.append(h("a", { class: "attachment file", href: file.url, download: name, rel: "noopener", testid: "message-attachment" },
        `📎 ${name}${file.size ? `（${fmtSize(file.size)}）` : ""}`));
    }
  }
  return box;
}

function fmtSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A message the citizen did not get: said on the message, with the channel's reason.
function failureLine(reason) {
  return h("div", { class: "msg-failed", testid: "message-failed", role: "status" },
    "未送达：", reason || "原因未知");
}

// Failures heard before their message is on screen: replies are sent in the background, so
// "not delivered" can arrive before the reply's own echo is drawn.
const earlyFailures = new Map(); // message id -> reason

export function markUndelivered(event) {
  const selected = state.selected;
  if (!selected || selected.id !== event.conversation_id) return;
  const item = document.querySelector(`#transcript li[data-message-id="${CSS.escape(event.message_id)}"]`);
  if (!item) {
    earlyFailures.set(event.message_id, event.reason);
    return;
  }
  if (item.querySelector(".msg-failed")) return;
  item.append(failureLine(event.reason));
}

function nluLine(nlu) {
  const confidence = nlu.confidence == null ? "" : ` ${Math.round(nlu.confidence * 100)}%`;
  const line = h("div", { class: "nlu", testid: "nlu" },
    h("span", { class: "intent", testid: "nlu-intent", dataset: { intent: nlu.intent } },
      `意图：${label("intent", nlu.intent)}${confidence}`));
  for (const [key, value] of Object.entries(nlu.entities || {})) {
    line.append(h("span", { class: "entity", testid: "nlu-entity", dataset: { entity: key } },
      `${label("entity", key)}：${value}`));
  }
  return line;
}

function agentName(login) {
  if (!login) return "";
  if (state.me && login === state.me.login) return `${state.me.name}（我）`;
  const agent = state.directory && state.directory.agents.find((a) => a.login === login);
  return agent ? agent.name : login;
}

function isAtBottom() {
  const list = $("#transcript");
  return list.scrollHeight - list.scrollTop - list.clientHeight < 40;
}

function scrollDown() {
  const list = $("#transcript");
  list.scrollTop = list.scrollHeight;
}

async function act(action, body, done) {
  const selected = state.selected;
  if (!selected) return;
  try {
    await api("POST", `${base(selected.id)}/${action}`, body);
    toast(done);
  } catch (err) {
    toast(errorText(err), "error");
  }
  state.refresh();
  refreshSelected();
}

async function loadDirectory() {
  try {
    state.directory = await api("GET", "/api/v1/agent/directory");
  } catch (err) {
    toast(errorText(err), "error");
  }
}

async function openTransfer() {
  const selected = state.selected;
  if (!selected) return;
  let targets;
  try {
    targets = await api("GET", `/api/v1/agent/transfer-targets?conversation=${enc(selected.id)}`);
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  const agents = clear($("#transfer-agent"));
  for (const a of targets.agents) {
    agents.append(h("option", { value: a.login, testid: "transfer-agent-option" },
      `${a.name}（${label("status", a.status)}，负载 ${a.load}/${a.max_chats}）`));
  }
  const none = !targets.agents.length;
  agents.disabled = none;
  $("#transfer-kind-agent").disabled = none;
  $("#transfer-no-agent").hidden = !none;
  $(none ? "#transfer-kind-queue" : "#transfer-kind-agent").checked = true;
  const queues = clear($("#transfer-queue"));
  for (const q of targets.queues) {
    const ready = q.ready_agents ? `${q.ready_agents}位坐席就绪` : "暂无坐席就绪";
    queues.append(h("option", { value: q.name, testid: "transfer-queue-option" },
      `${q.title}（排队 ${q.waiting}，${ready}）`));
  }
  const current = selected.conversation && selected.conversation.queue;
  if (current && targets.queues.some((q) => q.name === current)) queues.value = current;
  $("#transfer-note").value = "";
  $("#dlg-transfer").showModal();
}

function confirmTransfer() {
  if ($("#dlg-transfer").returnValue !== "ok") return;
  const kind = document.querySelector("input[name=transfer-kind]:checked").value;
  const body = { note: $("#transfer-note").value };
  if (kind === "agent") body.agent = $("#transfer-agent").value;
  else body.queue = $("#transfer-queue").value;
  act("transfer", body, "已转接");
}

async function openInvite() {
  await loadDirectory();
  const experts = clear($("#invite-expert"));
  for (const a of state.directory.agents.filter((x) => x.login !== state.me.login)) {
    experts.append(h("option", { value: a.login }, `${a.name}（${a.skills.join("、")}）`));
  }
  $("#dlg-invite").showModal();
}

async function confirmInvite() {
  if ($("#dlg-invite").returnValue !== "ok") return;
  const conv = state.selected && state.selected.conversation;
  const expert = $("#invite-expert").value;
  if (!conv || conv.media !== "voice") {
    act("invite", { expert }, "已邀请专家加入");
    return;
  }
  // a call: the expert's phone rings and joins the three-way call (and sees the conversation)
  try {
    await api("POST", `/api/v1/calls/${enc(conv.id)}/conference`, { expert });
    toast("正在呼叫专家的话机，接起即加入三方通话", "info");
  } catch (err) {
    toast(errorText(err), "error");
  }
}

function openClose() {
  const codes = clear($("#close-code"));
  for (const code of state.directory.wrap_up_codes) codes.append(h("option", { value: code }, label("wrapUp", code)));
  $("#dlg-close").showModal();
}

function confirmClose() {
  if ($("#dlg-close").returnValue !== "ok") return;
  act("close", { wrap_up_code: $("#close-code").value }, "会话已关闭");
}
