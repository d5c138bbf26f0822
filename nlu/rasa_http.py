"""A Parser that asks a Rasa server (`rasa run --enable-api`) over HTTP: POST /model/parse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp

from nlu.errors import RasaUnavailable
from nlu.parser import Entity, IntentScore, ParseResult

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RasaHttpConfig:
    url: str = "http://127.0.0.1:5005"
    timeout_s: float = 2.0  # a citizen is waiting; past this the embedded parser answers


class RasaHttpParser:
    """Parses through Rasa. Raises RasaUnavailable on any transport error, HTTP error,
    timeout or malformed reply. Pass the app's ClientSession, or let it own one."""

    def __init__(
        self, config: RasaHttpConfig, *, session: aiohttp.ClientSession | None = None
    ) -> None:
        self._config = config
        self._base = config.url.rstrip("/")
        self._session = session
        self._owns_session = session is None

    async def parse(self, text: str) -> ParseResult:
        try:
            async with asyncio.timeout(self._config.timeout_s):
                async with self._client().post(
                    f"{self._base}/model/parse", json={"text": text}
                ) as resp:
                    if resp.status != 200:
                        raise RasaUnavailable(f"Rasa answered HTTP {resp.status}")
                    body = await resp.json(content_type=None)
        except TimeoutError as e:
            raise RasaUnavailable(f"Rasa did not answer within {self._config.timeout_s} s") from e
        except (aiohttp.ClientError, ValueError) as e:
            raise RasaUnavailable(f"Rasa request failed: {type(e).__name__}") from e
        return result_from_rasa(text, body)

    async def is_up(self) -> bool:
        """True if the server answers GET / (it does once the model is loaded)."""
        try:
            async with asyncio.timeout(self._config.timeout_s):
                async with self._client().get(f"{self._base}/") as resp:
                    return resp.status == 200
        except (TimeoutError, aiohttp.ClientError):
            return False

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session


def result_from_rasa(text: str, body: Any) -> ParseResult:
    """Map Rasa's /model/parse JSON to a ParseResult. Raises RasaUnavailable if malformed."""
    try:
        intent = body["intent"]
        if intent["name"] is None:
            raise ValueError("no intent")
        name, confidence = str(intent["name"]), float(intent["confidence"])
        ranking = tuple(
            IntentScore(str(r["name"]), float(r["confidence"]))
            for r in body.get("intent_ranking") or [intent]
        )
        entities = tuple(_entity(text, e) for e in body.get("entities") or [])
    except (KeyError, TypeError, ValueError) as e:
        raise RasaUnavailable(f"malformed Rasa reply: {type(e).__name__}: {e}") from e
    return ParseResult(text, name, confidence, ranking, entities)


def _entity(text: str, raw: Mapping[str, Any]) -> Entity:
    start, end = int(raw["start"]), int(raw["end"])
    span = text[start:end]
    value = raw.get("value")
    return Entity(str(raw["entity"]), span if value is None else str(value), start, end, span)
