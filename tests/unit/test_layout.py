"""The house rules of DESIGN.md, checked by walking the imports of every module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    """Top-level packages `path` imports, anywhere in it but under `if TYPE_CHECKING:` (names
    for type hints only)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            node.body = []
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


ENTRY_POINTS = {"streamlit", "rq", "redis", "ui", "jobs", "pages", "web", "app", "frame"}


@pytest.mark.parametrize("path", python_files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_neither_ui_nor_queue(path: Path) -> None:
    forbidden = imported_modules(path) & ENTRY_POINTS
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


@pytest.mark.parametrize("path", python_files("ui"), ids=lambda p: str(p.relative_to(ROOT)))
def test_ui_helpers_leave_queries_to_core(path: Path) -> None:
    assert not imported_modules(path) & {"sqlalchemy", "rq", "redis", "pages", "web", "app"}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Which modules of `package` (a folder under `root`) each of its modules imports (inside
    functions too, so a cycle cannot hide behind a lazy import). A package counts as its
    __init__; importing a sibling through one's own package is not an edge, as Python runs the
    package's __init__ first anyway."""
    modules = {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path
        for path in sorted((root / package).rglob("*.py"))
        if "migrations" not in path.parts
    }
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else node.module for t in targets]
            own_packages = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
            edges |= {t for t in targets if t in modules and t != name and t not in own_packages}
        graph[name] = edges
    return graph


def cycles_in(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of `graph` meets, each as a path back to its start."""
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return cycles


def test_core_has_no_import_cycles() -> None:
    cycles = cycles_in(import_graph(ROOT, "core"))
    assert not cycles, "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_a_cycle_behind_a_lazy_import_is_found(tmp_path: Path) -> None:
    shop = tmp_path / "shop"
    (shop / "orders").mkdir(parents=True)
    (shop / "__init__.py").write_text("")
    (shop / "orders" / "__init__.py").write_text("from shop.orders.lines import total\n")
    (shop / "orders" / "lines.py").write_text("def total():\n    from shop import people\n")
    (shop / "people.py").write_text("from shop.orders import total\n")
    (shop / "prices.py").write_text("from shop import people\n")
    assert cycles_in(import_graph(tmp_path, "shop")) == [
        ["shop.orders", "shop.orders.lines", "shop.people", "shop.orders"]
    ]


def test_names_imported_for_type_hints_only_do_not_count(tmp_path: Path) -> None:
    module = tmp_path / "page.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import streamlit as st\n"
        "if TYPE_CHECKING:\n"
        "    from sqlalchemy.orm import Session\n"
        "def run():\n"
        "    import rq\n"
    )
    assert imported_modules(module) == {"typing", "streamlit", "rq"}


def test_core_is_a_dozen_modules_and_its_domain_packages() -> None:
    modules = sorted(path.stem for path in (ROOT / "core").glob("*.py"))
    assert len(modules) <= 13, modules
    packages = {path.parent.name for path in (ROOT / "core").glob("*/__init__.py")}
    assert packages >= {
        "customers",
        "imports",
        "scoring",
        "segments",
        "campaigns",
        "messaging",
        "compliance",
        "infra",
        "models",
    }


@pytest.mark.parametrize("path", python_files("jobs"), ids=lambda p: str(p.relative_to(ROOT)))
def test_jobs_do_not_import_the_ui(path: Path) -> None:
    assert not imported_modules(path) & {"streamlit", "ui", "pages"}


@pytest.mark.parametrize(
    "path",
    [*python_files("pages"), *python_files("web"), ROOT / "app.py", ROOT / "frame.py"],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_pages_and_routes_leave_queries_to_core(path: Path) -> None:
    assert "sqlalchemy" not in imported_modules(path)


def jobs_modules(path: Path) -> set[str]:
    """The modules of jobs/ that `path` imports, by full name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("jobs")}
        elif isinstance(node, ast.ImportFrom) and node.module == "jobs":
            names |= {f"jobs.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jobs."):
            names.add(str(node.module))
    return names


@pytest.mark.parametrize(
    "path", [*python_files("pages"), *python_files("ui")], ids=lambda p: str(p.relative_to(ROOT))
)
def test_screens_reach_the_queue_only_through_the_use_cases(path: Path) -> None:
    assert jobs_modules(path) <= {"jobs.flows"}


@pytest.mark.parametrize("path", python_files("web"), ids=lambda p: str(p.relative_to(ROOT)))
def test_http_routes_do_not_need_the_ui(path: Path) -> None:
    assert not imported_modules(path) & {"streamlit", "ui", "pages"}


def test_there_is_a_page_module_for_every_navigation_entry() -> None:
    from ui.navigation import PAGES

    for spec in PAGES:
        assert (ROOT / spec.path).is_file(), spec.path
    assert sorted(p.name for p in python_files("pages")) == sorted(
        Path(spec.path).name for spec in PAGES
    )
