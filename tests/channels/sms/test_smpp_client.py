"""The SMPP client's reconnect backoff: it grows while binds fail or drop at once, and starts
from the shortest delay again after a bind that held (its keep-alive was answered)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.sms.smpp_client import SmppClient, SmppConfig
from tests.channels.helpers import eventually
from tests.channels.sms.rig import async_value
from tests.emulators.smsc import PASSWORD, SYSTEM_ID, SmscEmulator

BACKOFF = (0.01, 0.02, 0.04)


class RecordingSleep:
    """Stands in for asyncio.sleep: notes each delay and only yields."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


async def _ignore(req: Any) -> None:
    return None


async def test_backoff_resets_after_a_bind_that_held():
    sleep = RecordingSleep()
    async with SmscEmulator() as smsc:
        config = SmppConfig(
            "127.0.0.1", smsc.port, SYSTEM_ID, PASSWORD, enquire_link_s=0.02, reconnect_s=BACKOFF
        )
        client = SmppClient(config, sleep=sleep)
        client.start(_ignore)
        try:
            for drops in range(1, 5):
                await smsc.wait_bound()
                seen = smsc.enquire_links
                # a second enquire_link is sent only once the first was answered: the bind held
                await eventually(async_value(lambda s=seen: smsc.enquire_links >= s + 2))
                smsc.drop_connections()
                await eventually(async_value(lambda n=drops: len(sleep.delays) >= n))
        finally:
            await client.close()
    assert sleep.delays[:4] == [BACKOFF[0]] * 4


async def test_backoff_grows_while_binds_fail():
    sleep = RecordingSleep()
    async with SmscEmulator() as smsc:
        config = SmppConfig("127.0.0.1", smsc.port, SYSTEM_ID, "wrong", reconnect_s=BACKOFF)
        client = SmppClient(config, sleep=sleep)
        client.start(_ignore)
        try:
            await eventually(async_value(lambda: len(sleep.delays) >= 5))
        finally:
            await client.close()
    assert sleep.delays[:5] == [0.01, 0.02, 0.04, 0.04, 0.04]
    assert smsc.binds == 0
