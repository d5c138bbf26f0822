"""The composer's knowledge-base panel: search articles, show highlighted hits.

The knowledge base itself is another package's job; the inbox codes against the small
KbSearch protocol and reads it from the optional KB_SEARCH key.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import re
from collections.abc import Sequence
from typing import Any, Protocol

MAX_QUERY = 200
MAX_HITS = 20
_MARK = re.compile(r"(<mark>|</mark>)")


class KbHit(Protocol):
    @property
    def article_id(self) -> str: ...

    @property
    def question(self) -> str: ...

    @property
    def answer(self) -> str: ...

    @property
    def fragments(self) -> Sequence[str]:
        """HTML-escaped text with <mark>…</mark> around the matched terms."""
        ...

    @property
    def match(self) -> str:
        """How it matched: exact, fuzzy or pinyin."""
        ...


class KbSearch(Protocol):
    def search(self, text: str, limit: int = 10) -> Sequence[KbHit]:
        """Best hits first. Synchronous and CPU-bound: the panel calls it in a thread."""
        ...


def fragment_segments(fragment: str) -> list[dict[str, Any]]:
    """Split a pre-escaped fragment into text runs, marked or not.

    Only <mark> survives as markup: every other tag, escaped or not, comes back as plain
    text, which the browser shows with textContent. So even a KB that forgot to escape
    cannot inject HTML into the inbox."""
    out: list[dict[str, Any]] = []
    marked = False
    for part in _MARK.split(fragment):
        if part == "<mark>":
            marked = True
        elif part == "</mark>":
            marked = False
        elif part:
            out.append({"text": html.unescape(part), "mark": marked})
    return out


def hit_json(hit: KbHit) -> dict[str, Any]:
    return {
        "article_id": hit.article_id,
        "question": hit.question,
        "answer": hit.answer,
        "match": hit.match,
        "fragments": [fragment_segments(f) for f in hit.fragments],
    }


async def search_json(kb: KbSearch | None, text: str, limit: int) -> dict[str, Any]:
    """The panel's answer: {"available", "hits"}; available is false when no KB is loaded."""
    if kb is None:
        return {"available": False, "hits": []}
    hits = await asyncio.to_thread(kb.search, text[:MAX_QUERY], max(1, min(limit, MAX_HITS)))
    if inspect.isawaitable(hits):  # an async implementation: the protocol asks for a plain
        hits = await hits  # call, but accepting both spares the KB a wrapper
    return {"available": True, "hits": [hit_json(h) for h in hits]}
