"""The Telegram channel (aiogram 3). The hub installs it when TELEGRAM_BOT_TOKEN is set.

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

from agent_web.keys import CLOCK, CUSTOMERS, OUTBOX, ROUTER
from channels.telegram.config import TelegramConfig
from channels.telegram.keys import BOT, CONFIG, OFFSETS, POLLER, UPDATES
from channels.telegram.polling import Poller
from channels.telegram.sender import TelegramSender
from channels.telegram.updates import CHANNEL, TelegramUpdates
from channels.telegram.webhook import TelegramWebhook
from channels.webchat.keys import UPLOADS

log = logging.getLogger(__name__)

PATH = "/channels/telegram/webhook"


def install(app: web.Application, config: TelegramConfig) -> None:
    """The channel, with the repository of its polling offset under OFFSETS (set before the
    app starts)."""
    app[CONFIG] = config
    app.cleanup_ctx.append(_open)
    if config.webhook_secret is not None:
        app.router.add_post(PATH, _webhook)


async def _open(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    api = config.api_base
    session = AiohttpSession(api=TelegramAPIServer.from_base(api)) if api else AiohttpSession()
    bot = Bot(config.token, session=session)
    account = config.account  # the bot's id; never log the token
    updates = TelegramUpdates(
        bot, account, app[ROUTER], app[CUSTOMERS], app.get(UPLOADS), app[CLOCK]
    )
    app[BOT], app[UPDATES] = bot, updates
    app[OUTBOX].register(CHANNEL, TelegramSender(bot))
    poller = None
    if config.webhook_secret is not None:
        await _set_webhook(bot, config.public_url, config.webhook_secret)
    else:
        poller = Poller(bot, updates, app[OFFSETS])
        app[POLLER] = poller
        poller.start()
    yield
    if poller is not None:
        await poller.close()
    await bot.session.close()


async def _set_webhook(bot: Bot, public_url: str | None, secret: str) -> None:
    if not public_url:
        log.info("telegram.webhook_not_registered", extra={"reason": "HUB_PUBLIC_URL unset"})
        return
    try:
        await bot.set_webhook(
            url=public_url.rstrip("/") + PATH,
            secret_token=secret,
        )
    except TelegramAPIError as e:
        log.warning("telegram.set_webhook_failed", extra={"reason": type(e).__name__})


async def _webhook(request: web.Request) -> web.Response:
    secret = request.app[CONFIG].webhook_secret
    assert secret is not None
    handler = TelegramWebhook(secret, request.app[UPDATES])
    return await handler.receive(request)
