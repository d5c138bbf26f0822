"""Agent and late bot messages to WeChat users through the customer-service API. A failure
carries the reason in Chinese that the outbox stores on the message for the inbox."""

from __future__ import annotations

from collections import OrderedDict

import aiohttp

from channels.wechat import texts
from channels.wechat.api import WeChatApi, WeChatApiError, split_text
from routing.outbox import DeliveryFailed, OutboundMessage

# Retrying cannot help: the window is closed, the quota used, the user gone, the account
# misconfigured. Everything else (system busy, network, unknown codes) is retried.
_FINAL = frozenset({45015, 45047, 43004, 40003, 45002, 48001, 45009, 40125, 40164})
_REMEMBER = 1_000  # messages with some parts delivered, waiting for their retry


class WeChatSender:
    def __init__(self, api: WeChatApi) -> None:
        self._api = api
        # A long text goes out as several messages; a retry after a failed part starts at
        # that part, so the citizen never gets the first ones twice.
        self._parts_sent: OrderedDict[str, int] = OrderedDict()

    async def send(self, message: OutboundMessage) -> None:
        openid = message.to.split(":", 1)[-1]  # identities are "<appid>:<openid>"
        parts = list(split_text(message.text))
        done = self._parts_sent.pop(message.message_id, 0)
        try:
            for part in parts[done:]:
                await self._api.send_part(openid, part)
                done += 1
        except WeChatApiError as e:
            self._remember(message.message_id, done)
            reason = texts.SEND_FAILED.get(e.errcode) or texts.SEND_FAILED_OTHER.format(
                errcode=e.errcode
            )
            raise DeliveryFailed(reason, retryable=e.errcode not in _FINAL) from e
        except TimeoutError as e:
            self._remember(message.message_id, done)
            raise DeliveryFailed(texts.API_TIMEOUT) from e
        except aiohttp.ClientError as e:
            self._remember(message.message_id, done)
            raise DeliveryFailed(texts.API_UNREACHABLE) from e
        except ValueError as e:  # a body that is not JSON (a proxy's error page)
            self._remember(message.message_id, done)
            raise DeliveryFailed(texts.API_BAD_ANSWER) from e

    def _remember(self, message_id: str, done: int) -> None:
        if done:
            self._parts_sent[message_id] = done
            while len(self._parts_sent) > _REMEMBER:
                self._parts_sent.popitem(last=False)
