"""The 4-level case category taxonomy: codes, names, paths; held in memory, stored in MongoDB."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cases.errors import UnknownCategory
from primitives.errors import InvalidInput
from primitives.yaml_io import load_yaml

MAX_DEPTH = 4


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    name: str
    parent: str | None
    level: int  # 1..4
    active: bool = True


class Taxonomy:
    """Read-mostly, so served from memory; the repository is the record."""

    def __init__(self, categories: Iterable[Category]) -> None:
        self._by_code: dict[str, Category] = {}
        for cat in sorted(categories, key=lambda c: c.level):
            _check_node(cat, self._by_code)
            self._by_code[cat.code] = cat

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_code.values())

    def get(self, code: str) -> Category:
        try:
            return self._by_code[code]
        except KeyError:
            raise UnknownCategory(code) from None

    def children(self, code: str | None) -> list[Category]:
        return [c for c in self._by_code.values() if c.parent == code and c.active]

    def path(self, code: str) -> tuple[Category, ...]:
        """Level 1 first, down to the category itself."""
        chain: list[Category] = []
        node: Category | None = self.get(code)
        while node is not None:
            chain.append(node)
            node = self._by_code.get(node.parent) if node.parent else None
        return tuple(reversed(chain))

    def validate_path(self, codes: Sequence[str]) -> tuple[str, ...]:
        """Check that codes form a chain from level 1 downward; return it as a tuple."""
        if len(codes) > MAX_DEPTH:
            raise InvalidInput(f"a category path has at most {MAX_DEPTH} levels")
        parent: str | None = None
        for code in codes:
            cat = self.get(code)
            if cat.parent != parent:
                raise InvalidInput(f"category {code} is not under {parent or 'the root'}")
            parent = code
        return tuple(codes)

    def label(self, code: str) -> str:
        return " / ".join(c.name for c in self.path(code))


def _check_node(cat: Category, known: Mapping[str, Category]) -> None:
    if not 1 <= cat.level <= MAX_DEPTH:
        raise InvalidInput(f"category {cat.code} has level {cat.level}; levels are 1–{MAX_DEPTH}")
    if cat.code in known:
        raise InvalidInput(f"category code {cat.code} appears twice")
    if cat.level == 1:
        if cat.parent is not None:
            raise InvalidInput(f"level-1 category {cat.code} cannot have a parent")
        return
    parent = known.get(cat.parent or "")
    if parent is None or parent.level != cat.level - 1:
        raise InvalidInput(f"category {cat.code} needs a level-{cat.level - 1} parent")


def load_taxonomy_file(path: Path) -> list[Category]:
    """Read the nested YAML shape of hub/data/taxonomy.yaml into flat categories."""
    data = load_yaml(path) or []
    out: list[Category] = []
    _flatten(data, None, 1, out, path)
    Taxonomy(out)  # validates
    return out


def _flatten(nodes: Any, parent: str | None, level: int, out: list[Category], src: Path) -> None:
    if not isinstance(nodes, list):
        raise InvalidInput(f"{src}: expected a list of categories under {parent or 'the root'}")
    for node in nodes:
        if not isinstance(node, dict) or "code" not in node or "name" not in node:
            raise InvalidInput(f"{src}: every category needs a code and a name (near {node!r})")
        code = str(node["code"])
        out.append(Category(code, str(node["name"]), parent, level, bool(node.get("active", True))))
        if node.get("children"):
            _flatten(node["children"], code, level + 1, out, src)


class TaxonomyRepository(Protocol):
    async def all(self) -> list[Category]: ...

    async def upsert(self, category: Category) -> None: ...

    async def replace_all(self, categories: Sequence[Category]) -> None: ...
