"""Routing configuration: queues, ACD strategy per queue, the bot/human policy, timers.

Loaded from a YAML file (hub/data/routing.yaml by default); every value has a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from cases.sla import WorkCalendar
from primitives.errors import InvalidInput
from primitives.yaml_io import load_yaml
from routing.acd import Strategy
from routing.business_hours import BusinessHours


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: str  # also the skill it needs
    title: str  # zh-CN, shown to citizens and agents
    strategy: Strategy = Strategy.LEAST_RECENT
    auto_accept: bool = True  # chat: assign at once; False: offer, agent accepts in time
    offer_timeout_s: float = 20.0
    reply_timeout_s: float | None = None  # reassign when the agent leaves a customer waiting
    overflow_after_s: float | None = None
    overflow_queue: str | None = None  # move there after overflow_after_s …
    widen_skills: tuple[str, ...] = ()  # … or accept agents holding these skills too
    service_level_s: float = 60.0  # answered within this = within service level
    weight: int = 0  # agents in several queues serve higher weight first (app_queue weight)
    max_waiting: int | None = None  # app_queue maxlen: beyond it, offer a callback instead
    hours: BusinessHours | None = None  # None: always open


@dataclass(frozen=True, slots=True)
class EscalationPolicy:
    """When the bot hands a conversation to people, and to which queue."""

    intents: frozenset[str] = frozenset({"ask_human", "complaint", "emergency_help"})
    emergency_intents: frozenset[str] = frozenset({"emergency_help"})
    low_confidence_turns: int = 2  # this many unsure bot turns in a row escalate
    intent_confidence: float = 0.5  # below this an escalation intent is not trusted alone
    tags: frozenset[str] = frozenset({"vip", "elderly"})  # these customers go to a person
    intent_queues: dict[str, str] = field(default_factory=dict)  # intent -> queue
    category_queues: dict[str, str] = field(default_factory=dict)  # KB category (level 1) -> queue
    default_queue: str = "general"
    emergency_queue: str = "emergency"


@dataclass(frozen=True, slots=True)
class BlacklistPolicy:
    mode: str = "limit"  # "block": no service; "limit": at most daily_limit messages a day
    daily_limit: int = 20


@dataclass(frozen=True, slots=True)
class IntakeRule:
    code: str  # taxonomy code (any level): the case's category path is its prefixes
    words: tuple[str, ...] = ()  # any of these in what the citizen said, the service type
    kinds: tuple[str, ...] = ()  # only for these case types (empty: any)


@dataclass(frozen=True, slots=True)
class IntakePolicy:
    """Which intents the bot takes in as a case itself, what it asks, where it files them
    (hub/data/intake.yaml). Empty: the bot hands those intents to a person at once."""

    intents: dict[str, str] = field(default_factory=dict)  # intent -> case type
    callback_words: tuple[str, ...] = ()  # a citizen asking to be called back
    ask: dict[str, tuple[str, ...]] = field(default_factory=dict)  # case type -> slots, in order
    # case type -> slots never asked for: kept when the citizen gives them, and the read-back
    # says what happens without them (a visit time is agreed by phone)
    optional: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # a repair of something in the citizen's own home (空调, 冰箱) is a domestic-service order
    household_repair: tuple[str, ...] = ()
    queues: dict[str, str] = field(default_factory=dict)  # case type -> queue after filing
    categories: tuple[IntakeRule, ...] = ()  # first match wins
    fallback_category: dict[str, str] = field(default_factory=dict)  # case type -> code


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    queues: dict[str, QueueConfig]
    escalation: EscalationPolicy = field(default_factory=EscalationPolicy)
    blacklist: BlacklistPolicy = field(default_factory=BlacklistPolicy)
    ageing_step_s: float = 30.0  # +1 priority point per this many seconds waited
    reopen_window_s: float = 1800.0  # a message this soon after closing reopens the conversation
    bot_idle_close_s: float = (
        3600.0  # a bot conversation idle this long is closed on the next message
    )
    wrap_up_s: float = 60.0  # voice: agent wrap-up time after a call
    conversation_wrap_up_s: float = 300.0  # conversation in wrap-up closes itself after this
    disconnect_grace_s: float = 30.0  # an agent gone this long loses their conversations
    autopause_after_missed: int = 2  # consecutive missed offers before an agent is set away
    default_handle_time_s: float = 180.0  # seed of the per-queue average for wait estimates
    max_text_chars: int = 2000
    intake: IntakePolicy = field(default_factory=IntakePolicy)

    def queue(self, name: str) -> QueueConfig:
        try:
            return self.queues[name]
        except KeyError:
            raise InvalidInput(f"queue {name} does not exist") from None


def load_routing_config(path: Path, calendar: WorkCalendar | None = None) -> RoutingConfig:
    data = load_yaml(path) or {}
    cal = calendar or _calendar(data.get("calendar") or {})
    hours = {name: _hours(spec, cal) for name, spec in (data.get("hours") or {}).items()}
    queues: dict[str, QueueConfig] = {}
    for item in data.get("queues") or []:
        q = dict(item)
        name = q.pop("name")
        hours_name = q.pop("hours", None)
        if hours_name is not None and hours_name not in hours:
            raise InvalidInput(f"{path}: queue {name} uses unknown hours {hours_name}")
        q["strategy"] = Strategy(q.get("strategy", Strategy.LEAST_RECENT))
        q["widen_skills"] = tuple(q.get("widen_skills", ()))
        queues[name] = QueueConfig(name=name, hours=hours.get(hours_name), **q)
    esc = dict(data.get("escalation") or {})
    for key in ("intents", "emergency_intents", "tags"):
        if key in esc:
            esc[key] = frozenset(esc[key])
    intake_file = data.get("intake_file")
    config = RoutingConfig(
        queues=queues,
        escalation=EscalationPolicy(**esc),
        blacklist=BlacklistPolicy(**(data.get("blacklist") or {})),
        intake=_intake(path.parent / intake_file) if intake_file else IntakePolicy(),
        **(data.get("timers") or {}),
    )
    _check(config, path)
    return config


def _intake(path: Path) -> IntakePolicy:
    data = load_yaml(path) or {}
    rules = tuple(
        IntakeRule(str(r["code"]), tuple(r.get("words", ())), tuple(r.get("kinds", ())))
        for r in data.get("categories") or ()
    )
    return IntakePolicy(
        intents=dict(data.get("intents") or {}),
        callback_words=tuple(data.get("callback_words") or ()),
        ask={k: tuple(v) for k, v in (data.get("ask") or {}).items()},
        optional={k: tuple(v) for k, v in (data.get("optional") or {}).items()},
        household_repair=tuple(data.get("household_repair") or ()),
        queues=dict(data.get("queues") or {}),
        categories=rules,
        fallback_category={k: str(v) for k, v in (data.get("fallback_category") or {}).items()},
    )


def _check(config: RoutingConfig, path: Path) -> None:
    names = set(config.queues)
    referenced = {config.escalation.default_queue, config.escalation.emergency_queue}
    referenced |= set(config.escalation.intent_queues.values())
    referenced |= set(config.escalation.category_queues.values())
    referenced |= {q.overflow_queue for q in config.queues.values() if q.overflow_queue}
    missing = sorted(referenced - names)
    if missing:
        raise InvalidInput(f"{path}: unknown queue(s) referenced: {', '.join(missing)}")


def _calendar(spec: dict[str, Any]) -> WorkCalendar:
    return WorkCalendar.from_lists(
        [date.fromisoformat(str(d)) for d in spec.get("holidays", [])],
        [date.fromisoformat(str(d)) for d in spec.get("workdays", [])],
    )


def _hours(spec: dict[str, Any], calendar: WorkCalendar) -> BusinessHours:
    days = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
    weekly: dict[int, tuple[tuple[time, time], ...]] = {}
    for key, spans in spec.items():
        first, _, last = key.partition("-")
        span_list = tuple(
            (time.fromisoformat(a.strip()), time.fromisoformat(b.strip()))
            for a, b in (s.split("-") for s in spans)
        )
        for d in range(days[first], days[last or first] + 1):
            weekly[d] = span_list
    return BusinessHours(weekly, calendar)
