// The screen pop: the customer's profile, tags, what the bot understood, earlier
// conversations (any channel) and cases.
import {
  $, api, channelBadge, clear, errorText, fmtTime, h, label, tagBadges, toast,
} from "/static/agent/common.js";
import { state } from "/static/agent/inbox_state.js";

const TAGS = ["elderly", "vip", "important", "blacklist"];

export async function showScreenPop(cid) {
  const box = $("#screen-pop");
  let ctx;
  try {
    ctx = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(cid)}/context`);
  } catch (err) {
    clear(box).append(h("p", { class: "error" }, errorText(err)));
    return;
  }
  if (!state.selected || state.selected.id !== cid) return;
  clear(box).append(
    profile(ctx),
    understood(ctx),
    section("历史会话", "history-conversations", ctx.conversations.map(pastConversation), "没有更早的会话"),
    section("历史工单", "history-cases", ctx.cases.map(pastCase), "没有工单"),
  );
}

function profile(ctx) {
  const c = ctx.customer;
  const tags = h("div", { id: "customer-tags", testid: "customer-tags", class: "tags" }, ...tagBadges(c.tags));
  const part = h("div", { class: "profile", testid: "customer-profile" },
    h("h3", { testid: "customer-name" }, c.name || "未留名客户"),
    tags,
    h("ul", { class: "identities" }, ...(c.identities || []).map((i) =>
      h("li", { testid: "customer-identity", dataset: { kind: i.kind } }, channelBadge(i.kind), " ", i.value))),
    ctx.escalation_reason ? h("p", { class: "muted" }, "转人工原因：", label("reason", ctx.escalation_reason)) : null);
  if (ctx.can_edit_tags) part.append(tagEditor(c));
  return part;
}

function tagEditor(customer) {
  const form = h("form", { class: "tag-edit", testid: "tag-edit" });
  for (const tag of TAGS) {
    form.append(h("label", {}, h("input", {
      type: "checkbox", value: tag, checked: customer.tags.includes(tag), testid: `tag-edit-${tag}`,
    }), label("tag", tag)));
  }
  form.append(h("button", { type: "submit", testid: "tag-save" }, "保存标签"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const tags = [...form.querySelectorAll("input:checked")].map((i) => i.value);
    try {
      const data = await api("PUT", `/api/v1/supervisor/customers/${encodeURIComponent(customer.id)}/tags`, { tags });
      clear($("#customer-tags")).append(...tagBadges(data.customer.tags));
      toast("客户标签已更新");
    } catch (err) {
      toast(errorText(err), "error");
    }
  });
  return form;
}

function understood(ctx) {
  const rows = ctx.understood.map((turn) => h("li", { testid: "nlu-turn" },
    h("span", { class: "intent", testid: "nlu-summary-intent", dataset: { intent: turn.intent } },
      label("intent", turn.intent),
      turn.confidence == null ? "" : ` ${Math.round(turn.confidence * 100)}%`),
    " ", h("span", { class: "muted" }, turn.text)));
  const entities = Object.entries(ctx.entities).map(([k, v]) =>
    h("span", { class: "entity", testid: "nlu-summary-entity", dataset: { entity: k } }, `${label("entity", k)}：${v}`));
  return h("section", { id: "nlu-summary", testid: "nlu-summary", class: "pop-section" },
    h("h4", {}, "机器人识别"),
    rows.length ? h("ul", {}, ...rows) : h("p", { class: "muted" }, "无识别记录"),
    entities.length ? h("div", { class: "entities" }, ...entities) : null);
}

function section(title, id, items, empty) {
  return h("section", { id, testid: id, class: "pop-section" }, h("h4", {}, title),
    items.length ? h("ul", {}, ...items) : h("p", { class: "muted" }, empty));
}

function pastConversation(conv) {
  const details = h("ol", { class: "mini-transcript", hidden: true });
  const item = h("li", { testid: "history-conversation", dataset: { conversationId: conv.id } },
    h("button", { type: "button", class: "link", onclick: () => toggle(conv.id, details) },
      channelBadge(conv.channel), ` ${fmtTime(conv.created_at)} · ${label("state", conv.state)}`,
      conv.wrap_up_code ? ` · ${label("wrapUp", conv.wrap_up_code)}` : ""),
    details);
  return item;
}

async function toggle(cid, list) {
  list.hidden = !list.hidden;
  if (list.hidden || list.childElementCount) return;
  try {
    const data = await api("GET", `/api/v1/agent/conversations/${encodeURIComponent(cid)}`);
    for (const m of data.messages) {
      list.append(h("li", { class: `msg-${m.sender}` }, `${label("sender", m.sender)}：`, m.text));
    }
  } catch (err) {
    list.append(h("li", { class: "error" }, errorText(err)));
  }
}

function pastCase(c) {
  return h("li", { testid: "history-case", dataset: { number: c.number } },
    h("strong", {}, c.number), ` ${label("caseType", c.type)} · ${label("caseState", c.state)}`,
    h("div", {}, c.title), c.category_label ? h("div", { class: "muted" }, c.category_label) : null);
}
