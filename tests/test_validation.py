"""Every bad input is a copy of the small valid panel with one thing broken.

Each test checks that the report names the file, the column and (where it
applies) the data row numbers, and that the run exits 1.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from conftest import execute_notebook, set_cells
from servicechain import cli
from servicechain.loading import load
from servicechain.validation import DataError, Problem, validate


def write_xlsx(df: pl.DataFrame, path: Path) -> None:
    """Write an .xlsx with openpyxl (the pinned environment has no xlsxwriter)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(df.columns)
    for row in df.iter_rows():
        ws.append(list(row))
    wb.save(path)


def only(report, file: str, column: str | None = None) -> Problem:
    """The single error about ``file`` (and ``column``)."""
    hits = [p for p in report.errors if p.file == file and (column is None or p.column == column)]
    assert len(hits) == 1, report.format()
    return hits[0]


def test_clean_panel_is_ok(panel_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--data", str(panel_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:")
    assert "8 tables" in out and "2025Q1..2026Q1" in out


def test_cli_reports_every_problem_and_exits_1(panel_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_cells(panel_dir, "survey", "recognition", {3: "7"})
    set_cells(panel_dir, "customer_feedback", "nps", {2: "11"})
    assert cli.main(["validate", "--data", str(panel_dir)]) == 1
    out = capsys.readouterr().out
    assert "2 problems" in out
    assert "survey.csv, column recognition: outside 1-5 - 1 row (row 3)" in out
    assert "customer_feedback.csv, column nps: outside 0-10 - 1 row (row 2)" in out
    assert "Traceback" not in out


def test_missing_table(panel_dir: Path) -> None:
    (panel_dir / "units.csv").unlink()
    p = only(validate(panel_dir), "units.*")
    assert "missing table" in p.message and p.table == "units"


def test_optional_table_may_be_missing(panel_dir: Path) -> None:
    (panel_dir / "trainings.csv").unlink()
    assert validate(panel_dir).ok


def test_missing_column(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "employees.csv", infer_schema=False).drop("hire_date")
    df.write_csv(panel_dir / "employees.csv")
    p = only(validate(panel_dir), "employees.csv", "hire_date")
    assert "missing column" in p.message


def test_wrong_type_number(panel_dir: Path) -> None:
    set_cells(panel_dir, "customer_activity", "revenue", {4: "lots", 9: "n/a"})
    p = only(validate(panel_dir), "customer_activity.csv", "revenue")
    assert p.message == "expected a number" and p.n_rows == 2 and p.example_rows == [4, 9]
    assert p.example_values == ["lots", "n/a"]


def test_wrong_type_in_parquet(panel_parquet: Path) -> None:
    df = pl.read_parquet(panel_parquet / "employees.parquet").with_columns(pl.lit(5).alias("hire_date"))
    df.write_parquet(panel_parquet / "employees.parquet")
    p = only(validate(panel_parquet), "employees.parquet", "hire_date")
    assert "expected a date" in p.message and "Int32" in p.message and p.n_rows == 30


def test_unparseable_dates(panel_dir: Path) -> None:
    set_cells(panel_dir, "survey", "survey_date", {2: "31/02/2025", 7: "yesterday"})
    p = only(validate(panel_dir), "survey.csv", "survey_date")
    assert "expected a date" in p.message and p.example_rows == [2, 7]


def test_likert_out_of_range(panel_dir: Path) -> None:
    set_cells(panel_dir, "survey", "empowerment", {1: "0", 5: "6", 6: "5"})
    p = only(validate(panel_dir), "survey.csv", "empowerment")
    assert p.message == "outside 1-5" and p.example_rows == [1, 5]


def test_extra_survey_item_is_checked_and_free_text_ignored(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "survey.csv", infer_schema=False).with_columns(comment=pl.lit("bien"))
    df.write_csv(panel_dir / "survey.csv")
    set_cells(panel_dir, "survey", "engagement", {10: "9"})
    rep = validate(panel_dir)
    assert only(rep, "survey.csv", "engagement").example_rows == [10]
    assert any(w.column == "comment" and "ignored" in w.message for w in rep.warnings)


def test_nps_out_of_range(panel_dir: Path) -> None:
    set_cells(panel_dir, "customer_feedback", "nps", {3: "-1", 8: "11"})
    p = only(validate(panel_dir), "customer_feedback.csv", "nps")
    assert p.message == "outside 0-10" and p.example_rows == [3, 8]


def test_duplicate_ids(panel_dir: Path) -> None:
    set_cells(panel_dir, "units", "unit_id", {3: "U1"})
    rep = validate(panel_dir)
    p = only(rep, "units.csv", "unit_id")
    assert "duplicate" in p.message and p.example_rows == [1, 3]


def test_unknown_employee_and_unit_references(panel_dir: Path) -> None:
    set_cells(panel_dir, "survey", "employee_id", {4: "EMP-9999"})
    set_cells(panel_dir, "customer_activity", "unit_id", {2: "U7"})
    rep = validate(panel_dir)
    p = only(rep, "survey.csv", "employee_id")
    assert "employees.csv" in p.message and p.example_rows == [4]
    assert p.example_values == []  # raw employee ids are never echoed
    q = only(rep, "customer_activity.csv", "unit_id")
    assert "units.csv" in q.message and q.example_rows == [2] and q.example_values == ["U7"]


def test_exit_before_hire(panel_dir: Path) -> None:
    set_cells(panel_dir, "employees", "exit_date", {6: "2019-12-31"})
    p = only(validate(panel_dir), "employees.csv", "exit_date")
    assert "before hire" in p.message and p.example_rows == [6]


def test_enum_and_required_empty(panel_dir: Path) -> None:
    set_cells(panel_dir, "employees", "role", {2: "Boss", 3: "Frontline"})
    set_cells(panel_dir, "employees", "department", {5: ""})
    rep = validate(panel_dir)
    role = only(rep, "employees.csv", "role")
    assert role.example_rows == [2] and role.example_values == ["Boss"]  # case is ignored, "Frontline" passes
    assert only(rep, "employees.csv", "department").message == "empty value in a required column"


def test_empty_table(panel_dir: Path) -> None:
    (panel_dir / "customer_feedback.csv").write_text("unit_id,date,nps\n")
    p = only(validate(panel_dir), "customer_feedback.csv")
    assert "no data rows" in p.message


def test_empty_file(panel_dir: Path) -> None:
    (panel_dir / "units.csv").write_text("")
    assert "empty" in only(validate(panel_dir), "units.csv").message


def test_parquet_that_is_text(panel_parquet: Path) -> None:
    (panel_parquet / "units.parquet").write_text("unit_id,unit_name\nU1,x\n")
    assert "not a parquet file" in only(validate(panel_parquet), "units.parquet").message


def test_truncated_parquet(panel_parquet: Path) -> None:
    data = (panel_parquet / "survey.parquet").read_bytes()
    (panel_parquet / "survey.parquet").write_bytes(data[: len(data) // 2])
    assert "not a parquet file" in only(validate(panel_parquet), "survey.parquet").message


def test_truncated_xlsx(panel_dir: Path) -> None:
    write_xlsx(pl.read_csv(panel_dir / "units.csv"), panel_dir / "units.xlsx")
    (panel_dir / "units.csv").unlink()
    data = (panel_dir / "units.xlsx").read_bytes()
    (panel_dir / "units.xlsx").write_bytes(data[: len(data) // 2])
    assert "cannot read the Excel file" in only(validate(panel_dir), "units.xlsx").message


def test_binary_garbage_csv(panel_dir: Path) -> None:
    (panel_dir / "trainings.csv").write_bytes(bytes(range(256)) * 4)
    assert "not a text file" in only(validate(panel_dir), "trainings.csv").message


def test_two_files_for_one_table(panel_dir: Path) -> None:
    pl.read_csv(panel_dir / "units.csv").write_parquet(panel_dir / "units.parquet")
    p = only(validate(panel_dir), "units.csv")
    assert "several files" in p.message and "units.parquet" in p.message


def test_survey_warnings_drop_rows(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "survey.csv", infer_schema=False)
    dup = df.head(1)
    blank = df.slice(1, 1).with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in ("recognition", "empowerment", "leadership", "engagement"))
    pl.concat([df, dup, blank]).write_csv(panel_dir / "survey.csv")
    rep = validate(panel_dir)
    assert rep.ok and rep.rejected["survey"] == 2
    assert rep.row_counts["survey"] == df.height
    msgs = [w.message for w in rep.warnings if w.file == "survey.csv"]
    assert any("answered twice" in m for m in msgs) and any("no item answered" in m for m in msgs)


def test_load_raises_data_error_with_full_report(panel_dir: Path) -> None:
    set_cells(panel_dir, "survey", "recognition", {3: "7"})
    set_cells(panel_dir, "employees", "exit_date", {6: "2019-12-31"})
    with pytest.raises(DataError) as err:
        load(panel_dir)
    text = str(err.value)
    assert "survey.csv, column recognition" in text and "employees.csv, column exit_date" in text
    assert err.value.report.rejected["survey"] == 1


def test_missing_data_folder(tmp_path: Path) -> None:
    rep = validate(tmp_path / "nope")
    assert not rep.ok and "not found" in rep.format()


def test_xlsx_table_reads_and_row_numbers_match(panel_dir: Path) -> None:
    df = pl.read_csv(panel_dir / "units.csv", infer_schema=False)
    write_xlsx(df, panel_dir / "units.xlsx")
    (panel_dir / "units.csv").unlink()
    assert validate(panel_dir).ok
    df2 = df.with_columns(pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("U1")).otherwise(pl.col("unit_id")).alias("unit_id"))
    write_xlsx(df2, panel_dir / "units.xlsx")
    assert only(validate(panel_dir), "units.xlsx", "unit_id").example_rows == [1, 2]


def test_data_quality_summary(panel_dir: Path) -> None:
    from servicechain.validation import data_quality_summary

    set_cells(panel_dir, "survey", "leadership", {1: "", 2: ""})
    ds = load(panel_dir)
    dq = data_quality_summary(ds)
    assert dq.tables.filter(pl.col("table") == "survey")["rows"].item() == ds.tables["survey"].height
    cov = dq.coverage.filter(pl.col("table") == "customer_activity")
    assert cov["quarter"].to_list() == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    assert cov["rows"].sum() == ds.tables["customer_activity"].height
    rr = dq.response_rate
    assert rr["quarter"].to_list() == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]  # survey waves only
    emp = ds.tables["employees"]
    start = pl.date(2025, 1, 1)
    head = emp.filter((pl.col("hire_date") <= start) & (pl.col("exit_date").is_null() | (pl.col("exit_date") >= start))).height
    assert rr["headcount"][0] == head
    assert rr["respondents"][0] == ds.tables["survey"].filter(pl.col("survey_date").dt.quarter() == 1)["employee_id"].n_unique()
    miss = dict(zip(dq.missingness["item"], dq.missingness["missing"]))
    assert miss["leadership"] == ds.tables["survey"]["leadership"].null_count() >= 2
    assert miss["recognition"] == 0


@pytest.mark.slow
def test_data_quality_notebook_runs_under_papermill(panel_dir: Path, tmp_path: Path) -> None:
    import json

    results = tmp_path / "results"
    set_cells(panel_dir, "employees", "annual_salary", {4: "500", 9: "700"})  # implausible: below 0.05 x the median
    execute_notebook("00_data_quality", tmp_path / "out.ipynb", data_dir=str(panel_dir), results_dir=str(results))
    out = json.loads((results / "data_quality.json").read_text())
    assert out["kind"] == "panel" and out["latest_complete_quarter"] == "2025Q4"
    assert out["tables"]["survey"]["rows"] > 0 and out["warnings"] == 1
    text = (tmp_path / "out.ipynb").read_text()
    assert "EMP-0" not in text  # no raw employee id in any output
    page, _ = _dq_outputs(tmp_path / "out.ipynb")
    # the implausible salaries are on the page as one counted warning, without their row numbers
    assert ">implausible value: below 0.05 x the median (an hourly or monthly amount, or a lost thousands mark?)</td>" in page  # a long text cell: <td class="sc-wide">
    assert "<td>annual_salary</td>" in page and "4, 9" not in page
    import re
    row = re.search(r"<tr>(?:(?!</tr>).)*below 0.05 x the median(?:(?!</tr>).)*</tr>", page, re.S)
    assert row is not None and re.findall(r"<td[^>]*>([^<]*)</td>", row.group(0))[-1] == "2", row.group(0)


def test_data_readme_documents_every_contract_column() -> None:
    from servicechain import contract

    text = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text()
    for table in contract.ALL_TABLES.values():
        assert f"`{table.name}" in text, table.name
        for col in table.columns:
            assert f"`{col.name}`" in text, (table.name, col.name)


def _dq_outputs(executed: Path) -> tuple[str, list[dict]]:
    """The visible text of an executed notebook 00 (markdown, tables, chart traces and titles) and its chart layouts."""
    import json

    text, layouts = [], []
    for cell in json.loads(executed.read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            fig = data.get("application/vnd.plotly.v1+json")
            if fig:  # the traces (hover texts, labels) and the layout without the template
                layouts.append(fig["layout"])
                text.append(json.dumps([fig["data"], {k: v for k, v in fig["layout"].items() if k != "template"}],
                                       ensure_ascii=False))
            else:
                text += ["".join(data.get("text/markdown", "")), "".join(data.get("text/html", ""))]
    return "\n".join(text), layouts


@pytest.mark.slow
def test_data_quality_notebook_speaks_spanish(tmp_path: Path) -> None:
    """Notebook 00 in Spanish: Spanish headings, findings and number formats, no English heading; same results as English."""
    import json

    from servicechain import demo, i18n

    data = tmp_path / "demo"
    tables, truth = demo.generate(demo.DemoConfig(seed=5, employees=400))
    # damage the survey: 70% of the 2026Q2 wave lost, a quarter of the leadership answers blank, one duplicate
    s = tables["survey"]
    q2 = (s["survey_date"].dt.year() == 2026) & (s["survey_date"].dt.quarter() == 2)
    s = s.filter(~(q2 & (pl.int_range(pl.len()) % 10 < 7)))
    s = s.with_columns(pl.when(pl.int_range(pl.len()) % 4 == 0).then(None).otherwise(pl.col("leadership")).alias("leadership"))
    tables["survey"] = pl.concat([s, s.head(1)])
    demo.write(tables, truth, data)

    runs = {}
    for lang in ("es", "en"):
        out = tmp_path / f"00_{lang}.ipynb"
        execute_notebook("00_data_quality", out, data_dir=str(data), lang=lang, results_dir=str(tmp_path / f"res_{lang}"))
        runs[lang] = _dq_outputs(out)
    es, layouts = runs["es"]
    for spanish in ("# Calidad de los datos", "## Tablas leídas", "## Avisos", "## Cobertura por trimestre",
                    "## Tasa de respuesta de la encuesta", "## Respuestas en blanco por pregunta",
                    ">Tabla</th>", "Filas descartadas", "Encuesta T2 2026 tiene menos de la mitad",
                    "La tasa de respuesta de la encuesta osciló entre", "Liderazgo se deja en blanco en el",
                    "las escribe el validador"):
        assert spanish in es, spanish
    for english in ("Data quality", "Tables read", "Warnings", "Coverage per quarter", "Survey response", "missing",
                    "Rows kept", "Rows rejected", "Quarter", "No warnings", "Share of answers", " rows", " of "):
        assert english not in es, english
    assert all(lay["separators"] == ",." for lay in layouts) and len(layouts) == 3
    assert layouts[2]["xaxis"]["tickformat"] == ".1%"  # blank answers: no repeated 0% ticks
    res = json.loads((tmp_path / "res_es" / "data_quality.json").read_text())
    assert i18n.fmt_pct(res["item_missing_share"]["leadership"], "es", 1) in es  # "25,3 %": decimal comma
    en, en_layouts = runs["en"]
    assert "## Tables read" in en and "Survey Q2 2026 has less than half" in en
    assert all(lay["separators"] == ".," for lay in en_layouts)
    assert res == json.loads((tmp_path / "res_en" / "data_quality.json").read_text())  # results do not depend on lang


# --------------------------------------------------------------------------- servicechain.quality_report (page 00)


def _dq(coverage: dict[str, list[int]] | None = None, rates: list[float] | None = None,
        missing: dict[str, int] | None = None, problems: int = 0):
    """A hand-made DataQualitySummary: ``coverage`` rows per table for 2025Q1.. (0 = the quarter is absent),
    response ``rates`` per wave from 2025Q1 (headcount 200), ``missing`` blank answers per item out of 200."""
    from servicechain.validation import DataQualitySummary

    coverage = {"survey": [100, 100, 100, 100]} if coverage is None else coverage
    rates = [0.75, 0.78, 0.80, 0.77] if rates is None else rates
    missing = {"recognition": 2, "leadership": 6} if missing is None else missing
    qs = [f"2025Q{i + 1}" for i in range(4)] + [f"2026Q{i + 1}" for i in range(4)]
    cov = pl.DataFrame([(t, qs[i], n) for t, ns in coverage.items() for i, n in enumerate(ns) if n > 0],
                       schema={"table": pl.String, "quarter": pl.String, "rows": pl.Int64}, orient="row")
    rr = pl.DataFrame({"quarter": qs[:len(rates)], "headcount": [200] * len(rates),
                       "respondents": [round(200 * r) for r in rates], "response_rate": rates},
                      schema={"quarter": pl.String, "headcount": pl.Int64, "respondents": pl.Int64,
                              "response_rate": pl.Float64})
    miss = pl.DataFrame({"item": list(missing), "answered": [200 - m for m in missing.values()],
                         "missing": list(missing.values()), "missing_share": [m / 200 for m in missing.values()]},
                        schema={"item": pl.String, "answered": pl.Int64, "missing": pl.Int64, "missing_share": pl.Float64})
    probs = pl.DataFrame([("warning", "survey.csv", "leadership", "value out of range 1-5", 3, "4, 9, 12")] * problems,
                         schema={"severity": pl.String, "file": pl.String, "column": pl.String, "message": pl.String,
                                 "n_rows": pl.Int64, "rows": pl.String}, orient="row")
    tables = pl.DataFrame({"table": ["employees", *coverage], "file": ["employees.csv", *(f"{t}.csv" for t in coverage)],
                           "rows": [200, *(sum(v) for v in coverage.values())], "rejected": [0] * (1 + len(coverage))})
    return DataQualitySummary(kind="panel", tables=tables, coverage=cov, response_rate=rr, missingness=miss,
                              problems=probs, quarters=qs[:4], latest_complete_quarter="2025Q4")


def _title_text(fig) -> str:
    """The chart title as one line; any whitespace as one space (charts.wrap splits on the no-break space too)."""
    return _words(fig.layout.title.text.replace("<br>", " "))


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("lang", ["en", "es"])
def test_quality_report_titles_state_the_finding_in_the_language(lang: str) -> None:
    from servicechain import i18n
    from servicechain import quality_report as qr

    dq = _dq()
    cov, rr, miss = qr.coverage_figure(dq, lang), qr.response_rate_figure(dq, lang), qr.missingness_figure(dq, lang)
    q = "T" if lang == "es" else "Q"
    assert _title_text(cov) == _words(i18n.t("dq_title_cov_ok", lang, q0=f"{q}1 2025", q1=f"{q}4 2025"))
    assert _title_text(rr) == _words(i18n.t("dq_title_rr_steady", lang, lo=i18n.fmt_pct(0.75, lang, 0),
                                            hi=i18n.fmt_pct(0.80, lang, 0)))
    leadership = i18n.t("leadership", lang)
    assert _title_text(miss) == _words(i18n.t("dq_title_miss_low", lang, pct=i18n.fmt_pct(0.03, lang, 1),
                                              item=leadership.lower()))
    assert ("Liderazgo" if lang == "es" else "Leadership") == leadership
    for fig in (cov, rr, miss):
        assert fig.layout.separators == (",." if lang == "es" else ".,")
        assert fig.layout.margin.t >= 40 + 26 * (fig.layout.title.text.count("<br>") + 1)  # room for the title
    assert list(cov.data[0].x) == [f"{q}{i} 2025" for i in range(1, 5)]
    assert list(qr.tables_frame(dq, lang)["dq_col_table"]) == [i18n.t("dq_tbl_employees", lang),
                                                             i18n.t("dq_tbl_survey", lang)]
    en, es = (qr.response_rate_figure(dq, lg) for lg in ("en", "es"))
    assert _title_text(en) != _title_text(es) and en.data[0].y == es.data[0].y  # words change, numbers do not


@pytest.mark.parametrize("lang", ["en", "es"])
def test_quality_report_a_gap_quarter_gets_the_gap_title(lang: str) -> None:
    from servicechain import i18n
    from servicechain import quality_report as qr

    q = "T" if lang == "es" else "Q"
    one = qr.coverage_figure(_dq({"survey": [100, 100, 30, 100], "recognitions": [50, 50, 50, 50]}), lang)
    assert _title_text(one) == i18n.t("dq_title_cov_gap1", lang, which=f"{i18n.t('dq_tbl_survey', lang)} {q}3 2025")
    z = dict(zip(one.data[0].y, one.data[0].z))[i18n.t("dq_tbl_survey", lang)]
    assert list(z) == [1.0, 1.0, 0.3, 1.0]  # share of the table's median quarter
    # a quarter with no rows at all counts as 0 (a gap), and the worst gaps are named first
    two = qr.coverage_figure(_dq({"survey": [100, 100, 0, 100], "recognitions": [50, 20, 50, 50]}), lang)
    assert _title_text(two) == i18n.t("dq_title_cov_gaps", lang, n=2, which=(
        f"{i18n.t('dq_tbl_survey', lang)} {q}3 2025, {i18n.t('dq_tbl_recognitions', lang)} {q}2 2025"))
    assert "0" in [t for row in two.data[0].text for t in row]
    many = qr.coverage_figure(_dq({"survey": [100, 10, 10, 100], "recognitions": [50, 5, 5, 50]}), lang)
    assert _title_text(many).startswith(i18n.t("dq_title_cov_gaps", lang, n=4, which="")[:10])
    assert _title_text(many).endswith(" …")  # four gaps, three named
    # exactly half the usual rows is no gap
    assert _title_text(qr.coverage_figure(_dq({"survey": [100, 100, 50, 100]}), lang)).startswith(
        i18n.t("dq_title_cov_ok", lang, q0="", q1="")[:8])


def test_quality_report_other_findings_and_empty_sections() -> None:
    from servicechain import i18n
    from servicechain import quality_report as qr

    dq = _dq(rates=[0.80, 0.45, 0.70], missing={"recognition": 0, "leadership": 50})
    assert _title_text(qr.response_rate_figure(dq, "en")) == "Survey response ranged from 45% (Q2 2025) to 80% (Q1 2025)"
    assert _title_text(qr.missingness_figure(dq, "en")) == i18n.t("dq_title_miss_high", "en", pct="25.0%",
                                                                  item="Leadership")
    assert _title_text(qr.response_rate_figure(_dq(rates=[0.6]), "es")) == _words(i18n.t(
        "dq_title_rr_one", "es", rate=i18n.fmt_pct(0.6, "es", 0), q="T1 2025"))
    assert _title_text(qr.missingness_figure(_dq(missing={"recognition": 0}), "es")) == i18n.t("dq_title_miss_none", "es")
    empty = _dq(coverage={}, rates=[], missing={})
    assert qr.coverage_figure(empty, "en") is None
    assert qr.response_rate_figure(empty, "en") is None
    assert qr.missingness_figure(empty, "en") is None
    probs = qr.problems_frame(_dq(problems=2), "es")
    # one row per check with its count; never the row numbers of individual records (those are validate's)
    assert probs.columns == ["dq_col_severity", "dq_col_file", "dq_col_column", "dq_col_what", "dq_col_n_rows"]
    assert probs["dq_col_severity"].to_list() == ["aviso"] and probs["dq_col_n_rows"].to_list() == [6]
    assert not any("4, 9, 12" in str(v) for row in probs.rows() for v in row)
    assert qr.problems_frame(_dq(), "es").height == 0
    vals = qr.summary_values(dq, "es")
    assert vals["latest"] == "T4 2025" and vals["n"] == 2 and vals["kept"] == 600


def test_quality_report_figures_hold_aggregates_only(panel_dir: Path) -> None:
    import json

    from servicechain import quality_report as qr
    from servicechain.validation import data_quality_summary

    set_cells(panel_dir, "survey", "leadership", {1: "", 2: ""})
    ds = load(panel_dir)
    dq = data_quality_summary(ds)
    ids = set(ds.tables["employees"]["employee_id"].to_list()) | set(ds.tables["survey"]["employee_id"].to_list())
    ids |= {f"EMP-{i:04d}" for i in range(1, 31)}  # the raw ids of the fixture, too
    n_tables, n_quarters = dq.coverage["table"].n_unique(), dq.coverage["quarter"].n_unique()
    figs = {lang: [qr.coverage_figure(dq, lang), qr.response_rate_figure(dq, lang), qr.missingness_figure(dq, lang)]
            for lang in ("en", "es")}
    for cov, rr, miss in figs.values():
        assert [len(tr.z) for tr in cov.data] == [n_tables] and {len(r) for r in cov.data[0].z} == {n_quarters}
        assert len(rr.data) == 1 and len(rr.data[0].y) == dq.response_rate.height == 4  # one bar per wave
        assert len(miss.data) == 1 and len(miss.data[0].x) == dq.missingness.height  # one bar per question
        blob = json.dumps([f.to_plotly_json()["data"] for f in (cov, rr, miss)], default=str)
        assert not [i for i in ids if i in blob], "an employee id in a chart"
    assert sum(sum(r) for r in [[int(t.replace(",", "")) for t in row] for row in figs["en"][0].data[0].text]) == (
        dq.coverage["rows"].sum())  # cell labels are counts per table and quarter
    assert qr.results(dq)["item_missing_share"]["leadership"] == dq.missingness.filter(
        pl.col("item") == "leadership")["missing_share"].item()


# --------------------------------------------------------------------------- plausibility of values (issue 10)


def test_impossible_values_are_errors_naming_file_column_rows(panel_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_cells(panel_dir, "employees", "annual_salary", {2: "-100", 4: "0", 7: "990000000000"})
    set_cells(panel_dir, "employees", "hire_date", {3: "1900-01-01"})
    set_cells(panel_dir, "employees", "exit_date", {5: "9999-12-31"})
    set_cells(panel_dir, "customer_feedback", "date", {6: "1900-01-01"})
    set_cells(panel_dir, "internal_service", "quarter", {1: "9999Q4", 2: "1900Q1"})
    assert cli.main(["validate", "--data", str(panel_dir)]) == 1
    out = capsys.readouterr().out
    assert "7 problems" in out, out  # 9999Q4 once, as a placeholder (not also as after the as-of date)
    assert "internal_service.csv, column quarter: impossible value: on or after 2100Q1 (a placeholder such as 9999Q4) - 1 row (row 1)" in out
    assert ("internal_service.csv, column quarter: impossible value: before 1980Q1 (older than electronic records) "
            "- 1 row (row 2); values: '1900Q1'") in out
    assert ("employees.csv, column annual_salary: impossible value: 0 or less (a salary is more than zero; leave the "
            "cell empty when unknown) - 2 rows (rows 2, 4); values: '-100', '0'") in out
    assert ("employees.csv, column annual_salary: impossible value: 100,000,000,000 or more (no annual salary reaches "
            "100 billion; a unit or separator mix-up) - 1 row (row 7); values: '990000000000'") in out
    assert ("employees.csv, column hire_date: impossible value: before 1920-01-01 (a placeholder date such as "
            "1900-01-01) - 1 row (row 3)") in out
    assert ("employees.csv, column exit_date: impossible value: on or after 2100-01-01 (a placeholder date such as "
            "9999-12-31) - 1 row (row 5)") in out
    assert "customer_feedback.csv, column date: impossible value: before 1980-01-01" in out and "(row 6)" in out
    # the impossible salaries are not counted again as implausible (below 0.05 x the median), and 9999-12-31 is a
    # placeholder, not a planned leaver (after the as-of date)
    assert "implausible" not in out and "Warnings:" not in out, out


def test_snapshot_tenure_of_126_years_is_an_error(tmp_path: Path) -> None:
    pl.DataFrame({"employee_id": [f"a{i}" for i in range(6)], "tenure_years": [1.5, 126, 3, 55, -1, 80],
                  "left": [1, 0, 0, 0, 1, 0]}).write_csv(tmp_path / "snapshot.csv")
    rep = validate(tmp_path)
    got = {(p.severity, p.message.split(" (")[0], tuple(p.example_rows)) for p in rep.problems if p.column == "tenure_years"}
    assert got == {("error", "impossible value: above 80", (2,)), ("error", "impossible value: below 0", (5,)),
                   ("warning", "implausible value: above 50", (4, 6))}


def test_implausible_values_are_counted_warnings_on_the_quality_page(panel_dir: Path) -> None:
    from servicechain import quality_report as qr
    from servicechain.validation import data_quality_summary

    set_cells(panel_dir, "employees", "annual_salary", {2: "500", 9: "12", 4: "9000000"})  # median about 32,000
    set_cells(panel_dir, "employees", "hire_date", {6: "1970-01-01"})
    set_cells(panel_dir, "customer_activity", "revenue", {3: "-20.5"})
    rep = validate(panel_dir)
    assert rep.ok, rep.format()
    got = {(p.file, p.column, p.message.split(" (")[0], p.n_rows, tuple(p.example_rows)) for p in rep.warnings}
    assert got == {
        ("employees.csv", "annual_salary", "implausible value: below 0.05 x the median", 2, (2, 9)),
        ("employees.csv", "annual_salary", "implausible value: above 50 x the median", 1, (4,)),
        ("employees.csv", "hire_date", "implausible value: on or before 1970-01-01", 1, (6,)),
        ("customer_activity.csv", "revenue", "implausible value: below 0", 1, (3,)),
    }
    page = qr.problems_frame(data_quality_summary(load(panel_dir)), "en")
    counts = {(c, w.split(" (")[0]): n for c, w, n in zip(page["dq_col_column"], page["dq_col_what"], page["dq_col_n_rows"])}
    assert counts[("annual_salary", "implausible value: below 0.05 x the median")] == 2
    assert counts[("revenue", "implausible value: below 0")] == 1


def test_value_checks_table_matches_the_validator() -> None:
    """contract.value_checks() (what data/README.md lists) covers every numeric and date column, and each of its
    bands is one the validator applies (messages built from the same Bound)."""
    from servicechain import contract

    rows = contract.value_checks()
    assert {r["class"] for r in rows} == {"error", "warning"}
    covered = {(r["table"], r["column"]) for r in rows}
    for table in contract.ALL_TABLES.values():
        for col in table.columns:
            if col.kind in ("date", "float", "likert", "nps"):
                assert (table.name, col.name) in covered, (table.name, col.name)
    assert {"table": "customer_feedback", "column": "nps", "rule": "not a whole number 0-10", "class": "error"} in rows
    assert {"table": "employees", "column": "annual_salary", "rule": "0 or less", "class": "error"} in rows


def test_nps_and_likert_must_be_whole_numbers(panel_dir: Path) -> None:
    set_cells(panel_dir, "customer_feedback", "nps", {2: "8.5", 5: "9.5", 7: "10.5", 8: "9.0"})
    set_cells(panel_dir, "survey", "recognition", {4: "3.5"})
    set_cells(panel_dir, "survey", "engagement", {6: "4.2"})
    set_cells(panel_dir, "internal_service", "score", {1: "3.3"})  # a mean of ratings: decimals are fine
    rep = validate(panel_dir)
    got = {(p.file, p.column, p.message, tuple(p.example_rows), tuple(p.example_values)) for p in rep.errors}
    assert got == {
        ("customer_feedback.csv", "nps", "not a whole number 0-10 (NPS is asked as a whole number)", (2, 5), ("8.5", "9.5")),
        ("customer_feedback.csv", "nps", "outside 0-10", (7,), ("10.5",)),  # reported once, by the range check
        ("survey.csv", "recognition", "not a whole number 1-5 (another scale needs scale: [low, high] in a mapping)",
         (4,), ("3.5",)),
        ("survey.csv", "engagement", "not a whole number 1-5 (another scale needs scale: [low, high] in a mapping)",
         (6,), ("4.2",)),
    }, rep.format()


def test_likert_rescaled_by_the_mapping_may_be_decimal(panel_dir: Path) -> None:
    """A 1-7 item declared with scale: [1, 7] is rescaled to 1-5 (decimals are fine); undeclared it is an error."""
    df = pl.read_csv(panel_dir / "survey.csv").with_columns(seven=(pl.int_range(pl.len()) % 7 + 1))
    df.write_csv(panel_dir / "survey.csv")
    assert {p.column for p in validate(panel_dir).errors} == {"seven"}  # 6 and 7 are outside 1-5
    cols = "".join(f"      {c}: {c}\n" for c in ("employee_id", "survey_date", "recognition", "empowerment", "leadership"))
    (panel_dir / "mapping.yml").write_text(
        f"tables:\n  survey:\n    columns:\n{cols}      seven: {{column: seven, scale: [1, 7]}}\n")
    rep = validate(panel_dir, panel_dir / "mapping.yml")
    assert rep.ok, rep.format()
    assert rep.items == ["recognition", "empowerment", "leadership", "seven"]
    assert rep.ignored == {"engagement": "not in the mapping"} and "Not read as items: engagement (not in the mapping)" in rep.format()
    ds = load(panel_dir, mapping=panel_dir / "mapping.yml")
    assert sorted(ds.tables["survey"]["seven"].unique().to_list()) == pytest.approx([1 + k * 4 / 6 for k in range(7)])


def test_only_declared_or_unmistakable_items_are_read_and_validate_lists_them(
    panel_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wave number, a copied column, ids, ages, flags and comments are not survey questions; a real 1-5 item is."""
    df = pl.read_csv(panel_dir / "survey.csv", try_parse_dates=True)
    i = pl.int_range(pl.len())
    df = df.with_columns(
        wave=pl.col("survey_date").dt.quarter(),  # 1-4, named like a period
        pulse=pl.col("survey_date").dt.quarter(),  # 1-4, neutral name, but one value per survey date
        points=18 + i % 40,  # numbers, but not on a 0-10 rating scale
        flag=i % 2,  # only two values
        mood=i % 5 + 1,  # a real 1-5 item
        comment=pl.lit("bien"),
    ).with_columns(pl.col("recognition").alias("Recognition duplicated 0"))
    df.write_csv(panel_dir / "survey.csv")
    rep = validate(panel_dir)
    assert rep.ok, rep.format()
    assert rep.items == ["recognition", "empowerment", "leadership", "engagement", "mood"]
    assert rep.ignored == {
        "wave": "its name says key, date, period or group ('wave')",
        "Recognition duplicated 0": "it looks like a copy of column recognition",
        "pulse": "one value per survey date (a wave or period number?)",
        "points": "its values run from 18 to 57, not a rating of 0-10",
        "flag": "only 2 different values",
        "comment": "no numeric values (free text?)",
    }
    assert cli.main(["validate", "--data", str(panel_dir)]) == 0
    out = capsys.readouterr().out
    assert "Items read (5): recognition, empowerment, leadership, engagement, mood" in out
    assert ("Not read as items: wave (its name says key, date, period or group ('wave')); Recognition duplicated 0 "
            "(it looks like a copy of column recognition); ") in out
    assert "survey.csv, column pulse: ignored, not read as a survey item: one value per survey date" in out
    ds = load(panel_dir)
    assert ds.items == rep.items
    assert set(ds.tables["survey"].columns) == {"employee_id", "survey_date", *rep.items}


def test_undeclared_item_on_another_scale_is_an_error_asking_for_scale(panel_dir: Path) -> None:
    """An undeclared 0-10 column with a neutral name is a question, so its 0 and 6-10 answers are errors (not dropped)."""
    df = pl.read_csv(panel_dir / "survey.csv").with_columns(recommend=pl.int_range(pl.len()) % 11)
    df.write_csv(panel_dir / "survey.csv")
    p = only(validate(panel_dir), "survey.csv", "recommend")
    assert p.message == "outside 1-5 (another scale needs scale: [low, high] in a mapping)"
    assert p.example_rows == [1, 7, 8, 9, 10] and p.example_values == ["0", "6", "7"]


@pytest.mark.parametrize(
    "table, column, cells, line",
    [
        ("employees", "annual_salary", {3: "990000000000", 8: "-31000"},
         "employees.csv, column annual_salary: impossible value: 0 or less (a salary is more than zero; leave the cell "
         "empty when unknown) - 1 row (row 8); values: '-31000'"),
        ("customer_feedback", "nps", {4: "8.5", 11: "9.5"},
         "customer_feedback.csv, column nps: not a whole number 0-10 (NPS is asked as a whole number) - 2 rows (rows 4, 11)"),
    ],
)
def test_run_publishes_nothing_on_impossible_salary_or_decimal_nps(
    panel_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, column: str, cells: dict, line: str
) -> None:
    """`servicechain run` stops at validation: exit 1, the problem named (file, column, rows), no report written."""
    set_cells(panel_dir, table, column, cells)
    out = tmp_path / "reports"
    notebooks = Path(__file__).with_name("notebooks")
    rc = cli.main(["run", "--data", str(panel_dir), "--quarter", "latest", "--out", str(out), "--notebooks-dir", str(notebooks)])
    err = capsys.readouterr().err
    assert rc == 1 and line in err and "Traceback" not in err, err
    assert "did not pass validation; nothing was run" in err
    assert not out.exists() or not any(p for p in out.rglob("*") if p.suffix in (".html", ".json"))


def test_data_readme_lists_every_value_check() -> None:
    from servicechain import contract

    text = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text()
    for r in contract.value_checks():
        assert f"| `{r['table']}` | `{r['column']}` | {r['rule']} | {r['class']} |" in text, r


def test_snapshot_without_mapping_reads_only_rating_columns(tmp_path: Path) -> None:
    n = 12
    pl.DataFrame({
        "employee_id": [f"a{i}" for i in range(n)], "tenure_years": [1.5 + i for i in range(n)], "left": [i % 2 for i in range(n)],
        "Age": [25 + i for i in range(n)],  # named as a grouping, and not a rating
        "WorkLifeBalance": [i % 4 + 1 for i in range(n)],  # a 1-4 rating: an item
        "Bonus": [500.0 * i for i in range(n)],  # numbers far outside 0-10
        "Remote": [i % 2 for i in range(n)],  # a 0/1 flag
    }).write_csv(tmp_path / "snapshot.csv")
    rep = validate(tmp_path)
    assert rep.ok, rep.format()
    assert rep.items == ["WorkLifeBalance"]
    assert rep.ignored == {"Age": "its name says key, date, period or group ('age')",
                           "Bonus": "its values run from 0 to 5500, not a rating of 0-10", "Remote": "only 2 different values"}
    assert load(tmp_path).tables["snapshot"].columns[-1] == "WorkLifeBalance"


def _breaking(bound, median: float | None) -> str:
    """A cell value that breaks ``bound`` (just past its limit)."""
    import datetime as dt

    lim = bound.limit
    if isinstance(lim, str):  # a quarter label
        return "1979Q4" if bound.op == "<" else lim
    if isinstance(lim, dt.date):
        return (lim - dt.timedelta(days=1) if bound.op == "<" else lim).isoformat()
    if bound.relative:  # well past the limit: the broken cells move the median a little
        return repr(float(lim * median * (0.5 if bound.op in ("<", "<=") else 2)))
    step = {"<": -1, "<=": 0, ">=": 0, ">": 1}[bound.op] * max(1.0, abs(lim) * 0.01)
    return repr(float(lim + step))


def test_every_panel_band_is_enforced_with_its_message(panel_dir: Path) -> None:
    """Each contract.BOUNDS band of a panel table, broken on its own row, is reported with its class, message and row."""
    from servicechain import contract

    bounds = [b for b in contract.BOUNDS if b.table in contract.TABLES]
    from servicechain import aggregate  # customer_quarters (issue 17) next to the raw activity: both are checked

    aggregate.customer_quarters(pl.read_csv(panel_dir / "customer_activity.csv", try_parse_dates=True)).collect() \
        .write_csv(panel_dir / "customer_quarters.csv")
    where: dict = {}
    for b in bounds:
        rows = where.setdefault((b.table, b.column), {})
        df = pl.read_csv(panel_dir / f"{b.table}.csv")
        median = df[b.column].median() if b.relative else None
        rows[len(rows) + 1] = (b, _breaking(b, median))
    for (table, column), rows in where.items():
        set_cells(panel_dir, table, column, {r: v for r, (_, v) in rows.items()})
    rep = validate(panel_dir)
    for (table, column), rows in where.items():
        for r, (b, v) in rows.items():
            hits = [p for p in rep.problems if p.file == f"{table}.csv" and p.column == column and p.message == b.message]
            assert len(hits) == 1 and r in hits[0].example_rows and hits[0].severity == b.severity, (b, v, rep.format())
