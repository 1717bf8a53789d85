"""validate catches what run would fail on: which parts of the suite can run on the data, and why not (issue 10).

``preconditions.check`` must agree with the library functions the notebooks call (they raise
exactly when it says a part cannot run); ``validate`` prints its verdict; ``run`` skips a part
that cannot run with a page saying why and still exits 0.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import polars as pl
import pytest

from servicechain import cli, demo, features, finance, i18n, loyalty, preconditions, retention
from servicechain import quarters as Q


def _keep_survey_quarters(tables: dict[str, pl.DataFrame], n: int) -> dict[str, pl.DataFrame]:
    """The same organisation, its survey cut to its last ``n`` quarters."""
    sv = tables["survey"]
    qi = sorted(sv.select(Q.index_expr("survey_date").unique()).to_series().to_list())[-n:]
    return {**tables, "survey": sv.filter(Q.index_expr("survey_date").is_in(qi))}


@pytest.fixture(scope="module")
def org():
    tables, truth = demo.generate(demo.DemoConfig(seed=5, employees=600, quarters=4))
    return tables, truth["quarters"][-1]


def _library_raises(tables, quarter: str) -> dict[str, bool]:
    """Whether the notebooks' own model calls raise ValueError on these tables."""
    cut = features.as_of(tables, quarter)
    out = {}
    try:
        pq, info = features.person_quarters(cut)
        retention.fit_hazard(pq, draws=20, recognition_source=info.recognition_source)
        retention.out_of_time(pq)
        out["retention"] = False
    except ValueError:
        out["retention"] = True
    try:
        loyalty.fit_all(features.unit_quarters(cut))
        out["loyalty"] = False
    except ValueError:
        out["loyalty"] = True
    try:
        finance.analyse(tables, quarter, None, seed=7)
        out["finance"] = False
    except ValueError:
        out["finance"] = True
    return out


@pytest.mark.parametrize("n_quarters", [1, 2, 4])
def test_verdict_matches_what_the_models_do(org, n_quarters):
    tables, quarter = org
    t = _keep_survey_quarters(tables, n_quarters)
    parts = preconditions.check(t, "panel", quarter)
    raised = _library_raises(t, quarter)
    for name in ("retention", "loyalty", "finance"):
        assert parts[name].can_run is not raised[name], (n_quarters, name, parts[name].reason())
    assert parts["retention"].can_run is (n_quarters >= 3)
    assert all(parts[p].can_run for p in ("data_quality", "chain", "summary"))


def test_one_quarter_reasons_in_english_and_spanish(org):
    tables, quarter = org
    parts = preconditions.check(_keep_survey_quarters(tables, 1), "panel", quarter)
    assert parts["retention"].reason("en") == "retention needs surveys in at least 2 quarters; found 1"
    assert parts["retention"].reason("es") == "la retención necesita encuestas en al menos 2 trimestres; hay 1"
    assert parts["loyalty"].reason("en") == "customer loyalty needs surveys in at least 2 quarters; found 1"
    assert parts["finance"].reason("en") == ("money needs the retention and customer models: "
                                             "retention needs surveys in at least 2 quarters; found 1")
    assert parts["finance"].reason("es").startswith("el dinero necesita los modelos de retención y de clientes: "
                                                    "la retención necesita")
    assert parts["data_quality"].reason("en") == ""


def test_two_quarters_name_the_out_of_time_check():
    # an organisation large enough for the hazard model on one outcome quarter (600 people give 9 exits)
    tables, truth = demo.generate(demo.DemoConfig(seed=5, employees=1200, quarters=4))
    t, quarter = _keep_survey_quarters(tables, 2), truth["quarters"][-1]
    parts = preconditions.check(t, "panel", quarter)
    assert not parts["retention"].can_run and parts["finance"].can_run is not _library_raises(t, quarter)["finance"]
    pq, info = features.person_quarters(features.as_of(t, quarter))
    retention.fit_hazard(pq, draws=20, recognition_source=info.recognition_source)  # the model itself fits
    with pytest.raises(ValueError, match="out-of-time"):
        retention.out_of_time(pq)
    assert parts["retention"].reason() == ("retention's out-of-time check (fit on earlier quarters, scored on "
                                           "the last) needs surveys in at least 3 quarters; found 2")


def test_too_few_exits_is_named_with_the_counts(panel_dir):
    # the small fixture panel: 30 employees, survey in 4 quarters, a handful of voluntary exits
    from servicechain import loading

    ds = loading.load(panel_dir, lazy=True)
    parts = preconditions.check(ds.tables, ds.kind, "2025Q4")
    r = parts["retention"]
    assert not r.can_run and r.key == "pre_ret_rows"
    assert r.reason().startswith("the retention model needs at least 50 person-quarters")
    assert f"found {r.values['rows']} and {r.values['exits']}" in r.reason()


def test_fake_datasets_are_not_checked():
    assert all(p.can_run for p in preconditions.check({}, "panel", "2026Q3").values())


def _snapshot(n: int, leavers: int) -> pl.DataFrame:
    return pl.DataFrame({"employee_id": [f"E{i}" for i in range(n)], "tenure_years": [1.0 + i % 7 for i in range(n)],
                         "left": [1 if i < leavers else 0 for i in range(n)],
                         "job_satisfaction": [1 + i % 4 for i in range(n)],
                         "free_text": ["x"] * n})


def test_snapshot_retention_needs_30_complete_rows_and_5_leavers():
    items = ["job_satisfaction", "free_text"]  # a text column is not an item of the model (as in the notebook)
    ok = preconditions.check({"snapshot": _snapshot(30, 5)}, "snapshot", None, items)
    assert set(ok) == {"data_quality", "retention"} and ok["retention"].can_run
    few = preconditions.check({"snapshot": _snapshot(40, 4).lazy()}, "snapshot", None, items)["retention"]
    assert not few.can_run
    assert few.reason() == ("retention on an HR snapshot needs at least 30 people with every item and tenure "
                            "and 5 leavers among them; found 40 and 4")
    with pytest.raises(ValueError):  # what the notebook would do
        retention.fit_snapshot(_snapshot(40, 4), ["job_satisfaction"])
    gaps = _snapshot(35, 6).with_columns(pl.when(pl.col("tenure_years") > 5).then(None)
                                         .otherwise(pl.col("job_satisfaction")).alias("job_satisfaction"))
    assert not preconditions.check({"snapshot": gaps}, "snapshot", None, items)["retention"].can_run


def test_skipped_notebook_has_the_reason_and_no_code():
    nb = preconditions.skipped_notebook(1, "la retención necesita encuestas en al menos 2 trimestres; hay 1", "es")
    assert [c.cell_type for c in nb.cells] == ["markdown"]
    text = nb.cells[0].source
    assert text.startswith("# " + i18n.t("nb_01", "es"))
    assert "hay 1." in text and "no se ha ejecutado" in text


def _write(tables: dict[str, pl.DataFrame], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, df in tables.items():
        df.write_csv(folder / f"{name}.csv")
    return folder


def test_validate_lists_what_cannot_run_and_why(org, tmp_path, capsys):
    tables, _ = org
    data = _write(_keep_survey_quarters(tables, 1), tmp_path / "data")
    assert cli.main(["validate", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK:")
    assert "CANNOT   01 Retention: retention needs surveys in at least 2 quarters; found 1" in out
    assert "CANNOT   02 Customer loyalty: customer loyalty needs surveys in at least 2 quarters; found 1" in out
    assert "CANNOT   04 Money: money needs the retention and customer models" in out
    for ok in ("00 Data quality", "03 The service-profit chain", "05 Executive summary"):
        assert f"can run  {ok}" in out


def test_validate_says_every_part_can_run_on_full_data(org, tmp_path, capsys):
    tables, _ = org
    assert cli.main(["validate", "--data", str(_write(tables, tmp_path / "data"))]) == 0
    out = capsys.readouterr().out
    assert "CANNOT" not in out and out.count("can run ") == 7


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_run_skips_what_cannot_run_publishes_the_rest_and_exits_0(org, tmp_path):
    tables, quarter = org
    data = _write(_keep_survey_quarters(tables, 1), tmp_path / "data")
    out = tmp_path / "reports"
    err, so = io.StringIO(), io.StringIO()
    with redirect_stdout(so), redirect_stderr(err):
        rc = cli.main(["run", "--data", str(data), "--quarter", "latest", "--out", str(out), "--lang", "es",
                       "--jobs", "2"])
    assert rc == 0, err.getvalue()
    rep = out / quarter
    reason = "la retención necesita encuestas en al menos 2 trimestres; hay 1"
    page = (rep / "01_retention.html").read_text(encoding="utf-8")
    assert reason in page and "no se ha ejecutado" in page and "Traceback" not in page
    assert "class=\"plotly-graph-div\"" not in page
    money = (rep / "04_financial_impact.html").read_text(encoding="utf-8")
    assert "el dinero necesita los modelos de retención y de clientes" in money
    # the parts that can run ran, with their charts
    for name in ("00_data_quality", "03_service_profit_chain"):
        assert "class=\"plotly-graph-div\"" in (rep / f"{name}.html").read_text(encoding="utf-8"), name
    assert (rep / "05_executive_summary.html").is_file()
    index = (rep / "index.html").read_text(encoding="utf-8")
    assert "Retención (no ejecutado: datos insuficientes)" in index
    assert "Calidad de los datos (no ejecutado" not in index
    manifest = json.loads((rep / "manifest.json").read_text(encoding="utf-8"))
    status = {n["name"]: (n["status"], n.get("skipped_because")) for n in manifest["notebooks"]}
    assert status["01_retention"] == ("skipped", "retention needs surveys in at least 2 quarters; found 1")
    assert status["02_customer_loyalty"][0] == "skipped" and status["04_financial_impact"][0] == "skipped"
    assert {k: v[0] for k, v in status.items() if k[:2] in ("00", "03", "05")} == {
        "00_data_quality": "ok", "03_service_profit_chain": "ok", "05_executive_summary": "ok"}
    # the quarter at a glance needs no model: the index keeps its cards although 02 was skipped
    metrics = json.loads((rep / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["overview"]["headcount"] > 0 and metrics["overview"]["quarter"] == quarter
    assert "retention" not in metrics and "loyalty" not in metrics and "finance" not in metrics
    log = (rep / "run.log").read_text(encoding="utf-8")
    assert "skip    01_retention: retention needs surveys in at least 2 quarters; found 1" in log
    assert "3 skipped for lack of data" in so.getvalue()


def test_setup_stops_a_notebook_whose_part_cannot_run(org, tmp_path, monkeypatch):
    import IPython.display

    from servicechain import notebook as nb

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    tables, _ = org
    data = _write(_keep_survey_quarters(tables, 1), tmp_path / "data")
    with pytest.raises(nb.PartCannotRun, match=r"^retention needs surveys in at least 2 quarters; found 1$"):
        nb.setup(data_dir=str(data), quarter="latest", lang="es", part="retention")
    assert any("la retención necesita encuestas en al menos 2 trimestres; hay 1" in getattr(o, "data", "")
               for o in shown), shown
    ctx = nb.setup(data_dir=str(data), quarter="latest", lang="es", part="chain")  # the chain can run
    assert ctx.quarter == org[1]


def test_suite_notebooks_name_the_same_part_in_metadata_and_setup():
    import nbformat

    root = Path(__file__).resolve().parents[1] / "notebooks"
    named = {}
    for path in sorted(root.glob("[0-9][0-9]_*.ipynb")):
        nbk = nbformat.read(str(path), as_version=4)
        part = nbk.metadata.get("servicechain", {}).get("part")
        setup = next((c.source for c in nbk.cells if c.cell_type == "code" and "setup(" in c.source), "")
        assert (f'part="{part}"' in setup) if part else ("part=" not in setup), path.name
        if part:
            assert part == preconditions.PARTS[int(path.name[:2])], path.name
            named[path.name[:2]] = part
    assert named == {"01": "retention", "02": "loyalty", "04": "finance", "06": "internal_customer"}


@pytest.mark.parametrize("n_quarters", [2, 4])
def test_counting_panel_gives_the_models_rows(org, n_quarters):
    """The shortcut for the customer join counts exactly the unit-quarters the loyalty models use."""
    tables, quarter = org
    cut = features.as_of(_keep_survey_quarters(tables, n_quarters), quarter)
    fast, real = preconditions._unit_quarters(cut), features.unit_quarters(cut)
    for outcome in ("nps", "customer_retention_pct"):
        a = loyalty.model_rows(fast, outcome).select("unit_id", "quarter").sort("unit_id", "quarter")
        b = loyalty.model_rows(real, outcome).select("unit_id", "quarter").sort("unit_id", "quarter")
        assert b.height > 0 and a.equals(b), outcome


def test_validate_without_a_complete_quarter_claims_no_part(panel_dir, capsys):
    import datetime as dt

    fb = pl.read_csv(panel_dir / "customer_feedback.csv", try_parse_dates=True)
    fb.filter(pl.col("date") < dt.date(2025, 3, 1)).write_csv(panel_dir / "customer_feedback.csv")
    assert cli.main(["validate", "--data", str(panel_dir), "--as-of", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    assert "Parts of the suite on this data: none runs until a quarter is complete (see above)" in out
    assert "can run" not in out


def test_reasons_format_quarters_and_counts_for_the_reader():
    p = preconditions.Part("retention", 1, False, "pre_ret_oot_rows",
                           {"test_quarter": "2026Q2", "rows": 1234, "exits": 3, "min_rows": 50, "min_exits": 10})
    assert p.reason("en").endswith("before Q2 2026; found 1,234 and 3")
    assert p.reason("es").endswith("antes de " + i18n.fmt_quarter("2026Q2", "es") + "; hay 1.234 y 3")
