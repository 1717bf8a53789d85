"""HR snapshot exports that say something (issue 14).

On a realistic one-sheet export (tests/snapshot_fixture.py: 1,470 rows, 31 columns, no id column, text labels,
WorkLifeBalance "Bad" 31% leavers planted):

* no id column: row numbers become ids, pseudonymised, with a warning;
* odds ratios per step of the user's own answer scale, equal to an independent statsmodels fit on the raw export;
* leaver share by answer (the planted "Bad" 31% recovered) and by department, role, tenure and salary band, with
  small cells hidden and complementary suppression;
* the method sentence names what each item is adjusted for;
* ``servicechain run`` end to end (CSV in English, xlsx in Spanish): the index is labelled with the snapshot's date,
  has the export's cards and executive summary, and the retention page shows the per-answer and by-group shares.
"""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from servicechain import cli, i18n, loading, snapshot
from snapshot_fixture import WLB_COUNTS, WLB_RATES, hr_snapshot, write_snapshot

ITEMS = ["work_life_balance", "job_satisfaction", "environment_satisfaction"]
FOUR = {"Low": 1, "Medium": 2, "High": 3, "Very High": 4}
WLB_CODES = {"Bad": 1, "Good": 2, "Better": 3, "Best": 4}


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_snapshot(tmp_path_factory.mktemp("snap") / "csv", "csv")


@pytest.fixture(scope="module")
def loaded(export_dir: Path):
    ds = loading.load(export_dir, export_dir / "mapping.yml")
    scales = snapshot.item_scales(ds.items, export_dir / "mapping.yml")
    return ds, scales


def test_fixture_is_the_messy_export() -> None:
    raw = hr_snapshot()
    assert raw.shape == (1470, 31)
    assert not [c for c in raw.columns if "id" in c.lower() or "number" in c.lower()]
    assert set(raw["WorkLifeBalance"]) == set(WLB_RATES) and set(raw["Attrition"]) == {"Yes", "No"}


def test_no_id_column_uses_pseudonymised_row_numbers(export_dir: Path, loaded) -> None:
    ds, _ = loaded
    assert ds.kind == "snapshot" and ds.items == ITEMS
    ids = ds.tables["snapshot"]["employee_id"]
    assert ids.n_unique() == 1470 and ids.str.starts_with("E").all()
    assert not ids.str.contains("row").any()  # pseudonymised like any id, not the raw row number
    warn = [p for p in ds.report.warnings if p.column == "employee_id"]
    assert len(warn) == 1 and "row number" in warn[0].message
    # the same row keys the same pseudonym (row-N is what was keyed)
    from servicechain import privacy

    assert ids[0] == privacy.pseudonym("row-1", privacy.resolve_key(None))


def test_item_scales_are_the_users_own(loaded) -> None:
    _, scales = loaded
    wlb = scales["work_life_balance"]
    assert (wlb.low, wlb.high, wlb.steps) == (1.0, 4.0, 3)
    assert wlb.describe() == "Bad → Good → Better → Best"
    assert scales["job_satisfaction"].labels[4.0] == "Very High"  # the mapping's spelling, not lower-cased
    assert snapshot.item_scales(["x"])["x"].describe() == "1–5"  # no mapping: the contract's 1-5


def test_odds_ratio_per_answer_step_equals_independent_statsmodels_fit(loaded) -> None:
    ds, scales = loaded
    sr = snapshot.fit_snapshot(ds.tables["snapshot"], ITEMS, scales)
    # independently: the raw export's text answers as their 1-4 codes, log(1 + years), logit with HC1 errors
    raw = hr_snapshot()
    X = np.column_stack([np.ones(raw.height),
                         raw["WorkLifeBalance"].replace_strict(WLB_CODES).to_numpy().astype(float),
                         raw["JobSatisfaction"].replace_strict(FOUR).to_numpy().astype(float),
                         raw["EnvironmentSatisfaction"].replace_strict(FOUR).to_numpy().astype(float),
                         np.log1p(raw["YearsAtCompany"].to_numpy().astype(float))])
    y = (raw["Attrition"] == "Yes").to_numpy().astype(float)
    ref = sm.GLM(y, X, family=sm.families.Binomial()).fit(cov_type="HC1")
    ci = np.exp(ref.conf_int())
    for i, it in enumerate(ITEMS, start=1):
        o = sr.odds_ratios[it]
        assert o.estimate == pytest.approx(np.exp(ref.params[i]), abs=1e-8)
        assert (o.ci_low, o.ci_high) == pytest.approx((ci[i, 0], ci[i, 1]), abs=1e-8)
    # per step of 1-4 is the per-point odds ratio of the rescaled 1-5 to the power 4/3 (what the old page showed)
    per_point = snapshot.fit_snapshot(ds.tables["snapshot"], ITEMS)
    for it in ITEMS:
        assert sr.odds_ratios[it].estimate == pytest.approx(per_point.odds_ratios[it].estimate ** (4 / 3), rel=1e-6)  # to IRLS tolerance
        assert sr.odds_ratios[it].estimate < per_point.odds_ratios[it].estimate < 1  # per point understated it
    assert sr.n == 1470 and sr.n_left == int(y.sum())
    assert sr.to_dict()["scales"]["work_life_balance"]["labels"] == WLB_CODES


def test_adjusted_for_groups_and_the_method_sentence(loaded) -> None:
    ds, scales = loaded
    sr = snapshot.fit_snapshot(ds.tables["snapshot"], ITEMS, scales)
    assert sr.adjusted_for == ["department", "role", "salary_band"] and sr.n_adjusted == 1470
    assert set(sr.adjusted_odds_ratios) == set(ITEMS)
    assert any("department" in n and "pooled" in n for n in sr.notes)  # Legal (3 people) pooled, said so
    text = snapshot.method_text(sr, "en")
    assert ("adjusted for the other items (work-life balance, job satisfaction and environment satisfaction) "
            "and for log tenure") in text
    assert "also adjusted for department, role and salary band" in text
    assert "holding tenure constant" not in text
    es = snapshot.method_text(sr, "es")
    assert "por las demás preguntas" in es and "logaritmo de la antigüedad" in es
    only = snapshot.fit_snapshot(ds.tables["snapshot"], ["job_satisfaction"], scales, groups=[])
    assert only.adjusted_odds_ratios is None
    assert snapshot.method_text(only, "en") == i18n.t("snap_method_single", "en")


def test_leaver_share_by_answer_recovers_the_threshold(loaded) -> None:
    ds, scales = loaded
    shares = snapshot.leaver_share_by_answer(ds.tables["snapshot"], ITEMS, scales, threshold=5)
    wlb = shares.filter(pl.col("item") == "work_life_balance")
    assert wlb["answer"].to_list() == ["Bad", "Good", "Better", "Best"]  # low to high, the export's words
    assert wlb["employees"].to_list() == [WLB_COUNTS[w] for w in wlb["answer"]]
    got = dict(zip(wlb["answer"], wlb["share"]))
    assert got["Bad"] == pytest.approx(0.31, abs=0.01)  # the planted threshold: "Bad" 31%
    assert all(0.13 <= got[w] <= 0.19 for w in ("Good", "Better", "Best"))  # 14-18% for the others
    bad = wlb.row(0, named=True)
    assert bad["share_low"] > max(got[w] for w in ("Good", "Better", "Best"))  # a threshold, not noise
    assert wlb["suppressed"].null_count() == 4
    # with a threshold of 100, "Bad" (80 people) is hidden and so is the next smallest answer ("Best", 153)
    hidden = snapshot.leaver_share_by_answer(ds.tables["snapshot"], ITEMS, scales, threshold=100)
    h = dict(zip(*hidden.filter(pl.col("item") == "work_life_balance").select("answer", "suppressed")))
    assert h == {"Bad": "small", "Good": None, "Better": None, "Best": "complementary"}
    assert hidden.filter(pl.col("suppressed").is_not_null())["share"].null_count() == 2


def test_leaver_share_by_group_with_suppression(loaded) -> None:
    ds, _ = loaded
    g = snapshot.leaver_share_by_group(ds.tables["snapshot"], threshold=5)
    assert g["group"].unique(maintain_order=True).to_list() == ["department", "role", "tenure_band", "salary_band"]
    dept = {r["level"]: r for r in g.filter(pl.col("group") == "department").iter_rows(named=True)}
    assert dept["Legal"]["suppressed"] == "small" and dept["Legal"]["employees"] is None  # 3 people
    assert dept["Human Resources"]["suppressed"] == "complementary"  # or Legal = total - the others
    raw = hr_snapshot().filter(pl.col("Department") == "Sales")
    assert dept["Sales"]["employees"] == raw.height
    assert dept["Sales"]["share"] == pytest.approx((raw["Attrition"] == "Yes").mean())
    ten = g.filter(pl.col("group") == "tenure_band")
    assert ten["level"].to_list() == list(snapshot.TENURE_BANDS) and ten["employees"].sum() == 1470
    sal = g.filter(pl.col("group") == "salary_band")
    assert sal["level"].to_list() == list(snapshot.SALARY_BANDS)
    assert all(350 <= n <= 390 for n in sal["employees"])  # quartiles
    shown = g.filter(pl.col("suppressed").is_null())
    assert shown["employees"].min() >= 5
    # every breakdown with a hidden cell hides at least two (none can be recovered by subtraction)
    per = g.group_by("group").agg(pl.col("suppressed").is_not_null().sum().alias("k"))
    assert all(k != 1 for k in per["k"])


def _run(data: Path, out: Path, *options: str) -> None:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        rc = cli.main(["run", "--data", str(data), "--mapping", str(data / "mapping.yml"), "--out", str(out),
                       "--jobs", "2", *options])
    assert rc == 0, err.getvalue()


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&quot;", '"')  # keeps no-break spaces


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
@pytest.mark.parametrize("fmt,lang", [("csv", "en"), ("xlsx", "es")])
def test_servicechain_run_on_a_snapshot_without_ids(tmp_path: Path, fmt: str, lang: str) -> None:
    data = write_snapshot(tmp_path / "data", fmt)
    _run(data, tmp_path / "reports", "--lang", lang, "--as-of", "2026-06-30")
    rep = tmp_path / "reports" / "2026Q2"
    m = json.loads((rep / "metrics.json").read_text())
    assert m["overview"]["employees_in_export"] == 1470 and m["overview"]["snapshot_date"] == "2026-06-30"
    bad = next(r for r in m["retention"]["by_answer"] if r["item"] == "work_life_balance" and r["answer"] == "Bad")
    assert bad["share"] == pytest.approx(0.3125) and bad["employees"] == 80
    assert m["retention"]["adjusted_for"] == ["department", "role", "salary_band"]
    index = _text((rep / "index.html").read_text())
    date = i18n.fmt_date(__import__("datetime").date(2026, 6, 30), lang)
    assert i18n.t("snap_report_label", lang, date=date) in index  # the snapshot's date, not a quarter
    assert i18n.fmt_quarter("2026Q2", lang) not in index and i18n.t("not_available", lang) not in index
    for key in ("snap_summary_h", "snap_card_employees", "snap_card_share", "snap_sum_panel", "snap_sum_caveat"):
        assert i18n.t(key, lang) in index, key
    assert i18n.fmt_number(1470, lang) in index and i18n.fmt_pct(236 / 1470, lang, 1) in index
    page = _text((rep / "01_retention.html").read_text())
    for key in ("snap_h_answers", "snap_h_groups", "snap_h_or", "snap_scale", "snap_share_ci"):
        assert i18n.t(key, lang) in page, key
    assert "Bad → Good → Better → Best" in page
    assert i18n.fmt_pct(0.3125, lang, 0) in page  # the "Bad" rate beside the odds ratios
    assert i18n.t("snap_hidden_small", lang, threshold=5) in page  # Legal, 3 people
    assert i18n.t("snap_hidden_complementary", lang) in page
    assert "Legal Counsel" in page and "Sales Executive" in page
    assert i18n.fmt_quarter("2026Q2", lang) not in page
    pack = _text((rep / "pack.html").read_text())  # the one-file pack is labelled like the pages
    assert i18n.t("snap_report_label", lang, date=date) in pack and i18n.fmt_quarter("2026Q2", lang) not in pack
    # aggregates only: neither pseudonyms nor row ids in any page
    for f in rep.glob("*.html"):
        t = f.read_text()
        assert not re.search(r"\bE[0-9a-f]{16}\b", t), f.name
        assert not re.search(r"\brow-\d+\b", t), f.name


def test_figures_one_per_item_and_band_with_the_finding_in_the_title(loaded) -> None:
    ds, scales = loaded
    snap = ds.tables["snapshot"]
    shares = snapshot.leaver_share_by_answer(snap, ITEMS, scales, threshold=100)  # "Bad" and "Best" hidden
    figs = snapshot.answers_figures(shares, 236 / 1470, "en")
    assert len(figs) == 3
    assert list(figs[0].layout.yaxis.ticktext) == ["Good", "Better"]  # hidden answers are not drawn
    figs = snapshot.answers_figures(snapshot.leaver_share_by_answer(snap, ITEMS, scales, 5), 236 / 1470, "en")
    assert figs[0].layout.title.text.replace("<br>", " ").startswith(
        'Work-life balance: 31% of those who answered "Bad" had left, against 14% to 18% for the other answers')
    assert all(len(f.data[0].x) == 4 for f in figs)  # aggregates: one point per answer
    g = snapshot.leaver_share_by_group(snap, 5)
    tenure, salary = snapshot.groups_figures(g, 236 / 1470, "es", snapshot.salary_edges(snap))
    assert list(tenure.layout.yaxis.ticktext)[0] == "Menos de 1 año" and len(salary.data[0].x) == 4
    sr = snapshot.fit_snapshot(snap, ITEMS, scales)
    f = snapshot.odds_figure(sr, "es", "t")
    assert len(f.data) == 2 and 1.0 in f.layout.xaxis.tickvals  # per-item and adjusted, side by side


def test_a_bare_snapshot_without_groups_or_mapping(tmp_path: Path) -> None:
    """Contract names, numbers 1-5, no department/role/salary, no ids: tenure bands only, no adjusted fit, and the
    index still has its cards and summary (a card whose figure is missing is left out, never 'not available')."""
    rng = np.random.default_rng(3)
    n = 200
    rec = rng.integers(1, 6, n)
    left = (rng.random(n) < 1 / (1 + np.exp(-(0.5 - 0.4 * rec)))).astype(int)
    pl.DataFrame({"tenure_years": rng.integers(0, 15, n), "left": left, "recognition": rec}).write_csv(
        tmp_path / "snapshot.csv")
    ds = loading.load(tmp_path)
    snap = ds.tables["snapshot"]
    sr = snapshot.fit_snapshot(snap, ds.items, snapshot.item_scales(ds.items))
    assert sr.adjusted_odds_ratios is None and sr.scales["recognition"].describe() == "1–5"
    g = snapshot.leaver_share_by_group(snap, 5)
    assert set(g["group"]) == {"tenure_band"}
    m = {"overview": snapshot.snapshot_overview(snap, "2026-03-31"),
         "retention": {**sr.to_dict(), "by_answer": snapshot.leaver_share_by_answer(snap, ds.items, None, 5).to_dicts(),
                       "by_group": g.to_dicts()}}
    s = snapshot.executive_summary(m, "en")
    assert s.export.startswith("The HR export of 31 March 2026 lists 200 employees")
    assert len(s.points) >= 2 and "recognition" in s.points[-2].lower()
    assert [c["key"] for c in snapshot.index_cards(m, "en")] == ["employees_in_export", "headcount", "left",
                                                                   "leaver_share"]
    assert snapshot.index_cards({}, "en") == []
    ctx = snapshot.index_context(m, "es")
    assert ctx["quarter_label"] == "Foto fija de RR. HH. del 31 de marzo de 2026"


def test_snapshot_too_small_for_retention_still_has_its_index(tmp_path: Path) -> None:
    """01 skipped (20 rows): the index still shows the export's figures, with the snapshot's date, and says where
    the rest would be and that it did not run (from preconditions.fallback_results, no model)."""
    from servicechain import preconditions

    df = pl.DataFrame({"employee_id": [f"E{i}" for i in range(20)], "tenure_years": [1.0] * 20,
                       "left": [1, 0] * 10, "recognition": [3.0] * 20})
    import datetime as dt

    res = preconditions.fallback_results("retention", {"snapshot": df.lazy()}, "2026Q1", dt.date(2026, 3, 31))
    assert res["overview"] == {"quarter": "2026Q1", "headcount": 10, "employees_in_export": 20, "left": 10,
                               "leaver_share": 0.5, "snapshot_date": "2026-03-31"}
    s = snapshot.executive_summary({"overview": res["overview"]}, "en")
    assert "lists 20 employees; 10 of them had left (50%)" in s.export
    assert s.points == [i18n.t("snap_sum_not_run", "en")]
    assert preconditions.fallback_results("retention", {"survey": df}, "2026Q1") == {}  # a panel: nothing here
