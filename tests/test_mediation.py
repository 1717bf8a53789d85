"""servicechain.mediation.mediate against a closed form and statsmodels' Mediation."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm
import statsmodels.stats.tests as smtests
from statsmodels.stats.mediation import Mediation as SmMediation

from servicechain.mediation import mediate


def _sim(n=2000, seed=0, G=None):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=n)
    x = rng.normal(size=n) + 0.3 * c
    m = 0.5 * x + 0.4 * c + rng.normal(size=n)
    y = 0.3 * m + 0.2 * x - 0.3 * c + rng.normal(size=n)
    d = {"x": x, "m": m, "y": y, "c": c}
    if G:
        d["g"] = rng.integers(0, G, n)
    return pl.DataFrame(d)


def test_closed_form_product_of_coefficients_and_delta_method():
    df = _sim()
    res = mediate(df, "x", "m", "y", covariates=["c"], contrast=(0.0, 1.0), n_boot=2000, seed=1)
    X1 = sm.add_constant(np.column_stack([df["x"], df["c"]]))
    X2 = sm.add_constant(np.column_stack([df["x"], df["c"], df["m"]]))
    fa = sm.OLS(df["m"].to_numpy(), X1).fit()
    fb = sm.OLS(df["y"].to_numpy(), X2).fit()
    a, sa, b, sb = fa.params[1], fa.bse[1], fb.params[3], fb.bse[3]
    assert res.acme.estimate == pytest.approx(a * b, rel=1e-9)
    assert res.ade.estimate == pytest.approx(fb.params[1], rel=1e-9)  # no post-exposure confounder: ADE = c'
    assert res.total.estimate == pytest.approx(a * b + fb.params[1], rel=1e-9)
    delta_se = np.sqrt(a**2 * sb**2 + b**2 * sa**2)
    assert res.acme.se == pytest.approx(delta_se, rel=0.12)
    lo, hi = a * b - 1.96 * delta_se, a * b + 1.96 * delta_se
    assert res.acme.ci_low == pytest.approx(lo, abs=0.3 * delta_se)
    assert res.acme.ci_high == pytest.approx(hi, abs=0.3 * delta_se)
    assert res.prop_mediated.estimate == pytest.approx(a * b / (a * b + fb.params[1]))
    assert res.to_frame().height == 4 and "ACME" in repr(res) and "rho" in res.summary()


def test_default_contrast_is_one_sd_and_cluster_bootstrap_widens():
    df = _sim(n=1500, seed=2, G=30)
    # a cluster-level shock in m and y makes rows within a cluster dependent
    rng = np.random.default_rng(5)
    u = rng.normal(size=30)
    df = df.with_columns((pl.col("m") + pl.Series(u[df["g"].to_numpy()])).alias("m"),
                         (pl.col("y") + pl.Series(2 * u[df["g"].to_numpy()])).alias("y"))
    r_sd = mediate(df, "x", "m", "y", covariates=["c"], n_boot=500)
    r_1 = mediate(df, "x", "m", "y", covariates=["c"], contrast=(0, 1), n_boot=500)
    sd = df["x"].std()
    assert r_sd.acme.estimate == pytest.approx(r_1.acme.estimate * sd, rel=1e-9)
    assert "0.5 SD" in r_sd.contrast_text
    rc = mediate(df, "x", "m", "y", covariates=["c"], cluster="g", contrast=(0, 1), n_boot=500)
    assert rc.n_clusters == 30
    assert rc.acme.se > r_1.acme.se


def test_rho_at_zero_is_residual_correlation_and_sign():
    df = _sim(seed=4)
    r = mediate(df, "x", "m", "y", covariates=["c"], n_boot=50)
    assert 0 < r.rho_at_zero < 1  # positive b: a positive error correlation would explain it away
    assert f"{r.rho_at_zero:.2f}" in r.sensitivity_text


@pytest.mark.slow
def test_agrees_with_statsmodels_on_framing():
    """Randomised framing experiment (Brader, Valentino and Suhay 2008), shipped with statsmodels; linear models."""
    path = Path(smtests.__file__).parent / "results" / "framing.csv"
    pdf = __import__("pandas").read_csv(path)
    df = pl.from_pandas(pdf[["treat", "emo", "cong_mesg", "age", "educ", "gender", "income"]])
    ours = mediate(df, "treat", "emo", "cong_mesg", covariates=["age", "educ", "gender", "income"],
                   n_boot=2000, seed=3)
    X = pl.concat([df.select("treat", "age", "income").cast(pl.Float64),
                   df.select(pl.col("educ").cast(pl.String)).to_dummies().select(sorted(
                       c for c in df.select("educ").to_dummies().columns)[1:]),
                   df.select(pl.col("gender")).to_dummies().select(sorted(df.select("gender").to_dummies().columns)[1:])],
                  how="horizontal")
    Xm = sm.add_constant(X.to_numpy().astype(float))
    Xo = np.column_stack([Xm, df["emo"].to_numpy()])
    med_model = sm.OLS(df["emo"].to_numpy().astype(float), Xm)
    out_model = sm.OLS(df["cong_mesg"].to_numpy().astype(float), Xo)
    np.random.seed(3)
    sm_res = SmMediation(out_model, med_model, (1, 1), Xo.shape[1] - 1).fit(method="parametric", n_rep=2000)
    tab = sm_res.summary()
    for ours_e, row in ((ours.acme, "ACME (average)"), (ours.ade, "ADE (average)"), (ours.total, "Total effect")):
        est, lo, hi = tab.loc[row, ["Estimate", "Lower CI bound", "Upper CI bound"]]
        width = hi - lo
        assert ours_e.estimate == pytest.approx(est, abs=0.05 * width)
        # statsmodels draws the two potential mediators with independent residuals (wider intervals);
        # the interval widths agree within 25%
        assert (ours_e.ci_high - ours_e.ci_low) == pytest.approx(width, rel=0.25)
