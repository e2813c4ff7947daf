"""Print the package's internal import graph, floor by floor, and find import cycles.

Reads the source with :mod:`ast` (nothing is imported). Every ``import`` counts, at module level
or inside a function ("lazy", marked ``~``), except those under ``if TYPE_CHECKING:``, which
never run. An edge goes to the module a name comes from (``from facelandmarks import images``
is an edge to ``facelandmarks.images``); the implicit import of a parent package is not an edge.
Floor 0 imports nothing of the package; a module sits one floor above the highest module it
imports.

    python tools/import_graph.py              # the graph and "no cycles", exit 0
    python tools/import_graph.py --dot > g.dot  # Graphviz

Exit status 1 when there is a cycle (each one is printed).
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "facelandmarks"

Graph = dict[str, dict[str, bool]]  # module -> {imported module: lazy}


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the package."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package_dir.name, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Import nodes that run, each with whether it sits inside a function."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other, lazy)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child, lazy))
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            visit(child, inner)

    visit(tree, False)
    return found


def build_graph(package_dir: Path = PACKAGE_DIR) -> Graph:
    """The internal import graph of the package in ``package_dir``."""
    modules = module_names(package_dir)
    graph: Graph = {name: {} for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, lazy in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join([*here, base] if base else here)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:  # import a.b.c -> the deepest module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name][target] = graph[name].get(target, True) and lazy
    return graph


def find_cycles(graph: Graph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(cycles)


def floors(graph: Graph) -> dict[str, int]:
    """Floor of each module: 0 if it imports nothing internal, else 1 + its highest import.
    Modules on a cycle get the floor their cycle allows (the graph should have none)."""
    floor: dict[str, int] = {}

    def of(v: str, seen: frozenset[str]) -> int:
        if v not in floor:
            below = [of(w, seen | {v}) for w in graph[v] if w not in seen]
            floor[v] = 1 + max(below) if below else 0
        return floor[v]

    for v in graph:
        of(v, frozenset())
    return floor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz instead")
    parser.add_argument("--package-dir", type=Path, default=PACKAGE_DIR)
    args = parser.parse_args(argv)
    graph = build_graph(args.package_dir)
    cycles = find_cycles(graph)
    prefix = args.package_dir.name + "."
    short = {m: m.removeprefix(prefix) for m in graph}
    if args.dot:
        print("digraph imports {\n  rankdir=BT;")
        for v, targets in sorted(graph.items()):
            for w, lazy in sorted(targets.items()):
                style = " [style=dashed]" if lazy else ""
                print(f'  "{short[v]}" -> "{short[w]}"{style};')
        print("}")
    else:
        floor = floors(graph)
        for level in range(max(floor.values()) + 1):
            print(f"floor {level}:")
            for v in sorted(m for m in graph if floor[m] == level):
                names = ", ".join(
                    ("~" if lazy else "") + short[w] for w, lazy in sorted(graph[v].items())
                )
                print(f"  {short[v]:<32} -> {names or '-'}")
        print(f"{len(graph)} modules, {sum(map(len, graph.values()))} edges (~ = lazy import)")
        print("cycles: " + ("none" if not cycles else "; ".join(" <-> ".join(c) for c in cycles)))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
