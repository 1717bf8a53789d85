"""The analyst's library (issue 14): setup() in an interactive kernel, the quarter check, notebook 05's threshold,
result objects an analyst can look at, subgroup fits, charts outside the suite."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nbformat
import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from conftest import execute_notebook
from servicechain import demo, features, retention, summary
from servicechain import notebook as nb
from servicechain.estimates import Estimate, ResultMixin, Summary, estimates_frame


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded demo organisation (1,200 employees, 5 quarters ending 2026Q3) on disk."""
    out = tmp_path_factory.mktemp("demo")
    tables, truth = demo.generate(demo.DemoConfig(seed=11, employees=1200, quarters=5))
    demo.write(tables, truth, out)
    return out


@pytest.fixture(scope="module")
def panel(demo_dir: Path) -> pl.DataFrame:
    from servicechain import loading

    ds = loading.load(demo_dir)
    pq, _ = features.person_quarters(features.as_of(ds.tables, ds.latest_complete_quarter))
    return pq


@pytest.fixture(autouse=True)
def _restore_warning_filters():
    with warnings.catch_warnings():
        yield


def _separated_glm() -> None:
    """A logit with perfect separation: statsmodels warns (PerfectSeparationWarning)."""
    x = np.array([0.0, 1, 2, 3, 4, 5])
    sm.GLM(np.array([0.0, 0, 0, 1, 1, 1]), sm.add_constant(x), family=sm.families.Binomial()).fit()


# ------------------------------------------------------------------------------------------ setup() and warnings


def test_interactive_setup_keeps_statsmodels_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    nb.setup(quarter="2026Q3", load=False)
    assert "PYTHONWARNINGS" not in __import__("os").environ  # nothing leaks into processes the analyst starts
    with pytest.warns(Warning, match="[Ss]eparation"):
        _separated_glm()


def test_unattended_run_silences_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")  # what run.kernel_env gives every notebook's kernel
    assert nb.unattended() and nb.publishing()
    nb.setup(quarter="2026Q3", load=False)
    with warnings.catch_warnings(record=True) as caught:
        _separated_glm()
    assert caught == []


def test_quiet_silences_one_block_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    nb.setup(quarter="2026Q3", load=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with nb.quiet():
            _separated_glm()
        assert caught == []
        _separated_glm()
    assert caught, "the filter is restored after the with block"


# ------------------------------------------------------------------------------------------ the quarter parameter


def test_a_quarter_outside_the_data_says_the_usable_range(demo_dir: Path) -> None:
    with pytest.raises(nb.QuarterNotInData) as err:
        nb.setup(data_dir=str(demo_dir), quarter="2027Q1")
    msg = str(err.value)
    assert "2027Q1" in msg and "2025Q3 to 2026Q3" in msg and "latest" in msg
    # Jupyter shows the sentence, not a traceback
    assert err.value._render_traceback_() == [f"QuarterNotInData: {msg}"]
    with pytest.raises(nb.QuarterNotInData, match="2026Q3"):
        nb.setup(data_dir=str(demo_dir), quarter="2026-Q3")
    es = pytest.raises(nb.QuarterNotInData, nb.setup, data_dir=str(demo_dir), quarter="2027Q1", lang="es")
    assert "no está en los datos" in str(es.value)
    assert nb.setup(data_dir=str(demo_dir), quarter="2026Q1").quarter == "2026Q1"


def test_an_early_quarter_keeps_the_model_and_says_why_not_the_out_of_time_check(demo_dir: Path) -> None:
    ctx = nb.setup(data_dir=str(demo_dir), quarter="2025Q4", part="retention")
    assert set(ctx.unavailable) == {"out_of_time"} and "3 quarters" in ctx.unavailable["out_of_time"]
    with pytest.raises(nb.PartCannotRun, match="at least 2 quarters") as err:  # the first quarter: nothing to fit
        nb.setup(data_dir=str(demo_dir), quarter="2025Q3", part="retention")
    assert len(err.value._render_traceback_()) == 1


def test_notebook_01_in_an_early_quarter_shows_what_it_can(demo_dir: Path, tmp_path: Path) -> None:
    out = execute_notebook("01_retention", tmp_path / "01.ipynb", data_dir=str(demo_dir), quarter="2025Q4")
    run = nbformat.read(out, as_version=4)
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) + str(o.get("text", ""))
                     for c in run.cells if c.cell_type == "code" for o in c.outputs)
    assert not [o for c in run.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert "The out-of-time check cannot be shown for" in text and "at least 3 quarters" in text
    figures = [o for c in run.cells if c.cell_type == "code" for o in c.outputs
               if "application/vnd.plotly.v1+json" in o.get("data", {})]
    assert len(figures) >= 2  # the hazard model's charts are there


# ------------------------------------------------------------------------------------------ notebook 05's threshold


def _published(root: Path, threshold_field: dict) -> Path:
    rep = root / "reports" / "2026Q3"
    rep.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "servicechain"\n', encoding="utf-8")
    metrics = {"quarter": "2026Q3", "overview": {"headcount": 1200, "voluntary_turnover_rate": 0.1}, **threshold_field}
    (rep / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return rep


def test_threshold_statement_follows_the_published_figures(tmp_path: Path) -> None:
    rep = _published(tmp_path, {"summary": {"anonymity_threshold": 5}})
    loaded = summary.load_metrics("", "latest", tmp_path / "reports")
    assert summary.figures_threshold(loaded) == 5
    assert summary.threshold_note(loaded, 5, "en") == (5, "")
    made, note = summary.threshold_note(loaded, 10, "en")
    assert made == 5 and "threshold of 5" in note and "(10)" in note
    # older reports: the manifest's parameters; nothing recorded: no number claimed
    (rep / "metrics.json").write_text(json.dumps({"quarter": "2026Q3"}), encoding="utf-8")
    (rep / "manifest.json").write_text(json.dumps({"parameters": {"anonymity_threshold": 7}}), encoding="utf-8")
    assert summary.figures_threshold(summary.load_metrics("", "latest", tmp_path / "reports")) == 7
    (rep / "manifest.json").unlink()
    loaded = summary.load_metrics("", "latest", tmp_path / "reports")
    made, note = summary.threshold_note(loaded, 10, "es")
    assert made is None and "no registra" in note
    methods = summary.build(loaded.metrics, "en", threshold=made).section("methods").body
    assert "smaller than" not in methods and "not record which threshold" in methods
    # in a run the run's own parameter is the one
    assert summary.threshold_note(summary.Loaded({}, "run", "2026Q3"), 10, "en") == (10, "")


def test_notebook_05_states_the_threshold_its_figures_were_made_with(tmp_path: Path, monkeypatch) -> None:
    _published(tmp_path, {"summary": {"anonymity_threshold": 5}})
    monkeypatch.setenv("SERVICECHAIN_ROOT", str(tmp_path))
    out = execute_notebook("05_executive_summary", tmp_path / "05.ipynb", cwd=tmp_path, anonymity_threshold=10)
    run = nbformat.read(out, as_version=4)
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) for c in run.cells if c.cell_type == "code"
                     for o in c.outputs)
    assert "no group smaller than 5 people" in text
    assert "smaller than 10" not in text
    assert "made with an anonymity threshold of 5, not this notebook's parameter (10)" in text


# ------------------------------------------------------------------------------------------ result objects


def test_odds_ratio_frame_has_the_se_of_the_log_odds_ratio() -> None:
    e = Estimate.from_normal("x", -0.2, 0.05, 100, "log-odds")
    frame = estimates_frame([e.exp()])
    assert frame["se"].to_list() == [pytest.approx(0.05)]
    assert frame["ci_low"][0] == pytest.approx(np.exp(-0.2 - 1.959964 * 0.05), rel=1e-6)


def _check_display(res: ResultMixin, must: tuple[str, ...]) -> None:
    r = repr(res)
    assert len(r.splitlines()) <= 6 and len(r) < 1200, r
    assert "cov" not in r and "[[" not in r
    s = res.summary()
    assert isinstance(s, Summary)
    text = str(s)
    for word in must:
        assert word in text, (word, text)
    html = res._repr_html_()
    assert html.count("<table") >= 1 and len(html) < 20_000
    frame = res.to_frame()
    assert isinstance(frame, pl.DataFrame) and frame.height > 0
    assert {"estimate", "ci_low", "ci_high"} <= set(frame.columns) or {"p10", "p50", "p90"} <= set(frame.columns)


def test_hazard_result_display_and_statsmodels_access(panel: pl.DataFrame) -> None:
    haz = retention.fit_hazard(panel, draws=100)
    _check_display(haz, ("events", "clusters", "person-quarters", "recognition_per_month", "odds ratio"))
    f = haz.to_frame()
    assert set(f["quantity"]) == {"log-odds", "odds ratio", "annual pp"}
    assert f.filter(pl.col("quantity") == "odds ratio")["se"].null_count() == 0
    sm_res = haz.statsmodels_result(panel)
    k = len(haz.drivers)
    np.testing.assert_allclose(np.asarray(sm_res.params)[1:k + 1], haz.params[1:k + 1], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(sm_res.bse)[1:k + 1], [haz.effects[d].se for d in haz.drivers], rtol=1e-5)
    assert haz.coefficients().height == len(haz.names)


def test_subgroup_fit_drops_constant_columns_and_says_so(panel: pl.DataFrame) -> None:
    front = panel.filter(pl.col("role") == "frontline")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sub = retention.fit_hazard(front, draws=100)
    assert not [w for w in caught if "rank" in str(w.message).lower()], [str(w.message) for w in caught]
    assert sub.dropped == ["role[frontline]", "role[manager]"] and sub.converged
    assert any("role[frontline], role[manager]" in n for n in sub.notes)
    assert "role[manager]" in str(sub.summary())
    # same driver estimates as statsmodels on the design without the constant columns
    sm_res = sub.statsmodels_result(front)
    k = len(sub.drivers)
    np.testing.assert_allclose(np.asarray(sm_res.params)[1:k + 1], sub.params[1:k + 1], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(sm_res.bse)[1:k + 1], [sub.effects[d].se for d in sub.drivers], rtol=1e-5)
    # predictions keep one layout: the dropped columns count 0
    assert sub.predict(front.drop_nulls(list(sub.drivers)).head(20)).shape == (20,)
    assert sub.coefficients().filter(pl.col("dropped"))["name"].to_list() == ["role[frontline]", "role[manager]"]
    # the full fit drops nothing
    assert retention.fit_hazard(panel, draws=20).dropped == []


def test_a_driver_that_does_not_vary_is_an_error_not_a_silent_zero(panel: pl.DataFrame) -> None:
    flat = panel.with_columns(pl.lit(3.0).alias("empowerment"))
    with pytest.raises(ValueError, match="empowerment"):
        retention.fit_hazard(flat, draws=20)


def test_many_points_warn_interactively_and_stop_a_published_report(monkeypatch: pytest.MonkeyPatch) -> None:
    import plotly.graph_objects as go

    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    nb.setup(quarter="2026Q3", load=False)
    fig = go.Figure(go.Scatter(x=list(range(6000)), y=list(range(6000))))
    with pytest.warns(UserWarning, match="group_by"):
        nb._check_figure(fig, nb.MAX_POINTS)
    monkeypatch.setenv("PYTHONWARNINGS", "ignore")  # inside servicechain run
    with pytest.raises(ValueError, match="Aggregate first"):
        nb._check_figure(fig, nb.MAX_POINTS)
    nb.setup(quarter="2026Q3", load=False, results_dir=str(Path("/tmp/unused-results")))
    monkeypatch.delenv("PYTHONWARNINGS")
    with pytest.raises(ValueError, match="hist"):  # results_dir given: a report is being made
        nb._check_figure(fig, nb.MAX_POINTS)


@pytest.fixture(scope="module")
def tables(demo_dir: Path) -> tuple[dict, str]:
    from servicechain import loading

    ds = loading.load(demo_dir)
    return ds.tables, ds.latest_complete_quarter


def test_loyalty_chain_and_mediation_results_display(tables) -> None:
    from servicechain import chain, loyalty, mediation

    tabs, q = tables
    uq = features.unit_quarters(features.as_of(tabs, q))
    unit = loyalty.fit_unit_model(uq, "nps")
    _check_display(unit, ("unit-quarters", "clusters", "CR2", "recognition_per_month"))
    assert unit.to_frame()["name"].to_list() == list(unit.effects)
    _check_display(loyalty.fit_all(uq), ("nps pooled", "nps unit_fe", "customer_retention_pct pooled"))
    rep = chain.analyse(tabs, q, seed=7)
    med = next(iter(next(iter(rep.mediation.values())).values()))
    _check_display(med, ("indirect", "share_mediated", "clusters", "bootstrap"))
    assert med.sensitivity in str(med.summary())
    kd = next(iter(rep.importance.values()))
    _check_display(kd, ("share of R2", "clusters"))
    df = pl.DataFrame({"x": np.arange(60.0) % 7, "m": np.arange(60.0) % 5, "y": np.arange(60.0) % 3,
                       "g": np.arange(60) % 12})
    gen = mediation.mediate(df, "x", "m", "y", cluster="g", n_boot=50, seed=1)
    _check_display(gen, ("acme", "clusters", "rho"))
    assert "rho" in gen.summary()  # a Summary still answers `in` like the text it prints


def test_finance_results_display(tables) -> None:
    from servicechain import finance

    tabs, q = tables
    res = finance.analyse(tabs, q)
    _check_display(res, ("draws", "net_value", "exits_avoided"))
    head = res.headline
    _check_display(head, ("net_value", "P(net value > 0)"))
    f = head.to_frame()
    net = f.filter(pl.col("name") == "net_value").row(0, named=True)
    assert (net["p10"], net["p50"], net["p90"]) == pytest.approx(head.q("net_value"))
    assert isinstance(head.summary("en"), dict)  # with a language: the metrics.json record, as before
    assert res.to_frame()["scenario"].n_unique() == len(res.scenarios)


def test_early_attrition_and_snapshot_results_display(tables) -> None:
    tabs, q = tables
    try:
        ea = retention.fit_early_attrition(features.as_of(tabs, q), q)
    except ValueError:
        pytest.skip("too few early exits on this small demo")
    _check_display(ea, ("hires followed", "clusters", "odds ratio"))
    assert ea.model_result is not None and np.allclose(np.asarray(ea.model_result.params)[1],
                                                        ea.effects[ea.drivers[0]].estimate)


# ------------------------------------------------------------------------------------------ charts and the theme


def _est_frame() -> pl.DataFrame:
    return pl.DataFrame({"name": ["recognition", "leadership"], "estimate": [-0.2, 0.1], "ci_low": [-0.3, -0.1],
                         "ci_high": [-0.1, 0.3]})


def test_charts_take_lang_by_keyword_and_look_right_without_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    import plotly.io as pio

    from servicechain import charts, theme

    monkeypatch.setattr(nb, "_CURRENT", None)
    monkeypatch.setattr(pio.templates, "default", "plotly")  # a kernel that never called nb.setup()
    fig = charts.forest(_est_frame(), lang="es", title="T", x_title="x")
    assert fig.layout.template.layout.font.family == theme.FONT and fig.layout.separators == ",."
    assert "Reconocimiento" in fig.layout.yaxis.ticktext
    assert charts.forest(_est_frame(), title="T", x_title="x").layout.separators == ".,"  # English by default
    monkeypatch.setattr(nb, "_CURRENT", nb.Context(Path("."), None, "2026Q3", "es", 5, 7, None, None, None))
    assert charts.forest(_est_frame(), title="T", x_title="x").layout.separators == ",."  # the notebook's language
    cal = pl.DataFrame({"mean_predicted": [0.1, 0.2], "observed_rate": [0.12, 0.18], "n": [50, 50]})
    assert charts.calibration(cal, lang="en", title="T", x_title="p", y_title="o").layout.template.layout.font.family \
        == theme.FONT


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="needs Debian's chromium")
def test_the_theme_keeps_an_analysts_px_axis_title_off_the_tick_labels(tmp_path: Path) -> None:
    import plotly.express as px
    from plotly.offline import get_plotlyjs
    from playwright.sync_api import sync_playwright

    from conftest import CHROMIUM, LAUNCH_ARGS
    from servicechain import theme

    theme.use()
    df = pl.DataFrame({"exits": [12000, 15000], "role": ["frontline staff", "support"]}).to_pandas()
    fig = px.bar(df, x="exits", y="role", orientation="h", title="Exits")
    page = tmp_path / "px.html"
    page.write_text("<html><head><script>" + get_plotlyjs() + "</script></head><body>"
                    + fig.to_html(full_html=False, include_plotlyjs=False, default_width="500px",
                                  default_height="260px", div_id="f") + "</body></html>", encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            pg = browser.new_page()
            pg.goto(page.as_uri())
            pg.wait_for_selector("#f .ytitle")
            title = pg.eval_on_selector("#f .ytitle", "e => e.getBoundingClientRect().right")
            labels = pg.eval_on_selector_all("#f .ytick text", "es => Math.min(...es.map(e => e.getBoundingClientRect().left))")
        finally:
            browser.close()
    assert title <= labels, f"y title ends at {title:.0f} px, over tick labels starting at {labels:.0f} px"


def test_odds_ratio_axes_get_labels_inside_one_decade() -> None:
    from servicechain import charts

    ors = pl.DataFrame({"name": ["recognition", "leadership"], "estimate": [0.81, 0.72], "ci_low": [0.76, 0.65],
                        "ci_high": [0.87, 0.80]})
    ax = charts.forest(ors, lang="en", title="T", x_title="OR", ref=1.0, log_x=True).layout.xaxis
    assert list(ax.tickvals) == [0.7, 0.8, 0.9, 1.0] and ax.dtick is None  # D2 would label only "1"
    assert charts.log_ticks(0.4, 3.3) == {"dtick": "D2"}  # 0.5, 1, 2: enough 1-2-5 labels


def test_tables_in_lab_hide_the_phone_scroll_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, **kw: shown.append(obj.data))
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    nb.setup(quarter="2026Q3", load=False)
    nb.table(pl.DataFrame({"role": ["frontline"], "n": [12]}))
    assert shown[-1].startswith("<style>.sc-scroll-hint { display: none; }</style>")
    nb.setup(quarter="2026Q3", load=False, results_dir="/tmp/unused-results")  # a report: its stylesheet decides
    nb.table(pl.DataFrame({"role": ["frontline"], "n": [12]}))
    assert shown[-1].startswith("<div class=\"sc-scroll\"")


def test_snapshot_result_display() -> None:
    from servicechain import snapshot

    rng = np.random.default_rng(3)
    n = 400
    sat = rng.integers(1, 6, n).astype(float)
    wlb = rng.integers(1, 6, n).astype(float)
    ten = rng.gamma(2.0, 3.0, n)
    p = 1 / (1 + np.exp(-(0.5 - 0.35 * sat - 0.1 * wlb - 0.1 * ten)))
    df = pl.DataFrame({"job_satisfaction": sat, "work_life_balance": wlb, "tenure_years": ten,
                       "left": (rng.random(n) < p).astype(int)})
    sr = snapshot.fit_snapshot(df, ["job_satisfaction", "work_life_balance"])
    _check_display(sr, ("employees", "leavers", "HC1", "job_satisfaction", "odds ratio"))
    f = sr.to_frame()
    assert f["se"].null_count() == 0  # the SE of the log odds ratio, no longer null
    np.testing.assert_allclose(f.filter(pl.col("name") == "job_satisfaction")["se"][0], sr.model_result.bse[1])
