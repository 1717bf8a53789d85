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


# --------------------------------------------------------------------------- date formats (issue 10)

import datetime as dt  # noqa: E402

import polars as pl  # noqa: E402
import pytest  # noqa: E402

from servicechain import reading  # noqa: E402
from servicechain.validation import check, validate  # noqa: E402


def _rewrite_dates(folder: Path, table: str, column: str, fmt: str) -> list[dt.date]:
    """Write ``table.column`` in strftime ``fmt``; returns the true dates."""
    df = pl.read_csv(folder / f"{table}.csv", try_parse_dates=True)
    df.with_columns(pl.col(column).dt.strftime(fmt)).write_csv(folder / f"{table}.csv")
    return df.get_column(column).to_list()


def _dates(folder: Path, table: str, column: str, mapping: Path | None = None) -> list[dt.date]:
    rep, tables = check(folder, mapping)
    assert rep.ok, rep.format()
    return tables[table].collect().get_column(column).to_list()


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%-d/%-m/%Y", "%Y/%m/%d", "%Y-%m-%dT10:30:00", "%Y-%m-%d 00:00:00", "%d/%m/%Y 10:30"])
def test_unambiguous_date_columns_are_read_exactly(panel_dir: Path, fmt: str) -> None:
    # customer_activity dates run over a whole year: some days are > 12, so the column decides the order
    truth = _rewrite_dates(panel_dir, "customer_activity", "date", fmt)
    assert _dates(panel_dir, "customer_activity", "date") == truth


def test_day_first_detection_exact_values(tmp_path: Path) -> None:
    lf = pl.LazyFrame({reading.ROW: [1, 2, 3, 4], "d": ["25/03/2025", "01/02/2025", "3/4/2025", None]})
    fmt = reading.date_formats(lf, ["d"])["d"]
    assert fmt == reading.DateFormat("dmy")
    got = lf.select(reading.parse_date("d", fmt)).collect().to_series().to_list()
    assert got == [dt.date(2025, 3, 25), dt.date(2025, 2, 1), dt.date(2025, 4, 3), None]
    lf = pl.LazyFrame({reading.ROW: [1, 2, 3], "d": ["03/25/2025", "01/02/2025", "12/31/2025"]})
    fmt = reading.date_formats(lf, ["d"])["d"]
    assert fmt == reading.DateFormat("mdy")
    got = lf.select(reading.parse_date("d", fmt)).collect().to_series().to_list()
    assert got == [dt.date(2025, 3, 25), dt.date(2025, 1, 2), dt.date(2025, 12, 31)]


def test_iso_is_not_guessed_from_the_first_value() -> None:
    """31/02/2025 is no date; 2025-02-30 is no date: both are nulls, not shifted days."""
    lf = pl.LazyFrame({reading.ROW: [1, 2, 3], "d": ["2025-02-28", "2025-02-30", "2025-12-31T23:59:00+01:00"]})
    fmt = reading.date_formats(lf, ["d"])["d"]
    assert fmt == reading.DateFormat("iso")
    assert lf.select(reading.parse_date("d", fmt)).collect().to_series().to_list() == [dt.date(2025, 2, 28), None, dt.date(2025, 12, 31)]


def test_us_dates_with_days_up_to_12_are_an_error_not_shifted_quarters(panel_dir: Path) -> None:
    # every survey wave is on a day <= 12 (2025-02-10, 05-12, 08-11, 11-10): 02/10/2025 is 10 Feb or 2 Oct
    _rewrite_dates(panel_dir, "survey", "survey_date", "%m/%d/%Y")
    rep = validate(panel_dir)
    assert not rep.ok
    (p,) = [p for p in rep.errors if p.column == "survey_date"]
    assert p.file == "survey.csv" and "ambiguous" in p.message
    assert "dd/mm/yyyy" in p.message and "mm/dd/yyyy" in p.message and 'date_format: "%m/%d/%Y"' in p.message
    assert p.example_rows == [1, 2, 3] and p.n_rows == rep_rows(panel_dir, "survey")
    assert "02/10/2025" in p.example_values
    assert len(rep.errors) == 1  # no knock-on errors from other tables


def rep_rows(folder: Path, table: str) -> int:
    return pl.read_csv(folder / f"{table}.csv").height


def test_ambiguous_dates_are_read_with_the_mapping_date_format(panel_dir: Path, tmp_path: Path) -> None:
    truth = _rewrite_dates(panel_dir, "survey", "survey_date", "%m/%d/%Y")
    m = tmp_path / "mapping.yml"
    m.write_text('tables:\n  survey:\n    date_format: "%m/%d/%Y"\n')
    assert _dates(panel_dir, "survey", "survey_date", m) == truth


@pytest.mark.parametrize(
    "values, words",
    [
        (["25/03/2025", "03/25/2025", "01/02/2025"], ["mixed", "rows 1 are only dd/mm/yyyy", "rows 2 are only mm/dd/yyyy"]),
        (["2025/03/25", "25/03/2025", "2025/01/02"], ["mixed", "rows 1, 3 are yyyy/mm/dd", "rows 2 are dd/mm/yyyy or mm/dd/yyyy"]),
    ],
)
def test_mixed_date_formats_are_an_error_naming_rows(tmp_path: Path, values: list[str], words: list[str]) -> None:
    lf = pl.LazyFrame({reading.ROW: [1, 2, 3], "d": values})
    prob = reading.date_formats(lf, ["d"])["d"]
    assert isinstance(prob, reading.FormatProblem)
    for w in words:
        assert w in prob.message
    assert "date_format:" in prob.message


def test_mixed_dates_in_a_file_name_file_column_rows(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "trainings.csv", infer_schema=False)
    df.with_columns(pl.Series("date", ["01/04/2025"] * 8 + ["13/04/2025", "04/13/2025"])).write_csv(panel_dir / "trainings.csv")
    rep = validate(panel_dir)
    (p,) = rep.errors
    assert (p.file, p.column) == ("trainings.csv", "date") and "mixed date formats" in p.message
    assert "rows 9 are only dd/mm/yyyy (13/04/2025); rows 10 are only mm/dd/yyyy (04/13/2025)" in p.message
    assert p.example_rows == [9, 10] and p.n_rows == 2


def test_iso_column_with_a_few_other_dates_names_those_rows(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "trainings.csv", infer_schema=False)
    df.with_columns(pl.Series("date", ["2025-04-01"] * 8 + ["13/04/2025", "2025-04-31"])).write_csv(panel_dir / "trainings.csv")
    (p,) = validate(panel_dir).errors
    assert (p.file, p.column) == ("trainings.csv", "date") and "expected a date YYYY-MM-DD" in p.message
    assert p.example_rows == [9, 10] and p.example_values == ["13/04/2025", "2025-04-31"]


def test_run_on_ambiguous_dates_publishes_nothing(panel_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`servicechain run` stops at validation: exit 1, one clear message, no report folder."""
    from servicechain import cli

    _rewrite_dates(panel_dir, "survey", "survey_date", "%m/%d/%Y")
    out = tmp_path / "reports"
    rc = cli.main(["run", "--data", str(panel_dir), "--out", str(out), "--notebooks-dir", str(Path(__file__).with_name("notebooks"))])
    err = capsys.readouterr().err
    assert rc != 0
    assert "survey.csv" in err and "survey_date" in err and "ambiguous dates" in err and "Traceback" not in err
    assert not out.exists() or not any(out.rglob("*.html"))
