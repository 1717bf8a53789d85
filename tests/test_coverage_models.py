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
* early attrition and money, on the demo organisation itself (``servicechain.demo``, seeded; ``DEMO_EMPLOYEES``:
  500 employees, 21 units of which about 14 have customers, for "about 15 units"; 3,000 employees, 125 units of
  which about 100 have customers, for "about 125"): ``retention.fit_early_attrition``'s log-odds CIs against
  truth.json ``early_attrition`` (leadership_team_mean: 0); the money page's coefficient range P10-P90 (80%
  nominal) of the headline scenario's net value, and of its employee side (replacement cost avoided) and customer
  side (acquisition spend avoided + margin kept), against the plug-in truth: the same valuation
  (``finance.simulate`` and ``Economics.value`` on the same people at risk and customer bases) with the
  generator's true coefficients (truth.json ``retention``, ``retention_controls``, ``customer_retention``; no
  quarter effects; a missing-answer indicator, if the model has one, 0: the demo's non-response is not
  informative) and every assumption at its default. The coefficient-only range (assumptions at their defaults)
  is the one checked, because the plug-in truth fixes the assumptions. A seed whose data are too thin for a model
  (fewer early exits than ``fit_early_attrition`` needs) counts for none of its intervals; the table gives the
  seeds used.
"""

from __future__ import annotations

import inspect
import math
import sys

import numpy as np
import polars as pl
import pytest

from servicechain import demo, features, finance, loyalty, mediation, retention

CI_SEEDS = 60
SIZES = (15, 125)
LEVEL = 0.95

RET_TRUTH = {"recognition_per_month": -0.15, "empowerment": -0.30, "leadership": -0.35}
UNIT_DRIVERS = ("recognition_per_month", "empowerment", "leadership", "voluntary_turnover_pct")


MONEY_LEVEL = 0.80  # the money page's P10-P90
DEMO_EMPLOYEES = {15: 500, 125: 3000}  # demo organisations standing for "about 15" and "about 125" units
DEMO_CI_SEEDS = {15: 40, 125: 12}  # the demo costs 1-2 s a seed at 500 employees, 4-6 s at 3,000


def tolerance(n_seeds: int, level: float = LEVEL) -> float:
    """3 Monte Carlo standard errors of a coverage share at the nominal ``level`` over ``n_seeds`` seeds."""
    return 3 * math.sqrt(level * (1 - level) / n_seeds)


def nominal(interval: str) -> float:
    """The nominal coverage of a quoted interval: 0.80 for the money's P10-P90, else 0.95."""
    return MONEY_LEVEL if interval.startswith("money") else LEVEL


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


def true_hazard_params(names: list[str], truth: dict) -> np.ndarray:
    """The generator's hazard coefficients in the order of the model's columns (``retention.exog`` names)."""
    ctl = truth["retention_controls"]
    tenure = dict(zip(ctl["tenure_band_years"], ctl["tenure_effect"]))
    role = ctl["role_effect"]
    out = []
    for name in names:
        col, _, level = name[:-1].partition("[")
        if name == "const":
            out.append(ctl["intercept"] + tenure[retention.REF_TENURE] + role[retention.REF_ROLE])
        elif name in truth["retention"]:
            out.append(truth["retention"][name])
        elif col == "tenure_band":
            out.append(tenure[level] - tenure[retention.REF_TENURE])
        elif col == "role":
            out.append(role[level] - role[retention.REF_ROLE])
        elif col == "quarter" or name.endswith("_missing") or name == "no_answer":
            # no quarter effects; the demo's non-response is not informative (a unit's response rate only)
            out.append(0.0)
        else:
            raise ValueError(f"no true value for the hazard column {name!r}")
    return np.array(out, dtype=float)


def money_truth(res: finance.FinanceResult, hazard: retention.HazardResult, unit_model: loyalty.UnitModel,
                truth: dict) -> dict[str, float]:
    """Plug-in truth of the headline scenario: its valuation with the true coefficients, assumptions at defaults.

    The generator's hazard is a logit whatever link the model uses (a cloglog fit values the same exits)."""
    bh = true_hazard_params(list(hazard.names), truth)
    bu = np.zeros(len(unit_model.params))
    for i in finance.unit_driver_index(unit_model):
        bu[i] = truth["customer_retention"][finance.UNIT_DRIVERS[i - 1]]
    sc, a, pop = res.headline, res.assumptions, res.population
    changes, parts = finance.expand(a, sc.scenario)
    logit = {"link": "logit"} if "link" in inspect.signature(finance.simulate).parameters else {}
    eff = finance.simulate(pop, tuple(hazard.drivers), changes, bh[None, :], bu[None, :], **logit)
    cost = finance.programme_cost(parts, pop.headcount, pop.managers)
    v = finance.Economics.from_assumptions(a).value(eff, cost)
    return {k: float(np.asarray(x)[0]) for k, x in v.items()}


def _analyse_capturing_fits(tables: dict, quarter: str, seed: int, panels: tuple):
    """``finance.analyse`` as the money page runs it, keeping the two fitted models it values."""
    fits: dict = {}
    fit_h, fit_u = retention.fit_hazard, loyalty.fit_unit_model

    def spy_h(*a, **k):
        fits["hazard"] = fit_h(*a, **k)
        return fits["hazard"]

    def spy_u(*a, **k):
        fits["unit"] = fit_u(*a, **k)
        return fits["unit"]

    retention.fit_hazard, loyalty.fit_unit_model = spy_h, spy_u
    try:
        res = finance.analyse(tables, quarter, seed=seed, panels=panels)
    finally:
        retention.fit_hazard, loyalty.fit_unit_model = fit_h, fit_u
    return res, fits["hazard"], fits["unit"]


MONEY_PARTS = {"net value": ("net_value",), "employee side (replacement cost avoided)": ("replacement_cost_avoided",),
               "customer side (acquisition spend avoided + margin kept)": ("acquisition_spend_avoided", "margin_kept")}


def hits_demo(seed: int, units: int) -> dict[str, bool | None]:
    """Early attrition (95% CIs) and the money's coefficient-only P10-P90 on one seeded demo organisation."""
    tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=DEMO_EMPLOYEES[units]))
    q = truth["quarters"][-1]
    tabs = features.as_of(tables, q)
    out: dict[str, bool | None] = {}
    ea_truth = {k: truth["early_attrition"][k] for k in retention.EARLY_DRIVERS}
    try:
        ea = retention.fit_early_attrition(tabs, q)
    except ValueError:  # too few early exits at this size: the page shows no model
        ea = None
    for d, t in ea_truth.items():
        out[f"early attrition, {d} (log-odds / odds ratio)"] = None if ea is None or d not in ea.effects else (
            ea.effects[d].covers(t))
    pq, info = features.person_quarters(tabs)
    res, hazard, unit_model = _analyse_capturing_fits(tables, q, seed, (pq, info, features.unit_quarters(tabs)))
    true = money_truth(res, hazard, unit_model, truth)
    for label, keys in MONEY_PARTS.items():
        draws = sum(res.headline.money_coef[k][1:] for k in keys)
        p10, _, p90 = finance.quantiles(draws)
        out[f"money, headline scenario, {label}: coefficient-only P10-P90"] = p10 <= sum(true[k] for k in keys) <= p90
    return out


MODELS = {"hazard": hits_hazard, "unit_models": hits_unit_models, "mediation": hits_mediation, "demo": hits_demo}
CI_SEEDS_OF = {"demo": DEMO_CI_SEEDS}


def coverage_counts(model: str, units: int, n_seeds: int) -> dict[str, tuple[float, int]]:
    """(share of seeds whose interval covers the truth, seeds used) per quoted interval of ``model``.

    A seed on which an interval could not be computed (None) is left out of that interval's share."""
    hit: dict[str, int] = {}
    used: dict[str, int] = {}
    for s in range(n_seeds):
        for k, v in MODELS[model](10_000 + s, units).items():
            hit.setdefault(k, 0)
            used.setdefault(k, 0)
            if v is not None:
                hit[k] += int(v)
                used[k] += 1
    return {k: (hit[k] / used[k] if used[k] else float("nan"), used[k]) for k in hit}


def coverage(model: str, units: int, n_seeds: int) -> dict[str, float]:
    """Share of ``n_seeds`` seeds whose interval covers the truth, per quoted interval of ``model``."""
    return {k: c for k, (c, _) in coverage_counts(model, units, n_seeds).items()}


# ------------------------------------------------------------------------------------------ the tests

# Intervals measured outside their tolerance at CI_SEEDS and at the doc's 400 seeds; see docs/validation.md.
KNOWN_MISSES: set[tuple[str, int]] = set()


@pytest.mark.slow
@pytest.mark.parametrize("units", SIZES)
@pytest.mark.parametrize("model", list(MODELS))
def test_coverage_within_monte_carlo_tolerance(model: str, units: int) -> None:
    seeds = CI_SEEDS_OF.get(model, {}).get(units, CI_SEEDS)
    cov = coverage_counts(model, units, seeds)
    bad = {k: (c, n) for k, (c, n) in cov.items()
           if not (n >= seeds // 2 and abs(c - nominal(k)) <= tolerance(n, nominal(k))) and (k, units) not in KNOWN_MISSES}
    assert not bad, (f"(coverage, seeds used) outside nominal +/- 3 MC SE at {units} units over {seeds} seeds: {bad}")


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
    # python tests/test_coverage_models.py SEEDS [MODEL or MODEL@UNITS ...]  (default: every model at both sizes)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    cells = [(m, int(u)) if u else (m, size) for m, _, u in (a.partition("@") for a in sys.argv[2:])
             for size in (SIZES if not u else SIZES[:1])] or [(m, u) for m in MODELS for u in SIZES]
    print("| interval | units | seeds | nominal | coverage | MC SE | within nominal +/- 3 MC SE |")
    print("|---|---|---|---|---|---|---|")
    for model, units in cells:
        for k, (c, used) in coverage_counts(model, units, n).items():
            lvl = nominal(k)
            ok = "yes" if used and abs(c - lvl) <= tolerance(used, lvl) else "**no**"
            se = math.sqrt(c * (1 - c) / used) if used else float("nan")
            print(f"| {k} | {units} | {used} | {lvl:.2f} | {c:.3f} | {se:.3f} | {ok} (+/- {tolerance(used, lvl):.3f}) |",
                  flush=True)
