// The IVR flows, read only: each step (its kind and what it says) and where each choice leads.
import { $, api, clear, errorText, h, toast } from "/static/agent/common.js";

const KINDS = {
  play: "播放", menu: "按键菜单", ask: "语音提问", transfer: "转人工", voicemail: "留言",
  callback: "预约回电", survey: "满意度评价", case_progress: "工单进度", branch: "条件分支",
  goto: "跳转", hangup: "挂断",
};

const EDGES = {
  next: "下一步", else: "否则", fallback: "无输入或按错", resolved: "问题已解决", unresolved: "未解决",
  queued: "机器人已转人工", no_speech: "未开启语音识别", no_agents: "无坐席在线", after_agent: "坐席挂机后",
  no_caller_id: "无来电号码", on_speech: "直接说出问题",
};
const CONDITIONS = {
  "caller.blacklisted": "黑名单来电", "caller.elderly": "老年人来电", "caller.vip": "VIP来电",
  "caller.known": "老来电", "caller.open_cases > 0": "有未办结工单", "hours.open": "工作时间内",
  "speech.on": "已开启语音识别",
};

// "if not hours.open" → "如果 不是 工作时间内"; "1 留言" → "按1 / 说“留言”"
function edgeLabel(label) {
  if (EDGES[label]) return EDGES[label];
  const cond = /^if (not )?(.+)$/.exec(label);
  if (cond) return `如果${cond[1] ? "不是" : ""}${CONDITIONS[cond[2]] || cond[2]}`;
  const key = /^([0-9*#]) ?(.*)$/.exec(label);
  if (key) return `按${key[1]}${key[2] ? `或说“${key[2].split("/").join("”“")}”` : ""}`;
  return label;
}

async function start() {
  let data;
  try {
    data = await api("GET", "/api/v1/admin/ivr/flows");
  } catch (err) {
    toast(errorText(err), "error");
    return;
  }
  $("#ivr-speech").textContent = data.speech ? "（语音识别已开启）" : "（未配置语音识别模型：仅按键）";
  const box = clear($("#ivr-flows"));
  for (const flow of data.flows) box.append(render(flow));
}

function render(flow) {
  const edges = new Map();
  for (const e of flow.graph.edges) {
    if (!edges.has(e.from)) edges.set(e.from, []);
    edges.get(e.from).push(e);
  }
  const list = h("ol", { class: "ivr-steps", testid: "ivr-steps" });
  for (const node of flow.graph.nodes) {
    const out = edges.get(node.id) || [];
    list.append(h("li", { testid: "ivr-step", dataset: { step: node.id, type: node.type } },
      h("strong", {}, node.id), ` · ${KINDS[node.type] || node.type}`,
      node.label ? h("div", { class: "muted" }, node.label) : null,
      out.length ? h("ul", {}, out.map((e) => h("li", { testid: "ivr-edge" }, `${edgeLabel(e.label || "next")} → ${e.to}`))) : null));
  }
  return h("details", { open: true, testid: "ivr-flow", dataset: { flow: flow.name } },
    h("summary", {}, `${flow.title}（${flow.name}）`), list);
}

start();
