"""One reader (and writer) for Rasa 3.x NLU YAML: intents with inline entity annotations,
synonyms, regexes and lookup tables; plus a deterministic stratified train/test split.

A bad block logs a warning that names the file and the item and is skipped, like Rasa's own
`RasaYAMLReader`: one typo in a hand-edited file must not take the bot down.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nlu.errors import TrainingDataError
from nlu.parser import Entity

log = logging.getLogger(__name__)

KEY_NLU = "nlu"
KEY_INTENT = "intent"
KEY_SYNONYM = "synonym"
KEY_REGEX = "regex"
KEY_LOOKUP = "lookup"
KEY_EXAMPLES = "examples"

# Rasa's own annotation grammar: [text](entity), [text](entity:value) and [text]{"entity": …}.
_ANNOTATION = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<entity>[^:)]+?)(?::(?P<value>[^)]+))?\)|(?P<json>\{[^}]+?\}))"
)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    intent: str
    entities: tuple[Entity, ...] = ()


@dataclass(frozen=True, slots=True)
class TrainingData:
    examples: tuple[Example, ...] = ()
    synonyms: Mapping[str, str] = field(default_factory=dict)  # variant -> canonical value
    regexes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lookups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def intents(self) -> tuple[str, ...]:
        """Intent names in order of first appearance."""
        return tuple(dict.fromkeys(e.intent for e in self.examples))


class _BadAnnotation(ValueError):
    pass


def training_files(path: Path) -> list[Path]:
    """The YAML files behind `path`: the file itself, or (like Rasa's data directory) every
    *.yml / *.yaml directly in the directory, in name order. Raises TrainingDataError if a
    directory holds none."""
    path = Path(path)
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    if not files:
        raise TrainingDataError(f"directory {path} holds no .yml training file")
    return files


def load_training_data(path: Path) -> TrainingData:
    """Read a Rasa NLU YAML file, or every file of a directory merged into one.
    Raises TrainingDataError if one is not readable YAML."""
    parts = []
    for file in training_files(path):
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as e:
            raise TrainingDataError(f"cannot read {file}: {e}") from e
        parts.append(read_training_data(text, source=str(file)))
    return merge_training_data(parts)


def merge_training_data(parts: Iterable[TrainingData]) -> TrainingData:
    """One TrainingData holding every part's examples and entity knowledge (later parts win a
    conflicting synonym; regex and lookup lists are joined without repeats)."""
    examples: list[Example] = []
    synonyms: dict[str, str] = {}
    regexes: dict[str, list[str]] = defaultdict(list)
    lookups: dict[str, list[str]] = defaultdict(list)
    for part in parts:
        examples.extend(part.examples)
        synonyms.update(part.synonyms)
        for name, patterns in part.regexes.items():
            regexes[name].extend(patterns)
        for name, values in part.lookups.items():
            lookups[name].extend(values)
    return TrainingData(
        examples=tuple(examples),
        synonyms=synonyms,
        regexes={k: tuple(dict.fromkeys(v)) for k, v in regexes.items()},
        lookups={k: tuple(dict.fromkeys(v)) for k, v in lookups.items()},
    )


def read_training_data(text: str, *, source: str = "<string>") -> TrainingData:
    """Parse Rasa NLU YAML text; bad blocks and bad examples are logged and skipped."""
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        raise TrainingDataError(f"{source} is not valid YAML: {e}") from e
    if not isinstance(doc, Mapping):
        raise TrainingDataError(f"{source} is not a Rasa NLU mapping")
    blocks = doc.get(KEY_NLU) or []
    if not isinstance(blocks, list):
        raise TrainingDataError(f"{source}: '{KEY_NLU}' must be a list of blocks")
    reader = _Reader(source)
    for block in blocks:
        reader.add_block(block)
    return reader.result()


class _Reader:
    def __init__(self, source: str) -> None:
        self._source = source
        self._examples: list[Example] = []
        self._synonyms: dict[str, str] = {}
        self._regexes: dict[str, list[str]] = defaultdict(list)
        self._lookups: dict[str, list[str]] = defaultdict(list)

    def add_block(self, block: Any) -> None:
        if not isinstance(block, Mapping):
            self._skip(block, "a block must be a mapping")
            return
        kinds = [k for k in (KEY_INTENT, KEY_SYNONYM, KEY_REGEX, KEY_LOOKUP) if k in block]
        if len(kinds) != 1:
            self._skip(block, "a block needs exactly one of intent/synonym/regex/lookup")
            return
        kind = kinds[0]
        name = block[kind]
        if not isinstance(name, str | int) or not str(name).strip():
            self._skip(block, f"'{kind}' needs a name")
            return
        lines = self._lines(block)
        if lines is None:
            return
        name = str(name).strip()
        if kind == KEY_INTENT:
            for line in lines:
                self._add_example(name, line)
        elif kind == KEY_SYNONYM:
            self._synonyms.update({line: name for line in lines if line != name})
        elif kind == KEY_REGEX:
            self._add_regexes(name, lines)
        else:
            self._lookups[name].extend(lines)

    def result(self) -> TrainingData:
        return TrainingData(
            examples=tuple(self._examples),
            synonyms=dict(self._synonyms),
            regexes={k: tuple(v) for k, v in self._regexes.items()},
            lookups={k: tuple(dict.fromkeys(v)) for k, v in self._lookups.items()},
        )

    def _lines(self, block: Mapping[str, Any]) -> list[str] | None:
        raw = block.get(KEY_EXAMPLES)
        if isinstance(raw, str):
            lines = [_strip_bullet(line) for line in raw.splitlines()]
        elif isinstance(raw, list):  # the long form: - text: "…" (metadata is ignored)
            lines = [str(i.get("text", "")) if isinstance(i, Mapping) else str(i) for i in raw]
            lines = [_strip_bullet(line) for line in lines]
        else:
            self._skip(block, f"'{KEY_EXAMPLES}' must be a string or a list")
            return None
        return [line for line in lines if line]

    def _add_example(self, intent: str, line: str) -> None:
        try:
            text, entities = parse_annotated(line)
        except _BadAnnotation as e:
            self._skip(line, f"bad entity annotation: {e}")
            return
        if text.strip():
            self._examples.append(Example(text, intent, entities))

    def _add_regexes(self, name: str, patterns: Iterable[str]) -> None:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as e:
                self._skip(pattern, f"regex '{name}' does not compile: {e}")
                continue
            self._regexes[name].append(pattern)

    def _skip(self, item: Any, reason: str) -> None:
        log.warning(
            "training_data.item_skipped",
            extra={"file": self._source, "item": repr(item)[:120], "reason": reason},
        )


def _strip_bullet(line: str) -> str:
    line = line.strip()
    return line[1:].strip() if line.startswith("-") else line


def parse_annotated(line: str) -> tuple[str, tuple[Entity, ...]]:
    """Turn '约[保洁](service_type)' into ('约保洁', (Entity(...),)). Offsets are into the
    plain text. Raises _BadAnnotation for malformed JSON annotations."""
    parts: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    for m in _ANNOTATION.finditer(line):
        before = line[pos : m.start()]
        parts.append(before)
        length += len(before)
        span = m.group("text")
        entity, value = _entity_and_value(m)
        entities.append(Entity(entity, value or span, length, length + len(span), span))
        parts.append(span)
        length += len(span)
        pos = m.end()
    parts.append(line[pos:])
    return "".join(parts), tuple(entities)


def _entity_and_value(m: re.Match[str]) -> tuple[str, str | None]:
    if m.group("json") is None:
        return m.group("entity").strip(), m.group("value")
    try:
        spec = json.loads(m.group("json"))
    except json.JSONDecodeError as e:
        raise _BadAnnotation(m.group("json")) from e
    if not isinstance(spec, dict) or not isinstance(spec.get("entity"), str):
        raise _BadAnnotation(m.group("json"))
    value = spec.get("value")
    return spec["entity"], None if value is None else str(value)


def stratified_split(
    data: TrainingData, *, test_fraction: float = 0.2, seed: int = 0
) -> tuple[TrainingData, TrainingData]:
    """Split examples per intent into (train, test), the same way for the same seed.

    Every intent with at least two examples gets at least one test example. Synonyms,
    regexes and lookups stay with the train part (they are training knowledge)."""
    if not 0 < test_fraction < 1:
        raise ValueError("test_fraction must be between 0 and 1")
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in data.examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    test_ids: set[int] = set()
    for intent in sorted(by_intent):
        members = by_intent[intent]
        order = list(range(len(members)))
        rng.shuffle(order)
        n_test = min(len(members) - 1, max(1, round(len(members) * test_fraction)))
        test_ids.update(id(members[i]) for i in order[:n_test])
    train = tuple(e for e in data.examples if id(e) not in test_ids)
    test = tuple(e for e in data.examples if id(e) in test_ids)
    return (
        TrainingData(train, data.synonyms, data.regexes, data.lookups),
        TrainingData(test),
    )


def dump_training_data(data: TrainingData, *, header: str = "") -> str:
    """Render as Rasa 3.x NLU YAML (readable `examples: |` blocks)."""
    out = [f"# {line}" for line in header.splitlines()]
    out += ['version: "3.1"', "", f"{KEY_NLU}:"]
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in data.examples:
        by_intent[example.intent].append(example)
    for intent, examples in by_intent.items():
        out += _block(KEY_INTENT, intent, [annotate(e.text, e.entities) for e in examples])
    by_canonical: dict[str, list[str]] = defaultdict(list)
    for variant, canonical in data.synonyms.items():
        by_canonical[canonical].append(variant)
    for canonical, variants in by_canonical.items():
        out += _block(KEY_SYNONYM, canonical, variants)
    for name, patterns in data.regexes.items():
        out += _block(KEY_REGEX, name, list(patterns))
    for name, values in data.lookups.items():
        out += _block(KEY_LOOKUP, name, list(values))
    return "\n".join(out) + "\n"


def write_training_data(data: TrainingData, path: Path, *, header: str = "") -> None:
    Path(path).write_text(dump_training_data(data, header=header), encoding="utf-8")


def annotate(text: str, entities: Iterable[Entity]) -> str:
    """The inverse of parse_annotated: put Rasa entity markup back into the text."""
    parts: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda e: e.start):
        parts.append(text[pos : e.start])
        span = text[e.start : e.end]
        if e.value == span:
            parts.append(f"[{span}]({e.entity})")
        else:
            spec = json.dumps({"entity": e.entity, "value": e.value}, ensure_ascii=False)
            parts.append(f"[{span}]{spec}")
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)


def _block(kind: str, name: str, lines: list[str]) -> list[str]:
    return [
        f"- {kind}: {_scalar(name)}",
        f"  {KEY_EXAMPLES}: |",
        *(f"    - {s}" for s in lines),
        "",
    ]


def _scalar(name: str) -> str:
    """A YAML scalar for a block name; quoted when plain style would change its meaning."""
    dumped = yaml.safe_dump(name, allow_unicode=True, default_flow_style=True, width=10_000)
    return dumped.removesuffix("\n...\n").strip()
