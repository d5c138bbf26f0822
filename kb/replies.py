"""Citizen-facing text of the knowledge base (zh-CN)."""

from __future__ import annotations

from collections.abc import Sequence

CLARIFY_PROMPT = "您是想问以下哪个问题？"
CLARIFY_HINT = "请回复序号。"


def clarify_text(questions: Sequence[str]) -> str:
    lines = [CLARIFY_PROMPT, *(f"{n}. {q}" for n, q in enumerate(questions, start=1))]
    return "\n".join([*lines, CLARIFY_HINT])
