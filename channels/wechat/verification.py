"""Which callbacks we accept: signed with the account token, fresh (timestamp window), with a
nonce not used for another body; with WECHAT_AES_KEY set, only safe mode (the body
encrypted and signed by msg_signature), so no plaintext field is ever trusted."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from wechatpy.crypto import WeChatCrypto

from channels.wechat import messages
from channels.wechat.config import WeChatConfig
from channels.wechat.replay import NonceMemory, ReusedNonce, StaleRequest
from primitives.clock import Clock

_NONCE = re.compile(r"[A-Za-z0-9_\-]{1,64}")


class Refused(Exception):
    """A callback we do not process: status is the HTTP status, str() the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class CallbackGuard:
    def __init__(self, config: WeChatConfig, clock: Clock) -> None:
        self._config = config
        self._nonces = NonceMemory(clock)
        self._crypto = (
            WeChatCrypto(config.token, config.aes_key, config.app_id) if config.aes_key else None
        )

    def check_query(self, query: Mapping[str, str]) -> None:
        """The signature over token, timestamp and nonce, and the timestamp window.
        Raises Refused (403)."""
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        expected = _sha1(self._config.token, timestamp, nonce)
        if not _same(query.get("signature", ""), expected):
            raise Refused(403, "invalid signature")
        if not _NONCE.fullmatch(nonce):
            raise Refused(403, "nonce is missing or malformed")
        try:
            self._nonces.check_time(timestamp)
        except StaleRequest as e:
            raise Refused(403, str(e)) from None

    def encrypted(self, query: Mapping[str, str]) -> bool:
        """Whether the body is encrypted. Raises Refused: plaintext while an AES key is set
        (403), or an encrypted body we have no key for (400)."""
        aes = query.get("encrypt_type", "") == "aes"
        if self._crypto is not None and not aes:
            raise Refused(403, "safe mode: only encrypt_type=aes is accepted, plaintext is refused")
        if self._crypto is None and aes:
            raise Refused(400, "encrypted message but WECHAT_AES_KEY is not set")
        return aes

    def once(self, query: Mapping[str, str], payload: bytes) -> None:
        """Spend the request's nonce on payload. Raises Refused (403) if it was spent on a
        different payload; the same payload again is WeChat's retry and passes."""
        try:
            self._nonces.remember(
                int(query["timestamp"]), query["nonce"], hashlib.sha256(payload).digest()
            )
        except ReusedNonce as e:
            raise Refused(403, str(e)) from None

    def open(self, query: Mapping[str, str], body: bytes) -> bytes:
        """The message XML of an encrypted body, once msg_signature over its Encrypt is
        checked. Plaintext fields beside Encrypt (compatible mode) are dropped unread.
        Raises Refused (403 bad msg_signature, 400 no Encrypt or undecryptable)."""
        assert self._crypto is not None
        try:
            encrypt = messages.read_fields(body).get("Encrypt", "").strip()
        except messages.BadMessage as e:
            raise Refused(400, str(e)) from None
        if not encrypt:
            raise Refused(400, "encrypted message without Encrypt")
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        expected = _sha1(self._config.token, timestamp, nonce, encrypt)
        if not _same(query.get("msg_signature", ""), expected):
            raise Refused(403, "invalid msg_signature")
        try:
            xml = self._crypto.decrypt_message({"Encrypt": encrypt}, expected, timestamp, nonce)
            return xml.encode("utf-8")
        except Exception as e:  # wechatpy raises several types for what it cannot decrypt
            raise Refused(400, f"cannot decrypt Encrypt ({type(e).__name__})") from None

    def seal(self, reply_xml: str, query: Mapping[str, str]) -> str:
        """A passive reply encrypted for safe mode, under the request's nonce and timestamp."""
        assert self._crypto is not None
        return self._crypto.encrypt_message(reply_xml, query["nonce"], query["timestamp"])


def _sha1(*parts: str) -> str:
    joined = "".join(sorted(parts)).encode("utf-8", "surrogatepass")
    return hashlib.sha1(joined).hexdigest()  # noqa: S324 - WeChat's scheme


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())
