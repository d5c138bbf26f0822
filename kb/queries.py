"""Evaluation query sets: YAML lists of {query: text, expected: article id or null}."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.errors import InvalidArticles


@dataclass(frozen=True, slots=True)
class LabelledQuery:
    query: str
    expected: str | None  # None: no article answers it


def load_queries(path: Path) -> list[LabelledQuery]:
    """Raises InvalidArticles naming the bad item."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(data, list):
        raise InvalidArticles(str(path), ["expected a list of {query, expected}"])
    out, problems = [], []
    for n, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not str(item.get("query") or "").strip():
            problems.append(f"item {n}: needs a non-empty query")
            continue
        expected = item.get("expected")
        out.append(LabelledQuery(str(item["query"]), None if expected is None else str(expected)))
    if problems:
        raise InvalidArticles(str(path), problems)
    return out
