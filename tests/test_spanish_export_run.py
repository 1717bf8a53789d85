"""A Spanish Excel export (';' separated, cp1252, salaries with a thousands '.' and a decimal ',') published by
`servicechain run` gives the same metrics.json as the same data in plain CSV (every figure; one more warning: the encoding): salaries are
never read as cents (issue 10: 61.910 was read as 61.91 and three money scenarios flipped sign)."""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import polars as pl
import pytest

from servicechain import cli, demo

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("papermill")]


def _spanish_money(x: pl.Expr) -> pl.Expr:
    """41234.5 -> '41.234,50' (thousands '.', decimal ',')."""
    whole = x.floor().cast(pl.Int64)
    cents = ((x - x.floor()) * 100).round().cast(pl.Int64)
    t = whole.cast(pl.String).str.reverse().str.replace_all(r"(\d{3})(\d)", "$1.$2").str.reverse()
    return t + pl.lit(",") + cents.cast(pl.String).str.zfill(2)


def _run(data: Path, out: Path) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = cli.main(["run", "--data", str(data), "--out", str(out), "--jobs", "2"])
    return rc, err.getvalue()


def test_spanish_salaries_publish_the_same_metrics_as_plain_csv(tmp_path: Path) -> None:
    tables, truth = demo.generate(demo.DemoConfig(seed=5, employees=900, quarters=5))
    plain, spanish = tmp_path / "plain", tmp_path / "spanish"
    demo.write(tables, truth, plain)  # parquet; the HR table is replaced by a CSV export in both folders
    (plain / "employees.parquet").unlink()
    tables["employees"].write_csv(plain / "employees.csv")
    shutil.copytree(plain, spanish)
    (spanish / "employees.csv").unlink()
    emp = pl.read_csv(plain / "employees.csv", infer_schema_length=0)
    sal = pl.col("annual_salary").cast(pl.Float64)
    assert emp.select((sal >= 1000).mean()).item() > 0.99  # every salary has a thousands group to lose
    text = emp.with_columns(pl.when(sal.is_not_null()).then(_spanish_money(sal)).alias("annual_salary")).write_csv(
        separator=";", line_terminator="\r\n")
    (spanish / "employees.csv").write_bytes(text.encode("cp1252"))
    assert ";" in text.splitlines()[0] and "," in text.splitlines()[1].split(";")[-1]

    rc1, err1 = _run(plain, tmp_path / "r1")
    rc2, err2 = _run(spanish, tmp_path / "r2")
    assert rc1 == 0, err1
    assert rc2 == 0, err2
    (q1,) = [d for d in (tmp_path / "r1").iterdir() if d.is_dir() and not d.name.startswith(".")]
    (q2,) = [d for d in (tmp_path / "r2").iterdir() if d.is_dir() and not d.name.startswith(".")]
    m1, m2 = (json.loads((q / "metrics.json").read_text(encoding="utf-8")) for q in (q1, q2))
    # the one difference allowed: the Spanish file's encoding is reported (a warning, not a changed figure)
    assert m2["data_quality"].pop("warnings") == m1["data_quality"].pop("warnings") + 1
    assert m1["finance"]["baseline"]["replacement_cost"] > 1e5  # salaries in euros, not cents
    assert json.dumps(m1, sort_keys=True) == json.dumps(m2, sort_keys=True)
