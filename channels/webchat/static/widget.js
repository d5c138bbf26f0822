/* 12345 web chat widget. Embed with one tag:
 *   <script src="https://HUB/webchat/widget.js" async></script>
 * Options as data- attributes on that tag: data-title, data-prechat="true" (ask name and
 * phone first), data-open="true" (start opened).
 *
 * Delivery: every message gets a client id and waits in localStorage until the server acks
 * it (the server stores it first). After a reconnect the widget re-sends what was not acked
 * (the server drops duplicates) and asks for what it missed after the last message it saw.
 * Every text from the network is shown with textContent, never as HTML.
 *
 * The tab remembers (sessionStorage) whether the panel was open and the last queue bar, so a
 * reload puts both back; the server's hello answer then brings the live state and position.
 * An empty chat opens with a greeting and the popular questions (buttons) the hub sends.
 * On a phone the panel fills the visible screen (visualViewport: above the keyboard).
 *
 * A phone typed in the pre-chat form is only a contact number for the agent. 验证手机号 sends a
 * one-time code to a phone (or a mailbox); once the visitor types it back, the chat shows
 * that number's history too, and transcripts may go there.
 */
(function () {
  "use strict";
  if (window.__hub12345Webchat) return;
  window.__hub12345Webchat = true;

  const script = document.currentScript ||
    Array.from(document.scripts).find((s) => /\/webchat\/widget\.js/.test(s.src));
  const base = new URL(script.src, location.href);
  const origin = base.origin;
  const opts = script.dataset || {};
  const STORE = "hub12345.webchat:" + origin;
  const TAB = "hub12345.webchat.tab:" + origin;   // this tab only: open panel, queue bar
  const TYPING_MS = 6000;                          // "正在输入…" without a new typing frame
  const RATINGS = [["satisfied", "满意"], ["neutral", "一般"], ["unsatisfied", "不满意"]];
  const MOBILE = /^1[3-9]\d{9}$/;

  const saved = load();
  const state = {
    visitor: saved.visitor || "",
    token: saved.token || "",
    lastId: "",
    pending: saved.pending || [],       // [{client_id, text, file}] not yet acked
    shown: new Set(),                   // server message ids on screen
    ws: null,
    retry: 0,
    timer: null,
    started: !!saved.started || opts.prechat !== "true",
    name: saved.name || "",
    phone: saved.phone || "",
    verified: saved.verified || {},     // {sms: "139…", email: "…"} as the visitor typed them
    resync: false,                      // reconnect at once and replay the whole history
    verifying: null,                    // {phone} or {email} a code was asked for
    conv: "bot",
    unread: 0,
    greeted: false,
    typingTimer: null,
  };
  const tab = loadTab();

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "{}"); } catch (e) { return {}; }
  }
  function persist() {
    localStorage.setItem(STORE, JSON.stringify({
      visitor: state.visitor, token: state.token, pending: state.pending,
      started: state.started, name: state.name, phone: state.phone, verified: state.verified,
    }));
  }
  function loadTab() {
    try { return JSON.parse(sessionStorage.getItem(TAB) || "{}"); } catch (e) { return {}; }
  }
  function persistTab(patch) {
    Object.assign(tab, patch);
    try { sessionStorage.setItem(TAB, JSON.stringify(tab)); } catch (e) { /* private mode */ }
  }
  function newId() {
    const a = new Uint8Array(12);
    crypto.getRandomValues(a);
    return "c" + Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // ---------------------------------------------------------------- DOM
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = origin + "/webchat/widget.css";
  document.head.appendChild(css);

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "testid") node.dataset.testid = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  const badge = el("span", { class: "hubwc-badge", testid: "wc-unread", hidden: true });
  const launcher = el("button", { class: "hubwc-launcher", type: "button", testid: "wc-launcher",
    "aria-label": "打开在线咨询", onclick: () => toggle(true) }, "在线咨询", badge);
  const status = el("span", { class: "hubwc-status", testid: "wc-status" }, "连接中…");
  const header = el("div", { class: "hubwc-header" },
    el("strong", {}, opts.title || "12345 在线服务"), status,
    el("button", { type: "button", class: "hubwc-close", "aria-label": "收起", onclick: () => toggle(false) }, "×"));
  const position = el("div", { class: "hubwc-position", testid: "wc-position", hidden: true });
  const log = el("div", { class: "hubwc-log", testid: "wc-log", role: "log", "aria-live": "polite" });
  const typing = el("div", { class: "hubwc-typing", testid: "wc-typing", hidden: true }, "正在输入…");
  const input = el("textarea", { class: "hubwc-input", testid: "wc-input", rows: 1, maxlength: 1000,
    placeholder: "请输入您的问题，按回车发送", onkeydown: (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendText(); }
    } });
  const fileInput = el("input", { type: "file", testid: "wc-file", accept: "image/*,application/pdf",
    class: "hubwc-file", onchange: () => upload(fileInput.files[0]) });
  const composer = el("div", { class: "hubwc-composer" },
    el("button", { type: "button", class: "hubwc-attach", "aria-label": "发送图片或文件",
      onclick: () => fileInput.click() }, "＋"),
    fileInput, input,
    el("button", { type: "button", class: "hubwc-send", testid: "wc-send", onclick: sendText }, "发送"));
  const tools = el("div", { class: "hubwc-tools" },
    el("button", { type: "button", testid: "wc-human", onclick: () => send("转人工") }, "转人工"),
    el("button", { type: "button", testid: "wc-end", onclick: showRating }, "评价"),
    el("button", { type: "button", testid: "wc-transcript", onclick: showTranscript }, "发送聊天记录"),
    el("button", { type: "button", testid: "wc-verify", onclick: () => showVerify(state.phone) }, "验证手机号"));
  const sheet = el("div", { class: "hubwc-sheet", hidden: true });
  const panel = el("div", { class: "hubwc-panel", testid: "wc-panel", role: "dialog",
    "aria-label": "在线咨询", hidden: true }, header, position, log, typing, sheet, tools, composer);
  const root = el("div", { class: "hubwc-root", lang: "zh-CN" }, panel, launcher);
  document.body.appendChild(root);

  function toggle(open) {
    panel.hidden = !open;
    launcher.hidden = open;
    root.dataset.open = open ? "true" : "false";
    persistTab({ open: open });
    if (open) {
      setUnread(0);
      fitViewport();
      if (!state.started) showPrechat();
      connect();
      if (!matchMedia("(max-width: 480px)").matches) input.focus();  // no keyboard pop-up
    }
  }

  function setUnread(n) {
    state.unread = n;
    badge.hidden = !n;
    badge.textContent = n > 99 ? "99+" : String(n);
    launcher.setAttribute("aria-label", n ? "打开在线咨询（" + n + "条未读）" : "打开在线咨询");
  }

  // A phone's keyboard shrinks the visual viewport, not the layout one: size the panel to
  // what is visible so the composer stays above the keyboard and the header on screen.
  function fitViewport() {
    const vv = window.visualViewport;
    if (!vv) return;
    root.style.setProperty("--hubwc-vh", vv.height + "px");
    root.style.setProperty("--hubwc-top", vv.offsetTop + "px");
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitViewport);
    window.visualViewport.addEventListener("scroll", fitViewport);
  }

  function showTyping() {
    typing.hidden = false;
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(hideTyping, TYPING_MS);
  }
  function hideTyping() {
    clearTimeout(state.typingTimer);
    typing.hidden = true;
  }

  // The first words of an empty chat: not stored, shown again on an empty reload.
  function greet(m) {
    if (state.greeted || log.querySelector('[data-testid="wc-msg"]')) return;
    state.greeted = true;
    const node = bubble("bot", m.greeting || "您好，请问有什么可以帮您？");
    node.dataset.greeting = "true";
    const popular = (m.popular || []).filter((q) => typeof q === "string" && q);
    if (popular.length) {
      const row = el("div", { class: "hubwc-quick hubwc-popular", testid: "wc-popular" });
      for (const q of popular) {
        row.append(el("button", { type: "button", testid: "wc-popular-question",
          onclick: () => send(q) }, q));
      }
      node.append(el("div", { class: "hubwc-who" }, "常见问题"), row);
    }
    log.prepend(node);
  }

  function setStatus(text, kind) {
    status.textContent = text;
    status.dataset.kind = kind || "";
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function bubble(sender, text, name) {
    const who = { customer: "我", bot: "智能客服", agent: name || "人工客服", system: "系统" }[sender] || "";
    const node = el("div", { class: "hubwc-msg hubwc-" + sender, testid: "wc-msg" },
      el("div", { class: "hubwc-who" }, who), el("div", { class: "hubwc-text" }, text));
    node.dataset.sender = sender;
    return node;
  }

  function render(m) {
    if (m.id && state.shown.has(m.id)) return;
    if (m.client_id) {
      const mine = log.querySelector('[data-client-id="' + CSS.escape(m.client_id) + '"]');
      if (mine) { markSent(mine, m.id); return; }
    }
    const node = bubble(m.sender, m.text, m.sender_name);
    if (m.id) { node.dataset.id = m.id; state.shown.add(m.id); }
    if (m.client_id) node.dataset.clientId = m.client_id;
    if (m.file) node.append(fileLink(m.file));
    if (m.quick_replies && m.quick_replies.length) {
      const row = el("div", { class: "hubwc-quick" });
      for (const q of m.quick_replies) {
        row.append(el("button", { type: "button", testid: "wc-quick", onclick: () => send(q) }, q));
      }
      node.append(row);
    }
    log.append(node);
    if (m.id && m.id > state.lastId) state.lastId = m.id;
    if (panel.hidden && m.sender !== "customer" && !state.replaying) setUnread(state.unread + 1);
    scroll();
  }

  function fileLink(file) {
    const url = origin + "/webchat/files/" + encodeURIComponent(file.id) +
      "?visitor=" + encodeURIComponent(state.visitor) + "&token=" + encodeURIComponent(state.token);
    return el("a", { class: "hubwc-filelink", href: url, target: "_blank", rel: "noopener" },
      "📎 " + (file.name || "文件"));
  }

  function markSent(node, id) {
    node.dataset.state = "sent";
    if (id) {
      node.dataset.id = id;
      state.shown.add(id);
      if (id > state.lastId) state.lastId = id;
    }
    const tick = node.querySelector(".hubwc-tick");
    if (tick) tick.textContent = "已送达";
  }

  // ---------------------------------------------------------------- sending
  function sendText() {
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text);
  }

  function send(text, file) {
    const item = { client_id: newId(), text: text || "", file: file ? file.id : null };
    state.pending.push(item);
    persist();
    const node = bubble("customer", text || ("[文件] " + file.name));
    node.dataset.clientId = item.client_id;
    node.dataset.state = "pending";
    if (file) node.append(fileLink(file));
    node.append(el("span", { class: "hubwc-tick" }, "发送中"));
    log.append(node);
    scroll();
    transmit(item);
  }

  function transmit(item) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN && state.ws.hubReady) {
      const frame = { type: "message", client_id: item.client_id, text: item.text };
      if (item.file) frame.file = item.file;
      state.ws.send(JSON.stringify(frame));
    }
  }

  async function upload(file) {
    fileInput.value = "";
    if (!file) return;
    if (file.size > 5 * 1024 * 1024) { notice("文件不能超过5MB"); return; }
    if (!state.visitor) { notice("正在连接，请稍后再试"); return; }
    const form = new FormData();
    form.append("file", file, file.name);
    try {
      const resp = await fetch(origin + "/webchat/upload?visitor=" + encodeURIComponent(state.visitor) +
        "&token=" + encodeURIComponent(state.token), { method: "POST", body: form });
      const body = await resp.json();
      if (!resp.ok) { notice(body.reason || "上传失败"); return; }
      send("", body.file);
    } catch (e) {
      notice("上传失败，请检查网络");
    }
  }

  function notice(text) {
    log.append(el("div", { class: "hubwc-notice", testid: "wc-notice" }, text));
    scroll();
  }

  // ---------------------------------------------------------------- forms
  function showSheet(...children) {
    sheet.replaceChildren(...children);
    sheet.hidden = false;
  }

  function showPrechat() {
    const name = el("input", { testid: "wc-prechat-name", maxlength: 40, placeholder: "您的称呼（选填）" });
    const phone = el("input", { testid: "wc-prechat-phone", maxlength: 20, inputmode: "tel",
      placeholder: "手机号码（选填，便于回访）" });
    showSheet(el("form", { class: "hubwc-form", onsubmit: (e) => {
      e.preventDefault();
      const typed = digits(phone.value);
      if (typed && !MOBILE.test(typed)) { notice("请填写正确的手机号码"); return; }
      state.name = name.value.trim();
      state.phone = typed;
      state.started = true;
      persist();
      sheet.hidden = true;
      reconnectNow();
    } }, el("p", {}, "开始咨询前，请留下您的联系方式（均为选填）"), name, phone,
      el("button", { type: "submit", testid: "wc-prechat-start" }, "开始咨询")));
  }

  function showRating() {
    let value = "";
    const comment = el("textarea", { testid: "wc-rate-comment", maxlength: 500, rows: 2,
      placeholder: "还有什么想对我们说的？（选填）" });
    const choices = el("div", { class: "hubwc-choices" }, ...RATINGS.map(([v, label]) =>
      el("button", { type: "button", testid: "wc-rate-" + v, onclick: (e) => {
        value = v;
        for (const b of choices.children) b.dataset.chosen = b === e.currentTarget ? "true" : "";
      } }, label)));
    showSheet(el("form", { class: "hubwc-form", onsubmit: (e) => {
      e.preventDefault();
      if (!value) return;
      frame({ type: "rate", value: value, comment: comment.value.trim() });
    } }, el("p", {}, "请为本次服务评价"), choices, comment,
      el("button", { type: "submit", testid: "wc-rate-submit" }, "提交评价")));
  }

  function showTranscript() {
    const email = el("input", { testid: "wc-transcript-email", type: "email", maxlength: 254, placeholder: "邮箱" });
    const phone = el("input", { testid: "wc-transcript-phone", maxlength: 20, inputmode: "tel",
      placeholder: "手机号码" });
    email.value = state.verified.email || "";
    phone.value = state.verified.sms || "";
    showSheet(el("form", { class: "hubwc-form", onsubmit: (e) => {
      e.preventDefault();
      if (!email.value.trim() && !phone.value.trim()) {
        notice("请填写邮箱或手机号码");
        return;
      }
      frame({ type: "transcript", email: email.value.trim(), phone: digits(phone.value) });
    } }, el("p", {}, "聊天记录只发送到您已验证的手机或邮箱"), email, phone,
      el("button", { type: "submit", testid: "wc-transcript-send" }, "发送"),
      el("button", { type: "button", class: "hubwc-link", testid: "wc-transcript-verify",
        onclick: () => showVerify(phone.value || email.value) }, "验证手机号或邮箱")));
  }

  // One-time code: to a phone by SMS, or to a mailbox by e-mail (an "@" decides which).
  function target(text) {
    const value = text.trim();
    return value.includes("@") ? { email: value } : { phone: digits(value) };
  }

  function showVerify(prefill) {
    const where = el("input", { testid: "wc-verify-target", maxlength: 254, placeholder: "手机号码或邮箱" });
    where.value = prefill || "";
    showSheet(el("form", { class: "hubwc-form", onsubmit: (e) => {
      e.preventDefault();
      const to = target(where.value);
      if (!to.email && !MOBILE.test(to.phone)) { notice("请填写正确的手机号码"); return; }
      state.verifying = to;
      frame(Object.assign({ type: "verify" }, to));
    } }, el("p", {}, "验证后可查看该手机号的历史咨询记录，并可接收聊天记录"), where,
      el("button", { type: "submit", testid: "wc-verify-send" }, "获取验证码")));
  }

  function showCode(sentTo) {
    const to = state.verifying;
    const code = el("input", { testid: "wc-verify-code", maxlength: 6, inputmode: "numeric",
      autocomplete: "one-time-code", placeholder: "6位验证码" });
    showSheet(el("form", { class: "hubwc-form", onsubmit: (e) => {
      e.preventDefault();
      const typed = code.value.trim();
      if (!/^\d{6}$/.test(typed)) { notice("请输入6位数字验证码"); return; }
      frame(Object.assign({ type: "verify_code", code: typed }, to));
    } }, el("p", { testid: "wc-verify-sent" }, "验证码已发送至" + sentTo + "，10分钟内有效"), code,
      el("button", { type: "submit", testid: "wc-verify-submit" }, "验证"),
      el("button", { type: "button", class: "hubwc-link", testid: "wc-verify-resend",
        onclick: () => frame(Object.assign({ type: "verify" }, to)) }, "重新获取验证码")));
    code.focus();
  }

  function verified(m) {
    const to = state.verifying || {};
    if (m.via === "sms" && to.phone) state.verified.sms = to.phone;
    if (m.via === "email" && to.email) state.verified.email = to.email;
    state.verifying = null;
    persist();
    showSheet(el("p", { testid: "wc-verified" }, "验证成功：" + m.to));
    if (m.via === "sms") resync();  // the number's earlier conversations belong here now
  }

  function resync() {
    log.replaceChildren();
    state.shown.clear();
    state.lastId = "";
    if (state.ws) { state.resync = true; state.ws.close(); }
  }

  function digits(text) { return text.replace(/[\s-]/g, ""); }

  function transcriptDone(via) {
    const where = [];
    if (via.includes("email")) where.push("邮箱");
    if (via.includes("sms")) where.push("手机（短信）");
    return where.length ? "聊天记录将发送到您的" + where.join("和") + "，请注意查收。"
      : "已登记，聊天记录将由工作人员发送给您。";
  }

  function frame(obj) {
    if (state.ws && state.ws.readyState === WebSocket.OPEN && state.ws.hubReady) {
      state.ws.send(JSON.stringify(obj));
    } else {
      notice("网络连接中，请稍后再试");
    }
  }

  // ---------------------------------------------------------------- connection
  function connect() {
    if (!state.started || (state.ws && state.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(state.timer);
    setStatus("连接中…", "connecting");
    const ws = new WebSocket(origin.replace(/^http/, "ws") + "/webchat/ws");
    state.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: "hello", visitor: state.visitor, token: state.token,
        after: state.lastId, name: state.name, phone: state.phone }));
    };
    ws.onmessage = (e) => receive(ws, JSON.parse(e.data));
    ws.onclose = (e) => {
      if (state.ws !== ws) return;
      state.ws = null;
      hideTyping();
      if (e.code === 4401) {  // a stale or foreign identity: start afresh
        state.visitor = ""; state.token = ""; state.lastId = ""; persist();
      }
      const delay = state.resync ? 0 : Math.min(15000, 1000 * 2 ** state.retry++);
      if (!state.resync) setStatus("网络已断开，正在重连…", "offline");
      state.resync = false;
      state.timer = setTimeout(connect, delay);
    };
  }

  function reconnectNow() {
    state.retry = 0;
    if (!state.ws) connect();
  }

  function receive(ws, m) {
    switch (m.type) {
      case "welcome":
        state.visitor = m.visitor;
        state.token = m.token;
        state.retry = 0;
        ws.hubReady = true;
        persist();
        setStatus("在线", "online");
        showState(m.state);
        state.welcome = m;
        state.replaying = true;  // history is not "unread"
        break;
      case "synced":  // history replayed: now re-send what was never acked (the server drops
        // what it already has) and show it if the page was reloaded meanwhile
        for (const item of state.pending) {
          if (!log.querySelector('[data-client-id="' + CSS.escape(item.client_id) + '"]')) {
            const node = bubble("customer", item.text || "[文件]");
            node.dataset.clientId = item.client_id;
            node.dataset.state = "pending";
            node.append(el("span", { class: "hubwc-tick" }, "发送中"));
            log.append(node);
          }
          transmit(item);
        }
        state.replaying = false;
        if (state.welcome) greet(state.welcome);
        scroll();
        break;
      case "ack": {
        state.pending = state.pending.filter((p) => p.client_id !== m.client_id);
        persist();
        const node = log.querySelector('[data-client-id="' + CSS.escape(m.client_id) + '"]');
        if (node) markSent(node, m.message_id);
        break;
      }
      case "message":
        hideTyping();
        render(m);
        break;
      case "pong":
        clearTimeout(ws.hubPongDue);
        break;
      case "typing":
        showTyping();
        break;
      case "state":  // also the end of the visitor's turn: nobody is typing any more
        hideTyping();
        showState(m.state);
        if (m.rate) showRating();
        break;
      case "position":
        showPosition(m);
        break;
      case "rated":
        showSheet(el("p", { testid: "wc-rated" }, "感谢您的评价！"));
        break;
      case "transcript_requested":
        showSheet(el("p", { testid: "wc-transcript-done" }, transcriptDone(m.via || [])));
        break;
      case "verify_sent":
        showCode(m.to);
        break;
      case "verified":
        verified(m);
        break;
      case "error":
        hideTyping();
        notice(m.reason);
        break;
      default:
        break;
    }
  }

  function showState(s) {
    state.conv = s;
    if (s !== "queued") { position.hidden = true; persistTab({ position: null }); }
    root.dataset.state = s;
  }

  // The queue bar. agents === 0: nobody who could take the chat is signed in, so there is no
  // honest place in line or wait to show.
  function showPosition(m) {
    if (typeof m.position !== "number") return;
    position.hidden = false;
    if (m.agents === 0) {
      position.dataset.kind = "no-agent";
      position.textContent = "当前暂无人工客服在线，无法估计等待时间。客服上线后将第一时间为您接通。";
    } else {
      position.dataset.kind = "queued";
      position.textContent = "排队中：您前面还有" + Math.max(0, m.position - 1) + "位，预计等待" +
        Math.max(1, Math.round((m.wait_s || 0) / 60)) + "分钟";
    }
    persistTab({ position: { position: m.position, wait_s: m.wait_s, agents: m.agents } });
  }

  // A phone that loses its network often keeps a dead socket open for minutes: drop it at
  // once on "offline", and treat a ping without a pong within 10 s as a dead connection.
  window.addEventListener("offline", () => { if (state.ws) state.ws.close(); });
  window.addEventListener("online", reconnectNow);
  setInterval(() => {
    const ws = state.ws;
    if (ws && ws.readyState === WebSocket.OPEN && ws.hubReady) {
      ws.send('{"type":"ping"}');
      ws.hubPongDue = setTimeout(() => { if (state.ws === ws) ws.close(); }, 10000);
    }
  }, 25000);
  if (tab.position) showPosition(tab.position);  // until the server says otherwise
  if (opts.open === "true" || state.pending.length || tab.open) toggle(true);
  else if (state.started && state.visitor) connect();  // minimised: still count unread replies
})();
