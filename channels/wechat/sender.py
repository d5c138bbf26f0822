"""Agent and late bot messages to WeChat users through the customer-service API."""

from __future__ import annotations

import aiohttp

from channels.wechat import texts
from channels.wechat.api import OUTSIDE_WINDOW, WeChatApi, WeChatApiError
from routing.outbox import DeliveryFailed, OutboundMessage


class WeChatSender:
    def __init__(self, api: WeChatApi) -> None:
        self._api = api

    async def send(self, message: OutboundMessage) -> None:
        openid = message.to.split(":", 1)[-1]  # identities are "<appid>:<openid>"
        try:
            await self._api.send_text(openid, message.text)
        except WeChatApiError as e:
            if e.errcode in OUTSIDE_WINDOW:
                raise DeliveryFailed(texts.OUTSIDE_WINDOW, retryable=False) from e
            raise DeliveryFailed(f"微信接口错误 {e.errcode}") from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise DeliveryFailed(f"微信接口不可达: {type(e).__name__}") from e
