"""Rule-based entity extraction: regexes (phone, case_no), lookup tables with synonyms
(district, service_type), and patterns for addresses and time expressions.

Everything is learnt from one TrainingData: its regex and lookup blocks, its synonyms, and the
spans annotated in its examples (an annotated span is a lookup entry for its entity)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.address import find_addresses
from nlu.parser import Entity
from nlu.time_expr import find_times
from nlu.tokenize import Token, normalize, tokenize
from nlu.training_data import TrainingData

# 11-digit mobile numbers, tolerating the spaces and dashes people type (138 1234 5678).
_PHONE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d(?:[\s-]?\d){8})(?!\d)")
# Case numbers YYYYMMDD-NNNNNN; a missing or odd dash is tolerated and repaired.
_CASE_NO = re.compile(r"(?<!\d)(20\d{6})\s*[-_—－]?\s*(\d{6})(?!\d)")
# The entities handled by code here; a regex block for them in the data adds nothing.
_BUILT_IN = {"phone", "case_no", "address", "time"}
# Which entity wins an overlap: exact formats first, then lookups, then patterns.
_PRIORITY = {"case_no": 0, "phone": 1, "service_type": 2, "district": 3, "address": 4, "time": 5}
_PATTERN_ENTITIES = ("address", "time")


@dataclass(frozen=True, slots=True)
class _Candidate:
    entity: str
    start: int
    end: int
    value: str | None  # None: the span text itself


class EntityExtractor:
    """Finds entities in a text. Build once per training data (cheap), then call extract."""

    def __init__(
        self,
        lookups: dict[str, dict[str, str]],
        regexes: dict[str, list[re.Pattern[str]]],
        *,
        patterns: Iterable[str] = _PATTERN_ENTITIES,
    ) -> None:
        self._regexes = regexes
        self._patterns = frozenset(patterns)
        self._lookups = {name: _Lookup(table) for name, table in lookups.items() if table}

    @classmethod
    def from_training_data(cls, data: TrainingData) -> EntityExtractor:
        lookups: dict[str, dict[str, str]] = {}
        for name, values in data.lookups.items():
            table = lookups.setdefault(name, {})
            table.update({normalize(v): v for v in values})
        annotated = [e for ex in data.examples for e in ex.entities]
        for e in annotated:
            if e.entity not in _BUILT_IN:
                lookups.setdefault(e.entity, {})[normalize(e.text)] = e.value
        # Synonyms map onto the tables that hold their canonical value (保洁 <- 搞卫生).
        canonical = {normalize(c) for c in data.synonyms.values()}
        for table in lookups.values():
            if canonical & table.keys():
                table.update({normalize(k): v for k, v in data.synonyms.items()})
        regexes = {
            name: [re.compile(p) for p in patterns]
            for name, patterns in data.regexes.items()
            if name not in _BUILT_IN
        }
        return cls(lookups, regexes)

    @property
    def vocabulary(self) -> set[str]:
        """Lookup surfaces, for the tokenizer's dictionary."""
        return {s for lookup in self._lookups.values() for s in lookup.table}

    def extract(self, text: str, tokens: list[Token] | None = None) -> tuple[Entity, ...]:
        """Entities in `text`, ordered by position; `tokens` are jieba words of the
        normalised text if the caller already has them."""
        norm = normalize(text)
        found = [*_formats(norm)]
        for name, lookup in self._lookups.items():
            found += lookup.find(name, norm)
        for name, patterns in self._regexes.items():
            found += [_Candidate(name, *m.span(), None) for p in patterns for m in p.finditer(norm)]
        if "address" in self._patterns:
            words = tokens if tokens is not None else tokenize(norm)
            found += [_Candidate("address", s, e, None) for s, e in find_addresses(norm, words)]
        if "time" in self._patterns:
            found += [_Candidate("time", s, e, None) for s, e in find_times(norm)]
        chosen = _resolve_overlaps(found)
        return tuple(
            Entity(
                c.entity, c.value or text[c.start : c.end], c.start, c.end, text[c.start : c.end]
            )
            for c in chosen
        )


class _Lookup:
    """Longest-first alternation over a table of surface -> canonical value."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        alternatives = sorted(table, key=len, reverse=True)
        self._regex = re.compile("|".join(re.escape(a) for a in alternatives))

    def find(self, name: str, norm: str) -> list[_Candidate]:
        return [
            _Candidate(name, m.start(), m.end(), self.table[m.group()])
            for m in self._regex.finditer(norm)
        ]


def _formats(norm: str) -> list[_Candidate]:
    found = [
        _Candidate("case_no", m.start(), m.end(), f"{m.group(1)}-{m.group(2)}")
        for m in _CASE_NO.finditer(norm)
    ]
    found += [
        _Candidate("phone", m.start(1), m.end(), re.sub(r"\D", "", m.group(1)))
        for m in _PHONE.finditer(norm)
    ]
    return found


def _resolve_overlaps(found: list[_Candidate]) -> list[_Candidate]:
    ranked = sorted(found, key=lambda c: (_PRIORITY.get(c.entity, 9), c.start - c.end, c.start))
    chosen: list[_Candidate] = []
    for c in ranked:
        if all(c.end <= k.start or c.start >= k.end for k in chosen):
            chosen.append(c)
    return sorted(chosen, key=lambda c: c.start)
