"""The dispatch catalogue (派单目录): which department leads a category, who assists, in how many
working days it is due. Most cases dispatch in one click on its suggestion; admins edit it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cases.departments import DepartmentRepository
from cases.errors import UnknownCategory
from cases.taxonomy import Taxonomy
from primitives.errors import InvalidInput
from primitives.yaml_io import load_yaml

MAX_DUE_DAYS = 60


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    category: str  # a taxonomy code at any level: it covers every category below it
    lead: str  # department code (承办单位)
    assisting: tuple[str, ...] = ()  # 协办单位
    due_days: int | None = None  # working days; None: the case type's default


class DispatchCatalogue:
    """Entries by category code; the deepest entry on a case's category path wins."""

    def __init__(self, entries: Iterable[CatalogueEntry] = ()) -> None:
        self._by_code = {e.category: e for e in entries}

    def __len__(self) -> int:
        return len(self._by_code)

    def entries(self) -> list[CatalogueEntry]:
        return sorted(self._by_code.values(), key=lambda e: e.category)

    def suggest(self, category: Sequence[str]) -> CatalogueEntry | None:
        """The entry for the deepest level of category (level-1 code first) that has one."""
        for code in reversed(category):
            entry = self._by_code.get(code)
            if entry is not None:
                return entry
        return None


def validate_entry(entry: CatalogueEntry, taxonomy: Taxonomy, departments: Iterable[str]) -> None:
    """Raise InvalidInput (zh-CN) when the entry names an unknown category or department."""
    known = set(departments)
    try:
        taxonomy.get(entry.category)
    except UnknownCategory as e:
        raise InvalidInput(f"分类 {entry.category} 不存在") from e
    for code in (entry.lead, *entry.assisting):
        if code not in known:
            raise InvalidInput(f"部门 {code} 不存在")
    if entry.lead in entry.assisting:
        raise InvalidInput("主办单位不能同时是协办单位")
    if entry.due_days is not None and not 1 <= entry.due_days <= MAX_DUE_DAYS:
        raise InvalidInput(f"办理时限须为 1–{MAX_DUE_DAYS} 个工作日")


def load_catalogue_file(path: Path) -> list[CatalogueEntry]:
    """Entries from a YAML list of {category, lead, assisting?, due_days?}. Errors name the file
    and the entry."""
    data = load_yaml(path) or []
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of catalogue entries")
    return [_entry(item, f"{path}: entry {i + 1}") for i, item in enumerate(data)]


def _entry(item: Any, where: str) -> CatalogueEntry:
    if not isinstance(item, Mapping) or not item.get("category") or not item.get("lead"):
        raise ValueError(f"{where}: needs category and lead")
    assisting = item.get("assisting") or []
    due = item.get("due_days")
    if not isinstance(assisting, list) or (due is not None and not isinstance(due, int)):
        raise ValueError(f"{where}: assisting is a list of department codes, due_days a number")
    return CatalogueEntry(str(item["category"]), str(item["lead"]), tuple(map(str, assisting)), due)


class CatalogueRepository(Protocol):
    async def all(self) -> list[CatalogueEntry]: ...

    async def upsert(self, entry: CatalogueEntry) -> None: ...

    async def delete(self, category: str) -> bool: ...


class CatalogueDesk:
    """The catalogue in memory for suggestions, edited through the repository."""

    def __init__(
        self,
        repo: CatalogueRepository,
        taxonomy: Callable[[], Taxonomy],
        departments: DepartmentRepository,
    ) -> None:
        self._repo = repo
        self._taxonomy = taxonomy
        self._departments = departments
        self._catalogue = DispatchCatalogue()

    async def load(self, seed: Callable[[], list[CatalogueEntry]] | None = None) -> int:
        """Read the stored catalogue; when it is empty and seed is given, store the seed."""
        entries = await self._repo.all()
        if not entries and seed is not None:
            entries = seed()
            for entry in entries:
                await self._repo.upsert(entry)
        self._catalogue = DispatchCatalogue(entries)
        return len(entries)

    def entries(self) -> list[CatalogueEntry]:
        return self._catalogue.entries()

    def suggest(self, category: Sequence[str]) -> CatalogueEntry | None:
        return self._catalogue.suggest(category)

    async def save(self, entry: CatalogueEntry) -> CatalogueEntry:
        codes = [d.code for d in await self._departments.all() if d.active]
        validate_entry(entry, self._taxonomy(), codes)
        await self._repo.upsert(entry)
        self._catalogue = DispatchCatalogue([*self._catalogue.entries(), entry])
        return entry

    async def delete(self, category: str) -> bool:
        removed = await self._repo.delete(category)
        self._catalogue = DispatchCatalogue(
            e for e in self._catalogue.entries() if e.category != category
        )
        return removed
