"""Bias of the chain's indirect effect on the demo organisation at 30,000 employees (issue 12: within 2% of truth).

``chain.fit_mediation`` estimates, per 1 SD of the unit EX index in q-2 (X), the interventional indirect
effect a*b through voluntary turnover in q-1 (M) on NPS or customer retention in q (Y): a = slope of M on X,
b = slope of Y on M holding X and the unit's EX in q-1 fixed (quarter effects in both).

The truth on that scale. The generator has a structural b: ``truth.json`` ``loyalty`` /
``customer_retention`` ``voluntary_turnover_pct`` (the unit's customers in q respond to its turnover in q-1,
holding its q-1 recognitions per month, empowerment and leadership fixed). It has no structural a on the
EX-index scale: X is a survey proxy of the unit's culture (the respondents' mean answers) and turnover
responds to each person's own previous-quarter drivers through a logit, so a is the population least-squares
slope, which OLS estimates without bias. The truth is a x b_true with a the model's own estimate on the same
rows, so indirect / truth - 1 = b / b_true - 1.

Checks on one seeded organisation of 30,000 employees (about 1,250 units, 6,000 unit-quarters in the model):

1. **Systematic part** (the bias that does not shrink with size): Y replaced by the generator's customer
   mechanism applied to the data's own q-1 unit drivers (truth.json effects x the unit's q-1 recognitions per
   month, empowerment, leadership and turnover), i.e. the outcome without the parts that are independent of
   the employee side by construction (unit baselines, season, NPS answer and customer sampling noise). The
   model must be within 2% of the truth. The previous adjustment (the q-1 EX index alone) is 5-7% off and the
   unadjusted model 7-10%: the check fails on both, so it can fail.
2. **Observed outcomes**: the 95% CIs of b and of the indirect effect contain the truth. One draw at 30,000
   employees has a standard error of about 12% of b for NPS and 5% for customer retention, so 2% cannot be
   checked on one draw; the mean over seeds is in docs/validation.md:

       .venv/bin/python tests/test_mediation_bias.py 20
"""

from __future__ import annotations

import math
import sys

import polars as pl
import pytest

from servicechain import chain, demo, features, mediation

EMPLOYEES = 30_000
SEED = 12
OUTCOMES = {"nps": "loyalty", "customer_retention_pct": "customer_retention"}
UNIT_KEYS = ("recognition_per_month", "empowerment", "leadership", "voluntary_turnover_pct")
TOLERANCE = 0.02


def organisation(seed: int = SEED, employees: int = EMPLOYEES) -> tuple[pl.DataFrame, dict]:
    """The unit-quarter panel and truth.json of one seeded demo organisation."""
    tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=employees))
    return features.unit_quarters(tables), truth


def systematic(uq: pl.DataFrame, outcome: str, truth: dict) -> pl.DataFrame:
    """``uq`` with ``outcome`` (where observed) replaced by the generator's mechanism on the q-1 unit drivers."""
    g = truth[OUTCOMES[outcome]]
    expr = sum(float(g[k]) * pl.col(f"{k}_lag") for k in UNIT_KEYS)
    return uq.with_columns(pl.when(pl.col(outcome).is_not_null()).then(expr).otherwise(None).alias(outcome))


def relative_errors(uq: pl.DataFrame, outcome: str, truth: dict, reps: int = 0) -> dict[str, float]:
    """indirect / (a x b_true) - 1 for the model (``adjusted``), the q-1 EX index alone and no adjustment."""
    b_true = float(truth[OUTCOMES[outcome]]["voluntary_turnover_pct"])
    out = {}
    res = chain.fit_mediation(uq, "voluntary_turnover_pct", outcome, reps=reps, seed=7)
    out["adjusted"] = res.indirect.estimate / (res.a.estimate * b_true) - 1
    rows = chain.mediation_frame(uq, "voluntary_turnover_pct", outcome)
    rows = rows.drop_nulls(["l", *(c for c in rows.columns if c.startswith("l_"))])  # the model's rows
    idx = mediation.mediate(rows, "x", "m", "y", covariates=["quarter"], cluster="unit_id", contrast=None,
                            n_boot=0, outcome_covariates=["l"])
    out["ex_index_only"] = idx.acme.estimate / (idx.a.estimate * b_true) - 1
    old = chain.fit_mediation(uq, "voluntary_turnover_pct", outcome, reps=0, adjust_ex_lag=False)
    out["unadjusted"] = old.indirect.estimate / (old.a.estimate * b_true) - 1
    return out


@pytest.fixture(scope="module")
def org() -> tuple[pl.DataFrame, dict]:
    return organisation()


@pytest.mark.slow
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_indirect_effect_within_2pct_of_truth_on_the_systematic_outcome(org, outcome: str) -> None:
    uq, truth = org
    assert uq["unit_id"].n_unique() > 1000
    err = relative_errors(systematic(uq, outcome, truth), outcome, truth)
    assert abs(err["adjusted"]) < TOLERANCE, err
    # the two earlier specifications leave confounding by the unit's q-1 drivers: the check can fail
    assert err["ex_index_only"] > 2 * TOLERANCE and err["unadjusted"] > 2 * TOLERANCE, err


@pytest.mark.slow
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_observed_outcomes_intervals_contain_the_truth(org, outcome: str) -> None:
    uq, truth = org
    b_true = float(truth[OUTCOMES[outcome]]["voluntary_turnover_pct"])
    res = chain.fit_mediation(uq, "voluntary_turnover_pct", outcome, reps=200, seed=7)
    assert res.adjusted_for == ("ex_index_q-1", "recognition_per_month_q-1", "empowerment_q-1", "leadership_q-1")
    assert res.n_obs > 5000
    assert res.b.covers(b_true), (res.b, b_true)
    assert res.indirect.covers(res.a.estimate * b_true), (res.indirect, res.a.estimate * b_true)


if __name__ == "__main__":  # mean relative errors over seeds, observed and systematic outcomes (docs/validation.md)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    errs: dict[tuple[str, str, str], list[float]] = {}
    for s in range(n):
        uq, truth = organisation(SEED + s)
        for outcome in OUTCOMES:
            for part, panel in (("observed", uq), ("systematic", systematic(uq, outcome, truth))):
                for k, v in relative_errors(panel, outcome, truth).items():
                    errs.setdefault((outcome, part, k), []).append(v)
        print(f"seed {SEED + s} done", file=sys.stderr, flush=True)
    print("| outcome | outcome | outcome model adjusts for | seeds | mean of indirect / truth - 1 | MC SE |")
    print("|---|---|---|---|---|---|")
    for (outcome, part, k), v in errs.items():
        m = sum(v) / len(v)
        se = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1) / len(v))
        print(f"| {outcome} | {part} | {k} | {len(v)} | {m:+.3f} | {se:.3f} |", flush=True)
