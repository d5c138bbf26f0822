"""The layering of docs/architecture.md, checked on the source: no import points up, no module
takes part in an import cycle, hub/ is imported by nobody."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.architecture.import_graph import LAYERS, Edge, cycles, edges, upward

ROOT = Path(__file__).resolve().parents[2]


def _project_edges() -> list[Edge]:
    return edges(ROOT, LAYERS)


def test_every_top_level_package_has_a_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()} - {"tests", "bench"}
    assert packages == set(LAYERS)


def test_no_import_points_up_or_across() -> None:
    bad = upward(_project_edges())
    assert not bad, "imports against the layering:\n" + "\n".join(map(str, bad))


def test_nobody_imports_hub() -> None:
    into_hub = [
        e
        for e in _project_edges()
        if e.target.split(".")[0] == "hub" and not e.source.startswith("hub")
    ]
    assert not into_hub, "\n".join(map(str, into_hub))


def test_no_module_is_in_an_import_cycle() -> None:
    found = cycles(_project_edges())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(group) for group in found)


# ------------------------------------------------------------ the checker itself can fail


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_a_cycle_hidden_behind_type_checking(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "routing/__init__.py": "",
            "routing/a.py": "from routing.b import B\n",
            "routing/b.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from routing.a import A\n"
            ),
            "routing/c.py": "from . import a\n",
        },
    )
    found = edges(tmp_path, ["routing"])
    assert cycles(found) == [["routing.a", "routing.b"]]


def test_the_checker_finds_an_upward_import_and_an_import_of_hub(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "routing/__init__.py": "",
            "routing/x.py": "def f():\n    import agent_web.keys\n",
            "agent_web/__init__.py": "",
            "agent_web/keys.py": "from hub.clock import Clock\n",
            "hub/__init__.py": "",
            "hub/clock.py": "",
        },
    )
    found = edges(tmp_path, ["routing", "agent_web", "hub"])
    assert {(e.source, e.target) for e in upward(found)} == {
        ("routing.x", "agent_web.keys"),
        ("agent_web.keys", "hub.clock"),
    }


def test_the_domain_knows_no_web_framework() -> None:
    """routing, cases, nlu, kb and primitives are used without aiohttp's server side (an HTTP
    client to a sidecar is fine)."""
    offenders = []
    for package in ("primitives", "nlu", "kb", "cases", "routing"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "aiohttp":
                    names = {a.name for a in node.names}
                    if "web" in names:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                elif isinstance(node, ast.ImportFrom | ast.Import):
                    mods = (
                        [node.module]
                        if isinstance(node, ast.ImportFrom)
                        else [a.name for a in node.names]
                    )
                    if any(m and m.startswith("aiohttp.web") for m in mods):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
