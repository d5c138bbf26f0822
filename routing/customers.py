"""Customers: one person, many channel identities (phone, WeChat openid, Telegram id, web visitor)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class IdentityKind(StrEnum):
    PHONE = "phone"  # E.164, from SMS, voice caller id, a shared Telegram contact, a form
    WECHAT = "wechat"  # "<appid>:<openid>": an openid is only unique within one official account
    TELEGRAM = "telegram"  # Telegram user id
    WEB = "web"  # web-chat visitor id (a cookie-held UUID)
    REST = "rest"  # sender_id of the REST integration channel
    VOICE = "voice"  # a call without a usable caller id: the call's own id


class CustomerTag(StrEnum):
    ELDERLY = "elderly"
    VIP = "vip"
    IMPORTANT = "important"
    BLACKLIST = "blacklist"


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    value: str

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.value}"

    @classmethod
    def from_key(cls, key: str) -> Identity:
        kind, _, value = key.partition(":")
        return cls(IdentityKind(kind), value)

    def __str__(self) -> str:
        if self.kind is IdentityKind.PHONE:
            from primitives.phone import PhoneNumber

            return f"phone:{PhoneNumber(self.value)}"
        return self.key


@dataclass(frozen=True, slots=True)
class Customer:
    id: str
    name: str
    identities: tuple[Identity, ...]
    tags: frozenset[str]
    created_at: datetime
    merged_into: str | None = None
    merged_from: tuple[str, ...] = field(default=())

    def identity(self, kind: IdentityKind) -> Identity | None:
        return next((i for i in self.identities if i.kind is kind), None)

    @property
    def is_elderly(self) -> bool:
        return CustomerTag.ELDERLY in self.tags

    @property
    def is_vip(self) -> bool:
        return CustomerTag.VIP in self.tags

    @property
    def is_blacklisted(self) -> bool:
        return CustomerTag.BLACKLIST in self.tags


class CustomerRepository(Protocol):
    async def get(self, customer_id: str) -> Customer:
        """Raises CustomerNotFound. Follows merges to the surviving customer."""
        ...

    async def find_by_identity(self, identity: Identity) -> Customer | None: ...

    async def get_or_create(self, identity: Identity, *, name: str = "") -> Customer:
        """The customer holding identity, created on first contact (safe under races)."""
        ...

    async def add_identity(self, customer_id: str, identity: Identity) -> Customer:
        """Link another identity. Raises IdentityTaken if another customer holds it."""
        ...

    async def merge(self, source_id: str, into_id: str) -> Customer:
        """Move source's identities, tags and history onto into; source points to into."""
        ...

    async def set_tags(self, customer_id: str, tags: frozenset[str]) -> Customer: ...
