"""The house shows its layers: rules about djreset's own code, checked statically (fast).

* no import cycle between djreset's modules, counting imports inside functions
  and under TYPE_CHECKING;
* no step module imports another step module;
* no function longer than 60 lines;
* only bridge/ imports Django (and the Django app; engines/mysql.py borrows its quoting);
* the README's "How it is built" map names every module and sub-package.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path


REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "djreset"
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, tree: ast.Module) -> set[str]:
    """djreset modules ``name`` imports, anywhere in its file."""
    found = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from package import module` needs the module; `from module import name`, the module.
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {target for target in found if target in MODULES and target != name}


def import_graph() -> dict[str, set[str]]:
    return {name: imported(name, ast.parse(path.read_text())) for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph[node])
    return False


def without_package_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ importing its own module is how packages work, not a
    cycle, unless that module imports the package back (directly or through others)."""
    own = {name: {t for t in targets if t.startswith(name + ".")} for name, targets in graph.items() if MODULES[name].name == "__init__.py"}
    rest = {name: targets - own.get(name, set()) for name, targets in graph.items()}
    return {name: targets | {t for t in own.get(name, set()) if reaches(rest, t, name)} for name, targets in rest.items()}


def test_no_import_cycles() -> None:
    assert cycles(without_package_edges(import_graph())) == []


def test_a_package_importing_a_module_that_imports_it_back_is_a_cycle() -> None:
    """The rule above is exact: only the harmless edge is left out."""
    fake = {"djreset.engines.catalog": {"djreset.engines.catalog.mysql"}, "djreset.engines.catalog.mysql": {"djreset.engines.catalog"}}
    assert cycles(without_package_edges(fake)) == [sorted(fake)]
    harmless = {"djreset.engines.catalog": {"djreset.engines.catalog.mysql"}, "djreset.engines.catalog.mysql": set()}
    assert cycles(without_package_edges(harmless)) == []


def test_no_step_imports_another_step() -> None:
    graph = import_graph()
    offenders = {
        name: sorted(target for target in targets if target.startswith("djreset.steps"))
        for name, targets in graph.items()
        if name.startswith("djreset.steps.")
    }
    assert {name: targets for name, targets in offenders.items() if targets} == {}


def test_only_the_runner_and_tasks_reach_the_steps() -> None:
    """Imports run one way: nothing below the steps imports them."""
    graph = import_graph()
    users = sorted(name for name, targets in graph.items() if not name.startswith("djreset.steps") and any(t.startswith("djreset.steps") for t in targets))
    assert users == ["djreset.tasks"]


def django_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, function) of each import of Django run at run time (not under TYPE_CHECKING)."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        found.extend((node.lineno, function) for name in names if name.split(".")[0] == "django")
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, "")
    return found


def test_only_the_bridge_imports_django() -> None:
    """bridge/ talks to Django; the Django app (apps.py, management/) is Django's side;
    engines/mysql.py's quote() borrows Django's identifier quoting (the one borrowing)."""
    allowed = ("djreset.bridge", "djreset.management", "djreset.apps")
    offenders = [
        f"{path.relative_to(REPO)}:{line} ({function or 'module'})"
        for name, path in MODULES.items()
        if not name.startswith(allowed)
        for line, function in django_imports(ast.parse(path.read_text()))
        if (name, function) != ("djreset.engines.mysql", "quote")
    ]
    assert offenders == []


def long_functions() -> list[str]:
    found = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({length} lines)")
    return found


def test_no_function_longer_than_a_screen() -> None:
    assert long_functions() == []


def readme_map() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("## How it is built")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def shown_as(path: Path) -> str:
    """How the map (a tree) names a module: its file name, or its folder for a package."""
    relative = path.relative_to(PACKAGE)
    if path.name != "__init__.py":
        return relative.name
    return f"{relative.parent.name or 'djreset'}/"


def test_the_readme_map_names_every_module() -> None:
    """Each module once per module of that name (history.py is in bridge/ and steps/)."""
    text = readme_map()
    wanted: dict[str, int] = {}
    for path in MODULES.values():
        wanted[shown_as(path)] = wanted.get(shown_as(path), 0) + 1
    missing = {name: count for name, count in wanted.items() if len(re.findall(rf"(?<![\w/.]){re.escape(name)}", text)) < count}
    assert missing == {}, f"the README's map does not name: {missing}"
