"""The official account's settings as the channel uses them (built by the hub from the
WECHAT_* settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

API_BASE = "https://api.weixin.qq.com/cgi-bin/"


@dataclass(frozen=True, slots=True)
class WeChatConfig:
    app_id: str
    token: str = field(repr=False)
    # set: safe mode only (encrypted bodies under msg_signature); plaintext is refused
    aes_key: str = field(default="", repr=False)
    reply_deadline_s: float = 4.0
    app_secret: str = field(default="", repr=False)  # for the server API (access_token)
    api_base: str = API_BASE
    template_case_update: str = ""  # "": no template messages (and no WeChat revisit)

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_key)
