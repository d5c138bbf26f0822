"""E-mail transcripts against a real SMTP server (aiosmtpd, tests/emulators/smtp.py): the
request is stored, the mail goes out with AUTH, a stable Message-ID and the whole chat; an
unreachable server or a 451 is retried, a 550 fails at once with the reason, a restart sends
what a previous run left pending, and a key never sends the same mail twice."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr

from channels.mail import MAILER
from channels.mail.records import MailRecord
from hub.app import create_app
from hub.settings import Settings, SettingsError, load_settings
from mongo.client import Database
from mongo.mail import MongoMailRepository
from mongo.verifications import MongoVerificationRepository, Verification
from tests.agent_web.conftest import Hub
from tests.channels.helpers import eventually
from tests.channels.webchat.tabs import Tab, open_tab
from tests.emulators.smtp import PASSWORD, USER, SmtpEmulator
from tests.fakes.bot import FakeBot

CITIZEN = "citizen@example.com"


@dataclass
class Rig:
    smtp: SmtpEmulator
    hub: Hub
    db: Database

    async def outbound(self) -> list[dict[str, Any]]:
        return [d async for d in self.db["mail_outbound"].find().sort("_id", 1)]


def _configured(settings: Settings, smtp: SmtpEmulator) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "smtp_user": USER,
            "smtp_password": SecretStr(PASSWORD),
            "smtp_from": "hotline@example.gov.cn",
            "hub_outbox_backoff_s": (0.05, 0.1, 0.2),
        }
    )


@pytest_asyncio.fixture(loop_scope="session")
async def rig(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Rig]:
    async with SmtpEmulator() as smtp:
        client = await aiohttp_client(create_app(_configured(settings, smtp), bot=FakeBot()))
        yield Rig(smtp, Hub(client, []), db)


async def _chat(rig: Rig) -> Tab:
    """A visitor who asked the bot something and verified their mailbox (transcripts go
    only to a verified address)."""
    tab = await open_tab(rig.hub)
    await tab.until("synced")
    await tab.send(type="message", client_id="client000001", text="宝宝医保怎么办")
    await tab.until("message", sender="bot")
    await tab.send(type="verify", email=CITIZEN)
    await tab.until("verify_sent")
    [mail] = await eventually(lambda: _async(rig.smtp.to(CITIZEN)))
    code = re.search(r"验证码为：(\d{6})", mail.get_content())
    assert code is not None
    await tab.send(type="verify_code", email=CITIZEN, code=code.group(1))
    await tab.until("verified")
    return tab


async def _transcripts(rig: Rig) -> list[EmailMessage]:
    return [m for m in rig.smtp.to(CITIZEN) if m["Subject"] == "【12345热线】您的聊天记录"]


async def test_a_transcript_requested_by_email_is_mailed_with_the_whole_chat(rig: Rig):
    tab = await _chat(rig)
    await tab.send(type="transcript", email=CITIZEN)
    frame = await tab.until("transcript_requested")
    assert (frame["status"], frame["via"]) == ("sent", ["email"])
    [mail] = await eventually(lambda: _transcripts(rig))
    assert "hotline@example.gov.cn" in mail["From"]
    body = mail.get_content()
    assert "我：宝宝医保怎么办" in body
    assert "机器人：新生儿在出生后90天内" in body
    stored = await eventually(lambda: _sent_transcript(rig))
    assert mail["Message-ID"] == f"<{stored['_id']}@example.gov.cn>"
    assert stored["attempts"] == 1
    request = await rig.db["transcript_requests"].find_one({"email": CITIZEN})
    assert (request["status"], request["via"]) == ("sent", ["email"])
    await tab.ws.close()


async def test_a_transcript_to_a_verified_mailbox_and_phone_goes_both_ways(rig: Rig):
    tab = await _chat(rig)
    visitor = next(f["visitor"] for f in tab.frames if f["type"] == "welcome")
    now = datetime.now(UTC)  # the visitor verified the number too (its code went by SMS)
    await MongoVerificationRepository(rig.db).add(
        Verification("verified-1", visitor, "phone", "+8613812345678", "", now, now, 1, now)
    )
    await tab.send(type="transcript", email=CITIZEN, phone="138 1234-5678")
    frame = await tab.until("transcript_requested")
    assert (frame["status"], frame["via"]) == ("sent", ["sms", "email"])
    await eventually(lambda: _transcripts(rig))
    await tab.ws.close()


async def test_an_unreachable_server_and_a_451_are_retried_until_the_mail_goes(
    rig: Rig, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="primitives.delivery")
    await rig.smtp.stop()
    await rig.hub.app[MAILER].send(CITIZEN, "主题", "正文一", "transcript")
    rig.smtp.tempfail_next = 1

    async def attempted() -> bool:
        # the first attempt has met the stopped server (it runs in the background)
        failed = any(r.getMessage() == "mail.retry" for r in caplog.records)
        return failed and (await rig.outbound())[0]["state"] == "pending"

    await eventually(attempted)
    await rig.smtp.start()  # same port: the next retry reaches it, gets 451, then succeeds
    [stored] = await eventually(lambda: _sent(rig))
    assert stored["attempts"] >= 3
    assert [m.get_content().strip() for m in rig.smtp.to(CITIZEN)] == ["正文一"]
    assert rig.smtp.tempfail_next == 0


async def test_a_refused_recipient_fails_at_once_with_the_reason(rig: Rig):
    rig.smtp.refuse.add("nobody@example.com")
    await rig.hub.app[MAILER].send("nobody@example.com", "主题", "正文", "transcript")

    async def failed() -> list[dict[str, Any]]:
        return [d for d in await rig.outbound() if d["state"] == "failed"]

    [record] = await eventually(failed)
    assert record["attempts"] == 1
    assert "550" in record["error"]
    assert rig.smtp.received == []


async def test_a_key_sends_a_mail_once(rig: Rig):
    mailer = rig.hub.app[MAILER]
    assert await mailer.send(CITIZEN, "主题", "正文", "transcript", key="k-1") is not None
    assert await mailer.send(CITIZEN, "主题", "正文", "transcript", key="k-1") is None
    await eventually(lambda: _sent(rig))
    assert len(rig.smtp.received) == 1


async def test_mail_left_pending_by_a_previous_run_is_sent_at_start(
    aiohttp_client: Any, settings: Settings, db: Database
):
    left = MailRecord(
        id="mail-left-1",
        to=CITIZEN,
        subject="主题",
        body="上次没发出去的邮件",
        purpose="transcript",
        state="pending",
        created_at=datetime.now(UTC),
    )
    await MongoMailRepository(db).add(left)
    async with SmtpEmulator() as smtp:
        await aiohttp_client(create_app(_configured(settings, smtp), bot=FakeBot()))
        [mail] = await eventually(lambda: _async(smtp.to(CITIZEN)))
        assert "上次没发出去的邮件" in mail.get_content()
        assert (await MongoMailRepository(db).get("mail-left-1")).state == "sent"


async def test_wrong_smtp_credentials_leave_the_mail_failed_not_lost(
    aiohttp_client: Any, settings: Settings, db: Database
):
    async with SmtpEmulator(password="another-password") as smtp:
        client = await aiohttp_client(create_app(_configured(settings, smtp), bot=FakeBot()))
        await client.app[MAILER].send(CITIZEN, "主题", "正文", "transcript")

        async def settled() -> dict[str, Any] | None:
            return await db["mail_outbound"].find_one({"state": "failed"})

        record = await eventually(settled)
        assert "535" in record["error"]  # authentication failed: not retried
        assert smtp.received == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"smtp_user": "u@example.com"}, "SMTP_PASSWORD is required"),
        ({"smtp_from": "not an address"}, "SMTP_FROM"),
        ({"smtp_security": "ssl3"}, "SMTP_SECURITY"),
    ],
)
def test_mail_settings_fail_fast(overrides: dict[str, Any], message: str):
    with pytest.raises(SettingsError, match=message):
        load_settings(**overrides)


async def _sent_transcript(rig: Rig) -> dict[str, Any] | None:
    return next((d for d in await _sent(rig) if d["purpose"] == "transcript"), None)


async def _sent(rig: Rig) -> list[dict[str, Any]]:
    return [d for d in await rig.outbound() if d["state"] == "sent"]


async def _async(value: Any) -> Any:
    return value
