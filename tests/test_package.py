"""The package's own rules, read from its source: one-way imports, public interfaces of other libraries only, no
process-wide tricks, and nothing imported that the distribution does not declare."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "sentry_issue_export"
ALLOWED_PRIVATE = {("os", "_exit")}
"""Documented functions of the standard library whose names begin with an underscore."""


def modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, whether it is a package's ``__init__``)."""
    found = {}
    for path in (ROOT / PACKAGE).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = modules()


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that runs: what sits under ``if TYPE_CHECKING:`` is left out, imports in functions are in."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(sub) for child in node.body for sub in ast.walk(child))
    return (node for node in ast.walk(tree) if id(node) not in skipped)


def imports_of(name: str) -> tuple[set[str], set[str]]:
    """The package modules ``name`` imports, and the top-level names of the other modules it imports."""
    path, is_package = MODULES[name]
    package = name if is_package else name.rsplit(".", 1)[0]
    ours: set[str] = set()
    theirs: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                (ours if alias.name.split(".")[0] == PACKAGE else theirs).add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != PACKAGE:
                theirs.add(target)
                continue
            submodules = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES]
            ours.update(submodules)
            if len(submodules) < len(node.names):  # something from the module itself, not only its submodules
                ours.add(target)
    return {module for module in ours if module in MODULES and module != name}, {
        module.split(".")[0] for module in theirs if module
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
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
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_finder_sees_imports_in_functions_and_cycles() -> None:
    """The check below can fail: a cycle through an import inside a function is one."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    ours, _ = imports_of(f"{PACKAGE}.hookspecs")
    assert f"{PACKAGE}.errors" in ours  # imported inside BaseSource's methods


def test_the_package_has_no_import_cycle() -> None:
    graph = {name: imports_of(name)[0] for name in MODULES}
    assert cycles(graph) == []


def test_the_pipeline_knows_no_front_end() -> None:
    """Nothing below the front ends imports MCP, the CLI or the answer fitting."""
    front = {f"{PACKAGE}.cli", f"{PACKAGE}.mcp", f"{PACKAGE}.mcp.server", f"{PACKAGE}.mcp.wording", f"{PACKAGE}.budget"}
    for name in MODULES:
        if name in front or name == PACKAGE:
            continue
        ours, theirs = imports_of(name)
        assert not ours & front, name
        assert not theirs & {"fastmcp", "mcp", "mcp_types", "argparse"} or name.startswith(f"{PACKAGE}.mcp"), name


def private_reaches(path: Path, defined_here: set[str]) -> list[str]:
    """``module._name`` on another library's module, and ``obj._name`` for a name the package never defines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            external.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] != PACKAGE:
            external.update(alias.asname or alias.name for alias in node.names)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_") or node.attr.startswith("__"):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in external:
            if (owner.id, node.attr) not in ALLOWED_PRIVATE:
                found.append(f"{path.name}:{node.lineno} {owner.id}.{node.attr}")
        elif not (isinstance(owner, ast.Name) and owner.id in {"self", "cls"}) and node.attr not in defined_here:
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
    return sorted(found, key=lambda reach: int(reach.split(":")[1].split()[0]))


def names_the_package_defines() -> set[str]:
    """Every private name the package itself gives a meaning: attributes, functions, classes, module names."""
    defined: set[str] = set()
    for path, _ in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                defined.add(node.attr)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                defined.add(node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                defined.add(node.id)
        defined.add(path.stem)
    return defined


def test_no_private_part_of_another_library_is_reached() -> None:
    defined = names_the_package_defines()
    found = [reach for path, _ in MODULES.values() for reach in private_reaches(path, defined)]
    assert found == []


def test_the_private_reach_finder_can_fail(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import atexit, os\natexit._run_exitfuncs()\nclient._transport._pool\nos._exit(0)\n")
    assert private_reaches(probe, {"_transport"}) == ["probe.py:2 atexit._run_exitfuncs", "probe.py:3 ._pool"]


def sys_modules_writes(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Subscript) and ast.unparse(target.value) == "sys.modules":
                lines.append(node.lineno)
    return lines


def test_nothing_is_planted_in_sys_modules() -> None:
    assert sys_modules_writes('import sys\nsys.modules["httpx._main"] = None\n') == [2]
    for path, _ in MODULES.values():
        assert sys_modules_writes(path.read_text(encoding="utf-8")) == [], path


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalised(re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]) for requirement in project["dependencies"]}


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_everything_imported_is_declared() -> None:
    declared = declared_distributions()
    providers = packages_distributions()
    imported = set().union(*(imports_of(name)[1] for name in MODULES))
    others = {name for name in imported if name not in sys.stdlib_module_names and name != "__future__"}
    assert others, "the check must see the libraries"
    undeclared = [
        name
        for name in sorted(others)
        if normalised(name) not in declared and not {normalised(dist) for dist in providers.get(name, [])} & declared
    ]
    assert undeclared == []


@pytest.mark.parametrize("module", ["httpcore", "pydantic", "starlette", "uvicorn", "mcp_types"])
def test_the_libraries_imported_directly_are_declared_by_name(module: str) -> None:
    providers = {normalised(dist) for dist in packages_distributions().get(module, [])}
    assert providers & declared_distributions(), module


def test_importing_the_package_loads_no_heavy_library() -> None:
    """The commands start fast because the HTTP stack, Jinja2 and the MCP SDK load only when used; the renderer
    API the package exports (``template_renderer``, ``Flavor``, ``SafeText``) is read on first use."""
    probe = (
        "import sys, sentry_issue_export as p; heavy = ('jinja2', 'httpx', 'httpcore', 'fastmcp', 'pydantic');"
        "print([m for m in heavy if m in sys.modules]); p.template_renderer; print('jinja2' in sys.modules)"
    )
    lines = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert lines == ["[]", "True"]
