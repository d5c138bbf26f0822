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
    const minutes = Math.ceil((Number(resp.headers.get("Retry-After")) || 900) / 60);
    show(`登录失败次数过多，账号已锁定，请${minutes}分钟后再试`);
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
