"""What an IVR flow asks of the hub. The engine (telephony/ivr/engine.py) knows nothing of
routing, cases or Asterisk: telephony/voice_calls.py implements this against the router, the
case desk and the call control (ARI, or the browser test call)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CallInfo:
    call_id: str  # AudioSocket UUID or web call id
    caller: str  # caller id as received ("" when withheld)
    dialed: str = ""  # the number called (e.g. 12345)


@dataclass(frozen=True, slots=True)
class CallerFacts:
    """Looked up before anything is played."""

    known: bool = False  # a customer with this phone exists
    elderly: bool = False
    vip: bool = False
    blacklisted: bool = False
    open_cases: int = 0
    in_hours: bool = True  # business hours and holidays say agents are working now
    language: str = "zh-CN"


@dataclass(frozen=True, slots=True)
class BotTurn:
    """The bot's answer to one spoken question."""

    text: str  # to be spoken (zh-CN)
    answered: bool  # a knowledge-base answer was given (worth asking "是否解决")
    queued: bool = False  # the bot already put the call in a queue (emergency, "转人工" …)
    kb_article_id: str | None = None
    choices: tuple[str, ...] = ()  # clarify choices the caller may say


# What the caller hears about while waiting in a queue, in order.
@dataclass(frozen=True, slots=True)
class Position:
    position: int  # 1 = next
    wait_estimate_s: int


@dataclass(frozen=True, slots=True)
class NoAgents:
    """Nobody who serves this queue is signed in: offer voicemail or callback."""


@dataclass(frozen=True, slots=True)
class Connected:
    """An agent is on the line: the IVR stays silent until AgentLeft."""

    agent: str


@dataclass(frozen=True, slots=True)
class AgentLeft:
    """The agent hung up and the caller is still on the line (post-call survey)."""

    case_number: str | None = None


WaitUpdate = Position | NoAgents | Connected | AgentLeft


@dataclass(frozen=True, slots=True)
class CaseFiled:
    number: str  # e.g. 2026120400012
    spoken: str = ""  # the number as it should be read out digit by digit
    extra: dict[str, str] = field(default_factory=dict)


class IvrServices(Protocol):
    async def lookup(self, call: CallInfo) -> CallerFacts: ...

    async def case_progress(self, call: CallInfo) -> str:
        """zh-CN sentence(s) on the caller's open cases, from their real state."""
        ...

    async def ask(self, call: CallInfo, text: str) -> BotTurn:
        """A recognised question through the router (stored, answered by the bot)."""
        ...

    async def transfer(self, call: CallInfo, queue: str, reason: str) -> None:
        """Queue the call for an agent with that skill (a no-op if it is already queued)."""
        ...

    def waiting(self, call: CallInfo) -> AsyncIterator[WaitUpdate]:
        """While queued: position updates, NoAgents, Connected; after Connected the iterator
        yields AgentLeft when the agent hangs up, then ends. It ends at once if the caller
        hung up."""
        ...

    async def voicemail(self, call: CallInfo, pcm: bytes) -> CaseFiled:
        """A recorded message (slin 8 kHz) filed as a case."""
        ...

    async def callback(self, call: CallInfo, reason: str) -> CaseFiled:
        """A callback request in the callback worklist."""
        ...

    async def survey(self, call: CallInfo, score: str) -> None:
        """Post-call survey digit (1 satisfied, 2 basically, 3 dissatisfied) → the revisit."""
        ...

    async def ended(self, call: CallInfo, reason: str) -> None:
        """The call is over (hang-up on either side): close the conversation, store figures."""
        ...
