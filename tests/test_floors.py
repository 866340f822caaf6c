"""The packages stand on floors: settings, clients and contracts at the bottom (`footfall`),
then the functions and the simulator, the job, the dashboards, the operations layer (the
command, the local stack, the demo) and the bench at the top. A module imports only its
own package or packages on lower floors, and no chain of imports leads back to where it
started. Read from the code's own import statements, lazy ones included, so an import
that runs back up a floor or closes a circle fails here."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

FLOORS = {"footfall": 0, "udfs": 1, "simulators": 1, "jobs": 2, "dashboards": 3, "ops": 4, "bench": 5}


def modules() -> dict[str, Path]:
    found = {}
    for package in FLOORS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules that module `name` imports (a name imported from a package
    that is a module of its own counts as that module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package, `level` - 1 packages up
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_no_module_imports_a_package_on_a_higher_floor_or_beside_it() -> None:
    upward = sorted(
        f"{source} -> {target}" for source, targets in graph().items() for target in targets
        if (a := source.split(".")[0]) != (b := target.split(".")[0]) and FLOORS[b] >= FLOORS[a]
    )
    assert not upward, "imports that run back up a floor:\n" + "\n".join(upward)


def test_no_chain_of_imports_leads_back_to_where_it_started() -> None:
    edges = graph()
    circles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(edges[node]):
            if state.get(target) == "open":
                circles.append(" -> ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, "import circles:\n" + "\n".join(circles)
