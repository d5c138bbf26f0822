"""The production bot: NLU (Rasa or embedded) + the knowledge base, behind routing's Bot seam."""

from __future__ import annotations

from hub.settings import Settings
from routing.bot import Bot


async def build_bot(settings: Settings) -> Bot:
    raise NotImplementedError("the NLU and KB packages are being built (issue 5)")
