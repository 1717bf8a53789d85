"""Every notebook of the suite is stored clean and speaks the same parameter contract (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PARAMETERS = ("data_dir", "quarter", "lang", "anonymity_threshold", "seed", "mapping", "assumptions", "results_dir")


def test_the_suite_is_all_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_without_outputs_and_with_the_parameter_contract(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), "store without outputs"
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one cell tagged 'parameters'"
    assigned = [t.id for node in ast.parse(params[0].source).body if isinstance(node, ast.Assign) for t in node.targets]
    assert tuple(assigned) == PARAMETERS
    assert code.index(params[0]) == 0, "parameters come first, so papermill's injected cell follows them"
    assert nb.metadata.get("kernelspec", {}).get("name") == "servicechain", "store the project kernel"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_thin(path):
    """Logic lives in the library: no function or class definitions in a notebook."""
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            tree = ast.parse(c.source)
            defs = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            assert not defs, f"{path.name} defines {defs}: move them to lib/servicechain"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_opens_with_a_visible_heading_and_introduction(path):
    """Readable in JupyterLab before it runs; removed from the report (whose words follow ``lang``)."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown"
    lines = first.source.strip().splitlines()
    assert lines[0].startswith("# ") and "<!--" not in first.source
    intro = " ".join(lines[1:]).strip()
    assert len(intro) > 60, "a short introduction under the heading"
    assert "remove-cell" in first.metadata.get("tags", []), "English-only note: keep it out of the localized report"


LIB_MODULES = {"chain", "charts", "features", "finance", "i18n", "loyalty", "nb", "qr", "retention", "summary",
               "estimates", "quality_report", "validation"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_private_helpers_and_exceptions_by_class(path):
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type != "code":
            continue
        tree = ast.parse(c.source)
        private = [f"{n.value.id}.{n.attr}" for n in ast.walk(tree) if isinstance(n, ast.Attribute)
                   and isinstance(n.value, ast.Name) and n.value.id in LIB_MODULES and n.attr.startswith("_")]
        assert not private, f"{path.name} calls private helpers {private}: make them public in lib/servicechain"
        by_name = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "__name__"]
        assert not by_name, f"{path.name} compares class names: catch the exception class instead"


def test_a_removed_heading_does_not_take_the_pages_h1():
    from servicechain import report

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Analyst note", metadata={"tags": ["remove-cell"]}),
        nbformat.v4.new_code_cell("x = 1"),
    ])
    assert not report._has_h1(nb)
    nb.cells.append(nbformat.v4.new_markdown_cell("# Visible"))
    assert report._has_h1(nb)
