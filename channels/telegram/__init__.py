"""The Telegram channel (aiogram 3). install(app) adds it when TELEGRAM_BOT_TOKEN is set.

With TELEGRAM_WEBHOOK_SECRET it runs in webhook mode (POST /channels/telegram/webhook,
registered with setWebhook when HUB_PUBLIC_URL is set); without it, it long-polls getUpdates.
TELEGRAM_API_BASE points it at a local Bot API server.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiohttp import web
from pydantic import SecretStr

from agent_web.keys import CLOCK, DB, SETTINGS
from channels.keys import ROUTING
from channels.telegram.polling import OffsetStore, Poller
from channels.telegram.sender import TelegramSender
from channels.telegram.updates import CHANNEL, TelegramUpdates
from channels.telegram.webhook import TelegramWebhook
from channels.webchat.keys import UPLOADS

log = logging.getLogger(__name__)

PATH = "/channels/telegram/webhook"
BOT = web.AppKey("telegram_bot", Bot)
UPDATES = web.AppKey("telegram_updates", TelegramUpdates)
POLLER = web.AppKey("telegram_poller", Poller)


def install(app: web.Application) -> None:
    settings = app[SETTINGS]
    if settings.telegram_bot_token is None:
        return
    app.cleanup_ctx.append(_open)
    if settings.telegram_webhook_secret is not None:
        app.router.add_post(PATH, _webhook)


async def _open(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    api = settings.telegram_api_base
    session = AiohttpSession(api=TelegramAPIServer.from_base(api)) if api else AiohttpSession()
    bot = Bot(token, session=session)
    account = token.split(":", 1)[0]  # the bot's id; never log the token
    stack = app[ROUTING]
    updates = TelegramUpdates(
        bot, account, stack.router, stack.customers, app.get(UPLOADS), app[CLOCK]
    )
    app[BOT], app[UPDATES] = bot, updates
    stack.outbox.register(CHANNEL, TelegramSender(bot))
    poller = None
    if settings.telegram_webhook_secret is not None:
        await _set_webhook(bot, settings.hub_public_url, settings.telegram_webhook_secret)
    else:
        poller = Poller(bot, updates, OffsetStore(app[DB], account))
        app[POLLER] = poller
        poller.start()
    yield
    if poller is not None:
        await poller.close()
    await bot.session.close()


async def _set_webhook(bot: Bot, public_url: str | None, secret: SecretStr) -> None:
    if not public_url:
        log.info("telegram.webhook_not_registered", extra={"reason": "HUB_PUBLIC_URL unset"})
        return
    try:
        await bot.set_webhook(
            url=public_url.rstrip("/") + PATH,
            secret_token=secret.get_secret_value(),
        )
    except TelegramAPIError as e:
        log.warning("telegram.set_webhook_failed", extra={"reason": type(e).__name__})


async def _webhook(request: web.Request) -> web.Response:
    secret = request.app[SETTINGS].telegram_webhook_secret
    assert secret is not None
    handler = TelegramWebhook(secret.get_secret_value(), request.app[UPDATES])
    return await handler.receive(request)
