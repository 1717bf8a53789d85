"""The reading layer (servicechain.reading): file formats, number and date formats of whole columns."""

from __future__ import annotations

import ast
import os
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


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%m/%d/%Y"])
def test_a_column_that_fits_both_orders_follows_the_other_date_columns_of_the_file(panel_dir: Path, fmt: str) -> None:
    emp = pl.read_csv(panel_dir / "employees.csv", try_parse_dates=True)
    exits = [None if d is None else dt.date(2025, 9 + i % 3, 1 + i % 12) for i, d in enumerate(emp.get_column("exit_date").to_list())]
    emp = emp.with_columns(pl.Series("exit_date", exits, dtype=pl.Date))
    emp.with_columns(pl.col("hire_date", "exit_date").dt.strftime(fmt)).write_csv(panel_dir / "employees.csv")
    rep, tables = check(panel_dir)
    assert rep.ok, rep.format()
    got = tables["employees"].collect()
    assert got.get_column("exit_date").to_list() == exits
    assert got.get_column("hire_date").to_list() == emp.get_column("hire_date").to_list()
    (w,) = [p for p in rep.warnings if p.column == "exit_date"]
    assert w.file == "employees.csv" and "like hire_date in the same file" in w.message and "date_format:" in w.message


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


# --------------------------------------------------------------------------- clear messages (issue 10)


def _one_error(folder: Path, mapping: Path | None = None):
    rep = validate(folder, mapping)
    assert len(rep.errors) == 1, rep.format()
    return rep.errors[0]


def _no_library_text(msg: str) -> None:
    for raw in ("Traceback", "polars", "Consider setting", "You might want", "[Errno", "Schema", "strict_cast", "dtype"):
        assert raw not in msg, msg
    assert "\n" not in msg


ID_COLUMNS = {"employees": ["employee_id", "manager_id"], "survey": ["employee_id"], "recognitions": ["receiver_id", "giver_id"],
              "trainings": ["employee_id"]}


def _float_ids(folder: Path) -> None:
    """Rewrite the panel's employee ids as float numbers (EMP-0007 -> 1007.0), as a pandas export with empty cells does."""
    for t, cols in ID_COLUMNS.items():
        df = pl.read_parquet(folder / f"{t}.parquet")
        df.with_columns(
            (pl.col(c).str.extract(r"(\d+)$").cast(pl.Float64) + 1000).alias(c) for c in cols
        ).write_parquet(folder / f"{t}.parquet")


def test_float_ids_with_nan_are_read_as_ids_and_nan_is_empty(panel_parquet: Path) -> None:
    _float_ids(panel_parquet)
    emp = pl.read_parquet(panel_parquet / "employees.parquet")
    emp.with_columns(pl.col("manager_id").fill_null(float("nan"))).write_parquet(panel_parquet / "employees.parquet")
    rep, tables = check(panel_parquet)
    assert rep.ok, rep.format()
    got = tables["employees"].collect()
    assert got.get_column("employee_id").to_list()[:3] == ["1001", "1002", "1003"]
    assert got.get_column("manager_id").to_list()[:5] == [None, None, None, "1001", "1002"]


def test_nan_in_a_required_float_id_is_an_empty_value_with_its_row(panel_parquet: Path) -> None:
    _float_ids(panel_parquet)
    emp = pl.read_parquet(panel_parquet / "employees.parquet")
    emp.with_columns(pl.when(pl.int_range(pl.len()) == 4).then(float("nan")).otherwise(pl.col("employee_id")).alias("employee_id")).write_parquet(
        panel_parquet / "employees.parquet"
    )
    rep = validate(panel_parquet)
    p = [p for p in rep.errors if p.file == "employees.parquet" and p.column == "employee_id"]
    assert len(p) == 1 and p[0].message == "empty value in a required column" and p[0].example_rows == [5]
    for q in rep.errors:
        _no_library_text(q.message)


def test_csv_ids_written_as_floats_match_the_other_tables(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "employees.csv", infer_schema=False)
    df.with_columns(pl.col("employee_id").str.replace("EMP-0*", "") + ".0").write_csv(panel_dir / "employees.csv")
    for t, cols in ID_COLUMNS.items():
        df = pl.read_csv(panel_dir / f"{t}.csv", infer_schema=False)
        df.with_columns(pl.col(c).str.replace("EMP-0*", "") for c in cols if t != "employees" or c != "employee_id").write_csv(
            panel_dir / f"{t}.csv"
        )
    rep, tables = check(panel_dir)
    assert rep.ok, rep.format()
    assert tables["employees"].collect().get_column("employee_id").to_list()[:2] == ["1", "2"]


@pytest.mark.parametrize("code, words", [(5, "input/output error, errno 5"), (13, "permission denied")])
def test_unreadable_file_is_named(panel_dir: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str) -> None:
    real = reading.sniff

    def failing(path: Path):
        if path.name == "units.csv":
            raise OSError(code, os.strerror(code))
        return real(path)

    monkeypatch.setattr(reading, "sniff", failing)
    p = _one_error(panel_dir)
    assert p.file == "units.csv" and words in p.message
    _no_library_text(p.message)


def test_os_error_raised_by_the_reader_is_explained() -> None:
    exc = Exception("failed to read: Input/output error (os error 5)")
    msg = reading.explain_failure(Path("/x/survey.csv"), exc, ",", b"a,b\n1,2\n")
    assert msg.startswith("survey.csv: the file cannot be read (input/output error, errno 5)")


def _write_lines(path: Path, lines: list[str], encoding: str = "utf-8") -> None:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_ragged_csv_row_names_line_and_row(panel_dir: Path, encoding: str) -> None:
    _write_lines(panel_dir / "units.csv", [
        "unit_id,unit_name,region",
        'U1,"Centro, planta 1\nsegunda línea",Madrid',  # a quoted value over two lines: line 3 is still data row 1
        "U2,Norte,Madrid,sobra",
        "U3,Sur,Sevilla",
    ], encoding)
    p = _one_error(panel_dir)
    assert p.file == "units.csv"
    assert p.message == ("line 4 (data row 2) has 4 fields but the header has 3; look there for an extra ',' or a value "
                         "with ',' that needs quotes")


def test_trailing_separator_is_named(panel_dir: Path) -> None:
    _write_lines(panel_dir / "units.csv", ["unit_id;unit_name;region", "U1;Centro;Madrid", "U2;Norte;Madrid;", "U3;Sur;Sevilla;"])
    p = _one_error(panel_dir)
    assert p.message == "line 3 (data row 2) has 4 fields but the header has 3 (also line 4); it ends with an extra ';'"


def test_unmatched_quote_names_line_and_row(panel_dir: Path) -> None:
    _write_lines(panel_dir / "units.csv", ["unit_id,unit_name,region", "U1,Centro,Madrid", 'U2,"Norte,Madrid', "U3,Sur,Sevilla"])
    p = _one_error(panel_dir)
    assert p.file == "units.csv" and p.message.startswith('line 3 (data row 2) opens a quote (") that is never closed')
    _no_library_text(p.message)


def test_folder_and_broken_link_named_like_a_table(panel_dir: Path) -> None:
    (panel_dir / "units.csv").unlink()
    (panel_dir / "units.csv").mkdir()
    p = _one_error(panel_dir)
    assert p.file == "units.csv" and "folder, not a file" in p.message and "missing" not in p.message
    (panel_dir / "units.csv").rmdir()
    os.symlink(panel_dir / "gone" / "units.csv", panel_dir / "units.csv")
    p = _one_error(panel_dir)
    assert p.file == "units.csv" and "broken link" in p.message and str(panel_dir / "gone" / "units.csv") in p.message


def test_broken_link_named_in_the_mapping(panel_dir: Path, tmp_path: Path) -> None:
    (panel_dir / "units.csv").rename(tmp_path / "tiendas_real.csv")
    os.symlink(tmp_path / "nowhere.csv", panel_dir / "tiendas.csv")
    m = tmp_path / "m.yml"
    m.write_text("tables:\n  units:\n    file: tiendas.csv\n")
    p = _one_error(panel_dir, m)
    assert p.file == "tiendas.csv" and "broken link" in p.message


def _workbook(path: Path, sheets: dict[str, list[list]]) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)


UNITS_ROWS = [["unit_id", "unit_name", "region"], ["U1", "Centro", "Madrid"], ["U2", "Norte", "Madrid"], ["U3", "Sur", "Sevilla"]]


def test_xlsx_with_the_data_on_another_sheet(panel_dir: Path, tmp_path: Path) -> None:
    (panel_dir / "units.csv").unlink()
    _workbook(panel_dir / "units.xlsx", {"Portada": [], "Tiendas": UNITS_ROWS, "Notas": [["creado por RRHH"]]})
    p = _one_error(panel_dir)
    assert p.file == "units.xlsx"
    assert "'Portada', 'Tiendas', 'Notas'" in p.message and "set sheet: 'Tiendas'" in p.message
    m = tmp_path / "m.yml"
    m.write_text("tables:\n  units:\n    sheet: Tiendas\n")
    rep, tables = check(panel_dir, m)
    assert rep.ok, rep.format()
    assert tables["units"].collect().get_column("unit_name").to_list() == ["Centro", "Norte", "Sur"]


def test_xlsx_with_an_empty_optional_table_on_its_only_data_sheet_is_no_error(panel_dir: Path) -> None:
    (panel_dir / "trainings.csv").unlink()
    _workbook(panel_dir / "trainings.xlsx", {"Formación": [["employee_id", "date", "program"]], "Notas": [["vacío"]]})
    rep = validate(panel_dir)
    assert rep.ok, rep.format()
    assert any(p.file == "trainings.xlsx" and "no data rows" in p.message for p in rep.warnings)


def test_xlsx_first_sheet_with_other_columns_hints_at_the_other_sheets(panel_dir: Path) -> None:
    (panel_dir / "units.csv").unlink()
    _workbook(panel_dir / "units.xlsx", {"Resumen": [["total", "fecha"], [3, "2025-01-01"]], "Tiendas": UNITS_ROWS})
    rep = validate(panel_dir)
    assert any(p.file == "units.xlsx" and p.column is None and "sheet 'Resumen'" in p.message and "'Tiendas'" in p.message
               and "sheet:" in p.message for p in rep.errors), rep.format()


@pytest.mark.parametrize("sheet, hint", [("Tienda", "did you mean 'Tiendas'? "), ("Hoja9", "")])
def test_wrong_sheet_lists_the_sheets(panel_dir: Path, tmp_path: Path, sheet: str, hint: str) -> None:
    (panel_dir / "units.csv").unlink()
    _workbook(panel_dir / "units.xlsx", {"Portada": [], "Tiendas": UNITS_ROWS})
    m = tmp_path / "m.yml"
    m.write_text(f"tables:\n  units:\n    sheet: {sheet}\n")
    p = _one_error(panel_dir, m)
    assert p.file == "units.xlsx"
    assert p.message == f"no sheet named {sheet!r}; {hint}the workbook has sheets 'Portada', 'Tiendas'; fix sheet: in the mapping"


def test_mapped_column_typo_is_listed_once_with_a_suggestion() -> None:
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp) / "ex"
        shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "examples", d)
        m = d / "mapping.yml"
        m.write_text(m.read_text().replace("YearsAtCompany: tenure_years", "YearsAtCompnay: tenure_years"))
        p = _one_error(d, m)
    assert (p.file, p.column) == ("hr_snapshot.csv", "YearsAtCompnay")
    assert "did you mean YearsAtCompany?" in p.message


def test_duplicated_column_names_are_an_error(panel_dir: Path) -> None:
    lines = (panel_dir / "survey.csv").read_text().splitlines()
    lines = [ln + "," + ln.split(",")[2] for ln in lines]  # a second 'recognition' column
    _write_lines(panel_dir / "survey.csv", lines)
    p = _one_error(panel_dir)
    assert p.file == "survey.csv" and p.message.startswith("duplicated column names: 'recognition' (columns 3, 7)")


def test_duplicated_column_names_differing_in_case_in_xlsx(panel_dir: Path) -> None:
    (panel_dir / "units.csv").unlink()
    rows = [r + [r[2]] for r in UNITS_ROWS]
    rows[0][3] = "Region"
    _workbook(panel_dir / "units.xlsx", {"Tiendas": rows})
    p = _one_error(panel_dir)
    assert p.file == "units.xlsx" and p.message.startswith("duplicated column names: 'region' and 'Region' (columns 3, 4)")


# --------------------------------------------------------------------------- a real-looking Spanish Excel export (issue 10)

SPANISH_MAPPING = """
tables:
  employees:
    file: Plantilla_RRHH.csv
    encoding: cp1252
    delimiter: ";"
    date_format: "%d/%m/%Y"
    columns:
      "Nº empleado": employee_id
      "Código tienda": unit_id
      "Responsable": manager_id
      "Área": department
      "Puesto": role
      "Fecha alta": hire_date
      "Fecha baja": exit_date
      "Motivo baja": exit_reason
      "Salario bruto anual (€)": annual_salary
  units:
    file: Tiendas.csv
    columns: {"Código tienda": unit_id, "Nombre": unit_name, "Región": region}
"""

SALARIES = ["61.910", "2.500,50", "€ 28.450,75", "45.000", "31.234,5", ""]
SALARIES_READ = [61910.0, 2500.5, 28450.75, 45000.0, 31234.5, None]


def test_spanish_excel_export_is_read_exactly(panel_dir: Path, tmp_path: Path) -> None:
    """Excel 'CSV (delimitado por punto y coma)' from a Spanish Windows: cp1252, ';', CRLF, decimal comma,
    thousands '.', dd/mm/yyyy dates and accents in headers and values."""
    emp = pl.read_csv(panel_dir / "employees.csv", try_parse_dates=True)
    salaries = SALARIES + [f"{v:.2f}".replace(".", ",") for v in emp.get_column("annual_salary").to_list()[len(SALARIES):]]
    spanish = emp.select(
        pl.col("employee_id").alias("Nº empleado"),
        pl.col("unit_id").alias("Código tienda"),
        pl.col("manager_id").alias("Responsable"),
        pl.col("department").alias("Área"),
        pl.col("role").alias("Puesto"),
        pl.col("hire_date").dt.strftime("%d/%m/%Y").alias("Fecha alta"),
        pl.col("exit_date").dt.strftime("%d/%m/%Y").alias("Fecha baja"),
        pl.col("exit_reason").alias("Motivo baja"),
        pl.Series("Salario bruto anual (€)", salaries),
    )
    text = spanish.write_csv(separator=";", line_terminator="\r\n")
    (panel_dir / "employees.csv").unlink()
    (panel_dir / "Plantilla_RRHH.csv").write_bytes(text.encode("cp1252"))
    (panel_dir / "units.csv").unlink()
    units = "Código tienda;Nombre;Región\r\nU1;Málaga Centro;Andalucía\r\nU2;A Coruña;Galicia\r\nU3;Logroño Sur;La Rioja\r\n"
    (panel_dir / "Tiendas.csv").write_bytes(units.encode("cp1252"))
    m = tmp_path / "mapping.yml"
    m.write_text(SPANISH_MAPPING, encoding="utf-8")

    rep, tables = check(panel_dir, m)
    assert rep.ok, rep.format()
    got = tables["employees"].collect()
    assert got.get_column("annual_salary").to_list()[: len(SALARIES_READ)] == SALARIES_READ
    assert got.get_column("annual_salary").to_list()[len(SALARIES):] == emp.get_column("annual_salary").to_list()[len(SALARIES):]
    assert got.get_column("hire_date").to_list() == emp.get_column("hire_date").to_list()
    assert got.get_column("exit_date").to_list() == emp.get_column("exit_date").to_list()
    assert got.get_column("department").to_list() == emp.get_column("department").to_list()
    assert "Logística" in got.get_column("department").to_list() and "Atención" in got.get_column("department").to_list()
    assert got.get_column("employee_id").to_list() == emp.get_column("employee_id").to_list()
    u = tables["units"].collect()
    assert u.get_column("unit_name").to_list() == ["Málaga Centro", "A Coruña", "Logroño Sur"]
    assert u.get_column("region").to_list() == ["Andalucía", "Galicia", "La Rioja"]
    # the non-UTF-8 units file was detected (with a warning to check the accents); the mapped one says so too
    notes = {(p.file, p.message.split(":")[0]) for p in rep.warnings}
    assert ("Tiendas.csv", "not UTF-8") in notes
    # the number format was decided by values like 2.500,50 (no guess from the ';' separator)
    assert not [p for p in rep.warnings if p.column == "Salario bruto anual (€)" and "read with" in p.message]


# --------------------------------------------------------------------------- number formats of whole columns


def _numbers(values: list[str | None], delimiter: str | None = None, marks=(None, None)):
    lf = pl.LazyFrame({reading.ROW: list(range(1, len(values) + 1)), "x": values}, schema={reading.ROW: pl.UInt32, "x": pl.String})
    fmt = reading.number_formats(lf, {"x": marks}, delimiter=delimiter)["x"]
    if isinstance(fmt, reading.FormatProblem):
        return fmt
    return fmt, lf.select(reading.parse_number("x", fmt)).collect().to_series().to_list()


@pytest.mark.parametrize(
    "values, delimiter, decimal, thousands, read",
    [
        (["61.910", "1.234.567", "12"], None, ",", "any", [61910.0, 1234567.0, 12.0]),
        (["61.910", "2.500,50", "€ 28.450,75"], None, ",", "any", [61910.0, 2500.5, 28450.75]),
        (["61,91", "0,5", "1234,567"], None, ",", "any", [61.91, 0.5, 1234.567]),
        (["1,234.56", "61.91", "$1,000,000"], None, ".", "any", [1234.56, 61.91, 1000000.0]),
        (["1 234,56", "12,5 %", "-3,25", "1'234,5"], None, ",", "any", [1234.56, 12.5, -3.25, 1234.5]),
        (["9.9e11", "1.5", None, "", "1'234.5"], None, ".", "any", [9.9e11, 1.5, None, None, 1234.5]),
        (["61.910", "45.000"], ";", ",", "any", [61910.0, 45000.0]),
        (["12", "7", "-3", "61 910"], None, ".", "any", [12.0, 7.0, -3.0, 61910.0]),
    ],
)
def test_number_format_decided_from_the_whole_column(values, delimiter, decimal, thousands, read) -> None:
    fmt, got = _numbers(values, delimiter)
    assert (fmt.decimal, fmt.thousands) == (decimal, thousands)
    assert got == read


def test_semicolon_export_assumption_is_a_warning_note() -> None:
    fmt, _ = _numbers(["61.910", "45.000"], ";")
    assert fmt.note and "61.910" in fmt.note and "decimal:" in fmt.note


def test_mixed_number_formats_name_rows_and_values() -> None:
    prob = _numbers(["61,91", "12", "61.91", "0,5", "3.25"])
    assert isinstance(prob, reading.FormatProblem)
    assert prob.message.startswith("mixed number formats: rows 1, 4 use a decimal comma (61,91, 0,5) and rows 3, 5 a decimal point (61.91, 3.25)")
    assert prob.rows == [1, 4, 3, 5] and prob.n_rows == 4 and "decimal: and thousands:" in prob.message


def test_ambiguous_numbers_without_a_semicolon_are_an_error() -> None:
    prob = _numbers(["61.910", "12", "45.000"])
    assert isinstance(prob, reading.FormatProblem)
    assert prob.message.startswith("ambiguous numbers: 61.910 could be a thousands mark '.' or a decimal mark")
    assert prob.rows == [1, 3] and prob.n_rows == 2 and prob.values == ["61.910", "45.000"]


def test_mapping_marks_win() -> None:
    fmt, got = _numbers(["61.910", "1.5"], marks=(".", None))
    assert (fmt.decimal, fmt.thousands) == (".", ",") and got == [61.91, 1.5]  # thousands follow the decimal mark
    fmt, got = _numbers(["61.910", "2.500"], marks=(",", "."))
    assert got == [61910.0, 2500.0]
