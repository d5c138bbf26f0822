"""The inbox rig (real app, test database, staff) serves the web-chat tests too; the contact
rig adds an SMS centre (SMPP emulator), an SMTP server and a clock the test moves, for
one-time codes and transcripts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest_asyncio
from pydantic import SecretStr

from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from primitives.clock import FixedClock
from tests.agent_web.conftest import EntityBot, Hub, hub, make_hub, seed_staff  # noqa: F401
from tests.channels.helpers import eventually
from tests.emulators import smtp as smtp_emulator
from tests.emulators.smsc import PASSWORD, SYSTEM_ID, SmscEmulator
from tests.emulators.smtp import SmtpEmulator

_CODE = re.compile(r"验证码为[：:]?\s*(\d{6})")


@dataclass
class ContactRig:
    hub: Hub
    smsc: SmscEmulator
    smtp: SmtpEmulator
    clock: FixedClock
    db: Database

    async def sms_code(self, e164: str, nth: int = 1) -> str:
        """The code in the nth verification SMS to e164 (waits for it)."""
        texts = await eventually(lambda: _ready(_coded(self.smsc.messages_to(e164)), nth))
        return texts[nth - 1]

    async def mail_code(self, address: str, nth: int = 1) -> str:
        def mails() -> list[str]:
            return [m.get_content() for m in self.smtp.to(address)]

        codes = await eventually(lambda: _ready(_coded(mails()), nth))
        return codes[nth - 1]

    async def texted_from(self, e164: str, text: str) -> None:
        """An SMS from e164 reaches the hub (stored before the SMS centre's ack)."""
        assert await self.smsc.deliver(e164.lstrip("+"), text) == [0]


def _coded(texts: list[str]) -> list[str]:
    return [m.group(1) for t in texts if (m := _CODE.search(t))]


async def _ready(codes: list[str], nth: int) -> list[str] | None:
    return codes if len(codes) >= nth else None


@pytest_asyncio.fixture(loop_scope="session")
async def contact_rig(
    aiohttp_client: Any, settings: Settings, db: Database
) -> AsyncIterator[ContactRig]:
    async with SmscEmulator() as smsc, SmtpEmulator() as smtp:
        configured = settings.model_copy(
            update={
                "smpp_host": "127.0.0.1",
                "smpp_port": smsc.port,
                "smpp_system_id": SYSTEM_ID,
                "smpp_password": SecretStr(PASSWORD),
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp.port,
                "smtp_security": "none",
                "smtp_user": smtp_emulator.USER,
                "smtp_password": SecretStr(smtp_emulator.PASSWORD),
                "smtp_from": "hotline@example.gov.cn",
                "hub_outbox_backoff_s": (0.05, 0.05),
            }
        )
        await seed_staff(db)
        clock = FixedClock(datetime.now(UTC))
        client = await aiohttp_client(create_app(configured, bot=EntityBot(), clock=clock))
        await smsc.wait_bound()
        rig = ContactRig(Hub(client, []), smsc, smtp, clock, db)
        yield rig
        for member in rig.hub.sessions:
            await member.close()
