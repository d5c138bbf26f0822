// The composer: reply or internal note; `/shortcut` inserts a canned reply.
import { $, api, clear, errorText, h, toast } from "/static/agent/common.js";
import { appendLive } from "/static/agent/conversation.js";
import { state } from "/static/agent/inbox_state.js";

let canned = [];
let shown = [];
let active = 0;
let pending = null; // {text, clientId}: a failed send is retried with the same id

export function initComposer() {
  const input = $("#composer-input");
  $("#composer").addEventListener("submit", (e) => { e.preventDefault(); send(); });
  input.addEventListener("input", suggest);
  input.addEventListener("keydown", onKey);
  input.addEventListener("blur", () => setTimeout(hide, 150));
  $("#composer-note").addEventListener("change", () => noteMode($("#composer-note").checked));
  // replies added or edited on /canned (another tab) count without a reload
  input.addEventListener("focus", loadCannedSoon);
  window.addEventListener("focus", loadCannedSoon);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) loadCannedSoon(); });
  loadCanned();
}

let cannedAt = 0;

function loadCannedSoon() {
  if (Date.now() - cannedAt < 1000) return;
  loadCanned();
}

const REPLY_PLACEHOLDER = "输入回复，Enter 发送，Shift+Enter 换行；输入 / 调用快捷回复";
const NOTE_PLACEHOLDER = "内部备注：仅坐席和班长可见，客户看不到；Enter 保存备注";

// Note mode looks different (colour, placeholder, button) and ends after each note.
export function noteMode(on) {
  $("#composer-note").checked = on;
  $("#composer").classList.toggle("note-mode", on);
  $("#composer").dataset.mode = on ? "note" : "reply";
  $("#composer-input").placeholder = on ? NOTE_PLACEHOLDER : REPLY_PLACEHOLDER;
  $("#composer-send").textContent = on ? "保存备注" : "发送";
}

export async function loadCanned() {
  cannedAt = Date.now();
  try {
    canned = (await api("GET", "/api/v1/agent/canned")).replies;
  } catch (_) {
    canned = [];
  }
  if (document.activeElement === $("#composer-input") && slashWord()) suggest(false);
}

// Insert text at the cursor (the KB panel uses this too).
export function insertText(text) {
  const input = $("#composer-input");
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.value = input.value.slice(0, start) + text + input.value.slice(end);
  input.focus();
  input.selectionStart = input.selectionEnd = start + text.length;
}

function slashWord() {
  const input = $("#composer-input");
  const before = input.value.slice(0, input.selectionStart);
  const match = /(^|\s)\/([\w\-\u4e00-\u9fff]*)$/.exec(before);
  return match ? { word: match[2], from: before.length - match[2].length - 1 } : null;
}

function suggest(reload = true) {
  const found = slashWord();
  if (!found) { hide(); return; }
  const word = found.word.toLowerCase();
  shown = canned.filter((r) => r.shortcut.toLowerCase().startsWith(word) || r.title.includes(found.word)).slice(0, 8);
  active = 0;
  render();
  if (!shown.length && reload) loadCannedSoon(); // perhaps just made on /canned
}

function render() {
  const box = clear($("#canned-suggestions"));
  box.hidden = !shown.length;
  shown.forEach((reply, i) => {
    box.append(h("div", {
      class: `suggestion${i === active ? " active" : ""}`, testid: "canned-suggestion",
      dataset: { shortcut: reply.shortcut },
      onmousedown: (e) => { e.preventDefault(); choose(i); },
    }, h("code", {}, `/${reply.shortcut}`), " ", h("strong", {}, reply.title),
    reply.shared ? h("span", { class: "muted" }, "（共享）") : null,
    h("div", { class: "muted" }, reply.text.slice(0, 80))));
  });
}

function hide() {
  shown = [];
  const box = $("#canned-suggestions");
  if (box) box.hidden = true;
}

function choose(i) {
  const reply = shown[i];
  const found = slashWord();
  if (!reply || !found) return;
  const input = $("#composer-input");
  const caret = input.selectionStart;
  input.value = input.value.slice(0, found.from) + reply.text + input.value.slice(caret);
  input.selectionStart = input.selectionEnd = found.from + reply.text.length;
  hide();
}

function onKey(e) {
  if (shown.length) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
      render();
      return;
    }
    if (e.key === "Enter" || e.key === "Tab") { e.preventDefault(); choose(active); return; }
    if (e.key === "Escape") { hide(); return; }
  }
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    send();
  }
}

function newClientId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

async function send() {
  const selected = state.selected;
  const input = $("#composer-input");
  const text = input.value.trim();
  if (!selected || !text) return;
  const asNote = $("#composer-note").checked;
  const path = `/api/v1/agent/conversations/${encodeURIComponent(selected.id)}/${asNote ? "notes" : "messages"}`;
  if (!pending || pending.text !== text) pending = { text, clientId: newClientId() };
  const body = asNote ? { text } : { text, client_id: pending.clientId };
  $("#composer-send").disabled = true;
  try {
    const data = await api("POST", path, body);
    pending = null;
    input.value = "";
    if (data.message) appendLive(data.message);
    if (asNote) noteMode(false);
    else state.refresh(); // my answer stops the reply clock
  } catch (err) {
    toast(errorText(err), "error");
  } finally {
    $("#composer-send").disabled = false;
    input.focus();
  }
}
