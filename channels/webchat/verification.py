"""Proving that a web visitor holds a phone number or a mailbox: a 6-digit one-time code goes
there, the visitor types it back. Until then a number or address a visitor types is only a
contact detail: it never links the visitor to another customer's history, and no transcript
goes to it.

Codes expire (10 min), work once, allow a few attempts, are compared in constant time and
stored only as an HMAC under the server's secret (a 6-digit code's plain hash would fall to
a million guesses offline). Sending is limited per visitor and per address and hour: the
per-address limit is what keeps strangers from bombing a number with codes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from channels.webchat.keyed_locks import KeyedLocks
from channels.webchat.records import Verification, VerificationRepository
from primitives.clock import Clock
from primitives.errors import HubError, InvalidInput, NotAllowed
from primitives.ids import new_id
from primitives.phone import InvalidPhoneNumber, PhoneNumber

PHONE, EMAIL = "phone", "email"
_HOUR = timedelta(hours=1)

# (code, idempotency key) → stored and sent by the destination's channel
Delivery = Callable[[str, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Destination:
    kind: str  # PHONE or EMAIL
    address: str  # E.164, or a lower-case e-mail address

    @classmethod
    def phone(cls, text: str) -> Destination:
        """A mobile number (SMS reaches nothing else). Raises InvalidDestination."""
        try:
            number = PhoneNumber.parse(text)
        except InvalidPhoneNumber:
            raise InvalidDestination(PHONE) from None
        if not (number.e164.startswith("+861") and len(number.e164) == 14):
            raise InvalidDestination(PHONE)
        return cls(PHONE, number.e164)

    @classmethod
    def email(cls, text: str) -> Destination:
        return cls(EMAIL, text.strip().lower())

    @property
    def masked(self) -> str:
        """For the visitor's screen and logs: 139****2222, c***@example.com."""
        if self.kind == PHONE:
            return str(PhoneNumber(self.address))
        local, _, domain = self.address.partition("@")
        return f"{local[:1]}***@{domain}"


class InvalidDestination(InvalidInput):
    def __init__(self, kind: str) -> None:
        super().__init__(f"not a valid {kind}")
        self.kind = kind


class TooManyCodes(NotAllowed):
    def __init__(self) -> None:
        super().__init__("too many verification codes this hour")


class CodeProblem(StrEnum):
    NONE = "none"  # no code was sent for that address
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong attempts
    USED = "used"


class CodeRefused(HubError):
    def __init__(self, problem: CodeProblem, attempts_left: int = 0) -> None:
        super().__init__(f"verification code refused: {problem.value}")
        self.problem = problem
        self.attempts_left = attempts_left


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    ttl: timedelta = timedelta(minutes=10)
    max_attempts: int = 5
    codes_per_visitor_hour: int = 5
    codes_per_address_hour: int = 3


class ContactVerifier:
    def __init__(
        self,
        repo: VerificationRepository,
        clock: Clock,
        secret: bytes,
        policy: VerificationPolicy = VerificationPolicy(),
    ) -> None:
        self._repo = repo
        self._clock = clock
        self._key = hmac.new(secret, b"webchat contact verification", hashlib.sha256).digest()
        self.policy = policy
        self._locks = KeyedLocks()

    async def send_code(self, visitor: str, to: Destination, deliver: Delivery) -> None:
        """Store a new code for visitor and `to`, and deliver it. Raises TooManyCodes."""
        # Both limits are count-then-insert: held under locks so parallel requests cannot
        # overrun them (always visitor first, then address: no lock cycle).
        async with self._locks.hold("visitor:" + visitor), self._locks.hold("to:" + to.address):
            now = self._clock.now()
            since = now - _HOUR
            if (
                await self._repo.count_since(since, visitor=visitor)
                >= self.policy.codes_per_visitor_hour
                or await self._repo.count_since(since, to=to.address)
                >= self.policy.codes_per_address_hour
            ):
                raise TooManyCodes
            code = f"{secrets.randbelow(10**6):06d}"
            verification_id = new_id()
            await self._repo.add(
                Verification(
                    id=verification_id,
                    visitor=visitor,
                    kind=to.kind,
                    to=to.address,
                    code_hash=self._hash(verification_id, code),
                    created_at=now,
                    expires_at=now + self.policy.ttl,
                )
            )
        await deliver(code, f"verify:{verification_id}")

    async def confirm(self, visitor: str, to: Destination, code: str) -> None:
        """Accept the code of the newest code sent to `to` for visitor. Raises CodeRefused."""
        found = await self._repo.latest(visitor, to.address)
        if found is None:
            raise CodeRefused(CodeProblem.NONE)
        if found.verified_at is not None:
            raise CodeRefused(CodeProblem.USED)
        if self._clock.now() >= found.expires_at:
            raise CodeRefused(CodeProblem.EXPIRED)
        matches = hmac.compare_digest(self._hash(found.id, code), found.code_hash)
        attempts = await self._repo.record_attempt(
            found.id, self.policy.max_attempts, self._clock.now() if matches else None
        )
        if attempts is None:  # no attempt left, or a parallel attempt used the code
            raise CodeRefused(CodeProblem.EXHAUSTED)
        if not matches:
            left = self.policy.max_attempts - attempts
            raise CodeRefused(CodeProblem.WRONG if left else CodeProblem.EXHAUSTED, left)

    async def is_verified(self, visitor: str, to: Destination) -> bool:
        return await self._repo.is_verified(visitor, to.address)

    def _hash(self, verification_id: str, code: str) -> str:
        message = f"{verification_id}:{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()
