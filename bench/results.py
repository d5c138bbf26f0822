"""Shared output for benchmarks: one markdown table printed, and kept in bench/RESULTS.md."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples_s) * 1000, q)) if samples_s else float("nan")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def update_section(name: str, title: str, body: str) -> None:
    """Replace the section between <!-- name --> markers in RESULTS.md (or append it)."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    stamp = f"_{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {_cores()} cores_"
    block = f"{start}\n## {title}\n\n{stamp}\n\n{body.strip()}\n{end}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if start in text and end in text:
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    RESULTS.write_text(text, encoding="utf-8")


def _cores() -> int:
    import os

    return os.cpu_count() or 1
