"""Agent and bot messages to a citizen's phone: one SMS (concatenated when long) per message;
the routing outbox stores it first and retries a failed send."""

from __future__ import annotations

from channels.sms.gateway import GatewayError
from channels.sms.outbound import SmsOutbound
from routing.outbox import DeliveryFailed, OutboundMessage


class SmsSender:
    def __init__(self, outbound: SmsOutbound) -> None:
        self._outbound = outbound

    async def send(self, message: OutboundMessage) -> None:
        try:
            await self._outbound.send_now(message.to, message.text, message_id=message.message_id)
        except GatewayError as e:
            raise DeliveryFailed(f"短信发送失败：{e}", retryable=e.retryable) from e
