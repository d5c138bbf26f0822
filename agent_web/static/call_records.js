// Call records on the supervisor page: search by date, caller and agent; play the recording.
import { $, api, clear, errorText, fmtTime, h, toast } from "/static/agent/common.js";

const OUTCOMES = {
  answered: "已接听", abandoned: "排队放弃", voicemail: "留言", callback: "预约回电",
  ivr: "自助服务", refused: "拒接",
};
const SURVEY = { 1: "满意", 2: "基本满意", 3: "不满意" };

function seconds(s) {
  if (s === null || s === undefined) return "—";
  return s < 60 ? `${Math.round(s)}秒` : `${Math.floor(s / 60)}分${Math.round(s % 60)}秒`;
}

async function search() {
  const params = new URLSearchParams();
  for (const [key, id] of [["date", "#call-date"], ["caller", "#call-caller"], ["agent", "#call-agent"]]) {
    const value = $(id).value.trim();
    if (value) params.set(key, value);
  }
  if ($("#call-recorded").checked) params.set("recorded", "1");
  let data;
  try {
    data = await api("GET", `/api/v1/calls?${params}`);
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  const rows = clear($("#call-rows"));
  for (const c of data.calls) {
    rows.append(h("tr", { testid: "call-row", dataset: { outcome: c.outcome } },
      h("td", {}, fmtTime(c.started_at)), h("td", {}, c.caller), h("td", {}, c.queue || "—"),
      h("td", {}, c.agent || "—"), h("td", {}, seconds(c.wait_s)), h("td", {}, seconds(c.talk_s)),
      h("td", {}, OUTCOMES[c.outcome] || c.outcome), h("td", {}, SURVEY[c.survey] || "—"),
      h("td", {}, c.case_number ? h("a", { href: `/cases/${encodeURIComponent(c.case_number)}` }, c.case_number) : "—"),
      h("td", {}, c.recording_url
        ? h("audio", { controls: true, preload: "none", src: c.recording_url, testid: "call-recording" })
        : "—")));
  }
  const answered = data.calls.filter((c) => c.outcome === "answered").length;
  const abandoned = data.calls.filter((c) => c.outcome === "abandoned").length;
  const offered = answered + abandoned;
  $("#call-summary").textContent = data.calls.length
    ? `共${data.calls.length}通，接听${answered}，排队放弃${abandoned}${offered ? `（放弃率${Math.round((100 * abandoned) / offered)}%）` : ""}`
    : "没有符合条件的通话";
}

$("#call-date").value = new Date().toLocaleDateString("sv-SE"); // YYYY-MM-DD, local day
$("#call-search").addEventListener("submit", (e) => { e.preventDefault(); search(); });
search();
