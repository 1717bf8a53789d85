"""Small-cluster inference of the unit-level models: CR2 (Bell-McCaffrey) with Satterthwaite df."""

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats

from servicechain import i18n, loyalty


def _brute_cr2(X, e, g):
    """Textbook CR2 and Bell-McCaffrey df with the full n x n residual maker (tiny data only)."""
    n, p = X.shape
    M = np.linalg.inv(X.T @ X)
    H = X @ M @ X.T
    IH = np.eye(n) - H
    meat = np.zeros((p, p))
    Gs = []
    for c in range(p):
        Gs.append([])
    for gv in np.unique(g):
        ix = np.flatnonzero(g == gv)
        w, V = np.linalg.eigh(IH[np.ix_(ix, ix)])
        A = V @ np.diag(1 / np.sqrt(w)) @ V.T
        s = X[ix].T @ A @ e[ix]
        meat += np.outer(s, s)
        for c in range(p):
            Gc = IH[:, ix] @ A @ X[ix] @ M[:, c]
            Gs[c].append(Gc)
    V = M @ meat @ M
    df = []
    for c in range(p):
        Gm = np.stack(Gs[c], 1)  # (n, G)
        O = Gm.T @ Gm
        df.append(np.trace(O) ** 2 / (O**2).sum())
    return V, np.array(df)


def _tiny(seed=0, G=6, sizes=None):
    rng = np.random.default_rng(seed)
    sizes = sizes or [3, 4, 2, 5, 3, 4][:G]
    g = np.repeat(np.arange(len(sizes)), sizes)
    n = len(g)
    X = np.column_stack([np.ones(n), rng.normal(size=n) + rng.normal(size=len(sizes))[g], rng.normal(size=n)])
    y = X @ [1.0, 0.5, -0.2] + rng.normal(size=len(sizes))[g] + rng.normal(size=n)
    return X, y, g


def test_cr2_matches_brute_force():
    X, y, g = _tiny()
    e = y - X @ np.linalg.lstsq(X, y, rcond=None)[0]
    V, df = loyalty.cr2_vcov(X, e, g)
    Vb, dfb = _brute_cr2(X, e, g)
    np.testing.assert_allclose(V, Vb, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(df, dfb, rtol=1e-8)


def test_cr2_closed_form_balanced_cluster_mean():
    """Intercept-only, equal cluster sizes: CR2 = sum_g (ebar_g)^2 n^2/(G^2 n^2 (1-1/G)) and df = G-1."""
    rng = np.random.default_rng(3)
    G, m = 8, 4
    g = np.repeat(np.arange(G), m)
    y = rng.normal(size=G)[g] + rng.normal(size=G * m)
    X = np.ones((G * m, 1))
    e = y - y.mean()
    V, df = loyalty.cr2_vcov(X, e, g)
    cm = np.bincount(g, weights=e) / m  # cluster mean residuals
    # H_gg = J/(G m); (I - J/(Gm))^{-1/2} scales the constant vector by (1 - 1/G)^{-1/2}
    expected = (cm**2).sum() / (G**2) / (1 - 1 / G)
    assert V[0, 0] == pytest.approx(expected, rel=1e-10)
    assert df[0] == pytest.approx(G - 1, rel=1e-10)
    # the usual "t-test on cluster means": sd(cluster means)^2 / G
    assert V[0, 0] == pytest.approx(np.var(np.bincount(g, weights=y) / m, ddof=1) / G, rel=1e-10)


def test_cr2_larger_than_crv1_without_factor_and_close_to_it_with():
    """CR2 inflates the residuals by (I-H_gg)^{-1/2}: larger than CRV1 without its G/(G-1) factor, same order as with it."""
    rng = np.random.default_rng(11)
    G, m = 12, 6
    g = np.repeat(np.arange(G), m)
    n = G * m
    X = np.column_stack([np.ones(n), rng.normal(size=n) + rng.normal(size=G)[g]])
    y = X @ [0.0, 1.0] + rng.normal(size=G)[g] + rng.normal(size=n)
    res = sm.OLS(y, X).fit()
    V, _ = loyalty.cr2_vcov(X, res.resid, g)
    crv1 = res.get_robustcov_results("cluster", groups=g).cov_params()  # includes G/(G-1) (n-1)/(n-k)
    factor = G / (G - 1) * (n - 1) / (n - 2)
    crv0 = crv1 / factor
    assert np.all(np.diag(V) > np.diag(crv0))
    assert np.all(np.abs(np.diag(V) / np.diag(crv1) - 1) < 0.35)


def _panel(seed, G=15, T=8, beta=2.0):
    """Simple unit-quarter panel: a unit effect in the driver and the outcome (clustered errors)."""
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(G), T)
    q = np.tile(np.arange(T), G)
    xu = rng.normal(size=G)[u]
    x = 0.6 * xu + rng.normal(size=G * T) * 0.8 + 0.3 * rng.normal(size=G)[u] * rng.normal(size=G * T)
    au = rng.normal(size=G)[u] * 3
    y = 5 + beta * x + au + 0.5 * q + rng.standard_t(5, size=G * T) * 3 * (1 + 0.5 * np.abs(xu))
    return pl.DataFrame({"unit_id": [f"u{i:02d}" for i in u], "quarter": [f"2025Q{i}" for i in q], "qi": q,
                         "nps": y, "recognition_lag": x, "nps_responses": 20, "respondents_lag": 5})


def test_fit_unit_model_records_method_clusters_and_small_cluster_note():
    uq = _panel(1)
    for spec in ("pooled", "unit_fe"):
        m = loyalty.fit_unit_model(uq, "nps", ("recognition",), spec)
        d = m.to_dict()
        assert d["method"].startswith("CR2") and d["n_clusters"] == 15
        e = m.effects["recognition"]
        tq = stats.t.ppf(0.975, m.df["recognition"])
        assert e.ci_high - e.estimate == pytest.approx(tq * e.se)
        assert 1 < m.df["recognition"] <= 14 + 1e-9
        assert m.mde["recognition"] == pytest.approx(
            (stats.t.ppf(0.975, m.df["recognition"]) + stats.t.ppf(0.8, m.df["recognition"])) * e.se)
        assert d["notes"] and "with 15 units" in d["notes"][0]


def coverage(n_seeds: int = 300, G: int = 15, beta: float = 2.0) -> dict[str, float]:
    """Share of seeds whose 95% CI covers beta, pooled and FE (used by the test and by docs/validation.md)."""
    hits = {"pooled": 0, "unit_fe": 0}
    for s in range(n_seeds):
        uq = _panel(1000 + s, G=G, beta=beta)
        for spec in hits:
            hits[spec] += loyalty.fit_unit_model(uq, "nps", ("recognition",), spec).effects["recognition"].covers(beta)
    return {k: v / n_seeds for k, v in hits.items()}


@pytest.mark.slow
def test_coverage_at_15_units_within_monte_carlo_error():
    n = 300
    cov = coverage(n)
    mcse = np.sqrt(0.95 * 0.05 / n)
    for spec, c in cov.items():
        assert abs(c - 0.95) <= 3 * mcse, (spec, c)



# ------------------------------------------------------------------------------------------ pooled vs fixed effects


def _panel_between(seed, G=20, T=6, between=0.0):
    """Like _panel, with a unit-level confounder: the between-unit slope exceeds the within-unit slope by ``between``."""
    uq = _panel(seed, G=G, T=T)
    xbar = uq.group_by("unit_id").agg(pl.col("recognition_lag").mean().alias("_xb"))
    return uq.join(xbar, on="unit_id").with_columns(pl.col("nps") + between * pl.col("_xb")).drop("_xb")


def test_mundlak_slopes_equal_fixed_effects_and_gamma_is_between_minus_within():
    uq = _panel_between(5, between=3.0)
    fe = loyalty.fit_unit_model(uq, "nps", ("recognition",), "unit_fe")
    rows = loyalty.model_rows(uq, "nps", ("recognition",))
    # unbalanced: drop some unit-quarters so the quarter-dummy means matter
    rows = rows.filter(~((pl.col("qi") == 0) & (pl.col("unit_id") < "u05")))
    fe2 = loyalty.fit_unit_model(rows, "nps", ("recognition",), "unit_fe")
    per, joint = loyalty.mundlak_test(rows, "nps", ("recognition",))
    assert per["recognition"]["between_minus_within"] != 0 and 0 <= joint["p_value"] <= 1
    assert joint["df1"] == 1 and joint["df2"] == rows["unit_id"].n_unique() - 1
    # one driver: the joint F equals the per-driver t squared
    t = per["recognition"]["between_minus_within"] / per["recognition"]["se"]
    assert joint["statistic"] == pytest.approx(t**2)
    # balanced panel with quarter effects: gamma = between-unit OLS slope - FE slope exactly
    m = uq.group_by("unit_id").agg(pl.col("nps").mean(), pl.col("recognition_lag").mean())
    b_between = np.polyfit(m["recognition_lag"].to_numpy(), m["nps"].to_numpy(), 1)[0]
    per_b, _ = loyalty.mundlak_test(loyalty.model_rows(uq, "nps", ("recognition",)), "nps", ("recognition",))
    assert per_b["recognition"]["between_minus_within"] == pytest.approx(b_between - fe.effects["recognition"].estimate,
                                                                         rel=1e-8)
    assert fe.difference == per_b and fe2.difference == per


def test_difference_test_has_its_size_and_finds_a_real_difference():
    """Rejection rate near 5% with no between/within difference, near 1 with a large one (seeded, 120 panels)."""
    n = 120
    null = np.mean([loyalty.mundlak_test(loyalty.model_rows(_panel_between(s), "nps", ("recognition",)), "nps",
                                         ("recognition",))[0]["recognition"]["p_value"] < 0.05 for s in range(n)])
    alt = np.mean([loyalty.mundlak_test(loyalty.model_rows(_panel_between(s, between=12.0), "nps", ("recognition",)),
                                        "nps", ("recognition",))[0]["recognition"]["p_value"] < 0.05 for s in range(40)])
    assert abs(null - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / n), null
    assert alt > 0.8, alt


def test_agreement_in_results_is_the_test_not_the_ci():
    uq = _panel_between(2, between=12.0)
    pooled = loyalty.fit_unit_model(uq, "nps", ("recognition",), "pooled")
    fe = loyalty.fit_unit_model(uq, "nps", ("recognition",), "unit_fe")
    cmp = loyalty.compare_specs(pooled, fe)
    assert cmp["differ"].to_list() == [True] and cmp["difference_p"][0] < 0.05
    assert "consistent" not in cmp.columns
    for lang in ("en", "es"):
        text = loyalty.agreement_text(pooled, fe, lang)
        assert "{" not in text and i18n.t("recognition", lang) in text
    assert fe.to_dict()["difference_test"]["per_driver"]["recognition"]["p_value"] == cmp["difference_p"][0]


# ------------------------------------------------------------------------------------------ the page's words


def _results(uq):
    drivers = ("recognition_per_month", "empowerment", "leadership")
    uq = uq.rename({"recognition_lag": "recognition_per_month_lag"}).with_columns(
        (pl.col("recognition_per_month_lag") * 0.7 + pl.col("recognition_per_month_lag").shuffle(seed=2)
         ).alias("empowerment_lag"),
        (pl.col("recognition_per_month_lag").shuffle(seed=1)).alias("leadership_lag"),
        (pl.col("nps") / 2).alias("customer_retention_pct"), pl.lit(50).alias("customers_prev"))
    fits = [loyalty.fit_unit_model(uq, o, drivers, s) for o in ("nps", "customer_retention_pct")
            for s in ("pooled", "unit_fe")]
    return loyalty.LoyaltyResults(*fits, None)


def test_inference_text_says_method_and_power_below_30_units_only():
    few = _results(_panel(3, G=14))
    for lang in ("en", "es"):
        text = loyalty.inference_text(few, lang)
        assert "CR2" in text and "Satterthwaite" in text and "{" not in text
        assert ("with 14 units" if lang == "en" else "con 14 unidades") in text
        x = i18n.fmt_number(few.nps.mde["recognition_per_month"], lang, 1)
        assert x in text and i18n.fmt_number(few.retention.mde["leadership"], lang, 1) in text
    many = _results(_panel(3, G=40))
    assert "14 units" not in loyalty.inference_text(many, "en") and "40" not in loyalty.inference_text(many, "en")
    assert loyalty.inference_text(many, "en") == i18n.t("loy_method", "en")


# ------------------------------------------------------------------------------------------ retention hazard


def _person_quarters(seed=0, G=12, per_unit=25, T=5, beta=(-0.3, -0.3, -0.3), base=-2.2):
    """A small person-quarter panel with a unit effect in the drivers and in the hazard (known log-odds ``beta``)."""
    rng = np.random.default_rng(seed)
    n = G * per_unit
    unit = np.repeat(np.arange(G), per_unit)
    rows = []
    for q in range(T):
        u_drv = rng.normal(size=(G, 3))[unit]
        X = 3 + 0.5 * u_drv + rng.normal(size=(n, 3))
        X = np.column_stack([np.round(np.clip(X[:, 0] - 1, 0, None) * 3) / 3, np.clip(np.round(X[:, 1:]), 1, 5)])
        eta = base + X @ np.array(beta) + 3 * 0.3 + 0.4 * rng.normal(size=G)[unit]
        y = rng.random(n) < 1 / (1 + np.exp(-eta))
        rows.append(pl.DataFrame({
            "employee_id": [f"e{i}" for i in range(n)], "unit_id": [f"u{u:02d}" for u in unit],
            "quarter": f"2025Q{q + 1}" if q < 4 else "2026Q1", "qi": q,
            "recognition_per_month": X[:, 0], "empowerment": X[:, 1], "leadership": X[:, 2],
            "tenure_band": rng.choice(["<1", "1-2", "2-5", "5+"], n), "role": rng.choice(["frontline", "support", "manager"], n),
            "voluntary_exit": y.astype(np.int8), "other_exit": np.zeros(n, np.int8)}))
    return pl.concat(rows)


def test_hazard_uses_t_with_units_minus_one_df_and_warns_on_few_units_and_events():
    from servicechain import retention

    pq = _person_quarters()
    h = retention.fit_hazard(pq, draws=100)
    e = h.effects["empowerment"]
    assert h.df == 11 and h.n_clusters == 12
    assert e.ci_high - e.estimate == pytest.approx(stats.t.ppf(0.975, 11) * e.se)
    assert e.p_value == pytest.approx(2 * stats.t.sf(abs(e.estimate / e.se), 11))
    assert h.events_per_parameter == pytest.approx(h.n_events / len(h.names))
    assert h.events_per_parameter < retention.MIN_EVENTS_PER_PARAMETER
    d = h.to_dict()
    assert d["method"].startswith("unit-clustered") and d["df"] == 11 and len(d["notes"]) == 2
    assert "events per parameter" in d["notes"][1]
    for lang in ("en", "es"):
        text = retention.inference_text(h, lang)
        assert "{" not in text and text.count("**") == 6  # method, few units, few exits
        assert i18n.fmt_number(h.events_per_parameter, lang, 1) in text
    big = retention.fit_hazard(_person_quarters(1, G=40, per_unit=60, base=-1.5), draws=20)
    assert not big.notes and retention.inference_text(big, "en").count("**") == 2


def test_annual_change_is_the_exact_average_over_the_current_workforce():
    from servicechain import retention

    pq = _person_quarters(2)
    h = retention.fit_hazard(pq, draws=50)
    assert h.current_quarter == "2026Q1" and h.n_current == pq.filter(pl.col("quarter") == "2026Q1").height
    cur = retention.model_rows(pq).filter(pl.col("quarter") == "2026Q1")
    X, _ = retention.exog(cur, h.drivers, h.quarters)
    ann = lambda eta: 1 - (1 - 1 / (1 + np.exp(-eta))) ** 4  # noqa: E731
    for i, d in enumerate(h.drivers):
        manual = float((ann(X @ h.params + h.params[i + 1]) - ann(X @ h.params)).mean() * 100)
        assert h.annual_pp[d].estimate == pytest.approx(manual, rel=1e-10), d
        assert h.annual_pp[d].ci_low < manual < h.annual_pp[d].ci_high
    # earlier quarters change the fit, not the population averaged over: the same coefficients give the same number
    other = retention.annual_change(cur.with_columns(pl.col("leadership") + 1.0), h.params, h.cov, h.drivers,
                                    h.quarters, draws=50)
    assert other["leadership"].estimate != pytest.approx(h.annual_pp["leadership"].estimate)
    # a report for an earlier quarter averages over that quarter's people
    h_prev = retention.fit_hazard(pq, draws=50, current_quarter="2025Q4")
    assert h_prev.n_current == pq.filter(pl.col("quarter") == "2025Q4").height
    # deterministic: the same numbers twice and for shuffled rows; fewer patterns for the draws changes only the CI
    h2 = retention.fit_hazard(pq.sample(fraction=1.0, shuffle=True, seed=4), draws=50)
    h3 = retention.fit_hazard(pq, draws=50, max_rows_for_draws=40)
    assert (h.cov == h2.cov).all()
    for d in h.drivers:
        a, b, c = h.annual_pp[d], h2.annual_pp[d], h3.annual_pp[d]
        assert (a.estimate, a.ci_low, a.ci_high) == (b.estimate, b.ci_low, b.ci_high)  # bit for bit (metrics.json)
        assert c.estimate == pytest.approx(a.estimate, rel=1e-12)

if __name__ == "__main__":  # python tests/test_loyalty_inference.py -> the coverage table in docs/validation.md
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print("| model | units | seeds | coverage of the 95% CI | MC SE |")
    print("|---|---|---|---|---|")
    for G in (15, 125):
        for spec, c in coverage(n, G).items():
            print(f"| NPS-type unit model, {spec} (CR2 + Satterthwaite t) | {G} | {n} | {c:.3f} | {np.sqrt(c * (1 - c) / n):.3f} |")
