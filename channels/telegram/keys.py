"""Typed application keys of the Telegram channel."""

from __future__ import annotations

from aiogram import Bot
from aiohttp import web

from channels.telegram.config import TelegramConfig
from channels.telegram.polling import OffsetStore, Poller
from channels.telegram.updates import TelegramUpdates

CONFIG = web.AppKey("telegram_config", TelegramConfig)
OFFSETS = web.AppKey("telegram_offsets", OffsetStore)  # set by the hub: polling mode reads it
BOT = web.AppKey("telegram_bot", Bot)
UPDATES = web.AppKey("telegram_updates", TelegramUpdates)
POLLER = web.AppKey("telegram_poller", Poller)
