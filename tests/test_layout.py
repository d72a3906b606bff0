"""The package reads as the pipeline, with no cycle, no import running back up it or across to a sibling, no import
hidden inside a function, and each library behind its boundary.

    spec (models, layout, evaluation) <- workbook (the writer) | returns (the reader: siblings, sharing the layout)
      <- allocation <- analysis (pure) <- store (the ledger) <- outputs <- collection (one run) <- cli
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "auditbook"
#: Each layer may import its own and the layers before it; the top-level helpers are layer 0. Packages on the same
#: layer are siblings: neither imports the other.
LAYERS = {"spec": 1, "workbook": 2, "returns": 2, "allocation": 3, "analysis": 4, "store": 5, "outputs": 6,
          "collection": 7, "demo": 8, "cli": 9, "__main__": 10}


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
            for p in PACKAGE.rglob("*.py")}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 0) if len(parts) > 1 else 0


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether at the top level of the file) for every import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    out: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.module, id(node) in top))
        elif isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported, _ in _imports(path):
            if imported.startswith("auditbook"):
                # "from auditbook.spec import x" may name a module or the package: take the module when it is one.
                targets.add(imported if imported in modules else imported.rsplit(".", 1)[0])
        graph[name] = targets - {name}
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_runs_back_up_the_pipeline() -> None:
    upward = sorted((m, t) for m, targets in _graph().items() for t in targets if _layer(t) > _layer(m))
    assert upward == []


def test_siblings_never_import_each_other() -> None:
    # The writer and the reader share the spec's layout and nothing else: returns never knows how a workbook is written.
    across = sorted((m, t) for m, targets in _graph().items() for t in targets
                    if _layer(t) == _layer(m) > 0 and _package(m) != _package(t))
    assert across == []


def test_every_package_has_a_layer() -> None:
    packages = {_package(m) for m, path in _modules().items() if path.name == "__init__.py" and _package(m)}
    assert packages - set(LAYERS) == set()


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append([*path[path.index(nxt):], nxt])
            elif nxt not in done:
                visit(nxt, [*path, nxt], done)
        done.add(node)

    finished: set[str] = set()
    for start in sorted(graph):
        if start not in finished:
            visit(start, [start], finished)
    assert cycles == []


def test_no_import_of_our_own_hidden_inside_a_function() -> None:
    # A slow third-party library may be imported where it is needed; our own modules never, so no cycle hides.
    hidden = sorted((name, imported) for name, path in _modules().items()
                    for imported, at_top in _imports(path) if not at_top and imported.startswith("auditbook"))
    assert hidden == []


def test_each_library_stays_behind_its_boundary() -> None:
    where: dict[str, set[str]] = {}
    for name, path in _modules().items():
        for imported, _ in _imports(path):
            where.setdefault(imported.split(".")[0], set()).add(name)
    assert where["yaml"] == {"auditbook.spec.load"}
    assert {m for m in where["typer"] | where["rich"] if m != "auditbook.cli" and not m.startswith("auditbook.cli.")} \
        == set()
    # xlsxwriter.utility is pure (cell references): the layout in spec/ names cells with it, as the writer does.
    assert {m.split(".")[1] for m, path in _modules().items() for i, _ in _imports(path)
            if i.split(".")[0] == "xlsxwriter" and i != "xlsxwriter.utility"} <= {"workbook", "allocation", "outputs"}
    assert {m.split(".")[1] for m in where.get("openpyxl", set())} <= {"returns", "allocation"}
