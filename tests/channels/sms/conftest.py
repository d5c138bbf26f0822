"""The SMS channel's rigs: the hub bound to the SMSC emulator (with the HTTP provider's
webhook enabled too), and the hub as `hub demo` runs it, with no SMS settings at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio
from pydantic import SecretStr

from hub.app import create_app
from hub.settings import Settings
from mongo.client import Database
from tests.agent_web.conftest import Hub, seed_staff
from tests.channels.sms.rig import WEBHOOK_SECRET, Rig
from tests.emulators.smsc import PASSWORD, SYSTEM_ID, SmscEmulator
from tests.fakes.bot import FakeBot


@pytest_asyncio.fixture(loop_scope="session")
async def rig(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Rig]:
    async with SmscEmulator() as smsc:
        configured = settings.model_copy(
            update={
                "smpp_host": "127.0.0.1",
                "smpp_port": smsc.port,
                "smpp_system_id": SYSTEM_ID,
                "smpp_password": SecretStr(PASSWORD),
                "smpp_enquire_link_s": 0.5,
                "sms_webhook_secret": SecretStr(WEBHOOK_SECRET),
                "hub_outbox_backoff_s": (0.05, 0.05),
            }
        )
        await seed_staff(db)
        client = await aiohttp_client(create_app(configured, bot=FakeBot()))
        await smsc.wait_bound()
        hub = Hub(client, [])
        yield Rig(smsc, hub, db)
        for member in hub.sessions:
            await member.close()


@pytest_asyncio.fixture(loop_scope="session")
async def demo_hub(aiohttp_client: Any, settings: Settings, db: Database) -> AsyncIterator[Hub]:
    """The hub with neither SMPP_HOST nor SMS_HTTP_URL: SMS go to the console gateway."""
    await seed_staff(db)
    hub = Hub(await aiohttp_client(create_app(settings, bot=FakeBot())), [])
    yield hub
    for member in hub.sessions:
        await member.close()
