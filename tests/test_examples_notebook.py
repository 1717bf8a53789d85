"""notebooks/examples/ (issue 14): the analyst's worked example runs on the demo data and is stored clean; it is
not part of the quarterly suite."""

from __future__ import annotations

from pathlib import Path

import nbformat
import polars as pl
import pytest
from conftest import notebook_kernel

from servicechain import demo, run

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "notebooks" / "examples").glob("*.ipynb"))
EXAMPLE = ROOT / "notebooks" / "examples" / "01_subgroup_refit.ipynb"


def test_the_example_is_there_and_stored_clean() -> None:
    assert EXAMPLE in EXAMPLES
    for path in EXAMPLES:
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name}: store without outputs"
        assert nb.metadata["kernelspec"]["name"] == "servicechain"
        assert "parameters" in code[0].metadata.get("tags", []), "the first code cell holds the parameters"
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


def test_the_quarterly_run_never_picks_an_example() -> None:
    found = run.discover(ROOT / "notebooks")
    assert all(p.parent == ROOT / "notebooks" for p in found.values())
    assert EXAMPLE not in found.values()


def test_the_example_runs_on_the_demo_data(tmp_path: Path) -> None:
    import papermill as pm

    data = tmp_path / "demo"
    tables, truth = demo.generate(demo.DemoConfig(seed=11, employees=1200, quarters=5))
    demo.write(tables, truth, data)
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(EXAMPLE), str(out), kernel_name=notebook_kernel(), cwd=str(ROOT), progress_bar=False,
                        parameters={"data_dir": str(data), "export_dir": str(tmp_path / "export")})
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "\n".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "left out of the fit" in html and "role[frontline], role[manager]" in html  # the subgroup's note
    assert "HazardResult" in "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert sum("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs) == 1
    assert "employee_id" not in html
    table = pl.read_csv(tmp_path / "export" / "subgroup_odds_ratios.csv")
    assert set(table["fit"]) == {"Everyone", "frontline"} and table.height == 6
    assert (table["ci_low"] < table["estimate"]).all() and (table["estimate"] < table["ci_high"]).all()
    assert "employee_id" not in table.columns
