"""Service-profit chain: Shapley R², mediation on generated data with known truth, suppression, notebook 03."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import execute_notebook
import polars as pl
import pytest

from servicechain import chain, demo, features
from servicechain.estimates import Estimate


def _ols_r2(X: np.ndarray, y: np.ndarray) -> float:
    Xc = np.column_stack([np.ones(len(y)), X])
    beta, *_ = np.linalg.lstsq(Xc, y, rcond=None)
    resid = y - Xc @ beta
    return 1.0 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))


def _correlated(n: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n, 1))
    return 0.6 * common + rng.normal(size=(n, k))


def test_shapley_contributions_sum_to_full_model_r2() -> None:
    X = _correlated(400, 5, 1)
    rng = np.random.default_rng(2)
    y = X @ np.array([0.5, 0.3, 0.0, -0.2, 0.1]) + rng.normal(size=400)
    r2, phi = chain.shapley_r2(X, y)
    assert r2 == pytest.approx(_ols_r2(X, y), abs=1e-10)
    assert phi.sum() == pytest.approx(r2, abs=1e-12)
    # Every single-driver and leave-one-out R² agrees with lstsq (the subset solver is right, not only the sum).
    masks = chain.subset_masks(5)
    S = chain._scatter(np.column_stack([X, y]), np.zeros(400, int), np.ones((1, 400)))
    v = chain._subset_r2(S, masks)[:, 0]
    for s in (1, 2, 4, 8, 16, 0b10110, 0b11101):
        assert v[s] == pytest.approx(_ols_r2(X[:, masks[s]], y), abs=1e-10)


def test_shapley_with_strata_is_the_within_r2() -> None:
    rng = np.random.default_rng(3)
    X = _correlated(300, 3, 4)
    st = rng.integers(0, 4, 300)
    y = X @ np.array([1.0, 0.5, 0.0]) + 2.0 * st + rng.normal(size=300)
    r2, phi = chain.shapley_r2(X, y, strata=st)
    D = (st[:, None] == np.arange(1, 4)).astype(float)
    rss = lambda A: np.sum((y - A @ np.linalg.lstsq(A, y, rcond=None)[0]) ** 2)  # noqa: E731
    one = np.ones((300, 1))
    within = 1 - rss(np.column_stack([one, D, X])) / rss(np.column_stack([one, D]))
    assert r2 == pytest.approx(within, abs=1e-10)
    assert phi.sum() == pytest.approx(r2, abs=1e-12)


def test_irrelevant_driver_gets_about_zero_share() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    x1 = rng.normal(size=n)
    x2 = 0.5 * x1 + rng.normal(size=n)
    noise_driver = rng.normal(size=n)
    y = x1 + 0.8 * x2 + rng.normal(size=n)
    rows = pl.DataFrame({"a": x1, "b": x2, "c": noise_driver, "y": y,
                         "unit_id": [f"U{i % 50}" for i in range(n)], "quarter": ["2025Q1"] * n})
    res = chain.key_drivers(rows, "y", ("a", "b", "c"), reps=100, seed=1)
    assert res.share["c"].estimate < 0.005
    assert res.share["a"].estimate > 0.3 and res.share["b"].estimate > 0.3
    assert sum(res.share[d].estimate for d in "abc") == pytest.approx(1.0)
    assert sum(res.contribution[d].estimate for d in "abc") == pytest.approx(res.r2.estimate)
    for d in "abc":
        assert res.share[d].ci_low <= res.share[d].estimate <= res.share[d].ci_high
    again = chain.key_drivers(rows, "y", ("a", "b", "c"), reps=100, seed=1)
    assert again.share["a"].ci_low == res.share["a"].ci_low  # seeded


def _clustered(seed: int, units: int = 30, quarters: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (values, quarter codes, unit codes) with unequal unit sizes and some unit-quarters missing."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, units, 700)
    st = rng.integers(0, quarters, 700)
    Z = _correlated(700, 4, seed + 1) + st[:, None] * 0.5 + 10.0  # far from zero: rounding has to cope
    return Z, st, g


def test_bootstrap_from_unit_statistics_equals_reweighting_the_rows() -> None:
    """Replicates built from per-unit sufficient statistics are the row-weighted computation, to rounding."""
    Z, st, g = _clustered(8)
    G = int(g.max()) + 1
    counts = chain._boot_counts(G, 25, 3)
    W = counts[:, g].astype(float)
    S_rows = chain._scatter(Z, st, W)
    S_units = chain._scatter_from_stats(chain._unit_scatter_stats(Z, st, g, G), counts)
    np.testing.assert_allclose(S_units, S_rows, rtol=1e-8, atol=1e-8 * np.abs(S_rows).max())
    cross = chain._group_cross(g, G, Z)
    direct = np.einsum("rn,np,nq->rpq", W, Z, Z)
    np.testing.assert_allclose(chain._replicate_sums(counts, cross, chunk=7), direct, rtol=1e-12)
    assert chain._boot_counts(G, 25, 3) is counts and not counts.flags.writeable  # cached, shared read-only


def test_mediation_point_estimates_are_ols() -> None:
    """a = slope of M on X, b and c' = slopes of Y on M and X (with quarter effects), as plain least squares."""
    rng = np.random.default_rng(4)
    units, qs = 60, ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    rows = []
    for u in range(units):
        ux = rng.normal()
        for i, q in enumerate(qs):
            rows.append({"unit_id": f"U{u:03d}", "qi": 8100 + i, "quarter": q, "respondents": 8, "headcount": 20,
                         "nps_responses": 30, "recognition_mean": 3 + ux + rng.normal(0, 0.3),
                         "empowerment": 3 + rng.normal(0, 0.5), "leadership": 3 + rng.normal(0, 0.5),
                         "voluntary_turnover_pct": 5 - ux + rng.normal(0, 1), "nps": 20 + 3 * ux + rng.normal(0, 5)})
    uq = pl.DataFrame(rows)
    res = chain.fit_mediation(uq, "voluntary_turnover_pct", "nps", reps=50, seed=1)
    lag = ["l", "l_empowerment", "l_leadership"]  # EX in q-1: the index and the drivers this panel has
    fr = chain.mediation_frame(uq, "voluntary_turnover_pct", "nps").drop_nulls(lag)
    x = fr["x"].to_numpy()
    x = (x - x.mean()) / x.std(ddof=1)
    qd = (fr["quarter"].to_numpy()[:, None] == np.array(sorted(set(fr["quarter"])))[None, 1:]).astype(float)
    one = np.ones(len(x))
    a = np.linalg.lstsq(np.column_stack([one, x, qd]), fr["m"].to_numpy(), rcond=None)[0][1]
    bc = np.linalg.lstsq(np.column_stack([one, x, fr["m"].to_numpy(), fr.select(lag).to_numpy(), qd]),
                         fr["y"].to_numpy(), rcond=None)[0]
    tot = np.linalg.lstsq(np.column_stack([one, x, qd]), fr["y"].to_numpy(), rcond=None)[0][1]
    assert res.a.estimate == pytest.approx(a, rel=1e-9)
    assert res.b.estimate == pytest.approx(bc[2], rel=1e-9)  # adjusted for EX in q-1
    assert res.indirect.estimate == pytest.approx(a * bc[2], rel=1e-9)
    assert res.total.estimate == pytest.approx(tot, rel=1e-9)
    assert res.direct.estimate == pytest.approx(tot - a * bc[2], rel=1e-9)
    assert res.adjusted_for == ("ex_index_q-1", "empowerment_q-1", "leadership_q-1")
    assert -1 < res.rho_at_zero < 1 and "rho" in res.sensitivity
    assert res.a.ci_low < res.a.estimate < res.a.ci_high


def test_too_many_drivers_is_refused() -> None:
    X = np.random.default_rng(0).normal(size=(100, 7))
    with pytest.raises(ValueError, match="1..6"):
        chain.shapley_r2(X, X.sum(1))


def _uq(effect: float, seed: int = 3, employees: int = 6000) -> pl.DataFrame:
    cfg = demo.DemoConfig(seed=seed, employees=employees)
    cfg.set_effect(f"loyalty.voluntary_turnover_pct={effect}")
    tables, _ = demo.generate(cfg)
    return features.unit_quarters(tables)


@pytest.mark.slow
def test_indirect_effect_found_when_turnover_matters_and_not_when_it_does_not() -> None:
    strong = chain.fit_mediation(_uq(-2.0), "voluntary_turnover_pct", "nps", reps=500, seed=7)
    assert strong.reps == 500 and strong.n_units > 100 and strong.n_obs > 800
    assert strong.a.ci_high < 0  # better EX, fewer leavers
    assert strong.b.covers(-2.0)
    assert strong.indirect.ci_low > 0  # EX -> fewer leavers -> higher NPS
    assert strong.total.estimate == pytest.approx(strong.direct.estimate + strong.indirect.estimate)
    null = chain.fit_mediation(_uq(0.0), "voluntary_turnover_pct", "nps", reps=500, seed=7)
    assert null.indirect.ci_low <= 0 <= null.indirect.ci_high
    d = null.to_dict()
    assert set(d) >= {"a", "b", "direct", "indirect", "total", "share_mediated", "n_obs", "n_units"}
    json.dumps(d)


def test_default_demo_recovers_the_turnover_links() -> None:
    tables, truth = demo.generate(demo.DemoConfig(seed=7, employees=3000))
    uq = features.unit_quarters(tables)
    nps = chain.fit_mediation(uq, "voluntary_turnover_pct", "nps", reps=500)
    ret = chain.fit_mediation(uq, "voluntary_turnover_pct", "customer_retention_pct", reps=500)
    assert nps.b.covers(truth["loyalty"]["voluntary_turnover_pct"])
    assert ret.b.covers(truth["customer_retention"]["voluntary_turnover_pct"])
    assert nps.indirect.estimate > 0 and ret.indirect.estimate > 0


def _random_breakdown(seed: int, threshold: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    regions = [f"R{i}" for i in range(int(rng.integers(2, 6)))]
    rows = []
    for r in regions:
        for u in range(int(rng.integers(1, 6))):
            for d in ("empowerment", "leadership"):
                n = int(rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 40]))
                rows.append({"region": r, "unit": f"{r}-u{u}", "driver": d, "n": n, "mean": float(rng.uniform(1, 5))})
    units = pl.DataFrame(rows)
    regs = units.group_by("region", "driver").agg(
        pl.col("n").sum(), ((pl.col("mean") * pl.col("n")).sum() / pl.col("n").sum()).alias("mean"))
    return units, regs


@pytest.mark.parametrize("seed", range(40))
def test_suppression_leaves_nothing_small_or_recoverable(seed: int) -> None:
    thr = 5
    units, regs = _random_breakdown(seed, thr)
    u, r = chain.suppress_hierarchy(units, regs, thr)
    assert u.height == units.height and r.height == regs.height
    orig = units.rename({"n": "n0"}).select("unit", "driver", "n0")
    u = u.join(orig, on=["unit", "driver"])
    shown = u.filter(pl.col("suppressed").is_null())
    assert (shown["n0"] >= thr).all() and shown["mean"].null_count() == 0
    assert (u.filter(pl.col("n0").is_between(1, thr - 1))["suppressed"].is_not_null()).all()
    # Regions within the organisation: never exactly one region hidden per driver.
    r_hidden = r.group_by("driver").agg(pl.col("suppressed").is_not_null().sum().alias("k"))
    assert (r_hidden["k"] != 1).all()
    assert (r.filter(pl.col("suppressed").is_null())["n"] >= thr).all()
    # Units within a shown region: never exactly one (answered) unit hidden; within a hidden region, at least one.
    per = (u.filter(pl.col("n0") > 0).group_by("region", "driver")
           .agg(pl.col("suppressed").is_not_null().sum().alias("k"), pl.len().alias("units"))
           .join(r.select("region", "driver", pl.col("suppressed").is_not_null().alias("region_hidden")),
                 on=["region", "driver"]))
    assert per.filter(~pl.col("region_hidden") & (pl.col("k") == 1)).height == 0
    assert per.filter(pl.col("region_hidden") & (pl.col("k") == 0)).height == 0


def test_heatmap_cells_on_demo_hide_small_units_and_figure_says_so() -> None:
    tables, _ = demo.generate(demo.DemoConfig(seed=11, employees=1200, quarters=4))
    q = tables["survey"]["survey_date"].max()
    quarter = f"{q.year}Q{(q.month - 1) // 3 + 1}"
    cells = chain.driver_heatmap_cells(features.as_of(tables, quarter), quarter, threshold=5)
    u = cells["unit"]
    assert u.filter(pl.col("suppressed").is_null())["n"].min() >= 5
    assert u["suppressed"].is_not_null().any()
    fig = chain.heatmap_figure(u, "es", 5, by="unit")
    hover = [h for row in fig.data[0].hovertext for h in row]
    assert any(h.endswith("oculto (< 5 personas respondieron)") for h in hover)
    z = np.array(fig.data[0].z, dtype=float)
    assert np.isnan(z).sum() == u["mean"].null_count()


def test_priority_quadrants() -> None:
    rng = np.random.default_rng(0)
    n = 600
    X = rng.normal(size=(n, 3))
    y = 2 * X[:, 0] + 0.5 * X[:, 1] + rng.normal(size=n)
    rows = pl.DataFrame({"recognition": X[:, 0], "empowerment": X[:, 1], "leadership": X[:, 2], "nps": y,
                         "unit_id": [f"U{i % 40}" for i in range(n)], "quarter": ["2025Q1"] * n})
    res = chain.key_drivers(rows, "nps", ("recognition", "empowerment", "leadership"), reps=50)
    quad = chain.priority_quadrants([res], {"recognition": 2.1, "empowerment": 3.6, "leadership": 3.4})
    got = dict(zip(quad["driver"], quad["quadrant"]))
    assert got == {"recognition": "fix_first", "empowerment": "monitor", "leadership": "monitor"}
    assert quad["driver"][0] == "recognition"
    assert "Recognition" in chain.quadrant_headline(quad, "en")


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_chain_notebook_runs_under_papermill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    cfg = demo.DemoConfig(seed=3, employees=900, quarters=5)
    tables, truth = demo.generate(cfg)
    demo.write(tables, truth, data)
    results = tmp_path / "results"
    execute_notebook("03_service_profit_chain", tmp_path / "out.ipynb", data_dir=str(data), results_dir=str(results), lang="es")
    out = json.loads((results / "chain.json").read_text())
    assert {"mediation", "importance", "priorities"} <= set(out)
    assert out["mediation"]["voluntary_turnover_pct"]["nps"]["indirect"]["ci_low"] is not None
    for rows in out["importance"].values():
        assert {"driver", "share", "ci_low", "ci_high", "performance"} <= set(rows[0])
    text = (tmp_path / "out.ipynb").read_text()
    assert "employee_id" not in text and "E00000" not in text
    assert "Asociación, no causalidad" in text or "asociación, no causalidad" in text


def _gap_estimate(est: float, lo: float, hi: float) -> Estimate:
    return Estimate("region_gap", est, (hi - lo) / 4, lo, hi, 0.05, 100, "x")


def test_region_title_names_a_region_only_beyond_the_noise():
    cells = pl.DataFrame({"region": ["Norte", "Sur"], "driver": ["leadership"] * 2, "n": [50, 60], "mean": [3.101, 3.107]})
    perf = {"leadership": {"mean": 3.1, "n": 110}, "recognition": {"mean": 2.3, "n": 110}}
    noisy = chain.region_heat_headline(cells, perf, "2026Q3", "en", gap=("Norte", _gap_estimate(-0.006, -0.2, 0.19)))
    assert noisy.startswith("No region stands out in Q3 2026") and "Norte" not in noisy
    assert "Norte" not in chain.region_heat_headline(cells, perf, "2026Q3", "en", gap=None)
    clear = chain.region_heat_headline(cells, perf, "2026Q3", "es", gap=("Norte", _gap_estimate(-0.8, -1.1, -0.5)))
    assert clear.startswith("Norte puntúa más bajo en el T3 2026, 0,80 puntos por debajo")


def test_region_gap_recovers_an_injected_gap_and_finds_none_by_chance():
    tables, truth = demo.generate(demo.DemoConfig(seed=3, employees=1500, quarters=3))
    q = truth["quarters"][-1]
    base = chain.region_gap(tables, q)
    assert base is not None and base[1].ci_low < 0 < base[1].ci_high  # the demo's regions differ by chance only
    region = tables["units"]["region"].unique().sort()[0]
    ids = tables["employees"].join(tables["units"], on="unit_id").filter(pl.col("region") == region)["employee_id"]
    items = [c for c in ("recognition", "empowerment", "leadership") if c in tables["survey"].columns]
    hit = pl.col("employee_id").is_in(ids.implode())
    shifted = {**tables, "survey": tables["survey"].with_columns(
        [pl.when(hit).then(pl.col(c) - 1.0).otherwise(pl.col(c)).alias(c) for c in items])}
    low, gap = chain.region_gap(shifted, q)
    assert low == region and gap.ci_high < 0
    assert gap.ci_low < gap.estimate < gap.ci_high and "Bonferroni" in gap.scale


def test_rank_stability_counts_resamples_that_keep_the_order():
    point = np.array([0.5, 0.3, 0.2])
    draws = np.array([[0.5, 0.2, 0.6, 0.5], [0.3, 0.4, 0.3, 0.3], [0.2, 0.1, 0.1, 0.2]])  # 4 resamples
    rank, held = chain.rank_stability(point, draws)
    assert rank.tolist() == [1, 2, 3]
    assert held.tolist() == [0.75, 0.75, 1.0]  # only resample 2 swaps the first two
    r2, h2 = chain.rank_stability(point, np.empty((3, 0)))
    assert r2.tolist() == [1, 2, 3] and np.isnan(h2).all()


def test_a_chain_link_is_bold_only_when_its_interval_excludes_zero():
    """Page 03's path sentence: 'a range that includes no effect is never a bold finding' (issue 13 review)."""
    from servicechain import i18n

    clear = Estimate("b", 0.5, 0.1, 0.3, 0.7, 0.001, 100, "nps")
    null = Estimate("b", -0.2, 0.18, -0.57, 0.15, 0.3, 100, "nps")
    for lang in ("en", "es"):
        assert chain.fmt_ci_md(clear, lang, 2, "chain_u_nps").startswith("**") and \
            chain.fmt_ci_md(clear, lang, 2, "chain_u_nps").endswith("**")
        assert "**" not in chain.fmt_ci_md(null, lang, 2, "chain_u_nps")
        words = i18n.WORDS[lang]["chain_path_md"]
        assert not any(f"**{{{k}}}" in words for k in ("a", "b_nps", "b_ret", "ind_nps", "ind_ret")), words
