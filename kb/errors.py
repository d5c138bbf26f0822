"""Errors raised by the kb package. kb sits below routing, so these do not extend
routing.errors; the HTTP edge maps ArticleNotFound to 404 and InvalidArticles to 400."""

from __future__ import annotations

from collections.abc import Sequence


class KbError(Exception):
    """Base of every kb error."""


class ArticleNotFound(KbError, LookupError):
    def __init__(self, article_id: str) -> None:
        super().__init__(f"article {article_id} does not exist")
        self.article_id = article_id


class InvalidArticles(KbError, ValueError):
    """Article data that cannot be used; `problems` names every bad row or item."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        shown = "; ".join(problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{source}: {shown}{more}")
        self.source = source
        self.problems = tuple(problems)
