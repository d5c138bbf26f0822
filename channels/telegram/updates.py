"""Telegram updates into the router: text, voice (the file kept as an attachment), location,
and a shared contact, which links the Telegram user to the customer holding that phone.

An update is handled (stored) before it is acknowledged: the webhook answers 200 and polling
moves its offset only afterwards. The provider id is the update_id, so a redelivered update
is stored once.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message, Update

from channels.webchat.uploads import Upload, UploadStore
from primitives.clock import Clock
from primitives.phone import InvalidPhoneNumber, PhoneNumber
from routing.customers import CustomerRepository, Identity, IdentityKind
from routing.errors import IdentityTaken
from routing.messages import Attachment, InboundMessage
from routing.router import Router

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_VOICE_BYTES = 5 * 1024 * 1024
PHONE_LINKED = "已关联您的手机号，您在电话、短信中的记录会合并在一起。"
PHONE_NOT_OWN = "为保护隐私，请通过“分享我的手机号”按钮发送您本人的号码。"
PHONE_INVALID = "抱歉，未能识别该手机号。"
UNSUPPORTED = "抱歉，暂不支持这类消息，请发送文字、语音或位置。"


class TelegramUpdates:
    def __init__(
        self,
        bot: Bot,
        account: str,
        router: Router,
        customers: CustomerRepository,
        uploads: UploadStore | None,
        clock: Clock,
    ) -> None:
        self._bot = bot
        self.account = account
        self._router = router
        self._customers = customers
        self._uploads = uploads
        self._clock = clock

    async def handle(self, update: Update) -> None:
        """Store one update's effect. Raises only when it could not be stored (retry)."""
        message = update.message or update.edited_message
        if message is None or message.from_user is None or message.chat.type != "private":
            return  # channel posts, group chats, callbacks: not a citizen conversation
        if message.contact is not None:
            await self._contact(message)
            return
        voice = await self._voice(message) if message.voice is not None else None
        inbound = self._inbound(update.update_id, message, voice)
        if inbound is None:
            await self._say(message.chat.id, UNSUPPORTED)
            return
        result = await self._router.handle_inbound(inbound, in_band=False)
        if voice is not None and voice[1] is not None and self._uploads is not None:
            # staff may then open it, as they may see this conversation (webchat/uploads.py)
            await self._uploads.sent_in(voice[1], result.conversation_id)

    def _inbound(
        self, update_id: int, message: Message, voice: tuple[Attachment, Upload | None] | None
    ) -> InboundMessage | None:
        user = message.from_user
        assert user is not None
        kind, text, attachments = "text", message.text or message.caption or "", ()
        if message.voice is not None and voice is not None:
            kind = "voice"
            text = text or f"[语音消息 {message.voice.duration}秒]"
            attachments = (voice[0],)
        elif message.location is not None:
            loc = message.location
            kind, text = "location", f"[位置] 纬度 {loc.latitude:.6f}，经度 {loc.longitude:.6f}"
            attachments = (Attachment("location", name=f"{loc.latitude},{loc.longitude}"),)
        elif not text:
            return None
        return InboundMessage(
            channel=CHANNEL,
            account=self.account,
            provider_id=str(update_id),
            identity=Identity(IdentityKind.TELEGRAM, str(user.id)),
            text=text[:MAX_TEXT],
            received_at=self._clock.now(),
            kind=kind,
            attachments=attachments,
            display_name=" ".join(filter(None, (user.first_name, user.last_name))),
        )

    async def _voice(self, message: Message) -> tuple[Attachment, Upload | None]:
        """The voice message as an attachment, and its stored upload (None: not kept)."""
        voice, user = message.voice, message.from_user
        assert voice is not None
        assert user is not None
        mime = voice.mime_type or "audio/ogg"
        if self._uploads is None or (voice.file_size or 0) > MAX_VOICE_BYTES:
            return Attachment("voice", mime=mime, size=voice.file_size or 0), None
        try:
            file = await self._bot.get_file(voice.file_id)
            data = await self._bot.download_file(file.file_path or "")
        except (TelegramAPIError, OSError) as e:
            log.warning("telegram.voice_download_failed", extra={"reason": type(e).__name__})
            return Attachment("voice", mime=mime, size=voice.file_size or 0), None
        body = data.read() if data is not None else b""
        stored = await self._uploads.save(f"telegram:{user.id}", "voice.ogg", body, mime)
        url = f"/webchat/files/{stored.id}"
        return Attachment("voice", url, mime, stored.size, stored.name), stored

    async def _contact(self, message: Message) -> None:
        contact, user = message.contact, message.from_user
        assert contact is not None
        assert user is not None
        if contact.user_id != user.id:
            await self._say(message.chat.id, PHONE_NOT_OWN)
            return
        try:
            phone = Identity(IdentityKind.PHONE, PhoneNumber.parse(contact.phone_number).e164)
        except InvalidPhoneNumber:
            await self._say(message.chat.id, PHONE_INVALID)
            return
        me = await self._customers.get_or_create(
            Identity(IdentityKind.TELEGRAM, str(user.id)), name=user.first_name
        )
        try:
            await self._customers.add_identity(me.id, phone)
        except IdentityTaken as e:  # known by phone (SMS, a call): one history across channels
            await self._customers.merge(me.id, e.owner_id)
        self._router.forget_customer(me.id)
        log.info("telegram.phone_linked", extra={"customer": me.id})
        await self._say(message.chat.id, PHONE_LINKED)

    async def _say(self, chat_id: int, text: str) -> None:
        try:
            await self._bot.send_message(chat_id, text)
        except TelegramAPIError as e:
            log.info("telegram.notice_failed", extra={"reason": type(e).__name__})
