"""Small-cluster inference of the unit-level models: CR2 (Bell-McCaffrey) with Satterthwaite df."""

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats

from servicechain import loyalty


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


if __name__ == "__main__":  # python tests/test_loyalty_inference.py -> the coverage table in docs/validation.md
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    print("| model | units | seeds | coverage of the 95% CI | MC SE |")
    print("|---|---|---|---|---|")
    for G in (15, 125):
        for spec, c in coverage(n, G).items():
            print(f"| NPS-type unit model, {spec} (CR2 + Satterthwaite t) | {G} | {n} | {c:.3f} | {np.sqrt(c * (1 - c) / n):.3f} |")
