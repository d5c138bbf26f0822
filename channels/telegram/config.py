"""The Telegram bot's settings as the channel uses them (built by the hub from
TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET, TELEGRAM_API_BASE and HUB_PUBLIC_URL)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str = field(repr=False)
    # set: webhook mode (Telegram sends this in X-Telegram-Bot-Api-Secret-Token); None: polling
    webhook_secret: str | None = field(default=None, repr=False)
    api_base: str | None = None  # a local Bot API server; None: Telegram's own
    public_url: str | None = None  # where Telegram reaches the webhook; None: not registered

    @property
    def account(self) -> str:
        """The bot's id (the token's first part): safe to log and store, unlike the token."""
        return self.token.split(":", 1)[0]
