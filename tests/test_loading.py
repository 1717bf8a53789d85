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
    """Complete: over by the as-of date, a survey wave in it, customer data in its last 14 days, exits reaching it."""
    from servicechain.loading import incomplete_quarters, incomplete_reason

    qs = ["2025Q3", "2025Q4", "2026Q1"]
    through = {"customer_feedback": dt.date(2026, 3, 18), "customer_activity": dt.date(2026, 3, 31),
               "exits": dt.date(2026, 2, 1), "employees": dt.date(2099, 12, 31)}
    surveyed = set(qs)
    as_of = dt.date(2026, 4, 10)
    assert incomplete_quarters(qs, as_of, through, surveyed) == {}
    assert latest_complete(qs, {}) == "2026Q1"
    # one activity table stops before the quarter's last 14 days (from 2026-03-18)
    early = {**through, "customer_feedback": dt.date(2026, 3, 17)}
    why = incomplete_reason("2026Q1", as_of, early, surveyed)
    assert why is not None and "customer_feedback" in why and "2026-03-17" in why and "2026-03-18" in why
    assert latest_complete(qs, incomplete_quarters(qs, as_of, early, surveyed)) == "2025Q4"
    # the quarter is not over on the as-of date, whatever other dates say (a joiner hired next year)
    assert "as-of" in incomplete_reason("2026Q1", dt.date(2026, 3, 30), through, surveyed)
    assert latest_complete(qs, incomplete_quarters(qs, dt.date(2026, 3, 30), through, surveyed)) == "2025Q4"
    # no survey wave in the quarter; the HR export's last exit before the quarter began
    assert "survey" in incomplete_reason("2026Q1", as_of, through, {"2025Q3", "2025Q4"})
    assert "exit" in incomplete_reason("2026Q1", as_of, {**through, "exits": dt.date(2025, 12, 20)}, surveyed)
    # no exit at all in the HR table: exits are not used to judge
    assert incomplete_reason("2026Q1", as_of, {k: v for k, v in through.items() if k != "exits"}, surveyed) is None
    assert latest_complete(qs, {q: "x" for q in qs}) is None


AS_OF = dt.date(2026, 6, 30)


def test_rows_after_the_as_of_date_are_errors(panel_dir: Path) -> None:
    from conftest import set_cells
    from servicechain.validation import DataError

    set_cells(panel_dir, "customer_feedback", "date", {4: "2031-05-02", 9: "2031-06-01"})
    set_cells(panel_dir, "survey", "survey_date", {2: "2026-07-01"})
    set_cells(panel_dir, "internal_service", "quarter", {1: "2031Q2"})
    rep = validate(panel_dir, as_of=AS_OF)
    errors = {(p.file, p.column): p for p in rep.errors}
    assert set(errors) == {("customer_feedback.csv", "date"), ("survey.csv", "survey_date"),
                           ("internal_service.csv", "quarter")}, rep.format()
    fb = errors[("customer_feedback.csv", "date")]
    assert (fb.n_rows, fb.example_rows) == (2, [4, 9]) and "2026-06-30" in fb.message
    assert errors[("survey.csv", "survey_date")].example_rows == [2]
    assert errors[("internal_service.csv", "quarter")].example_rows == [1]
    with pytest.raises(DataError, match=r"customer_feedback.csv, column date: dated after the as-of date 2026-06-30"):
        load(panel_dir, as_of=AS_OF)
    assert validate(panel_dir, as_of=dt.date(2031, 6, 1)).ok  # the same rows are fine as of a later date


def test_future_joiner_is_a_warning_and_not_in_any_headcount(panel_dir: Path) -> None:
    """A joiner hired after the as-of date and a planned leaver: warnings naming the rows; the joiner is in no
    headcount, the leaver is still employed; every quarter's panel equals that of the data without them."""
    from conftest import set_cells
    from servicechain import features

    clean = load(panel_dir, as_of=AS_OF, key=b"k" * 32)
    emp_csv = panel_dir / "employees.csv"
    joiner = "EMP-0031,U2,EMP-0002,Ventas,frontline,2026-09-01,,,30000.0\n"  # row 31: a future joiner
    emp_csv.write_text(emp_csv.read_text() + joiner)
    set_cells(panel_dir, "employees", "exit_date", {29: "2026-08-31"})  # EMP-0029 resigned, leaves later
    set_cells(panel_dir, "employees", "exit_reason", {29: "voluntary"})
    rep = validate(panel_dir, as_of=AS_OF)
    assert rep.ok, rep.format()
    warns = {p.column: p for p in rep.warnings if p.file == "employees.csv"}
    assert warns["hire_date"].example_rows == [31] and "future joiner" in warns["hire_date"].message
    assert warns["exit_date"].example_rows == [29] and "planned leaver" in warns["exit_date"].message
    ds = load(panel_dir, as_of=AS_OF, key=b"k" * 32)
    emp, emp0 = ds.tables["employees"], clean.tables["employees"]
    # the joiner: nowhere; the leaver: still employed, no exit counted - the same table as the clean data's
    assert emp.equals(emp0)
    assert ds.data_through["employees"] <= AS_OF.isoformat()
    a, b = features.unit_quarters(ds.tables), features.unit_quarters(clean.tables)
    assert a.select("unit_id", "quarter", "headcount", "voluntary_exits").equals(
        b.select("unit_id", "quarter", "headcount", "voluntary_exits"))
    # without the as-of rule the joiner would count in the headcount from 2026Q4 on
    from servicechain import quarters, validation

    def heads(e: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
        hc = features.employment_quarters(e.lazy(), quarters.parse("2026Q3"), quarters.parse("2027Q1"), 0)
        return hc.group_by("qi").agg(pl.len(), pl.col("employee_id")).sort("qi").collect()

    raw = heads(validation.check(panel_dir, None, as_of=AS_OF)[1]["employees"])
    assert "EMP-0031" in raw["employee_id"][-1]
    assert heads(emp)["len"].to_list() == heads(emp0)["len"].to_list()


def test_a_joiner_hired_next_year_does_not_complete_a_quarter(panel_dir: Path) -> None:
    """Customer data end in 2025 (plus one activity day in January): 2026Q1 is not complete, however late HR dates run."""
    from conftest import set_cells

    set_cells(panel_dir, "employees", "hire_date", {30: "2026-06-15"})
    ds = load(panel_dir, as_of=AS_OF)
    assert ds.latest_complete_quarter == "2025Q4"
    assert ds.incomplete_quarters["2026Q1"] == "the survey has no answers in 2026Q1"
    assert ds.as_of == AS_OF


def test_latest_is_the_last_quarter_every_activity_table_covers(panel_dir: Path) -> None:
    """Feedback stops in November: 2025Q4 is incomplete, latest is 2025Q3; data_through names the last dates."""
    fb = pl.read_csv(panel_dir / "customer_feedback.csv", try_parse_dates=True)
    fb.filter(pl.col("date") < dt.date(2025, 12, 1)).write_csv(panel_dir / "customer_feedback.csv")
    ds = load(panel_dir, as_of=AS_OF)
    assert ds.latest_complete_quarter == "2025Q3"
    assert set(ds.incomplete_quarters) == {"2025Q4", "2026Q1"}
    assert "customer_feedback has data only through 2025-11-30" in ds.incomplete_quarters["2025Q4"]
    t = panel_tables()
    assert ds.data_through == {
        "employees": max(t["employees"]["hire_date"].max(), t["employees"]["exit_date"].max()).isoformat(),
        "exits": t["employees"]["exit_date"].max().isoformat(),
        "survey": "2025-11-10",
        "recognitions": t["recognitions"]["date"].max().isoformat(),
        "customer_feedback": "2025-11-30",
        "customer_activity": "2026-01-05",
        "trainings": "2025-04-01",
    }


def test_as_of_option() -> None:
    from servicechain.validation import parse_as_of

    today = dt.date(2026, 12, 2)
    assert parse_as_of(None, today) == today and parse_as_of("", today) == today
    assert parse_as_of("2026-09-30", today) == dt.date(2026, 9, 30)
    with pytest.raises(UserError, match="--as-of must be a date YYYY-MM-DD, got '30/09/2026'"):
        parse_as_of("30/09/2026", today)
    with pytest.raises(UserError, match="after today"):
        parse_as_of("2031-01-01", today)


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
    plain = loading.unkey(b)  # ids are dense integers in the copy (issue 17); their pseudonyms are kept beside
    assert b.tables["employees"].collect_schema()["employee_id"] == loading.KEY_DTYPE
    for name, f in b.tables.items():
        assert isinstance(f, pl.LazyFrame) and plain[name].collect().equals(eager[name]), name
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
    """The loader keys the employees' ids from the employees table; that is complete only if validation checks every
    such reference. Customer ids (loading.CUSTOMER_ID_COLUMNS: customer_feedback's, issue 16) are keyed apart, over
    the union of feedback's and activity's ids (loading.pseudonymise_customers)."""
    from servicechain import contract, loading
    from servicechain.validation import _REFERENCES

    refs = {(t, c) for t, c, rt, rc in _REFERENCES if (rt, rc) == ("employees", "employee_id")}
    for t in contract.TABLES.values():
        for c in t.pseudonymise:
            if c in loading.CUSTOMER_ID_COLUMNS:
                continue
            assert (t.name, c) in refs or (t.name, c) == ("employees", "employee_id"), (t.name, c)


def test_validate_command_takes_as_of(panel_dir: Path, capsys: pytest.CaptureFixture) -> None:
    from conftest import set_cells
    from servicechain import cli

    set_cells(panel_dir, "trainings", "date", {3: "2026-02-01"})
    assert cli.main(["validate", "--data", str(panel_dir), "--as-of", "2026-01-31"]) == 1
    out = capsys.readouterr().out
    assert "trainings.csv, column date: dated after the as-of date 2026-01-31 (--as-of, default today) - 1 row (row 3)" in out
    assert cli.main(["validate", "--data", str(panel_dir), "--as-of", "2026-02-01"]) == 0
    out = capsys.readouterr().out
    assert "as of 2026-02-01" in out and "customer_activity 2026-01-05" in out
    assert "Latest complete quarter: 2025Q4" in out
    assert "2026Q1 not complete: 2026Q1 ends on 2026-03-31, after the as-of date 2026-02-01" in out
    assert cli.main(["validate", "--data", str(panel_dir), "--as-of", "2026-02-30"]) == 1
    assert "--as-of must be a date YYYY-MM-DD, got '2026-02-30'" in capsys.readouterr().err


def test_latest_on_an_export_that_stops_early_gives_the_clean_figures(tmp_path: Path) -> None:
    """Customer feedback cut on 2026-08-31: `latest` is 2026Q2 and its overview equals the clean data's 2026Q2
    (instead of a 2026Q3 with a third of its NPS answers)."""
    from servicechain import demo, features

    tables, truth = demo.generate(demo.DemoConfig(employees=60, quarters=3, end_quarter="2026Q3"))
    demo.write(tables, truth, tmp_path / "clean")
    tables["customer_feedback"] = tables["customer_feedback"].filter(pl.col("date") <= dt.date(2026, 8, 31))
    demo.write(tables, truth, tmp_path / "cut")
    as_of = dt.date(2026, 11, 30)
    clean, cut = load(tmp_path / "clean", as_of=as_of), load(tmp_path / "cut", as_of=as_of)
    assert (clean.latest_complete_quarter, cut.latest_complete_quarter) == ("2026Q3", "2026Q2")
    a, b = features.overview(cut.tables, cut.latest_complete_quarter), features.overview(clean.tables, "2026Q2")
    from servicechain.report import dumps_stable  # as published: 8 significant digits (float sums differ in the last bit)

    assert dumps_stable(a) == dumps_stable(b) and a["nps_responses"] > 0


def test_data_quality_page_names_the_as_of_date(panel_dir: Path) -> None:
    from servicechain import i18n, quality_report
    from servicechain.notebook import fmt
    from servicechain.validation import data_quality_summary

    dq = data_quality_summary(load(panel_dir, as_of=AS_OF))
    assert dq.as_of == AS_OF
    en = fmt(i18n.t("dq_kind", "en"), "en", "EUR", **quality_report.summary_values(dq, "en"))
    es = fmt(i18n.t("dq_kind", "es"), "es", "EUR", **quality_report.summary_values(dq, "es"))
    assert "as of **30 June 2026**" in en and "al **30 de junio de 2026**" in es


def test_validate_says_when_no_quarter_is_complete(panel_dir: Path, capsys: pytest.CaptureFixture) -> None:
    from servicechain import cli

    fb = pl.read_csv(panel_dir / "customer_feedback.csv", try_parse_dates=True)
    fb.filter(pl.col("date") < dt.date(2025, 3, 1)).write_csv(panel_dir / "customer_feedback.csv")
    assert cli.main(["validate", "--data", str(panel_dir), "--as-of", "2026-06-30"]) == 0  # valid data, nothing to report
    out = capsys.readouterr().out
    assert "Latest complete quarter: none, so run --quarter latest would stop" in out
    assert "2025Q1 not complete: customer_feedback has data only through 2025-02-" in out


def test_a_hire_date_years_ahead_is_an_error_not_a_future_joiner(panel_dir: Path) -> None:
    """2031 instead of 2021 on a current employee's hire date must not silently drop that person."""
    from conftest import set_cells

    set_cells(panel_dir, "employees", "hire_date", {7: "2031-03-01", 8: "2027-06-30"})
    rep = validate(panel_dir, as_of=AS_OF)
    err = [p for p in rep.errors if p.column == "hire_date"]
    assert len(err) == 1 and err[0].example_rows == [7] and "more than 365 days after the as-of date 2026-06-30" in err[0].message
    warn = [p for p in rep.warnings if p.column == "hire_date" and "future joiner" in p.message]
    assert len(warn) == 1 and warn[0].example_rows == [8]
