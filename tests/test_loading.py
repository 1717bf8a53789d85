"""The loader: types, quarters, encodings, delimiters and that no raw employee id gets through."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from conftest import panel_tables
from servicechain.cli import UserError
from servicechain.loading import Dataset, latest_complete, load
from servicechain.validation import validate

RAW_IDS = set(panel_tables()["employees"]["employee_id"].to_list())


def all_strings(ds: Dataset) -> set[str]:
    out: set[str] = set()
    for df in ds.tables.values():
        for c, t in df.schema.items():
            if t == pl.String:
                out.update(v for v in df.get_column(c).drop_nulls().to_list())
    return out


@pytest.mark.parametrize("fixture", ["panel_dir", "panel_parquet"])
def test_panel_types_and_quarters(fixture: str, request: pytest.FixtureRequest) -> None:
    ds = load(request.getfixturevalue(fixture))
    assert ds.kind == "panel" and ds.has("trainings") and not ds.has("snapshot")
    emp = ds.tables["employees"]
    assert emp.schema["hire_date"] == pl.Date and emp.schema["annual_salary"] == pl.Float64
    assert emp.schema["employee_id"] == pl.String
    assert ds.tables["survey"].schema["recognition"] == pl.Int8
    assert ds.tables["customer_feedback"].schema["nps"] == pl.Int8
    assert ds.items == ["recognition", "empowerment", "leadership", "engagement"]
    # activity runs to 2026-01-05: 2026Q1 is present but not complete
    assert ds.quarters == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    assert ds.latest_complete_quarter == "2025Q4"
    assert ds.files["units"].name.startswith("units.")


def test_csv_and_parquet_load_the_same(panel_dir: Path, panel_parquet: Path) -> None:
    a, b = load(panel_dir), load(panel_parquet)
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name]), name


def test_raw_employee_ids_never_in_loaded_tables(panel_dir: Path) -> None:
    ds = load(panel_dir)
    strings = all_strings(ds)
    assert not RAW_IDS & strings
    assert not any("EMP-" in s for s in strings)
    assert all(v.startswith("E") and len(v) == 17 for v in ds.tables["employees"]["employee_id"])


def test_pseudonyms_consistent_across_tables_and_runs(panel_dir: Path) -> None:
    a, b = load(panel_dir, key=b"k" * 32), load(panel_dir, key=b"k" * 32)
    emp = set(a.tables["employees"]["employee_id"])
    for table, col in [("survey", "employee_id"), ("recognitions", "receiver_id"), ("recognitions", "giver_id"),
                       ("trainings", "employee_id"), ("employees", "manager_id")]:
        assert set(a.tables[table][col].drop_nulls()) <= emp, (table, col)
    assert a.tables["survey"].equals(b.tables["survey"])
    c = load(panel_dir, key=b"other-key-" * 3)
    assert not set(c.tables["employees"]["employee_id"]) & emp


def test_latest_complete_quarter_rule() -> None:
    qs = ["2025Q3", "2025Q4", "2026Q1"]
    assert latest_complete(qs, dt.date(2025, 12, 31)) == "2025Q4"
    assert latest_complete(qs, dt.date(2026, 3, 30)) == "2025Q4"
    assert latest_complete(qs, dt.date(2026, 3, 31)) == "2026Q1"
    assert latest_complete(qs, dt.date(2099, 12, 31)) == "2026Q1"  # sentinel exit dates add no quarter
    assert latest_complete(qs, None) is None


def _rewrite_units(panel_dir: Path, data: bytes) -> None:
    (panel_dir / "units.csv").write_bytes(data)


UNITS_ES = "unit_id;unit_name;region\nU1;Peñón Núñez;Andalucía\nU2;Logroño;La Rioja\nU3;Cádiz;Andalucía\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings_and_semicolons(panel_dir: Path, encoding: str) -> None:
    _rewrite_units(panel_dir, UNITS_ES.encode(encoding))
    rep = validate(panel_dir)
    assert rep.ok, rep.format()
    ds = load(panel_dir)
    assert ds.tables["units"]["unit_name"].to_list() == ["Peñón Núñez", "Logroño", "Cádiz"]
    assert ds.tables["units"].columns == ["unit_id", "unit_name", "region"]  # BOM not glued to the header
    notes = [w.message for w in rep.warnings if w.file == "units.csv"]
    assert bool(notes) == (encoding == "cp1252")
    if notes:
        assert "Windows-1252" in notes[0]


def test_latin1_beyond_the_sniffed_head_is_redecoded(panel_dir: Path) -> None:
    lines = ["unit_id,unit_name,region"] + [f"X{i},plain,none" for i in range(6000)]
    text = "\n".join(lines) + "\nU1,Peñón,Andalucía\nU2,b,c\nU3,c,d\n"
    assert len(text) > 1 << 16
    _rewrite_units(panel_dir, text.encode("cp1252"))
    rep = validate(panel_dir)
    assert rep.ok, rep.format()
    assert "Peñón" in load(panel_dir).tables["units"]["unit_name"].to_list()


def test_decimal_comma_and_spaces(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "employees.csv", infer_schema=False)
    df = df.with_columns(pl.col("annual_salary").str.replace(r"\.", ","), pl.format(" {} ", pl.col("employee_id")).alias("employee_id"))
    df.write_csv(panel_dir / "employees.csv", separator=";")
    ds = load(panel_dir)
    assert ds.tables["employees"]["annual_salary"].min() > 1000
    assert set(ds.tables["survey"]["employee_id"]) <= set(ds.tables["employees"]["employee_id"])


# --------------------------------------------------------------------------- validated once per run


def test_lazy_load_equals_eager(panel_dir: Path) -> None:
    a, b = load(panel_dir, key=b"k" * 32), load(panel_dir, key=b"k" * 32, lazy=True)
    assert all(isinstance(f, pl.LazyFrame) for f in b.tables.values())
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name].collect()), name
    assert (a.quarters, a.latest_complete_quarter) == (b.quarters, b.latest_complete_quarter)


def test_validated_folder_is_trusted_and_not_pseudonymised_twice(panel_dir: Path, tmp_path: Path, monkeypatch) -> None:
    from servicechain import loading, validation
    from servicechain.validation import data_quality_summary

    df = pl.read_csv(panel_dir / "survey.csv", infer_schema=False)
    pl.concat([df, df.head(1)]).write_csv(panel_dir / "survey.csv")  # a warning that drops a row
    before = {p.name: p.read_bytes() for p in panel_dir.iterdir()}
    a = load(panel_dir, key=b"k" * 32, lazy=True)
    staged = loading.write_validated(a, tmp_path / "staged")
    assert {p.name: p.read_bytes() for p in panel_dir.iterdir()} == before  # the user's folder is untouched
    marker = json.loads((staged / loading.VALIDATED_MARKER).read_text())
    assert marker["source"]["files"]["survey"] == {
        "name": "survey.csv", "sha256": hashlib.sha256(before["survey.csv"]).hexdigest()}
    assert marker["source"]["mapping"] is None
    with pytest.raises(ValueError):
        loading.write_validated(a, staged)  # never over an existing folder's contents

    def no_check(*args, **kwargs):
        raise AssertionError("a validated folder must not be validated again")

    monkeypatch.setattr(validation, "check", no_check)
    b = load(staged, key=b"another-key-entirely-0123456789")  # the key is not applied a second time
    eager = {n: f.collect() for n, f in a.tables.items()}
    assert set(b.tables) == set(eager)
    for name, f in b.tables.items():
        assert isinstance(f, pl.LazyFrame) and f.collect().equals(eager[name]), name
    assert (b.kind, b.items, b.quarters, b.latest_complete_quarter) == (a.kind, a.items, a.quarters, a.latest_complete_quarter)
    assert {t: p.name for t, p in b.files.items()} == {t: p.name for t, p in a.files.items()}
    assert b.report.format() == a.report.format() and b.report.rejected["survey"] == 1
    da, db = data_quality_summary(a), data_quality_summary(b)
    for part in ("tables", "coverage", "response_rate", "missingness", "problems"):
        assert getattr(da, part).equals(getattr(db, part)), part
    mapping = tmp_path / "m.yml"
    mapping.write_text("kind: panel\n")
    with pytest.raises(UserError, match="validated with no mapping"):
        load(staged, mapping)


def test_every_pseudonymised_column_references_employees() -> None:
    """The loader keys only the employees' ids; that is complete only if validation checks every such reference."""
    from servicechain import contract
    from servicechain.validation import _REFERENCES

    refs = {(t, c) for t, c, rt, rc in _REFERENCES if (rt, rc) == ("employees", "employee_id")}
    for t in contract.TABLES.values():
        for c in t.pseudonymise:
            assert (t.name, c) in refs or (t.name, c) == ("employees", "employee_id"), (t.name, c)
