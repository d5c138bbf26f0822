"""What the three outboxes stored while their provider was down is delivered once after the
hub was killed (SIGKILL) and started again with the providers back: an agent's SMS reply
(the routing outbox), a verification code by SMS (the SMS outbound's own queue) and one by
e-mail (the mail outbox), each counted at its emulator."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp

from channels.sms.pdu import RSYSERR
from mongo.client import Database
from primitives.net import free_port
from tests.agent_web.conftest import PASSWORD, routing_file, seed_staff
from tests.emulators.smsc import PASSWORD as SMPP_PASSWORD
from tests.emulators.smsc import SYSTEM_ID, SmscEmulator
from tests.emulators.smtp import PASSWORD as SMTP_PASSWORD
from tests.emulators.smtp import USER, SmtpEmulator
from tests.hub.restart_scenario import hub_env, start_hub, wait_healthy

CITIZEN = "+8613812345678"
CITIZEN_SMPP = "8613812345678"
VISITOR_PHONE = "+8613900002222"
VISITOR_EMAIL = "visitor@example.com"
AGENT_REPLY = "您好，我是张伟，您反映的问题已登记"


async def _until(check: Callable[[], Awaitable[Any]], what: str, timeout_s: float = 30) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := await check():
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def _call(
    http: aiohttp.ClientSession, csrf: str, method: str, url: str, body: object
) -> dict[str, Any]:
    async with http.request(method, url, json=body, headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status < 300, await resp.text()
        return await resp.json()


async def _agent_serving_sms(
    http: aiohttp.ClientSession, base: str, smsc: SmscEmulator
) -> tuple[str, str]:
    """agent2, ready, gets the citizen who texted 转人工: (csrf token, conversation id)."""
    async with http.post(
        f"{base}/api/v1/auth/login", json={"login": "agent2", "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        csrf = (await resp.json())["csrf_token"]
    await _call(http, csrf, "POST", f"{base}/api/v1/agent/status", {"status": "ready"})
    assert await smsc.deliver(CITIZEN_SMPP, "转人工") == [0]

    async def served() -> str | None:
        async with http.get(f"{base}/api/v1/agent/inbox") as resp:
            inbox = await resp.json()
        convs = [c["id"] for c in inbox["conversations"] if c["channel"] == "sms"]
        return convs[0] if convs else None

    return csrf, await _until(served, "the SMS conversation in agent2's inbox")


async def _ask_codes(http: aiohttp.ClientSession, base: str) -> None:
    """A web-chat visitor asks for a verification code by SMS and one by e-mail."""
    async with http.ws_connect(base.replace("http", "ws", 1) + "/webchat/ws") as ws:
        await ws.send_json({"type": "hello", "visitor": "", "token": "", "after": ""})
        await _frame(ws, "synced")
        await ws.send_json({"type": "verify", "phone": VISITOR_PHONE})
        await _frame(ws, "verify_sent")
        await ws.send_json({"type": "verify", "email": VISITOR_EMAIL})
        await _frame(ws, "verify_sent")


async def _frame(ws: aiohttp.ClientWebSocketResponse, kind: str) -> dict[str, Any]:
    while True:
        msg = await ws.receive(timeout=30)
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        frame = json.loads(msg.data)
        assert frame["type"] != "error", frame
        if frame["type"] == kind:
            return frame


async def test_what_was_stored_while_the_providers_were_down_is_sent_once_after_a_kill(
    db: Database, mongo_url: str, db_name: str, tmp_path: Path
):
    await seed_staff(db)
    smtp = SmtpEmulator()
    smtp.port = free_port()  # not started yet: the mail server is unreachable
    async with SmscEmulator() as smsc:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = hub_env(
            mongo_url,
            db_name,
            port,
            {
                "SMPP_HOST": "127.0.0.1",
                "SMPP_PORT": str(smsc.port),
                "SMPP_SYSTEM_ID": SYSTEM_ID,
                "SMPP_PASSWORD": SMPP_PASSWORD,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp.port),
                "SMTP_SECURITY": "none",
                "SMTP_USER": USER,
                "SMTP_PASSWORD": SMTP_PASSWORD,
                "SMTP_FROM": "hotline@example.gov.cn",
                "HUB_ROUTING_CONFIG": str(routing_file(tmp_path)),  # no business hours
                "HUB_OUTBOX_BACKOFF_S": "[60, 60]",  # a failed send waits past the kill
            },
        )
        first = await start_hub(env)
        try:
            await wait_healthy(base, first)
            await smsc.wait_bound()
            async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
                csrf, conv = await _agent_serving_sms(http, base, smsc)
                await _until(lambda: _none_pending(db), "the bot's SMS to the citizen sent")
                # the SMSC answers every submit with a (temporary) system error from now on
                smsc.refuse_next = [RSYSERR] * 100
                await _call(
                    http,
                    csrf,
                    "POST",
                    f"{base}/api/v1/agent/conversations/{conv}/messages",
                    {"text": AGENT_REPLY, "client_id": "k-agent2-1"},
                )
                await _ask_codes(http, base)
                # both SMS were tried once and refused; each waits 60 s for its retry
                await _until(lambda: _value(len(smsc.refuse_next) <= 98), "two refused submits")
                await _until(lambda: _stored_pending(db), "the three records, pending")
            first.kill()  # SIGKILL: nothing is flushed, nothing is said goodbye
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
                await first.wait()
        assert AGENT_REPLY not in smsc.messages_to(CITIZEN)
        assert smsc.messages_to(VISITOR_PHONE) == []

        smsc.refuse_next = []  # the providers are back
        await smtp.start()
        second = await start_hub(env)
        try:
            await wait_healthy(base, second)
            await _until(
                lambda: _value(AGENT_REPLY in smsc.messages_to(CITIZEN)), "the agent's reply"
            )
            await _until(lambda: _value(smsc.messages_to(VISITOR_PHONE)), "the SMS code")
            await _until(lambda: _value(smtp.to(VISITOR_EMAIL)), "the mailed code")
            await asyncio.sleep(1.5)  # room for a second copy, were one on its way
        finally:
            second.terminate()
            await second.wait()
            await smtp.stop()

    assert smsc.messages_to(CITIZEN).count(AGENT_REPLY) == 1
    assert len(smsc.messages_to(VISITOR_PHONE)) == 1
    assert "验证码" in smsc.messages_to(VISITOR_PHONE)[0]
    assert len(smtp.to(VISITOR_EMAIL)) == 1
    reply = await db["messages"].find_one({"direction": "out", "text": AGENT_REPLY})
    assert reply["delivery"] in {"sent", "delivered"}
    assert (await db["sms_outbound"].find_one({"to": VISITOR_PHONE}))["state"] != "pending"
    assert (await db["mail_outbound"].find_one({"to": VISITOR_EMAIL}))["state"] == "sent"


async def _value(value: Any) -> Any:
    return value


async def _none_pending(db: Database) -> bool:
    return await db["messages"].count_documents({"delivery": "pending"}) == 0


async def _stored_pending(db: Database) -> bool:
    reply = await db["messages"].find_one({"direction": "out", "text": AGENT_REPLY})
    sms = await db["sms_outbound"].find_one({"to": VISITOR_PHONE})
    mail = await db["mail_outbound"].find_one({"to": VISITOR_EMAIL})
    return (
        reply is not None
        and reply["delivery"] == "pending"
        and sms is not None
        and sms["state"] == "pending"
        and mail is not None
        and mail["state"] == "pending"
    )
