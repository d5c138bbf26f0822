"""A Parser that prefers one backend (Rasa) and falls back to another (embedded) whenever the
first fails, so a citizen never sees an NLU error. An outage is logged once, not per message,
and for `retry_after_s` the primary is skipped instead of costing every message a timeout."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from nlu.parser import Parser, ParseResult

log = logging.getLogger(__name__)

# What a message gets if even the fallback fails: the router treats it as "not understood".
UNKNOWN_INTENT = "out_of_scope"


class FallbackParser:
    def __init__(
        self,
        primary: Parser,
        fallback: Parser,
        *,
        primary_name: str = "rasa",
        fallback_name: str = "embedded",
        retry_after_s: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._fallback = fallback
        self._names = (primary_name, fallback_name)
        self._retry_after_s = retry_after_s
        self._monotonic = monotonic
        self._state = "unknown"  # "up" | "down" | "unknown" (no message parsed yet)
        self._down_since = 0.0

    async def parse(self, text: str) -> ParseResult:
        if self._state != "down" or self._monotonic() - self._down_since >= self._retry_after_s:
            try:
                result = await self._primary.parse(text)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # an edge: any primary failure means "use the fallback"
                self._mark_down(e)
            else:
                self._mark_up()
                return result
        return await self._parse_fallback(text)

    def status(self) -> dict[str, str]:
        """For /healthz, e.g. {"backend": "rasa", "rasa": "down", "using": "embedded"}."""
        primary, fallback = self._names
        using = fallback if self._state == "down" else primary
        return {"backend": primary, primary: self._state, "using": using}

    def _mark_down(self, error: Exception) -> None:
        if self._state != "down":
            log.warning(
                "nlu.primary_down",
                extra={"backend": self._names[0], "error": f"{type(error).__name__}: {error}"},
            )
        self._state = "down"
        self._down_since = self._monotonic()

    def _mark_up(self) -> None:
        if self._state == "down":
            log.info("nlu.primary_recovered", extra={"backend": self._names[0]})
        self._state = "up"

    async def _parse_fallback(self, text: str) -> ParseResult:
        try:
            return await self._fallback.parse(text)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("nlu.fallback_failed", extra={"backend": self._names[1]})
            return ParseResult(text, UNKNOWN_INTENT, 0.0)
