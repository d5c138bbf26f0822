"""Agent and late bot messages to a Telegram chat, split at Telegram's 4096 characters."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from routing.outbox import DeliveryFailed, OutboundMessage

MAX_TEXT = 4096
MAX_WAIT_S = 30.0  # honour a short retry_after here; a longer one goes back to the outbox
BLOCKED = "用户已停用或屏蔽机器人，无法发送"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most limit characters, cut at a line break when there is one."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*pieces, text] if text else pieces


class TelegramSender:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, message: OutboundMessage) -> None:
        chat_id = int(message.to)
        for piece in split_text(message.text):
            await self._send_piece(chat_id, piece)

    async def _send_piece(self, chat_id: int, text: str) -> None:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramRetryAfter as e:
            if e.retry_after > MAX_WAIT_S:
                raise DeliveryFailed(f"Telegram 限流 {e.retry_after}s") from e
            await asyncio.sleep(e.retry_after)
            try:
                await self._bot.send_message(chat_id, text)
            except TelegramRetryAfter as again:
                raise DeliveryFailed(f"Telegram 限流 {again.retry_after}s") from again
        except (TelegramForbiddenError, TelegramUnauthorizedError) as e:
            raise DeliveryFailed(BLOCKED, retryable=False) from e
        except TelegramBadRequest as e:
            raise DeliveryFailed(f"Telegram 拒绝：{e.message}", retryable=False) from e
        except (TelegramNetworkError, TelegramServerError) as e:
            raise DeliveryFailed(f"Telegram 不可达：{type(e).__name__}") from e
