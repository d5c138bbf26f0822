"""Scoring multi-turn dialogues: what a turn was expected to do against what the router did.

Pure: the harness (hub/eval_dialogues.py) drives the router and hands each turn's observation
here. A dialogue file is a YAML list of
`{id, tags: [...], turns: [{user: "...", expect: {...}}]}` where expect holds any subset of
kb_article_id, abstain, intent, state (bot|queued), priority (emergency|elderly|normal),
entities {phone, case_no, address, district, service_type, time} and case_type.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

EXPECT_KEYS = frozenset(
    {"kb_article_id", "abstain", "intent", "state", "priority", "entities", "case_type"}
)
ENTITY_KEYS = frozenset({"phone", "case_no", "address", "district", "service_type", "time"})
PRIORITIES = {"emergency": 1000, "elderly": 50, "vip": 50, "normal": 0}
_STATES = frozenset({"bot", "queued"})
# names a set may use for our case types (CaseType values)
CASE_TYPE_ALIASES = {
    "domestic_order": "domestic_service_order",
    "order": "domestic_service_order",
    "callback": "todo",  # a callback is booked as a todo case (预约回电)
}


@dataclass(frozen=True, slots=True)
class Turn:
    user: str
    expect: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Dialogue:
    id: str
    tags: tuple[str, ...]
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class Observed:
    """What the router did with one turn."""

    state: str  # the conversation's state after the turn (bot, queued, offered …)
    priority: int
    intent: str | None  # the bot's intent for the turn (None: the bot was not asked)
    kb_article_ids: tuple[str, ...]  # articles given as answers in the replies
    entities: dict[str, str]  # what the router knows after the turn (the turn's and earlier)
    case_types: frozenset[str]  # types of the citizen's cases after the turn
    replies: tuple[str, ...] = ()
    elapsed_ms: float = 0.0


@dataclass
class Scores:
    checks: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    tags: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"dialogues": 0, "passed": 0})
    )
    turns: int = 0
    turns_passed: int = 0
    dialogues: int = 0
    dialogues_passed: int = 0
    false_emergencies: int = 0
    emergency_first: list[int] = field(default_factory=lambda: [0, 0])
    latencies: list[float] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


def parse_dialogues(data: object) -> list[Dialogue]:
    """Dialogues from the loaded YAML; ValueError names the first malformed entry."""
    if not isinstance(data, list):
        raise ValueError("a dialogue file is a YAML list of dialogues")
    out: list[Dialogue] = []
    seen: set[str] = set()
    for i, d in enumerate(data):
        if not isinstance(d, dict) or "id" not in d or not isinstance(d.get("turns"), list):
            raise ValueError(f"dialogue #{i + 1}: needs id and a list of turns")
        did = str(d["id"])
        if did in seen:
            raise ValueError(f"dialogue {did}: id used twice")
        seen.add(did)
        turns = []
        for j, t in enumerate(d["turns"]):
            if not isinstance(t, dict) or not isinstance(t.get("user"), str | int):
                raise ValueError(f"dialogue {did} turn {j + 1}: needs user text")
            expect = dict(t.get("expect") or {})
            unknown = set(expect) - EXPECT_KEYS
            if unknown:
                raise ValueError(f"dialogue {did} turn {j + 1}: unknown expect keys {unknown}")
            if "state" in expect and expect["state"] not in _STATES:
                raise ValueError(f"dialogue {did} turn {j + 1}: state is bot or queued")
            if "priority" in expect and expect["priority"] not in PRIORITIES:
                raise ValueError(f"dialogue {did} turn {j + 1}: unknown priority")
            bad = set(expect.get("entities") or {}) - ENTITY_KEYS
            if bad:
                raise ValueError(f"dialogue {did} turn {j + 1}: unknown entities {bad}")
            turns.append(Turn(str(t["user"]), expect))  # a bare phone number reads as int
        out.append(Dialogue(did, tuple(str(x) for x in d.get("tags") or ()), tuple(turns)))
    return out


def check_turn(expect: dict[str, Any], seen: Observed) -> list[tuple[str, object, object]]:
    """(check, expected, actual) for every check that failed; also records nothing."""
    return [(k, e, a) for k, ok, e, a in _checks(expect, seen) if not ok]


def _checks(expect: dict[str, Any], seen: Observed) -> list[tuple[str, bool, object, object]]:
    out: list[tuple[str, bool, object, object]] = []
    if "kb_article_id" in expect:
        want = expect["kb_article_id"]
        out.append(("kb_article_id", want in seen.kb_article_ids, want, list(seen.kb_article_ids)))
    if "abstain" in expect:
        want = bool(expect["abstain"])
        out.append(("abstain", want == (not seen.kb_article_ids), want, list(seen.kb_article_ids)))
    if "intent" in expect:
        out.append(("intent", seen.intent == expect["intent"], expect["intent"], seen.intent))
    if "state" in expect:
        actual = "bot" if seen.state == "bot" else "queued" if seen.state in _WAITING else "agent"
        out.append(("state", actual == expect["state"], expect["state"], seen.state))
    if "priority" in expect:
        want = expect["priority"]
        level = PRIORITIES[want]
        if want == "emergency":
            ok = seen.priority >= level
        elif want == "normal":
            ok = seen.priority < PRIORITIES["emergency"]
        else:
            ok = level <= seen.priority < PRIORITIES["emergency"]
        out.append(("priority", ok, want, seen.priority))
    for name, want in (expect.get("entities") or {}).items():
        got = seen.entities.get(name)
        out.append((f"entity:{name}", _same(name, str(want), got), want, got))
    if "case_type" in expect:
        want = expect["case_type"]
        ok = CASE_TYPE_ALIASES.get(want, want) in seen.case_types
        out.append(("case_type", ok, want, sorted(seen.case_types)))
    return out


_WAITING = frozenset({"queued", "offered"})


def _same(name: str, want: str, got: str | None) -> bool:
    if got is None:
        return False
    if name == "phone":
        return _digits(want)[-11:] == _digits(got)[-11:]
    return _norm(want) == _norm(got)


def _digits(s: str) -> str:
    return re.sub(r"\D", "", s)


def _norm(s: str) -> str:
    return re.sub(r"[\s，,。.、]", "", s)


def score_dialogue(scores: Scores, dialogue: Dialogue, observed: list[Observed]) -> None:
    """Add one dialogue's turns (observed[i] for dialogue.turns[i]) to scores."""
    all_ok = True
    before = 0
    first_emergency_seen = False
    for i, (turn, seen) in enumerate(zip(dialogue.turns, observed, strict=True)):
        results = _checks(turn.expect, seen)
        ok = all(r[1] for r in results)
        for kind, passed, want, got in results:
            c = scores.checks[kind]
            c[1] += 1
            c[0] += int(passed)
            if not passed:
                scores.failures.append(
                    {
                        "dialogue": dialogue.id,
                        "turn": i + 1,
                        "user": turn.user,
                        "check": kind,
                        "expected": want,
                        "actual": got,
                        "replies": list(seen.replies),
                    }
                )
        emergency = PRIORITIES["emergency"]
        expected_emergency = turn.expect.get("priority") == "emergency"
        if seen.priority >= emergency > before and not expected_emergency:
            scores.false_emergencies += 1
            all_ok = ok = False
            scores.failures.append(
                {
                    "dialogue": dialogue.id,
                    "turn": i + 1,
                    "user": turn.user,
                    "check": "false_emergency",
                    "expected": turn.expect.get("priority"),
                    "actual": seen.priority,
                    "replies": list(seen.replies),
                }
            )
        if expected_emergency and not first_emergency_seen:
            first_emergency_seen = True
            scores.emergency_first[1] += 1
            scores.emergency_first[0] += int(seen.priority >= emergency and seen.state in _WAITING)
        before = seen.priority
        scores.turns += 1
        scores.turns_passed += int(ok)
        scores.latencies.append(seen.elapsed_ms)
        all_ok = all_ok and ok
    scores.dialogues += 1
    scores.dialogues_passed += int(all_ok)
    for tag in dialogue.tags or ("untagged",):
        scores.tags[tag]["dialogues"] += 1
        scores.tags[tag]["passed"] += int(all_ok)


def report(scores: Scores) -> dict[str, Any]:
    lat = sorted(scores.latencies)
    return {
        "dialogues": scores.dialogues,
        "turns": scores.turns,
        "turn_pass_rate": _rate(scores.turns_passed, scores.turns),
        "dialogue_pass_rate": _rate(scores.dialogues_passed, scores.dialogues),
        "checks": {
            k: {"passed": p, "checked": n, "rate": _rate(p, n)}
            for k, (p, n) in sorted(scores.checks.items())
        },
        "tags": {
            t: {**v, "rate": _rate(v["passed"], v["dialogues"])}
            for t, v in sorted(scores.tags.items())
        },
        "false_emergencies": scores.false_emergencies,
        "emergency_first_turn": {
            "passed": scores.emergency_first[0],
            "checked": scores.emergency_first[1],
            "rate": _rate(*scores.emergency_first),
        },
        "turn_ms": {
            "p50": round(statistics.median(lat), 1) if lat else None,
            "p95": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
        },
        "failures": scores.failures,
    }


def _rate(passed: int, checked: int) -> float | None:
    return round(passed / checked, 3) if checked else None
