"""getUpdates long polling. The offset is stored (mongo/telegram_offsets.py) after each
update is handled, so a restart neither skips an update nor (thanks to update_id dedupe)
stores one twice."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramRetryAfter

from channels.telegram.updates import TelegramUpdates

log = logging.getLogger(__name__)


class OffsetStore(Protocol):
    """The bot's getUpdates offset: the update_id after the last update handled."""

    async def load(self) -> int: ...  # 0 when none is stored yet

    async def save(self, offset: int) -> None: ...


class Poller:
    def __init__(
        self,
        bot: Bot,
        updates: TelegramUpdates,
        offsets: OffsetStore,
        *,
        timeout_s: int = 25,
        backoff_s: tuple[float, ...] = (1, 2, 5, 15, 30),
    ) -> None:
        self._bot = bot
        self._updates = updates
        self._offsets = offsets
        self._timeout = timeout_s
        self._backoff = backoff_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        await self._bot.delete_webhook(drop_pending_updates=False)  # polling and webhook exclude
        offset = await self._offsets.load()
        failures = 0
        while True:
            try:
                batch = await self._bot.get_updates(
                    offset=offset or None,
                    timeout=self._timeout,
                    request_timeout=self._timeout + 10,
                )
                for update in batch:
                    await self._updates.handle(update)
                    offset = update.update_id + 1
                    await self._offsets.save(offset)
                failures = 0
            except asyncio.CancelledError:
                raise
            except TelegramRetryAfter as e:
                await asyncio.sleep(e.retry_after)
            except (TelegramNetworkError, TelegramAPIError, OSError) as e:
                log.warning("telegram.poll_failed", extra={"reason": type(e).__name__})
                await asyncio.sleep(self._backoff[min(failures, len(self._backoff) - 1)])
                failures += 1
            except Exception:  # a store failure: keep the offset, try the update again
                log.exception("telegram.update_failed")
                await asyncio.sleep(self._backoff[min(failures, len(self._backoff) - 1)])
                failures += 1
