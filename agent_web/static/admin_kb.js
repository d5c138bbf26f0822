// Knowledge-base editing: an article saved here is stored and indexed at once, so the bot
// answers with it from the next message on. All article text is shown with textContent.
import { $, api, clear, debounce, errorText, h, toast } from "/static/agent/common.js";

const BASE = "/api/v1/admin/kb/articles";
let editing = null; // id of the article in the form, or null for a new one
const PAGE = 20; // a page of the list fits the screen beside the form
let offset = 0;

const lines = (text) => text.split("\n").map((s) => s.trim()).filter(Boolean);

async function load() {
  const q = $("#kb-filter").value.trim();
  const data = await api("GET", `${BASE}?offset=${offset}&limit=${PAGE}${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  if (offset && offset >= data.total) { // the last page emptied (a delete, a narrower filter)
    offset = Math.max(0, (Math.ceil(data.total / PAGE) - 1) * PAGE);
    return load();
  }
  $("#kb-total").textContent = `共 ${data.total} 条`;
  const pages = Math.max(1, Math.ceil(data.total / PAGE));
  $("#kb-page").textContent = `第 ${Math.floor(offset / PAGE) + 1} / ${pages} 页`;
  $("#kb-prev").disabled = offset === 0;
  $("#kb-next").disabled = offset + PAGE >= data.total;
  const rows = clear($("#kb-articles tbody"));
  for (const a of data.articles) {
    rows.append(h("tr", { testid: "kb-row", dataset: { id: a.id } },
      h("td", {}, a.id), h("td", {}, a.category.join(" / ")), h("td", {}, a.question),
      h("td", {}, h("button", { type: "button", testid: "kb-edit", onclick: () => fill(a) }, "编辑"))));
  }
}

function fill(a) {
  editing = a ? a.id : null;
  $("#kb-form-title").textContent = a ? `编辑知识 ${a.id}` : "新建知识";
  $("#kb-id").value = a ? a.id : "";
  $("#kb-id").disabled = !!a;
  $("#kb-category").value = a ? a.category.join(" / ") : "";
  $("#kb-question").value = a ? a.question : "";
  $("#kb-similar").value = a ? a.similar.join("\n") : "";
  $("#kb-answer").value = a ? a.answer : "";
  $("#kb-keywords").value = a ? a.keywords.join("\n") : "";
  $("#kb-delete").hidden = !a;
  $("#kb-result").textContent = "";
}

async function save() {
  const id = editing || $("#kb-id").value.trim();
  const body = {
    category: $("#kb-category").value.split("/").map((s) => s.trim()).filter(Boolean),
    question: $("#kb-question").value.trim(),
    similar: lines($("#kb-similar").value),
    answer: $("#kb-answer").value.trim(),
    keywords: lines($("#kb-keywords").value),
  };
  try {
    const saved = await api("PUT", `${BASE}/${encodeURIComponent(id)}`, body);
    fill(saved.article);
    $("#kb-result").textContent = "已保存，机器人已可使用";
    toast("知识已保存");
    await load();
  } catch (err) {
    $("#kb-result").textContent = errorText(err);
  }
}

async function remove() {
  if (!editing || !window.confirm(`确定删除知识 ${editing}？`)) return;
  try {
    await api("DELETE", `${BASE}/${encodeURIComponent(editing)}`);
    toast("已删除");
    fill(null);
    await load();
  } catch (err) {
    $("#kb-result").textContent = errorText(err);
  }
}

async function start() {
  $("#kb-new").addEventListener("click", () => fill(null));
  $("#kb-form").addEventListener("submit", (e) => { e.preventDefault(); save(); });
  $("#kb-delete").addEventListener("click", remove);
  $("#kb-filter").addEventListener("input", debounce(() => { offset = 0; load().catch(() => {}); }, 250));
  $("#kb-prev").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
  $("#kb-next").addEventListener("click", () => { offset += PAGE; load(); });
  fill(null);
  try {
    await load();
  } catch (err) {
    $("#kb-total").textContent = errorText(err); // e.g. 知识库未加载
  }
}

start();
