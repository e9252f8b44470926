"""The house rules of DESIGN.md, checked by walking the imports of every module."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files("core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_neither_ui_nor_queue(path: Path) -> None:
    forbidden = imported_modules(path) & {"streamlit", "rq", "redis", "ui", "jobs", "pages", "app"}
    assert not forbidden, f"{path.relative_to(ROOT)} imports {forbidden}"


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
