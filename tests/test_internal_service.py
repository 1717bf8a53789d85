"""The internal customer (issue 15): the matrix with its n, CIs and suppression, the weak links, the first link
of the chain recovering the demo's planted effects, and the three shapes of the internal_service table."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from servicechain import demo, features, i18n, internal_service as IS, loading, privacy


@pytest.fixture(scope="module")
def demo_tables():
    tables, truth = demo.generate(demo.DemoConfig())  # the default demo (seed 7, 3,000 employees)
    return features.as_of(tables, "2026Q3"), truth


@pytest.fixture(scope="module")
def link(demo_tables):
    tables, _ = demo_tables
    return IS.first_link(IS.link_panel(tables, features.unit_quarters(tables)), 5, mediation_boot=300)


def test_truth_recovered_inside_the_95pct_intervals_on_the_default_demo(demo_tables, link):
    _, truth = demo_tables
    t = truth["internal_service"]
    eff = link.effects()
    assert set(eff) == set(IS.OUTCOMES)
    assert eff["engagement_mean"].covers(t["engagement"]) and eff["engagement_mean"].significant
    assert eff["nps"].covers(t["nps"])
    assert eff["voluntary_turnover_pct"].covers(t["voluntary_turnover_pct"])
    for o, m in link.models.items():  # the within-unit check is there and covers the truth too
        assert m.unit_fe is not None and m.unit_fe.covers({"engagement_mean": t["engagement"], "nps": t["nps"],
                                                             "voluntary_turnover_pct": 0.0}[o]), o
        assert m.n_units >= 30 and m.controls == list(IS.CONTROLS)
    assert link.mediation is not None and link.mediation.acme.covers(t["nps_through_engagement"])
    assert link.mediation.a.covers(t["engagement"])  # the a path is the engagement effect


def test_engagement_truth_is_the_plug_in_slope_after_rounding(demo_tables):
    _, truth = demo_tables
    t = truth["internal_service"]
    assert 0.85 * t["engagement_latent"] < t["engagement"] < t["engagement_latent"]


def test_matrix_cells_carry_n_and_ci_and_no_cell_below_the_threshold_is_shown(demo_tables):
    tables, _ = demo_tables
    for threshold in (5, 40):
        m = IS.matrix(tables, "2026Q3", threshold)
        c = m.cells
        shown = c.filter(pl.col("suppressed").is_null())
        assert shown.height and (shown["n"] >= threshold).all()
        assert shown.select((pl.col("ci_low") <= pl.col("mean")) & (pl.col("mean") <= pl.col("ci_high"))).to_series().all()
        hidden = c.filter(pl.col("suppressed").is_not_null())
        assert hidden.select(pl.col("mean", "n", "ci_low", "ci_high").is_null().all()).row(0) == (True,) * 4
        # complementary suppression: no client row and no supplier column of a quarter hides exactly one cell
        for g in ("to_department", "from_department"):
            k = c.group_by("quarter", g).agg(pl.col("suppressed").is_not_null().sum().alias("k"), pl.len().alias("cells"))
            assert ((k["k"] != 1) | (k["cells"] == 1)).all(), (threshold, g)
        for d in (m.as_supplier, m.as_client):
            assert (d.filter(pl.col("suppressed").is_null())["n"] >= threshold).all()
    m40 = IS.matrix(tables, "2026Q3", 40)
    assert m40.current()["suppressed"].is_not_null().sum() > IS.matrix(tables, "2026Q3", 5).current()["suppressed"].is_not_null().sum()


def test_the_figure_shows_only_cells_at_or_above_the_threshold(demo_tables):
    tables, _ = demo_tables
    m = IS.matrix(tables, "2026Q3", 30)
    fig = IS.fig_matrix(m, "en", "t", "x", "y")
    texts = [t for row in fig.data[0].text for t in row if "n=" in t]
    ns = [int(t.split("n=")[1].replace(",", "")) for t in texts]
    assert ns and min(ns) >= 30
    js = fig.to_json()
    ids = tables["internal_service"].select(pl.col("rater_id").unique()).collect()["rater_id"].to_list()
    assert ids and not any(i in js for i in ids)  # no person ids


def test_weak_links_find_the_planted_weak_supplier_falling(demo_tables):
    tables, truth = demo_tables
    m = IS.matrix(tables, "2026Q3", 5)
    wl = IS.weak_links(tables, m)
    weak = truth["internal_service"]["weakest_supplier"]
    assert m.front_line == sorted(set(demo.FRONT_DEPT.values()))
    f = wl.front_line_lowest()
    assert f["department"] == weak and f["slope_high"] < 0  # "the front line rates TI 2.4 as a supplier, falling"
    assert wl.weakest()["from_department"] == weak
    assert wl.lowest["mean"].is_sorted() and wl.lowest.height == 5
    assert wl.fell.height and (wl.fell["change"] <= 0).all()
    assert "falling" in IS.headline(wl, "en") and weak in IS.headline(wl, "es")


def test_headline_of_an_export_of_means_quotes_no_empty_interval() -> None:
    """An export of mean scores has no count nor interval: the index said '(95% range –; – ratings)'."""
    low = pl.DataFrame({"from_department": ["TI"], "to_department": ["Logística"], "n": [None], "mean": [2.3],
                        "ci_low": [None], "ci_high": [None]}, schema_overrides={"n": pl.Int64, "ci_low": pl.Float64,
                                                                                 "ci_high": pl.Float64})
    wl = IS.WeakLinks("2026Q3", low, pl.DataFrame(), pl.DataFrame(), [])
    for lang in ("en", "es"):
        h = IS.headline(wl, lang)
        assert "TI" in h and ("2,3" if lang == "es" else "2.3") in h
        assert i18n.MISSING not in h and "95" not in h
    counted = low.with_columns(n=pl.lit(40, pl.Int64), ci_low=pl.lit(2.1), ci_high=pl.lit(2.5))
    assert "40" in IS.headline(IS.WeakLinks("2026Q3", counted, pl.DataFrame(), pl.DataFrame(), []), "es")


def _folder(tmp_path, tables, internal):
    demo.write({**tables, "internal_service": internal}, {"seed": 7}, tmp_path, "csv")
    return tmp_path


def _small():
    tables, _ = demo.generate(demo.DemoConfig(employees=400, quarters=3))
    return tables


def test_the_three_shapes_load_validate_and_give_cells(tmp_path):
    tables = _small()
    ratings = tables["internal_service"]
    counts = ratings.group_by("quarter", "from_department", "to_department").agg(
        pl.col("score").cast(pl.Float64).mean().round(2), pl.len().alias("n"))
    means = counts.drop("n")
    out = {}
    for name, t in (("ratings", ratings), ("counts", counts), ("means", means)):
        ds = loading.load(_folder(tmp_path / name, tables, t))
        it = ds.tables["internal_service"]
        assert IS.shape(it) == name
        if name == "ratings":  # the rater is pseudonymised like every person id
            assert not set(it["rater_id"].to_list()) & set(ratings["rater_id"].to_list())
        out[name] = IS.cells(ds.tables).sort("quarter", "from_department", "to_department")
    r, c, m = out["ratings"], out["counts"], out["means"]
    assert r["n"].to_list() == c["n"].to_list()
    assert np.allclose(r["mean"].to_numpy(), c["mean"].to_numpy(), atol=0.006)
    # counts: the Bhatia-Davis SD bounds the true SD, so the CI is never narrower than the ratings' own
    assert ((c["ci_high"] - c["ci_low"]) >= (r["ci_high"] - r["ci_low"]) - 1e-9).all()
    assert m["n"].is_null().all() and m["ci_low"].is_null().all() and (m["n_bound"] > 0).all()
    sup = IS.suppress(m, 10 ** 6, (("quarter", "to_department"),))
    assert sup["mean"].is_null().all()  # the means shape is suppressed on the client department's headcount
    with_link = IS.link_panel({**tables}, None)
    assert with_link is not None and IS.received_by_unit({**tables, "internal_service": counts}) is None


def test_validate_rejects_a_bad_respondent_count(tmp_path):
    tables = _small()
    counts = tables["internal_service"].group_by("quarter", "from_department", "to_department").agg(
        pl.col("score").cast(pl.Float64).mean().round(2), pl.len().alias("n")).sort("quarter")
    bad = counts.with_columns(pl.when(pl.int_range(pl.len()) == 2).then(0).otherwise(pl.col("n")).alias("n"))
    with pytest.raises(loading.DataError) as e:
        loading.load(_folder(tmp_path, tables, bad))
    assert "internal_service" in str(e.value) and "n" in str(e.value)


def test_received_service_is_the_raters_unit_mean(demo_tables):
    tables, _ = demo_tables
    rec = IS.received_by_unit(tables)
    t = tables["internal_service"].collect().join(tables["employees"].collect().select(
        pl.col("employee_id").alias("rater_id"), "unit_id"), on="rater_id")
    one = rec.sort(f"{IS.EXPOSURE}_n", descending=True).row(0, named=True)
    sub = t.filter((pl.col("unit_id") == one["unit_id"]) & (pl.col("quarter") == one["quarter"]))
    assert sub.height == one[f"{IS.EXPOSURE}_n"] and sub["score"].mean() == pytest.approx(one[IS.EXPOSURE])


@pytest.mark.slow
def test_ci_coverage_over_seeds():
    """The first link's 95% intervals cover the planted truth at about their nominal rate (40 seeds, 1,500
    employees each: ~60 units; the binomial SD of a 95% rate over 40 draws is 3.4 pp, so 85% is 3 SD below)."""
    hits = {o: 0 for o in IS.OUTCOMES}
    n = 40
    for seed in range(100, 100 + n):
        tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=1500))
        t = truth["internal_service"]
        fl = IS.first_link(IS.link_panel(tables, features.unit_quarters(tables)), 5, mediation_boot=0)
        want = {"engagement_mean": t["engagement"], "nps": t["nps"], "voluntary_turnover_pct": 0.0}
        for o, m in fl.models.items():
            hits[o] += m.pooled.covers(want[o])
    rates = {o: h / n for o, h in hits.items()}
    assert all(r >= 0.85 for r in rates.values()), rates


def test_validate_checks_the_rating_shape(tmp_path):
    """One row per rating: a decimal score is an error, a rater not in employees is an error, a department rating
    itself is dropped with a warning."""
    from servicechain import validation

    tables = _small()
    it = tables["internal_service"].with_columns(pl.col("score").cast(pl.Float64))
    row = pl.int_range(pl.len())
    bad = it.with_columns(
        pl.when(row == 3).then(pl.col("from_department")).otherwise(pl.col("to_department")).alias("to_department"),
        pl.when(row == 5).then(3.5).otherwise(pl.col("score")).alias("score"),
        pl.when(row == 7).then(pl.lit("E9999999")).otherwise(pl.col("rater_id")).alias("rater_id"))
    rep = validation.validate(_folder(tmp_path, tables, bad))
    got = {(p.column, p.severity, tuple(p.example_rows)) for p in rep.problems if p.table == "internal_service"}
    assert ("score", "error", (6,)) in got and ("rater_id", "error", (8,)) in got
    assert ("to_department", "warning", (4,)) in got, rep.format()
    ok = validation.validate(_folder(tmp_path / "ok", tables, tables["internal_service"]))
    assert not [p for p in ok.problems if p.table == "internal_service"], ok.format()


def first_link_coverage(n_seeds: int = 40, employees: int = 1500, first: int = 100) -> dict[str, tuple[float, int]]:
    """(share of seeds whose 95% CI covers truth.json's, seeds used) of the first link's pooled and unit-FE
    estimates per outcome, on seeded demos (the slow test's seeds and size); rows of docs/validation.md."""
    hits: dict[str, int] = {}
    used: dict[str, int] = {}
    for seed in range(first, first + n_seeds):
        tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=employees))
        t = truth["internal_service"]
        fl = IS.first_link(IS.link_panel(tables, features.unit_quarters(tables)), 5, mediation_boot=0)
        want = {"engagement_mean": t["engagement"], "nps": t["nps"], "voluntary_turnover_pct": 0.0}
        for o, m in fl.models.items():
            for spec, e in (("pooled", m.pooled), ("unit_fe", m.unit_fe)):
                k = f"internal service received (q-1) -> {o}, {spec}"
                hits.setdefault(k, 0)
                used.setdefault(k, 0)
                if e is not None:
                    hits[k] += int(e.covers(want[o]))
                    used[k] += 1
    return {k: (hits[k] / used[k] if used[k] else float("nan"), used[k]) for k in hits}


if __name__ == "__main__":  # rows of docs/validation.md: python tests/test_internal_service.py [SEEDS]
    import math
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    for k, (c, used) in first_link_coverage(n).items():
        tol = 3 * math.sqrt(0.95 * 0.05 / used)
        se = math.sqrt(c * (1 - c) / used)
        print(f"| {k} (demo, 1,500 employees) | ~50 | {used} | 0.95 | {c:.3f} | {se:.3f} | "
              f"{'yes' if abs(c - 0.95) <= tol else '**no**'} (+/- {tol:.3f}) |", flush=True)
