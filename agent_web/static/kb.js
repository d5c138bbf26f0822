// The knowledge-base panel: search, highlighted hits, insert an answer into the composer.
// Highlights arrive as text runs ({text, mark}); <mark> is the only element built from them.
import { $, api, clear, errorText, h } from "/static/agent/common.js";
import { insertText } from "/static/agent/composer.js";

const MATCH = { exact: "精确", fuzzy: "模糊", pinyin: "拼音" };

export function initKb() {
  $("#kb-form").addEventListener("submit", (e) => { e.preventDefault(); search(); });
}

async function search() {
  const q = $("#kb-query").value.trim();
  const box = clear($("#kb-results"));
  if (!q) return;
  let data;
  try {
    data = await api("GET", `/api/v1/agent/kb/search?q=${encodeURIComponent(q)}`);
  } catch (err) {
    box.append(h("p", { class: "error" }, errorText(err)));
    return;
  }
  $("#kb-unavailable").hidden = data.available;
  if (data.available && !data.hits.length) box.append(h("p", { class: "muted" }, "没有找到相关知识"));
  for (const hit of data.hits) {
    box.append(h("div", { class: "card kb-hit", testid: "kb-hit", dataset: { articleId: hit.article_id } },
      h("div", { class: "card-line" }, h("strong", { testid: "kb-question" }, hit.question),
        h("span", { class: "muted" }, MATCH[hit.match] || hit.match)),
      ...hit.fragments.map((runs) => h("p", { class: "fragment", testid: "kb-fragment" }, ...runs.map(run))),
      h("details", {}, h("summary", {}, "完整答案"), h("p", { testid: "kb-answer" }, hit.answer)),
      h("button", { type: "button", testid: "kb-insert", onclick: () => insertText(hit.answer) }, "插入回复")));
  }
}

function run(segment) {
  return segment.mark ? h("mark", {}, segment.text) : document.createTextNode(segment.text);
}
