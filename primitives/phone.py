"""Phone numbers: one normalised type whose str() is masked, so digits never reach logs."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"0[1-9]\d{8,10}")  # area code with leading 0 + local number
_SERVICE = re.compile(r"\d{3,6}")  # 12345, 96122, 110 …


class InvalidPhoneNumber(ValueError):
    """Text that is not a Chinese mobile, landline or service number."""


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A phone number in E.164 (+86…) or, for short service numbers, plain digits."""

    e164: str

    @classmethod
    def parse(cls, text: str) -> PhoneNumber:
        """Normalise user or provider input. Raises InvalidPhoneNumber."""
        digits = _SEPARATORS.sub("", text.strip())
        if digits.startswith("+86"):
            digits = digits[3:]
        elif digits.startswith("0086"):
            digits = digits[4:]
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if _MOBILE.fullmatch(digits):
            return cls("+86" + digits)
        if _LANDLINE.fullmatch(digits):
            return cls("+86" + digits[1:])
        if _SERVICE.fullmatch(digits):
            return cls(digits)
        raise InvalidPhoneNumber("not a phone number")  # never echo the digits

    @property
    def national(self) -> str:
        """Digits as dialled inside China (mobile 11 digits, landline with its 0)."""
        if not self.e164.startswith("+86"):
            return self.e164
        rest = self.e164[3:]
        return rest if rest.startswith("1") else "0" + rest

    def __str__(self) -> str:
        national = self.national
        if len(national) < 7:  # service numbers such as 12345 are not personal data
            return national
        return f"{national[:3]}****{national[-4:]}"

    __repr__ = __str__


def mask_digits(text: str) -> str:
    """Mask every run that looks like a personal phone number inside free text."""
    return _FREE_TEXT_PHONE.sub(_mask_match, text)


def _mask_match(m: re.Match[str]) -> str:
    number = m.group(2)
    return (m.group(1) or "") + number[:3] + "****" + number[-4:]


_FREE_TEXT_PHONE = re.compile(r"(?<![\d+])(\+?86)?(1[3-9]\d{9}|0[1-9]\d{8,10})(?!\d)")
