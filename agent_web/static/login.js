import { $ } from "/static/agent/common.js";

const form = $("#login-form");
const error = $("#login-error");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const body = { login: $("#login").value.trim(), password: $("#password").value };
  let resp;
  try {
    resp = await fetch("/api/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      credentials: "same-origin",
      body: JSON.stringify(body),
    });
  } catch (_) {
    show("网络错误，请稍后重试");
    return;
  }
  const data = await resp.json().catch(() => ({}));
  if (resp.ok) {
    const roles = data.roles || [];
    const serves = roles.includes("agent") || roles.includes("supervisor") || roles.includes("department");
    location.href = serves ? "/" : "/admin";
    return;
  }
  if (resp.status === 429) {
    // The server's reason says how long to wait (尝试次数过多，请X秒后再试).
    const seconds = Number(resp.headers.get("Retry-After")) || 1;
    show(data.reason || `尝试次数过多，请${seconds}秒后再试`);
  } else if (resp.status === 503) {
    show(data.reason || "服务暂时不可用，请稍后重试");
  } else if (resp.status === 401) {
    show("账号或密码错误");
  } else {
    show("登录失败，请检查输入");
  }
});

function show(text) {
  error.textContent = text;
  error.hidden = false;
}
