"""Database work per citizen message once a conversation is under way: the embedded
database manages ~90 indexed writes/s, so the hot path must be the inbound message and the
bot's reply, two inserts, and nothing else (counted with pymongo's command monitoring)."""

from __future__ import annotations

from typing import Any

from pymongo import monitoring

from hub.app import create_app
from hub.settings import Settings
from tests.fakes.bot import FakeBot


class CommandLog(monitoring.CommandListener):
    def __init__(self) -> None:
        self.database = ""
        self.commands: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.database and event.database_name == self.database:
            self.commands.append((event.command_name, str(event.command.get(event.command_name))))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


LOG = CommandLog()
monitoring.register(LOG)  # applies to clients created from now on: each test's app


def _watch(settings: Settings) -> None:
    LOG.commands.clear()
    LOG.database = settings.mongo_db


def _stop() -> list[tuple[str, str]]:
    LOG.database = ""
    return list(LOG.commands)


async def test_a_web_chat_message_costs_two_inserts(aiohttp_client: Any, settings: Settings):
    client = await aiohttp_client(create_app(settings, bot=FakeBot()))
    ws = await client.ws_connect("/webchat/ws")
    await ws.send_json({"type": "hello", "visitor": "", "token": "", "after": ""})
    while (await ws.receive_json())["type"] != "synced":
        pass

    async def ask(n: int, text: str) -> None:
        await ws.send_json({"type": "message", "client_id": f"client{n:06d}", "text": text})
        while True:
            frame = await ws.receive_json()
            if frame["type"] == "message" and frame["sender"] == "bot":
                return

    await ask(1, "宝宝医保怎么办")  # the first message opens the customer and conversation
    _watch(settings)
    await ask(2, "停水什么时候恢复")
    await ask(3, "保洁怎么预约")
    assert _stop() == [("insert", "messages")] * 4
    await ws.close()


async def test_a_rest_message_costs_two_inserts(aiohttp_client: Any, settings: Settings):
    client = await aiohttp_client(create_app(settings, bot=FakeBot()))
    rest = "/api/v1/channels/rest/messages"
    assert (await client.post(rest, json={"sender_id": "s1", "text": "你好"})).status == 200
    _watch(settings)
    resp = await client.post(rest, json={"sender_id": "s1", "text": "宝宝医保怎么办"})
    assert resp.status == 200
    assert _stop() == [("insert", "messages")] * 2
