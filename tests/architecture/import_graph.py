"""The project's import graph, read from the source with ast (no third-party tool).

Every `import` and `from … import` counts, including those under `if TYPE_CHECKING:` and
inside functions: a cycle hidden behind a lazy import is still a cycle in the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

# Lower ranks never import higher ones; equal ranks don't import each other. mongo implements
# the repository Protocols declared below it, so it sits above the packages it serves, and only
# hub (the composition root) imports it.
LAYERS: Mapping[str, int] = {
    "primitives": 0,
    "nlu": 1,
    "kb": 1,
    "cases": 2,
    "routing": 3,
    "agent_web": 4,
    "channels": 5,
    "telephony": 5,
    "mongo": 6,
    "hub": 7,
}


@dataclass(frozen=True)
class Edge:
    source: str  # module name
    target: str
    line: int

    def __str__(self) -> str:
        return f"{self.source}:{self.line} -> {self.target}"


def modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Module name -> file, for every .py file under the given top-level packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def edges(root: Path, packages: Iterable[str]) -> list[Edge]:
    """Imports between the project's own modules."""
    known = modules(root, packages)
    out: list[Edge] = []
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for target in _targets(node, name, is_package, known):
                if target != name:
                    out.append(Edge(name, target, node.lineno))
    return out


def _targets(
    node: ast.AST, module: str, is_package: bool, known: Mapping[str, Path]
) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield from _resolve(alias.name, known)
    elif isinstance(node, ast.ImportFrom):
        if node.module == "__future__":
            return
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            if not is_package:
                anchor = anchor[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in known:
                yield submodule
            else:
                yield from _resolve(base, known)


def _resolve(name: str, known: Mapping[str, Path]) -> Iterator[str]:
    """The longest known module that `name` names (a.b.c → a.b when c is an attribute)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            yield candidate
            return
        parts.pop()


def upward(found: Iterable[Edge], layers: Mapping[str, int] = LAYERS) -> list[Edge]:
    """Imports that point to a higher layer or across to another package of the same rank."""
    bad = []
    for edge in found:
        source, target = edge.source.split(".")[0], edge.target.split(".")[0]
        if source != target and layers[target] >= layers[source]:
            bad.append(edge)
    return bad


def cycles(found: Iterable[Edge]) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), each a cycle of imports."""
    graph: dict[str, set[str]] = {}
    for edge in found:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # iterative, so a long chain of imports can't exhaust the recursion limit
        nonlocal counter
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups
