"""The official account's settings as the channel uses them (built in channels/wechat/__init__)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    app_id: str
    token: str
    # set: safe mode only (encrypted bodies under msg_signature); plaintext is refused
    aes_key: str = ""
    reply_deadline_s: float = 4.0

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)
