"""POST /channels/telegram/webhook: updates pushed by Telegram, authenticated by the
X-Telegram-Bot-Api-Secret-Token header set with setWebhook. 200 only after the update is
stored; a 5xx makes Telegram deliver it again."""

from __future__ import annotations

import hmac
import logging

from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from channels.telegram.updates import TelegramUpdates
from primitives.untrusted_json import InvalidJson, decode_object

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
HEADER = "X-Telegram-Bot-Api-Secret-Token"


class TelegramWebhook:
    def __init__(self, secret: str, updates: TelegramUpdates) -> None:
        self._secret = secret.encode()
        self._updates = updates

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            log.warning("telegram.webhook_bad_secret")
            return _refuse(403, "bad secret token")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _refuse(413, "body too large")
        try:
            update = Update.model_validate(decode_object(body))
        except (InvalidJson, ValidationError) as e:
            log.info("telegram.bad_update", extra={"reason": type(e).__name__})
            return _refuse(400, "not a Telegram update")
        await self._updates.handle(update)
        return web.json_response({"ok": True})


def _refuse(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)
