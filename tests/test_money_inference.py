"""Money inference (issue 12): early leavers counted with the index's definition, joint draws of both models from a
unit-level bootstrap, missing answers treated alike in the hazard fit and the money's prediction, and the
complementary log-log hazard with a log-exposure offset for partial quarters at risk."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from servicechain import demo, features, finance, loyalty, retention
from servicechain import quarters as Q
from servicechain.assumptions import ROLES, load


@pytest.fixture(scope="module")
def org():
    tables, truth = demo.generate(demo.DemoConfig(seed=7, employees=1500))
    q = "2026Q3"
    tabs = features.as_of(tables, q)
    pq, info = features.person_quarters(tabs)
    return tables, q, tabs, pq, features.unit_quarters(tabs)


@pytest.fixture(scope="module")
def res(org):
    tables, q, _, _, _ = org
    return finance.analyse(tables, q, None, seed=7)


@pytest.fixture(scope="module")
def models(org):
    _, _, _, pq, uq = org
    h = retention.fit_hazard(pq, draws=20, missing="indicator", link="auto")
    return h, loyalty.fit_unit_model(uq, "customer_retention_pct")


# ------------------------------------------------------------------------------ 1. early leavers: one number


def test_early_leavers_on_the_money_page_are_the_index_count_from_raw_tables(org, res):
    tables, q, tabs, _, _ = org
    qi = Q.parse(q)
    emp = tables["employees"]  # the raw table, counted by hand: voluntary exits of the quarter within 90 days of
    hand = emp.filter((Q.index_expr("exit_date") == qi) & (pl.col("exit_reason") == "voluntary")  # hire or in the
                      & ((Q.index_expr("hire_date") == qi)                                       # hire quarter
                         | ((pl.col("exit_date") - pl.col("hire_date")).dt.total_days() < features.EARLY_DAYS)))
    b = res.baseline.total
    assert hand.height > 5  # the demo has early leavers to count
    assert b["early_leavers"] == hand.height
    assert b["early_leavers"] == features.overview(tables, q, history=False)["early_leavers"]  # the index's figure
    nh = retention.new_hires(tabs, q)  # page 01's early-attrition definition, restricted to this quarter's exits
    assert nh.filter(pl.col("early") == 1).join(emp.filter(Q.index_expr("exit_date") == qi).select("employee_id"),
                                                on="employee_id").height == hand.height
    # their replacement cost by hand (salary x the role's share), part of the baseline's replacement cost
    shares = dict(zip(ROLES, res.econ.shares))
    cost = hand.select((pl.col("annual_salary") * pl.col("role").replace_strict(shares, return_dtype=pl.Float64)).sum()).item()
    assert b["early_replacement_cost"] == pytest.approx(cost)
    assert 0 < b["early_replacement_cost"] < b["replacement_cost"]
    assert b["total_cost"] == pytest.approx(b["replacement_cost"] + b["lost_customer_cost"])  # not added twice
    # the page says that number, and that the scenarios do not value early exits
    for lang in ("en", "es"):
        assert f"**{hand.height} " in finance.early_baseline_text(res, lang, 5)
        assert str(hand.height) in finance.scenarios_early_text(res, lang, 5)
    assert "not valued" in finance.scenarios_early_text(res, "en", 5)
    # fewer early leavers than the anonymity threshold: the count stays, their cost is hidden
    hidden = finance.early_baseline_text(res, "en", hand.height + 1)
    assert str(hand.height) in hidden and finance.money(b["early_replacement_cost"], res, "en") not in hidden
    assert res.baseline.to_dict(hand.height + 1)["early_replacement_cost"] is None


# ------------------------------------------------------------------------------ 2. joint draws


def _stack(frame: pl.DataFrame, ids: list, counts: np.ndarray) -> pl.DataFrame:
    """Each unit's rows ``counts[g]`` times: the resampled data itself."""
    rep = pl.DataFrame({"unit_id": [u for u, c in zip(ids, counts) for _ in range(int(c))]},
                       schema={"unit_id": frame.schema["unit_id"]})
    return rep.join(frame, on="unit_id", how="inner")


def test_bootstrap_refits_both_models_on_the_same_units_as_brute_force(org, models):
    _, _, _, pq, uq = org
    h, um = models
    B = 12
    boot = finance.bootstrap_coefficients(pq, uq, h, um, replicates=B, seed=3)
    assert boot.hazard.shape == (B, len(h.params)) and boot.unit.shape == (B, len(um.params))
    assert (boot.counts.sum(axis=1) == len(boot.unit_ids)).all()  # G units drawn with replacement
    rows = retention.with_exposure(h.prepare(pq.filter(pl.col("role").is_not_null())))
    se = np.sqrt(np.diag(h.cov))
    brute_h = []
    for b in range(B):
        c = boot.counts[b]
        bu = loyalty.fit_unit_model(_stack(uq, boot.unit_ids, c), "customer_retention_pct").params
        np.testing.assert_allclose(boot.unit[b], bu, rtol=1e-8, atol=1e-8)  # the unit model: exact
        full, _, names, _ = retention.fit_grouped_logit(_stack(rows, boot.unit_ids, c), h.model_drivers, h.quarters,
                                                        link=h.link)
        brute_h.append(full)
    brute_h = np.array(brute_h)
    # the hazard's scoring refit is a full refit to a small fraction of a standard error (measured 0.001-0.004)
    assert np.max(np.abs(boot.hazard - brute_h) / se) < 0.02
    # and so are the correlations between the two models' coefficients across replicates
    kh = len(h.params)
    r_fast = np.corrcoef(np.hstack([boot.hazard, boot.unit]).T)[:kh, kh:]
    r_brute = np.corrcoef(np.hstack([brute_h, boot.unit]).T)[:kh, kh:]
    assert np.max(np.abs(r_fast - r_brute)) < 0.1


def test_a_large_organisation_takes_the_one_step_refit(org, models, monkeypatch):
    _, _, _, pq, uq = org
    h, um = models
    full = finance.bootstrap_coefficients(pq, uq, h, um, replicates=20, seed=3)
    one = finance.bootstrap_coefficients(pq, uq, h, um, replicates=20, seed=3, steps=1)
    assert full.hazard_steps > 1 and one.hazard_steps == 1
    monkeypatch.setattr(finance, "BOOTSTRAP_STEP_BUDGET", 0)  # every organisation over the budget
    big = finance.bootstrap_coefficients(pq, uq, h, um, replicates=20, seed=3)
    assert big.hazard_steps == 1 and np.array_equal(big.hazard, one.hazard) and np.array_equal(big.unit, full.unit)
    assert big.to_dict()["hazard_refit_steps"] == 1


def test_drawn_coefficients_carry_the_bootstrap_correlation(org, models):
    _, _, _, pq, uq = org
    h, um = models
    boot = finance.bootstrap_coefficients(pq, uq, h, um, replicates=200, seed=7)
    cov, shrink = finance.joint_covariance(h.cov, um.cov, boot)
    assert 0.5 < shrink <= 1.0  # the cross block is shrunk only as far as positive semi-definiteness needs
    scale = np.sqrt(np.diag(cov))
    assert np.linalg.eigvalsh(cov / np.outer(scale, scale)).min() > -1e-9
    bh, bu = finance.draw_coefficients(h, um, 6000, 11, boot)
    assert np.array_equal(bh[0], h.params) and np.array_equal(bu[0], um.params)  # row 0: the point estimates
    kh = len(h.params)
    drawn = np.corrcoef(np.hstack([bh[1:], bu[1:]]).T)[:kh, kh:]
    target = shrink * boot.correlation()[:kh, kh:]
    assert np.max(np.abs(drawn - target)) < 0.06  # Monte Carlo error of 6,000 draws: about 0.013 per entry
    assert np.max(np.abs(target)) > 0.2  # there is a correlation to carry...
    ih, iu = np.unravel_index(np.argmax(np.abs(target)), target.shape)
    bh0, bu0 = finance.draw_coefficients(h, um, 6000, 11)  # ...which independent draws would lose
    assert abs(np.corrcoef(bh0[1:, ih], bu0[1:, iu])[0, 1]) < 0.05 < abs(drawn[ih, iu])
    # each model keeps its own (cluster-robust) covariance
    np.testing.assert_allclose(np.cov(bh[1:].T).diagonal(), h.cov.diagonal(), rtol=0.06)
    np.testing.assert_allclose(np.cov(bu[1:].T).diagonal(), um.cov.diagonal(), rtol=0.06)


def test_money_ranges_are_ordered_and_say_how_they_were_drawn(res):
    out = res.to_results("en", 5)
    assert out["range_basis"] == finance.RANGE_BASIS
    cd = out["coefficient_draws"]
    assert cd["joint"] and cd["bootstrap"]["replicates"] == finance.BOOTSTRAP_REPLICATES
    assert cd["hazard_missing"] == "indicator" and cd["hazard_link"] in ("logit", "cloglog")
    for s in out["scenarios"]:
        for k in ("value", "gross_value", "exits_avoided", "customers_retained"):
            assert s[f"{k}_p10"] <= s[f"{k}_p50"] <= s[f"{k}_p90"], (s["name"], k)
        assert s["range_basis"] == finance.RANGE_BASIS
    words = finance.method_text(res, "en")
    assert "bootstrap" in words and "same resampled units" in words
    assert "bootstrap" in finance.method_text(res, "es")


# ------------------------------------------------------------------------------ 3. missing answers: one rule


def test_fit_and_money_prediction_use_the_same_columns_and_filled_values(org):
    tables, q, tabs, pq, uq = org
    h = retention.fit_hazard(pq, draws=20, missing="indicator", link="logit")
    assert retention.NO_ANSWER in h.names and h.fill is not None
    a = load(None)
    pop = finance.population(pq, uq, q, h, a, tabs)
    assert 0.2 < pop.imputed_share < 0.45  # about 30% of the people at risk did not answer last quarter
    fit_rows = h.prepare(pq.filter(pl.col("role").is_not_null()))
    d_fit = retention.design(fit_rows, h.model_drivers, h.quarters)
    assert d_fit.names == h.names and pop.X0.shape[1] == len(h.names)  # the same columns, in the same order
    cur = fit_rows.filter(pl.col("quarter") == q)
    X_cur = retention.design(cur, h.model_drivers, h.quarters).X
    np.testing.assert_array_equal(np.sort(pop.X0, axis=0), np.sort(X_cur, axis=0))  # the same filled values
    # the population's baseline exit probability is the fit's in-sample mean for those people, and (the score
    # equation of the quarter's dummy) their observed voluntary-exit rate
    p_pop = retention.inverse_link(pop.X0 @ h.params, h.link).mean()
    p_fit = retention.inverse_link(X_cur @ h.params, h.link).mean()
    assert p_pop == pytest.approx(p_fit, abs=1e-6)
    assert p_pop == pytest.approx(float(cur["voluntary_exit"].mean()), abs=1e-6)
    # and among everyone without an answer, predicted exits = observed (the indicator's score equation)
    na = fit_rows.filter(pl.col(retention.NO_ANSWER) == 1)
    assert h.predict(na).sum() == pytest.approx(float(na["voluntary_exit"].sum()), rel=1e-6)
    # a complete-case hazard cannot predict the people without answers: refused, not silently unit-mean imputed
    with pytest.raises(ValueError, match="missing='indicator'"):
        finance.population(pq, uq, q, retention.fit_hazard(pq, draws=20), a, tabs)


def test_unit_fill_is_the_units_mean_answer_and_the_complete_case_default_is_unchanged(org):
    _, _, _, pq, _ = org
    rows = pq.filter(pl.col("role").is_not_null())
    fill = retention.unit_fill(rows)
    u0 = rows["unit_id"].sort()[0]
    assert fill.units.filter(pl.col("unit_id") == u0)["empowerment"].item() == pytest.approx(
        rows.filter((pl.col("unit_id") == u0) & pl.col("empowerment").is_not_null())["empowerment"].cast(pl.Float64).mean())
    filled = fill.apply(rows)
    assert filled["empowerment"].null_count() == 0
    any_missing = rows.filter(pl.any_horizontal([pl.col(d).is_null() for d in features.DRIVERS])).height
    assert filled[retention.NO_ANSWER].sum() == any_missing > rows.filter(pl.col("empowerment").is_null()).height
    assert fill.apply(filled).equals(filled)  # applying the rule twice changes nothing
    # the default fit (the retention page's) is still the complete-case logit
    h = retention.fit_hazard(pq, draws=20)
    assert h.missing == "complete_cases" and h.link == "logit" and retention.NO_ANSWER not in h.names
    assert h.n_obs == rows.drop_nulls(list(features.DRIVERS)).height


# ------------------------------------------------------------------------------ 4. cloglog with a log-exposure offset


def _constant_hazard_panel(seed: int = 5, n: int = 40_000, rate: float = 0.12, beta: float = -0.3,
                           partial: float = 0.5) -> pl.DataFrame:
    """Person-quarters with a known constant voluntary-exit hazard rate x exp(beta x) per quarter; a share
    ``partial`` leave involuntarily at a uniform time in the quarter (at risk for that share of it)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    expo = np.where(rng.random(n) < partial, rng.uniform(0.02, 1.0, n), 1.0).round(3)
    t_vol = rng.exponential(1.0 / (rate * np.exp(beta * x)))
    vol = t_vol < expo
    other = (~vol) & (expo < 1.0)
    return pl.DataFrame({
        "employee_id": np.arange(n).astype(str), "unit_id": (np.arange(n) % 60).astype(np.int64),
        "x": x, "tenure_band": rng.choice(["<1", "1-2", "2-5", "5+"], n), "role": rng.choice(["frontline", "manager", "support"], n),
        "quarter": rng.choice(["2025Q1", "2025Q2"], n), "voluntary_exit": vol.astype(np.int8),
        "other_exit": other.astype(np.int8), "exposure": expo,
    })


def test_cloglog_with_offset_recovers_a_known_constant_hazard_and_the_logit_does_not():
    panel = _constant_hazard_panel()
    cl = retention.fit_hazard(panel, ("x",), draws=20, link="auto")
    assert cl.link == "cloglog"  # exposure varies, so the suite's "auto" picks the offset model
    lg = retention.fit_hazard(panel, ("x",), draws=20, link="logit")
    # the reference person (tenure 2-5, support, first quarter, x = 0): true quarterly rate 0.12
    rate_cl = float(np.exp(cl.params[0]))
    rate_lg = float(-np.log1p(-1.0 / (1.0 + np.exp(-lg.params[0]))))  # the logit's full-quarter probability as a rate
    se_cl = float(np.sqrt(cl.cov[0, 0]))
    assert abs(np.log(rate_cl / 0.12)) < 3 * se_cl  # recovered
    assert rate_lg < 0.12 * 0.85  # partial quarters counted as whole ones: the rate is too low
    assert abs(rate_lg - 0.12) > 4 * abs(rate_cl - 0.12)
    e = cl.effects["x"]
    assert e.ci_low < -0.3 < e.ci_high  # the effect on the log-hazard scale
    # predictions are for a whole quarter at risk: 1 - exp(-rate)
    ref = panel.head(1).with_columns(pl.lit(0.0).alias("x"), pl.lit("2-5").alias("tenure_band"),
                                     pl.lit("support").alias("role"), pl.lit("2025Q1").alias("quarter"))
    assert cl.predict(ref)[0] == pytest.approx(-np.expm1(-rate_cl))
    # with everyone at risk for the whole quarter, "auto" keeps the logit
    assert retention.fit_hazard(panel.with_columns(pl.lit(1.0).alias("exposure")), ("x",), draws=20,
                                link="auto").link == "logit"


def test_grouped_cloglog_equals_the_row_level_statsmodels_fit():
    panel = _constant_hazard_panel(seed=9, n=6000)
    params, cov, names, ok = retention.fit_grouped_logit(panel, ("x",), ["2025Q1", "2025Q2"], link="cloglog")
    X, _ = retention.exog(panel, ("x",), ["2025Q1", "2025Q2"])
    groups = panel.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    ref = sm.GLM(panel["voluntary_exit"].to_numpy().astype(float), X,
                 family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                 offset=np.log(panel["exposure"].to_numpy())).fit(cov_type="cluster", cov_kwds={"groups": groups})
    np.testing.assert_allclose(params, ref.params, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), np.sqrt(np.diag(ref.cov_params())), rtol=1e-6)


def test_exposure_is_the_share_of_the_quarter_before_an_involuntary_exit(org):
    _, _, _, pq, _ = org
    ex = retention.with_exposure(pq)
    assert ex.filter(pl.col("other_exit") == 0)[retention.EXPOSURE].unique().to_list() == [1.0]
    inv = ex.filter(pl.col("other_exit") == 1)
    assert inv.height > 0 and inv[retention.EXPOSURE].min() > 0 and inv[retention.EXPOSURE].max() <= 1.0
    r = inv.row(0, named=True)
    start = Q.start(Q.label(r["qi"]))
    days = (Q.end(Q.label(r["qi"])) - start).days + 1
    assert r[retention.EXPOSURE] == pytest.approx(((r["exit_date"] - start).days + 1) / days, abs=1e-9)
