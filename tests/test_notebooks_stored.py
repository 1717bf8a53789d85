"""Every notebook of the suite is stored clean and speaks the same parameter contract (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PARAMETERS = ("data_dir", "quarter", "lang", "anonymity_threshold", "seed", "mapping", "assumptions", "results_dir")


def test_the_suite_is_all_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["00", "01", "02", "03", "04", "05"]


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
    assert nb.metadata.get("kernelspec", {}).get("name") in (None, "servicechain", "python3")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_thin(path):
    """Logic lives in the library: no function or class definitions in a notebook."""
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            tree = ast.parse(c.source)
            defs = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            assert not defs, f"{path.name} defines {defs}: move them to lib/servicechain"
