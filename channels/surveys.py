"""Revisit surveys awaiting a 1/2/3 answer (channels/revisit.py), one per case and channel,
keyed by the address the question went to (a phone number for SMS, "<appid>:<openid>" for
WeChat). The repository is implemented in mongo/surveys.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OpenSurvey:
    case_number: str
    sent_at: datetime
    answer: str | None  # set when this very reply (same key) was already recorded


class SurveyRepository(Protocol):
    async def open(self, channel: str, case_number: str, address: str, at: datetime) -> None:
        """A survey of the case sent to address (replaces an earlier one of the channel)."""

    async def latest(
        self, channel: str, address: str, since: datetime, key: str
    ) -> OpenSurvey | None:
        """The newest survey sent to address since `since` that is unanswered, or that this
        same reply (key: the inbound message's id) already answered: a redelivery."""

    async def answer(
        self, channel: str, case_number: str, answer: str, at: datetime, key: str
    ) -> bool:
        """Record the answer; False when the survey was already answered."""
