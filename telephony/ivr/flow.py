"""IVR flows as data: one YAML file is one flow, checked completely when it is loaded.

A flow is `{name, title, start, agent_queue?, steps: {id: {type: …, …}}}`; the step types are
the models below. A bad file raises FlowError naming the file and the step, so a typo fails at
start-up instead of in front of a caller. Conditions are a fixed vocabulary, never eval'd."""

from __future__ import annotations

import logging
import re
import wave
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from primitives.errors import InvalidInput
from primitives.yaml_io import load_yaml
from telephony.ivr import prompts
from telephony.ivr.services import CallerFacts
from telephony.media import SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)

AGENT = "@agent"  # implicit target of a menu without `fallback`: the flow's agent_queue
_KEYS = set("0123456789*#")


class FlowError(InvalidInput):
    """A flow file that cannot run; the message names the file and the step."""


# --- conditions -------------------------------------------------------------------------

_FLAGS: dict[str, Callable[[CallerFacts, bool], bool]] = {
    "caller.blacklisted": lambda f, _: f.blacklisted,
    "caller.elderly": lambda f, _: f.elderly,
    "caller.vip": lambda f, _: f.vip,
    "caller.known": lambda f, _: f.known,
    "hours.open": lambda f, _: f.in_hours,
    "speech.on": lambda _, speech_on: speech_on,
}
_COUNTS: dict[str, Callable[[CallerFacts], int]] = {"caller.open_cases": lambda f: f.open_cases}
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">": int.__gt__,
    ">=": int.__ge__,
    "<": int.__lt__,
    "<=": int.__le__,
    "==": int.__eq__,
    "!=": int.__ne__,
}
_CONDITION = re.compile(r"^\s*(not\s+)?([a-z_.]+)\s*(?:(>=|<=|==|!=|>|<)\s*(\d+))?\s*$")


@dataclass(frozen=True, slots=True)
class Condition:
    text: str
    subject: str
    negate: bool = False
    op: str | None = None
    value: int = 0

    def holds(self, facts: CallerFacts, *, speech_on: bool) -> bool:
        if self.op is None:
            result = _FLAGS[self.subject](facts, speech_on)
        else:
            result = _COMPARE[self.op](_COUNTS[self.subject](facts), self.value)
        return result != self.negate


def parse_condition(text: Any) -> Condition:
    """'not hours.open', 'caller.open_cases > 0' … Raises ValueError outside the vocabulary."""
    if isinstance(text, Condition):
        return text
    m = _CONDITION.match(str(text))
    known = ", ".join([*_FLAGS, *(f"{c} > N" for c in _COUNTS)])
    if not m or (m[2] in _FLAGS) == bool(m[3]) or m[2] not in {*_FLAGS, *_COUNTS}:
        raise ValueError(f"bad condition '{text}' (use {known}, optionally with 'not')")
    return Condition(str(text), m[2], bool(m[1]), m[3], int(m[4] or 0))


# --- steps ------------------------------------------------------------------------------

Text = str | list[str]  # one sentence or several, spoken in order


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True
    )


class _Step(_Model):
    def targets(self) -> list[tuple[str, str]]:
        """(label, step id) for every step this one can lead to."""
        return []


class PlayStep(_Step):
    type: Literal["play"] = "play"
    text: Text | None = None
    sound: str | None = None  # .wav (8 kHz 16-bit mono) or raw .slin, next to the flow file
    next: str
    barge_in: bool = True

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class MenuOption(_Model):
    say: list[str] = Field(default_factory=list)  # keywords a caller may say instead
    goto: str

    @field_validator("say", mode="before")
    @classmethod
    def _one_word(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class MenuStep(_Step):
    type: Literal["menu"] = "menu"
    prompt: Text
    prompt_dtmf: Text | None = None  # spoken instead of `prompt` when there is no recognizer
    options: dict[str, MenuOption]
    on_speech: str | None = None  # an ask step that takes speech matching no option
    retries: int = Field(2, ge=0, le=5)
    no_input: str = prompts.NO_INPUT
    no_match: str = prompts.NO_MATCH
    fallback: str | None = None  # None: the flow's agent queue
    timeout_s: float = Field(6.0, gt=0)
    barge_in: bool = True

    @field_validator("options", mode="before")
    @classmethod
    def _keys(cls, v: Any) -> Any:
        if not isinstance(v, dict) or not v:
            raise ValueError("options must map keys to {goto: step}")
        # YAML reads `1:` as an int; keys are phone keys, so they are strings here.
        out = {str(k): o for k, o in v.items()}
        bad = [k for k in out if k not in _KEYS]
        if bad:
            raise ValueError(f"option key '{bad[0]}' is not one of 0-9 * #")
        return out

    def targets(self) -> list[tuple[str, str]]:
        out = [(f"{k} {'/'.join(o.say)}".strip(), o.goto) for k, o in self.options.items()]
        if self.on_speech:
            out.append(("on_speech", self.on_speech))
        return [*out, ("fallback", self.fallback or AGENT)]


class AskStep(_Step):
    type: Literal["ask"] = "ask"
    prompt: Text = prompts.ASK_PROMPT
    resolved: str
    unresolved: str
    queued: str | None = None  # a transfer step, when the bot queued the call itself
    no_speech: str | None = None  # where to go without a recognizer (default: unresolved)
    more_questions: bool = False
    # the phrases a guided question expects (recognised in grammar mode); none: free speech
    grammar: list[str] | None = None
    retries: int = Field(2, ge=0, le=5)
    timeout_s: float = Field(8.0, gt=0)
    max_s: float = Field(20.0, gt=0)
    beep: bool = True
    barge_in: bool = True

    def targets(self) -> list[tuple[str, str]]:
        out = [("resolved", self.resolved), ("unresolved", self.unresolved)]
        return out + _present(queued=self.queued, no_speech=self.no_speech)


class TransferStep(_Step):
    type: Literal["transfer"] = "transfer"
    queue: str  # the skill agents must have
    reason: str = "ivr"
    say: Text | None = prompts.TRANSFERRING
    announce_every_s: float = Field(30.0, gt=0)
    hold_music: bool = True
    no_agents: str | None = None  # None: apologise and hang up
    after_agent: str | None = None  # None: hang up when the agent does

    def targets(self) -> list[tuple[str, str]]:
        return _present(no_agents=self.no_agents, after_agent=self.after_agent)


class VoicemailStep(_Step):
    type: Literal["voicemail"] = "voicemail"
    prompt: Text = prompts.VOICEMAIL_PROMPT
    max_s: float = Field(120.0, gt=0, le=600)
    silence_end_s: float = Field(3.0, gt=0)
    next: str
    barge_in: bool = True

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class CallbackStep(_Step):
    type: Literal["callback"] = "callback"
    reason: str = "callback"
    next: str
    no_caller_id: str | None = None  # where to go when the number is withheld (default: next)

    def targets(self) -> list[tuple[str, str]]:
        return _present(next=self.next, no_caller_id=self.no_caller_id)


class SurveyStep(_Step):
    type: Literal["survey"] = "survey"
    prompt: Text = prompts.SURVEY_PROMPT
    thanks: str = prompts.SURVEY_THANKS
    retries: int = Field(1, ge=0, le=5)
    timeout_s: float = Field(8.0, gt=0)
    next: str | None = None  # None: hang up after the thanks
    barge_in: bool = True

    def targets(self) -> list[tuple[str, str]]:
        return _present(next=self.next)


class CaseProgressStep(_Step):
    type: Literal["case_progress"] = "case_progress"
    next: str
    barge_in: bool = True

    def targets(self) -> list[tuple[str, str]]:
        return [("next", self.next)]


class BranchRule(_Model):
    if_: Condition = Field(alias="if")
    goto: str

    @field_validator("if_", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Condition:
        return parse_condition(v)


class BranchStep(_Step):
    type: Literal["branch"] = "branch"
    when: list[BranchRule] = Field(min_length=1)
    else_: str = Field(alias="else")

    def targets(self) -> list[tuple[str, str]]:
        return [(f"if {r.if_.text}", r.goto) for r in self.when] + [("else", self.else_)]


class GotoStep(_Step):
    type: Literal["goto"] = "goto"
    goto: str

    def targets(self) -> list[tuple[str, str]]:
        return [("goto", self.goto)]


class HangupStep(_Step):
    type: Literal["hangup"] = "hangup"
    text: Text | None = None
    reason: str = "completed"


def _present(**targets: str | None) -> list[tuple[str, str]]:
    return [(label, target) for label, target in targets.items() if target]


Step = (
    PlayStep
    | MenuStep
    | AskStep
    | TransferStep
    | VoicemailStep
    | CallbackStep
    | SurveyStep
    | CaseProgressStep
    | BranchStep
    | GotoStep
    | HangupStep
)
_STEP_TYPES: dict[str, type[_Step]] = {m.model_fields["type"].default: m for m in get_args(Step)}


# --- flows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    name: str
    title: str
    start: str
    steps: Mapping[str, Step]
    source: str  # the file name, for messages
    agent_queue: str = "general"
    sounds: Mapping[str, bytes] = field(default_factory=dict)  # PlayStep.sound -> slin
    warnings: tuple[str, ...] = ()

    @property
    def screens_blacklist(self) -> bool:
        """Whether the flow itself decides what a blacklisted caller hears."""
        return any(
            rule.if_.subject == "caller.blacklisted"
            for step in self.steps.values()
            if isinstance(step, BranchStep)
            for rule in step.when
        )


class _FlowFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9_-]+$")
    title: str
    start: str
    agent_queue: str = "general"
    steps: dict[str, dict[str, Any]] = Field(min_length=1)


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every *.yaml flow in `directory` by name. Raises FlowError on the first bad file."""
    flows: dict[str, Flow] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        flow = load_flow(path)
        if flow.name in flows:
            raise FlowError(f"{path.name}: flow name '{flow.name}' is used by another file")
        flows[flow.name] = flow
    return flows


def load_flow(path: Path) -> Flow:
    """Read and check one flow file. Raises FlowError naming the file (and step)."""
    src = path.name
    try:
        raw = load_yaml(path)
    except Exception as e:  # a YAML syntax error, an unreadable file
        raise FlowError(f"{src}: cannot read: {e}") from e
    try:
        head = _FlowFile.model_validate(raw)
    except ValidationError as e:
        raise FlowError(f"{src}: {_describe(e)}") from e
    steps = {sid: _parse_step(src, sid, body) for sid, body in head.steps.items()}
    _check_targets(src, head.start, steps)
    sounds = {
        s.sound: _load_sound(src, sid, path.parent / s.sound)
        for sid, s in steps.items()
        if isinstance(s, PlayStep) and s.sound
    }
    warnings = tuple(
        f"{src}: step '{sid}' is unreachable from '{head.start}'"
        for sid in steps
        if sid not in _reachable(head.start, steps)
    )
    for w in warnings:
        log.warning("ivr.flow.unreachable_step", extra={"detail": w})
    return Flow(head.name, head.title, head.start, steps, src, head.agent_queue, sounds, warnings)


def _parse_step(src: str, sid: str, body: Any) -> Step:
    where = f"{src}: step '{sid}'"
    if not isinstance(body, dict) or "type" not in body:
        raise FlowError(f"{where}: 'type' is required ({', '.join(_STEP_TYPES)})")
    model = _STEP_TYPES.get(str(body["type"]))
    if model is None:
        raise FlowError(f"{where}: unknown step type '{body['type']}' ({', '.join(_STEP_TYPES)})")
    try:
        step = model.model_validate(body)
    except ValidationError as e:
        raise FlowError(f"{where}: {_describe(e)}") from e
    if isinstance(step, PlayStep) and (step.text is None) == (step.sound is None):
        raise FlowError(f"{where}: a play step needs exactly one of 'text' or 'sound'")
    return step  # type: ignore[return-value]  # one of the Step models by construction


def _check_targets(src: str, start: str, steps: Mapping[str, Step]) -> None:
    if start not in steps:
        raise FlowError(f"{src}: start '{start}' is not a step")
    for sid, step in steps.items():
        for label, target in step.targets():
            if target != AGENT and target not in steps:
                # Option and branch labels are "1 查询" / "if …": their YAML key is `goto`.
                what = label if label.replace("_", "").isalpha() else "goto"
                raise FlowError(f"{src}: step '{sid}': {what} '{target}' is not a step")
        need = {"queued": TransferStep, "on_speech": AskStep}
        for label, target in step.targets():
            if label in need and not isinstance(steps[target], need[label]):
                kind = need[label].model_fields["type"].default
                raise FlowError(f"{src}: step '{sid}': {label} '{target}' must be a {kind} step")


def _reachable(start: str, steps: Mapping[str, Step]) -> set[str]:
    seen, todo = {start}, deque([start])
    while todo:
        for _, target in steps[todo.popleft()].targets():
            if target in steps and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _load_sound(src: str, sid: str, path: Path) -> bytes:
    where = f"{src}: step '{sid}': sound '{path.name}'"
    if not path.is_file():
        raise FlowError(f"{where} does not exist")
    if path.suffix == ".slin":
        return path.read_bytes()
    if path.suffix != ".wav":
        raise FlowError(f"{where}: only .wav and .slin files can be played")
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getsampwidth(), w.getnchannels()) != (SAMPLE_RATE, SAMPLE_WIDTH, 1):
            raise FlowError(f"{where} must be 8 kHz 16-bit mono")
        return w.readframes(w.getnframes())


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]).replace("if_", "if").replace("else_", "else")
        if err["type"] == "missing":
            parts.append(f"'{loc}' is required")
        elif err["type"] == "extra_forbidden":
            parts.append(f"unknown field '{loc}'")
        else:
            msg = str(err.get("ctx", {}).get("error", err["msg"]))
            parts.append(f"'{loc}': {msg}" if loc else msg)
    return "; ".join(parts)


def flow_graph(flow: Flow) -> dict[str, list[dict[str, str]]]:
    """Nodes and labelled edges for a read-only drawing of the flow (admin UI)."""
    nodes = [
        {"id": sid, "type": s.type, "label": _label(s), "start": str(sid == flow.start).lower()}
        for sid, s in flow.steps.items()
    ]
    edges = [
        {"from": sid, "to": target, "label": label}
        for sid, s in flow.steps.items()
        for label, target in s.targets()
    ]
    if any(e["to"] == AGENT for e in edges):
        nodes.append({"id": AGENT, "type": "transfer", "label": flow.agent_queue, "start": "false"})
    return {"nodes": nodes, "edges": edges}


def _label(step: Step) -> str:
    text = getattr(step, "prompt", None) or getattr(step, "text", None)
    if isinstance(step, TransferStep):
        return step.queue
    if isinstance(step, PlayStep) and step.sound:
        return step.sound
    if isinstance(text, list):
        text = text[0] if text else ""
    return str(text or "")[:40]
