"""The reading layer (servicechain.reading): file formats, number and date formats of whole columns."""

from __future__ import annotations

import ast
from pathlib import Path

import servicechain

PKG = Path(servicechain.__file__).parent


def _imports(module: str) -> set[str]:
    tree = ast.parse((PKG / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("servicechain"):
            found.add(node.module.removeprefix("servicechain").lstrip(".") or "")
            found.update(a.name for a in node.names if node.module == "servicechain")
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("servicechain.") for a in node.names if a.name.startswith("servicechain"))
    return found


def test_data_flows_one_way_reading_validation_loading():
    assert not {"loading", "validation"} & _imports("reading")
    src = (PKG / "validation.py").read_text(encoding="utf-8")
    runtime = src.split("if TYPE_CHECKING:")[0]
    assert "servicechain.loading" not in runtime and "loading" not in _imports_of_text(runtime)
    assert {"reading", "validation"} <= _imports("loading")


def _imports_of_text(text: str) -> set[str]:
    tree = ast.parse(text)
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "servicechain":
            out.update(a.name for a in node.names)
    return out
