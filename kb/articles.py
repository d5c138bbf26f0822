"""Knowledge-base articles: the model, its validation, and the repository seam.

An article is a standard question, similar questions (paraphrases, a dozen or so), an answer for the
citizen, a category path and a few keywords. Two file formats:

* YAML, the shape of hub/data/kb/articles.yaml: a list of mappings with id, category,
  question, similar, answer, keywords (lists in flow style).
* XLSX for the people who maintain the KB in a spreadsheet: one header row
  (id, category, question, similar, answer, keywords; the zh-CN labels 编号, 类目, 标准问,
  相似问, 答案, 关键词 are accepted too) and one row per article. Multi-valued cells hold one
  value per line (Alt+Enter in Excel); on import "|" also separates values. The category
  path is written "社保医保 / 社保卡" (levels joined by CATEGORY_SEPARATOR).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from kb.errors import InvalidArticles

MAX_TEXT = 2000  # longest question or answer we accept (characters)
LIST_SEPARATOR = "\n"  # XLSX: one similar question / keyword per line of the cell
CATEGORY_SEPARATOR = " / "  # XLSX: category levels in one cell
XLSX_COLUMNS = ("id", "category", "question", "similar", "answer", "keywords")
_ZH_COLUMNS = {"编号": "id", "类目": "category", "标准问": "question", "相似问": "similar"}
_ZH_COLUMNS |= {"答案": "answer", "关键词": "keywords"}
_SPLIT_LIST = re.compile(r"[\n|]")
_SPLIT_CATEGORY = re.compile(r"\s*[/>]\s*")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class Article:
    id: str
    category: tuple[str, ...]
    question: str
    similar: tuple[str, ...]
    answer: str
    keywords: tuple[str, ...]

    @property
    def questions(self) -> tuple[str, ...]:
        """The standard question first, then the similar ones."""
        return (self.question, *self.similar)


class ArticleRepository(Protocol):
    async def all(self) -> list[Article]: ...

    async def get(self, article_id: str) -> Article:
        """The article; raises ArticleNotFound."""
        ...

    async def upsert(self, article: Article) -> None: ...

    async def delete(self, article_id: str) -> None:
        """Remove the article; raises ArticleNotFound if there is none with that id."""
        ...


def article_from_mapping(item: Mapping[str, Any]) -> Article:
    """An Article from a YAML/JSON-like mapping; raises ValueError naming the bad field."""
    if not isinstance(item, Mapping):
        raise ValueError("expected a mapping with id, question and answer")
    article_id = _text(item.get("id"), "id")
    return Article(
        id=article_id,
        category=_texts(item.get("category"), "category"),
        question=_text(item.get("question"), "question"),
        similar=_texts(item.get("similar"), "similar"),
        answer=_text(item.get("answer"), "answer"),
        keywords=_texts(item.get("keywords"), "keywords"),
    )


def article_to_mapping(article: Article) -> dict[str, Any]:
    """The shape of one entry of hub/data/kb/articles.yaml."""
    return {
        "id": article.id,
        "category": list(article.category),
        "question": article.question,
        "similar": list(article.similar),
        "answer": article.answer,
        "keywords": list(article.keywords),
    }


def validate_article(article: Article) -> Article:
    """The article unchanged; raises InvalidArticles when a required field is empty."""
    problems = _problems(article)
    if problems:
        raise InvalidArticles(f"article {article.id or '?'}", problems)
    return article


def articles_from_items(
    items: Iterable[Any], source: str, *, label: str = "item", numbers: Iterable[int] = ()
) -> list[Article]:
    """Parse and check a whole collection; raises InvalidArticles listing every bad entry
    by its position and id ("item 3" in YAML; "row 4" in a sheet, where `numbers` gives the
    sheet row of each item; positions count from 1 otherwise)."""
    articles: list[Article] = []
    problems: list[str] = []
    first_seen: dict[str, int] = {}
    items = list(items)
    positions = list(numbers) or range(1, len(items) + 1)
    for pos, item in zip(positions, items, strict=True):
        where = f"{label} {pos}"
        try:
            article = article_from_mapping(item)
        except ValueError as e:
            problems.append(f"{where}: {e}")
            continue
        where = f"{where} (id {article.id})"
        problems += [f"{where}: {p}" for p in _problems(article)]
        if article.id in first_seen:
            problems.append(
                f"{where}: duplicate id, first used in {label} {first_seen[article.id]}"
            )
        else:
            first_seen[article.id] = pos
        articles.append(article)
    if problems:
        raise InvalidArticles(source, problems)
    return articles


def _problems(article: Article) -> list[str]:
    problems = []
    if not article.id:
        problems.append("missing id")
    if not article.question:
        problems.append("missing question")
    if not article.answer:
        problems.append("missing answer")
    for name in ("question", "answer"):
        if len(getattr(article, name)) > MAX_TEXT:
            problems.append(f"{name} longer than {MAX_TEXT} characters")
    return problems


def _text(value: Any, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return str(value).strip()


def _texts(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Sequence):
        raise ValueError(f"{name} must be a list of texts, not {type(value).__name__}")
    out = (_text(v, name) for v in value)
    return tuple(t for t in out if t)


def load_yaml(path: Path) -> list[Article]:
    """Articles of a YAML file; raises InvalidArticles (naming the item) on bad content."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe
    except (OSError, yaml.YAMLError) as e:
        raise InvalidArticles(str(path), [f"cannot read: {e}"]) from e
    if data is None:
        return []
    if not isinstance(data, list):
        raise InvalidArticles(str(path), ["expected a list of articles at the top level"])
    return articles_from_items(data, str(path))


def dump_yaml(articles: Iterable[Article]) -> str:
    """YAML text in the shape of hub/data/kb/articles.yaml."""
    data = [article_to_mapping(a) for a in articles]
    return yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=10_000
    )


def write_yaml(path: Path, articles: Iterable[Article]) -> None:
    path.write_text(dump_yaml(articles), encoding="utf-8")


def read_xlsx(path: Path) -> list[Article]:
    """Articles of the first sheet; raises InvalidArticles naming the sheet row."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many types for a file that is not XLSX
        raise InvalidArticles(str(path), [f"cannot read as XLSX: {e}"]) from e
    try:
        rows = list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
    if not rows:
        return []
    header = [_column_name(c) for c in rows[0]]
    missing = [c for c in ("id", "question", "answer") if c not in header]
    if missing:
        raise InvalidArticles(str(path), [f"row 1: missing column(s) {', '.join(missing)}"])
    # Row numbers as the spreadsheet shows them (the header is row 1); blank rows skipped.
    numbered = [(n, _row_to_item(header, row)) for n, row in enumerate(rows[1:], start=2)]
    numbered = [(n, item) for n, item in numbered if item]
    return articles_from_items(
        (item for _, item in numbered), str(path), label="row", numbers=(n for n, _ in numbered)
    )


def write_xlsx(path: Path, articles: Iterable[Article]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = "articles"
    sheet.append(list(XLSX_COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for a in articles:
        sheet.append(
            [
                a.id,
                CATEGORY_SEPARATOR.join(a.category),
                a.question,
                LIST_SEPARATOR.join(a.similar),
                a.answer,
                LIST_SEPARATOR.join(a.keywords),
            ]
        )
    wrap = Alignment(wrap_text=True, vertical="top")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    for letter, width in zip("ABCDEF", (10, 22, 30, 40, 60, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    book.save(path)


def _column_name(cell: Any) -> str:
    name = str(cell or "").strip()
    return _ZH_COLUMNS.get(name, name.lower())


def _row_to_item(header: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, value in zip(header, row, strict=False):
        if name not in XLSX_COLUMNS or value is None:
            continue
        text = str(value).strip()
        if name == "category":
            item[name] = [p for p in _SPLIT_CATEGORY.split(text) if p]
        elif name in ("similar", "keywords"):
            item[name] = [p.strip() for p in _SPLIT_LIST.split(text) if p.strip()]
        else:
            item[name] = text
    return item
