"""Coverage of every quoted 95% interval at about 15 and about 125 units (issue 12).

Each model is fitted on seeded simulated data with known truth, at two sizes, and the
share of seeds whose interval contains the truth is compared with 0.95 within 3 Monte
Carlo standard errors of the number of seeds (sqrt(0.95 * 0.05 / seeds)); the tolerance is
never widened. The CI run uses ``CI_SEEDS`` seeds per cell; the table in docs/validation.md
uses more:

    .venv/bin/python tests/test_coverage_models.py 400 > /tmp/coverage.md

Generators (fast, numpy only, so the suite stays fast; they are not the demo organisation):

* retention drivers: person-quarters with a unit effect in the drivers and in the logit hazard,
  drivers on the survey's scales (1-5 answers, recognitions per month in thirds), tenure band,
  role and quarter effects; intervals: the hazard log-odds (odds-ratio) CIs of ``fit_hazard`` and its change in
  annual exit probability over the last quarter's people at risk (truth: the same average with the true linear
  predictor, unit effects included).
* NPS and customer retention, pooled and unit FE: unit-quarters with the three lagged
  employee-experience means and turnover, a unit effect in both drivers and outcomes
  (uncorrelated with the drivers' within-unit changes, so both specs estimate the truth),
  heavy-tailed heteroskedastic errors, the demo's true effects; interval: ``fit_unit_model``.
* mediation: unit-quarters with exposure X (unit effect + noise), mediator M = a X + unit
  effect + noise, outcome Y = c' X + b M + unit effect + noise; interval: the cluster-bootstrap
  expanded percentile CI of ``mediation.mediate``'s indirect effect (ACME) for the contrast 0 -> 1,
  truth a*b.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import polars as pl
import pytest

from servicechain import demo, loyalty, mediation, retention

CI_SEEDS = 60
SIZES = (15, 125)
LEVEL = 0.95

RET_TRUTH = {"recognition_per_month": -0.15, "empowerment": -0.30, "leadership": -0.35}
UNIT_DRIVERS = ("recognition_per_month", "empowerment", "leadership", "voluntary_turnover_pct")


def tolerance(n_seeds: int) -> float:
    """3 Monte Carlo standard errors of a coverage share at the nominal 95% over ``n_seeds`` seeds."""
    return 3 * math.sqrt(LEVEL * (1 - LEVEL) / n_seeds)


# ------------------------------------------------------------------------------------------ generators


def person_quarters(seed: int, units: int, per_unit: int = 14, quarters: int = 4) -> pl.DataFrame:
    """Person-quarters at risk with drivers of the previous quarter and a voluntary-exit flag (truth RET_TRUTH)."""
    rng = np.random.default_rng(seed)
    n = units * per_unit
    unit = np.repeat(np.arange(units), per_unit)
    beta = np.array([RET_TRUTH[d] for d in RET_TRUTH])
    tenure = rng.choice(["<1", "1-2", "2-5", "5+"], n)
    role = rng.choice(["frontline", "support", "manager"], n, p=[0.6, 0.3, 0.1])
    t_eff = pl.Series(tenure).replace_strict({"<1": 0.5, "1-2": 0.2, "2-5": 0.0, "5+": -0.3}).to_numpy()
    r_eff = pl.Series(role).replace_strict({"frontline": 0.2, "support": 0.0, "manager": -0.3}).to_numpy()
    u_drv, u_haz = rng.normal(size=(units, 3)), 0.3 * rng.normal(size=units)
    frames = []
    for q in range(quarters):
        raw = np.array([1.8, 3.3, 3.4]) + 0.5 * u_drv[unit] + rng.normal(size=(n, 3)) * [1.0, 0.9, 0.9]
        X = np.column_stack([np.round(np.clip(raw[:, 0], 0, None) * 3) / 3, np.clip(np.round(raw[:, 1:]), 1, 5)])
        eta = 0.1 + X @ beta + t_eff + r_eff + u_haz[unit] + 0.1 * q
        y = rng.random(n) < 1 / (1 + np.exp(-eta))
        frames.append(pl.DataFrame({
            "employee_id": [f"e{i}" for i in range(n)], "unit_id": [f"u{u:03d}" for u in unit],
            "quarter": f"2025Q{q + 1}", "qi": q, "recognition_per_month": X[:, 0], "empowerment": X[:, 1],
            "leadership": X[:, 2], "tenure_band": tenure, "role": role, "voluntary_exit": y.astype(np.int8),
            "other_exit": np.zeros(n, np.int8), "_true_eta": eta}))
    return pl.concat(frames)


def unit_quarters(seed: int, units: int, quarters: int = 8) -> pl.DataFrame:
    """Unit-quarters with lagged driver means and both customer outcomes (truth: demo.DEFAULT_EFFECTS)."""
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(units), quarters)
    q = np.tile(np.arange(quarters), units)
    n = units * quarters
    mean, sd = np.array([1.8, 3.3, 3.4, 5.0]), np.array([0.5, 0.3, 0.3, 2.0])
    X = mean + sd * (0.7 * rng.normal(size=(units, 4))[u] + 0.7 * rng.normal(size=(n, 4)))
    size = rng.integers(8, 60, units)[u]  # answers behind each unit-quarter: small units are noisier
    out = {"unit_id": [f"u{i:03d}" for i in u], "quarter": [f"2025Q{i + 1}" if i < 4 else f"2026Q{i - 3}" for i in q],
           "qi": q, "nps_responses": size, "customers_prev": size * 5, "respondents_lag": 6}
    for key, col, unit_sd, noise in (("loyalty", "nps", 8.0, 70.0), ("customer_retention", "customer_retention_pct",
                                                                      4.0, 25.0)):
        b = np.array([demo.DEFAULT_EFFECTS[key][d] for d in UNIT_DRIVERS])
        e = rng.standard_t(5, size=n) * noise / np.sqrt(size) * (1 + 0.3 * np.abs(rng.normal(size=units)[u]))
        out[col] = 30 + (X - mean) @ b + unit_sd * rng.normal(size=units)[u] + 2.0 * q + e
    for j, d in enumerate(UNIT_DRIVERS):
        out[f"{d}_lag"] = X[:, j]
    return pl.DataFrame(out)


MED_A, MED_B, MED_C = 0.5, 0.8, 0.3


def mediation_frame(seed: int, units: int, quarters: int = 6) -> pl.DataFrame:
    """Clustered linear mediation with known ACME a*b (contrast 0 -> 1)."""
    rng = np.random.default_rng(seed)
    u = np.repeat(np.arange(units), quarters)
    n = units * quarters
    x = rng.normal(size=units)[u] + rng.normal(size=n)
    m = MED_A * x + 0.7 * rng.normal(size=units)[u] + rng.normal(size=n) * (1 + 0.3 * np.abs(x))
    y = MED_C * x + MED_B * m + 0.7 * rng.normal(size=units)[u] + rng.standard_t(5, size=n)
    return pl.DataFrame({"unit_id": u, "x": x, "m": m, "y": y, "quarter": [f"q{i}" for i in np.tile(np.arange(quarters), units)]})


# ------------------------------------------------------------------------------------------ one seed of each model


def true_annual_change(pq: pl.DataFrame, driver: str) -> float:
    """Plug-in truth of the page's annual change: the current workforce's mean of 1-(1-h')^4 - (1-(1-h)^4), pp."""
    eta = pq.filter(pl.col("quarter") == pq["quarter"].max())["_true_eta"].to_numpy()
    annual = lambda e: 1 - (1 / (1 + np.exp(e))) ** 4  # noqa: E731
    return float((annual(eta + RET_TRUTH[driver]) - annual(eta)).mean() * 100)


def hits_hazard(seed: int, units: int) -> dict[str, bool]:
    pq = person_quarters(seed, units)
    h = retention.fit_hazard(pq, draws=400, seed=seed)
    out = {f"retention hazard, {d} (log-odds / odds ratio)": h.effects[d].covers(t) for d, t in RET_TRUTH.items()}
    out.update({f"retention, {d}: change in annual exit probability (pp)": h.annual_pp[d].covers(
        true_annual_change(pq, d)) for d in RET_TRUTH})
    return out


def hits_unit_models(seed: int, units: int) -> dict[str, bool]:
    uq = unit_quarters(seed, units)
    out = {}
    for key, col, label in (("loyalty", "nps", "NPS"), ("customer_retention", "customer_retention_pct",
                                                         "customer retention")):
        for spec in ("pooled", "unit_fe"):
            m = loyalty.fit_unit_model(uq, col, UNIT_DRIVERS, spec)
            for d in UNIT_DRIVERS:
                out[f"{label}, {spec}, {d}"] = m.effects[d].covers(demo.DEFAULT_EFFECTS[key][d])
    return out


def hits_mediation(seed: int, units: int, n_boot: int = 300) -> dict[str, bool]:
    med = mediation.mediate(mediation_frame(seed, units), "x", "m", "y", covariates=["quarter"], cluster="unit_id",
                            contrast=(0.0, 1.0), n_boot=n_boot, seed=seed)
    return {"mediation, indirect effect (ACME), cluster bootstrap": med.acme.covers(MED_A * MED_B)}


MODELS = {"hazard": hits_hazard, "unit_models": hits_unit_models, "mediation": hits_mediation}


def coverage(model: str, units: int, n_seeds: int) -> dict[str, float]:
    """Share of ``n_seeds`` seeds whose 95% CI covers the truth, per quoted interval of ``model``."""
    total: dict[str, int] = {}
    for s in range(n_seeds):
        for k, v in MODELS[model](10_000 + s, units).items():
            total[k] = total.get(k, 0) + int(v)
    return {k: v / n_seeds for k, v in total.items()}


# ------------------------------------------------------------------------------------------ the tests

# Intervals measured outside their tolerance at CI_SEEDS and at the doc's 400 seeds; see docs/validation.md.
KNOWN_MISSES: set[tuple[str, int]] = set()


@pytest.mark.slow
@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("model", list(MODELS))
def test_coverage_within_monte_carlo_tolerance(model: str, units: int) -> None:
    cov = coverage(model, units, CI_SEEDS)
    tol = tolerance(CI_SEEDS)
    bad = {k: c for k, c in cov.items() if abs(c - LEVEL) > tol and (k, units) not in KNOWN_MISSES}
    assert not bad, f"coverage outside 0.95 +/- {tol:.3f} at {units} units over {CI_SEEDS} seeds: {bad}"


def test_generators_are_seeded_and_have_the_stated_sizes() -> None:
    a, b = person_quarters(1, 15), person_quarters(1, 15)
    assert a.equals(b) and a["unit_id"].n_unique() == 15
    assert unit_quarters(2, 125)["unit_id"].n_unique() == 125 and unit_quarters(2, 15).equals(unit_quarters(2, 15))
    assert mediation_frame(3, 15)["unit_id"].n_unique() == 15
    assert tolerance(400) == pytest.approx(3 * math.sqrt(0.95 * 0.05 / 400))



def test_expanded_percentile_widens_with_few_clusters_only(monkeypatch) -> None:
    tails = [mediation.expanded_tail(g) for g in (5, 15, 125, 10_000)]
    assert tails == sorted(tails) and tails[1] == pytest.approx(0.0132, abs=2e-4)
    assert tails[-1] == pytest.approx(0.025, abs=1e-4)
    frame = mediation_frame(1, 15)
    med = mediation.mediate(frame, "x", "m", "y", cluster="unit_id", contrast=(0.0, 1.0), n_boot=400)
    assert med.method.endswith("expanded percentile 95% CI")
    monkeypatch.setattr(mediation, "expanded_tail", lambda n_clusters, level=0.95: 0.025)  # the plain percentiles
    plain = mediation.mediate(frame, "x", "m", "y", cluster="unit_id", contrast=(0.0, 1.0), n_boot=400)
    for k in ("acme", "ade", "total"):
        e, p = getattr(med, k), getattr(plain, k)
        assert e.estimate == p.estimate and e.ci_low < p.ci_low and p.ci_high < e.ci_high, k


if __name__ == "__main__":  # the coverage table of docs/validation.md
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    tol = tolerance(n)
    print(f"| interval | units | seeds | coverage of the 95% CI | MC SE | within 0.95 +/- {tol:.3f} |")
    print("|---|---|---|---|---|---|")
    for model in MODELS:
        for units in SIZES:
            for k, c in coverage(model, units, n).items():
                ok = "yes" if abs(c - LEVEL) <= tol else "**no**"
                print(f"| {k} | {units} | {n} | {c:.3f} | {math.sqrt(c * (1 - c) / n):.3f} | {ok} |", flush=True)
