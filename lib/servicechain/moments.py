"""Moments of truth, customer by customer (issue 16).

Carlzon: every contact leaves an impression, and a bad impression is remembered more than the good ones.
Two designs, the stronger first:

* **Customer level** (:func:`fit_customer_model`), when ``customer_feedback`` carries ``customer_id``: each
  answer is linked to that customer's activity. Outcome: the customer is active (any purchase or visit) in the
  quarter after the answer. Logit with touchpoint x experience (detractor 0-6 / passive 7-8 / promoter 9-10;
  passive is the reference at every touchpoint), controls for the customer's own previous activity (active the
  quarter before, log visits this quarter) and for the unit-quarter's return rate (the logit of the share of the
  unit's customers of that quarter who come back: what every customer of the unit shares). Inference: cluster
  (pairs) bootstrap by unit, percentile 95% CIs. The asymmetry test compares, per touchpoint, what a detractor
  experience costs (-b_detractor) with what a promoter experience gains (b_promoter).
* **Unit level** (:func:`fit_unit_corrected`), without ``customer_id``: the unit-quarter regression of customer
  retention on a touchpoint's NPS, whose regressor rests on a handful of answers (reliability about 0.1), is
  corrected for that measurement error (errors-in-variables method of moments: the answers' sampling variance is
  taken off the regressors' covariance; Fuller 1987), with cluster-bootstrap CIs. It is weaker than the
  customer-level link and is labelled so; touchpoints whose CIs overlap are never ranked.

Money (:func:`detractor_value`): one avoided detractor experience keeps ``pp`` customers in 100 (the
detractor effect on the probability scale, passive as the alternative); each customer kept is one that need not be
re-acquired (the 6-7x rule: acquisition = multiple x retention cost) and keeps its margin
(:func:`servicechain.finance.customer_value`), with the assumptions' ranges and the estimate's bootstrap draws.

Associations, not proof of cause: the experience is not assigned at random.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Mapping

import numpy as np
import polars as pl

from . import quarters as Q
from .estimates import Estimate

EXPERIENCES = ("detractor", "passive", "promoter")
CUSTOMER_METHOD = ("customer-level logit of coming back next quarter: touchpoint x experience (passive = reference), "
                   "controls: active the quarter before, log visits this quarter, logit of the unit-quarter's return "
                   "rate; cluster (pairs) bootstrap by unit, percentile 95% CIs")
UNIT_METHOD = ("unit-quarter OLS of customer retention (pp) on the touchpoint's NPS (per 10 points) and the unit's NPS "
               "at its other touchpoints, lagged drivers and quarter effects, corrected for the answers' sampling "
               "error (errors-in-variables method of moments); cluster bootstrap by unit, percentile 95% CIs; weaker "
               "than the customer-level link")
MIN_ANSWERS = 20  # per touchpoint and experience, for the touchpoint to be estimated customer by customer
MIN_UNITS = 5
MAX_ANSWERS = 100_000  # above this many linked answers the model is fitted on a seeded random sample of whole units
MIN_RELIABILITY = 0.05  # a unit-level touchpoint NPS less reliable than this cannot be corrected (not estimated)


def experience_expr(col: str = "nps") -> pl.Expr:
    """detractor (0-6) / passive (7-8) / promoter (9-10)."""
    return (pl.when(pl.col(col) <= 6).then(pl.lit("detractor")).when(pl.col(col) <= 8).then(pl.lit("passive"))
            .otherwise(pl.lit("promoter")))


def has_customer_ids(tables: Mapping[str, Any]) -> bool:
    """Does customer_feedback carry customer ids (not all null) and is there customer activity to link them to?"""
    fb = tables.get("customer_feedback")
    if fb is None or "customer_activity" not in tables:
        return False
    if "customer_id" not in fb.collect_schema().names() or "touchpoint" not in fb.collect_schema().names():
        return False
    return bool(fb.lazy().select(pl.col("customer_id").is_not_null().any()).collect().item())


def customer_answers(tables: Mapping[str, Any]) -> pl.DataFrame:
    """One row per linked answer: unit, quarter, touchpoint, experience, came_back (0/1), the controls, spending.

    Answers of the last quarter the activity covers (no next quarter to look at) and of its first (no previous
    quarter for the control) are left out, as are answers without a customer id or touchpoint.
    """
    act = (tables["customer_activity"].lazy().with_columns(Q.index_expr("date").alias("qi"))
           .group_by("customer_id", "qi").agg(pl.len().alias("visits"), pl.col("revenue").sum().alias("spend")))
    act_c = act.collect()
    q_lo, q_hi = int(act_c["qi"].min()), int(act_c["qi"].max())
    # the unit-quarter's return rate: its customers of the quarter (by the unit of their activity) seen next quarter
    cu = (tables["customer_activity"].lazy().with_columns(Q.index_expr("date").alias("qi"))
          .select("customer_id", "unit_id", "qi").unique().collect())
    nxt = act_c.select("customer_id", (pl.col("qi") - 1).alias("qi"), pl.lit(1).alias("_back"))
    rate = (cu.join(nxt, on=["customer_id", "qi"], how="left").group_by("unit_id", "qi")
            .agg(pl.col("_back").fill_null(0).mean().alias("unit_return_rate"), pl.len().alias("unit_customers")))
    fb = (tables["customer_feedback"].lazy()
          .filter(pl.col("customer_id").is_not_null() & pl.col("touchpoint").is_not_null())
          .with_columns(Q.index_expr("date").alias("qi"), experience_expr().alias("experience"))
          .select("customer_id", "unit_id", "qi", "touchpoint", "experience").collect()
          .filter((pl.col("qi") > q_lo) & (pl.col("qi") < q_hi)))
    cur = act_c.select("customer_id", "qi", "visits", "spend")
    prev = act_c.select("customer_id", (pl.col("qi") + 1).alias("qi"), pl.lit(1).alias("active_prev"))
    after = act_c.select("customer_id", (pl.col("qi") - 1).alias("qi"), pl.lit(1).alias("came_back"),
                         pl.col("spend").alias("spend_next"))
    return (fb.join(cur, on=["customer_id", "qi"], how="left").join(prev, on=["customer_id", "qi"], how="left")
            .join(after, on=["customer_id", "qi"], how="left").join(rate, on=["unit_id", "qi"], how="left")
            .with_columns(pl.col("visits").fill_null(0), pl.col("spend").fill_null(0.0),
                          pl.col("active_prev").fill_null(0), pl.col("came_back").fill_null(0),
                          pl.col("spend_next").fill_null(0.0))
            .drop_nulls("unit_return_rate"))


# ------------------------------------------------------------------------------------------ logit machinery


def _logit_fit(X: np.ndarray, y: np.ndarray, w: np.ndarray, beta: np.ndarray | None = None,
               iters: int = 30, tol: float = 1e-9) -> np.ndarray:
    """Weighted logit by Newton-Raphson (``w``: row weights, e.g. cluster-bootstrap counts)."""
    b = np.zeros(X.shape[1]) if beta is None else beta.copy()
    for _ in range(iters):
        eta = np.clip(X @ b, -30, 30)
        p = 1.0 / (1.0 + np.exp(-eta))
        g = X.T @ (w * (y - p))
        H = (X * (w * p * (1 - p))[:, None]).T @ X
        step = np.linalg.lstsq(H, g, rcond=None)[0]
        b = b + step
        if np.max(np.abs(step)) < tol:
            break
    return b


def _cluster_weights(groups: np.ndarray, B: int, rng: np.random.Generator) -> np.ndarray:
    """(B, n) row weights of a pairs cluster bootstrap: each unit drawn with replacement, its rows weighted by count."""
    G = int(groups.max()) + 1
    counts = rng.multinomial(G, np.full(G, 1.0 / G), size=B)
    return counts[:, groups].astype(float)


def _est(name: str, point: float, draws: np.ndarray, n: int, scale: str) -> Estimate:
    """An Estimate from a point value and its bootstrap draws (percentile CI, bootstrap SE, two-sided p from the
    share of draws on the other side of zero)."""
    d = draws[np.isfinite(draws)]
    lo, hi = (float(np.quantile(d, 0.025)), float(np.quantile(d, 0.975))) if d.size else (math.nan, math.nan)
    se = float(d.std(ddof=1)) if d.size > 1 else math.nan
    p = float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean()))) if d.size else math.nan
    return Estimate(name, float(point), se, lo, hi, p, int(n), scale)


@dataclass
class TouchpointEffect:
    """One touchpoint, customer by customer: what a detractor experience costs and a promoter one gains."""

    touchpoint: str
    detractor: Estimate  # log-odds of coming back vs a passive answer at this touchpoint
    promoter: Estimate
    asymmetry: Estimate  # |bad| - |good| = -detractor - promoter (log-odds): > 0 when the bad moment costs more
    detractor_pp: Estimate  # the same on the probability scale: percentage points of coming back vs passive
    promoter_pp: Estimate
    answers: dict[str, int]  # answers per experience
    units: int
    spend_change: dict[str, Estimate] = field(default_factory=dict)  # mean change in spend next quarter vs passive

    @property
    def verdict(self) -> str:
        """'supported' (a bad moment costs more than a good one gains: CI of the difference above 0), 'opposite'
        (below 0) or 'not_supported' (the CI includes no difference)."""
        a = self.asymmetry
        return "supported" if a.ci_low > 0 else "opposite" if a.ci_high < 0 else "not_supported"

    def to_dict(self) -> dict:
        return {"touchpoint": self.touchpoint, "detractor": self.detractor.to_dict(),
                "promoter": self.promoter.to_dict(), "asymmetry": self.asymmetry.to_dict(),
                "detractor_pp": self.detractor_pp.to_dict(), "promoter_pp": self.promoter_pp.to_dict(),
                "answers": dict(self.answers), "units": self.units, "verdict": self.verdict,
                "spend_change": {k: v.to_dict() for k, v in self.spend_change.items()}}


@dataclass
class CustomerMoments:
    """The customer-level moments-of-truth model (:func:`fit_customer_model`)."""

    effects: dict[str, TouchpointEffect]
    n_answers: int
    n_units: int
    n_customers: int
    return_rate: float
    draws: dict[str, np.ndarray] = field(default_factory=dict, repr=False)  # bootstrap draws of detractor_pp
    method: str = CUSTOMER_METHOD
    level: str = "customer"
    skipped: list[str] = field(default_factory=list)  # touchpoints with too few answers per experience
    sampled_units: int | None = None  # units of the random sample fitted (None: every answer)

    def table(self) -> pl.DataFrame:
        """One row per touchpoint: detractor / promoter / asymmetry (log-odds) and pp, with CIs, and the verdict."""
        rows = []
        for t, e in self.effects.items():
            r: dict[str, Any] = {"touchpoint": t}
            for k in ("detractor", "promoter", "asymmetry", "detractor_pp", "promoter_pp"):
                x = getattr(e, k)
                r.update({k: x.estimate, f"{k}_low": x.ci_low, f"{k}_high": x.ci_high})
            r.update({"verdict": e.verdict, "answers": sum(e.answers.values()), "units": e.units})
            rows.append(r)
        return pl.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"level": self.level, "method": self.method, "n_answers": self.n_answers, "n_units": self.n_units,
                "n_customers": self.n_customers, "return_rate": self.return_rate, "skipped": list(self.skipped),
                "sampled_units": self.sampled_units,
                "touchpoints": {t: e.to_dict() for t, e in self.effects.items()}}


def fit_customer_model(rows: pl.DataFrame, boot: int = 199, seed: int = 7, min_answers: int = MIN_ANSWERS,
                       min_units: int = MIN_UNITS, max_answers: int = MAX_ANSWERS) -> CustomerMoments:
    """Customer-level logit of coming back on touchpoint x experience (see the module docstring).

    ``rows``: :func:`customer_answers`. Touchpoints with fewer than ``min_answers`` answers in any experience, or
    answers from fewer than ``min_units`` units (pass the anonymity threshold when it is larger), are left out
    (named in ``skipped``). More than ``max_answers`` answers: a seeded random sample of whole units holding about
    that many is fitted (cluster sampling keeps the design; ``sampled_units`` says how many), so a million-employee
    organisation's feedback costs seconds, not hours.
    """
    sampled = None
    if rows.height > max_answers:
        per_unit = rows.group_by("unit_id").len().sort("unit_id")
        order = np.random.default_rng([seed, 1604]).permutation(per_unit.height)
        keep = order[: int(np.searchsorted(np.cumsum(per_unit["len"].to_numpy()[order]), max_answers)) + 1]
        units = per_unit["unit_id"].gather(np.sort(keep))
        rows = rows.filter(pl.col("unit_id").is_in(units.implode()))
        sampled = int(units.len())
    counts = rows.group_by("touchpoint", "experience").len()
    units_tp = rows.group_by("touchpoint").agg(pl.col("unit_id").n_unique().alias("u"))
    tps, skipped = [], []
    for t in sorted(rows["touchpoint"].unique().to_list()):
        c = {r["experience"]: r["len"] for r in counts.filter(pl.col("touchpoint") == t).to_dicts()}
        u = int(units_tp.filter(pl.col("touchpoint") == t)["u"].item())
        (tps if all(c.get(x, 0) >= min_answers for x in EXPERIENCES) and u >= max(min_units, MIN_UNITS)
         else skipped).append(t)
    if not tps:
        raise ValueError("too few linked answers per touchpoint and experience for the customer-level model")
    rows = rows.filter(pl.col("touchpoint").is_in(tps))
    rr = rows["unit_return_rate"].to_numpy().astype(float).clip(0.01, 0.99)
    tp_idx = rows.select(pl.col("touchpoint").replace_strict(tps, list(range(len(tps))))).to_series().to_numpy()
    det = (rows["experience"] == "detractor").to_numpy().astype(float)
    pro = (rows["experience"] == "promoter").to_numpy().astype(float)
    T = len(tps)
    D = np.zeros((rows.height, T))
    D[np.arange(rows.height), tp_idx] = 1.0
    base = np.column_stack([np.ones(rows.height), np.log(rr / (1 - rr)), rows["active_prev"].to_numpy().astype(float),
                            np.log1p(rows["visits"].to_numpy().astype(float)), D[:, 1:]])
    X = np.column_stack([base, D * det[:, None], D * pro[:, None]])
    kd, kp = base.shape[1], base.shape[1] + T
    y = rows["came_back"].to_numpy().astype(float)
    groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy() - 1
    beta = _logit_fit(X, y, np.ones(len(y)))
    rng = np.random.default_rng([seed, 1601])
    W = _cluster_weights(groups, boot, rng)
    bs = np.array([_logit_fit(X, y, W[b], beta, iters=3) for b in range(boot)])

    # probability scale: mean over the touchpoint's answers of p(experience) - p(passive)
    E0 = X[:, :kd] @ np.column_stack([beta, bs.T])[:kd]  # (n, 1 + boot): passive linear predictor per draw
    B1 = np.column_stack([beta, bs.T])

    def pp(t: int, col: int) -> np.ndarray:
        e0 = E0[tp_idx == t]
        return 100 * (1 / (1 + np.exp(-(e0 + B1[col]))) - 1 / (1 + np.exp(-e0))).mean(axis=0)

    spend = _spend_change(rows, tps, groups, W)
    effects, draws = {}, {}
    for t, name in enumerate(tps):
        m = tp_idx == t
        n = int(m.sum())
        sc = "log-odds of coming back next quarter vs a passive answer at this touchpoint"
        d_e = _est(f"{name} detractor", beta[kd + t], bs[:, kd + t], n, sc)
        p_e = _est(f"{name} promoter", beta[kp + t], bs[:, kp + t], n, sc)
        a_e = _est(f"{name} asymmetry", -beta[kd + t] - beta[kp + t], -bs[:, kd + t] - bs[:, kp + t], n,
                   "|detractor| - |promoter| in log-odds of coming back (> 0: a bad moment costs more than a good one gains)")
        dpp, ppp = pp(t, kd + t), pp(t, kp + t)
        dpp_draws, ppp_draws = dpp[1:], ppp[1:]
        scp = "percentage points of coming back next quarter vs a passive answer at this touchpoint"
        draws[name] = dpp_draws
        effects[name] = TouchpointEffect(
            name, d_e, p_e, a_e, _est(f"{name} detractor pp", dpp[0], dpp_draws, n, scp),
            _est(f"{name} promoter pp", ppp[0], ppp_draws, n, scp),
            {x: int(((rows["experience"] == x).to_numpy() & m).sum()) for x in EXPERIENCES},
            int(len(np.unique(groups[m]))), spend.get(name, {}))
    return CustomerMoments(effects, rows.height, int(groups.max()) + 1, rows["customer_id"].n_unique(),
                           float(y.mean()), draws, skipped=skipped, sampled_units=sampled)


def _spend_change(rows: pl.DataFrame, tps: list[str], groups: np.ndarray, W: np.ndarray) -> dict[str, dict[str, Estimate]]:
    """Per touchpoint: mean (spend next quarter - spend this quarter) after a detractor / promoter answer minus the
    same after a passive one (currency per customer; a customer who does not come back spends 0), bootstrap CIs."""
    ch = (rows["spend_next"] - rows["spend"]).to_numpy().astype(float)
    tp = rows["touchpoint"].to_numpy()
    ex = rows["experience"].to_numpy()
    out: dict[str, dict[str, Estimate]] = {}
    for t in tps:
        res = {}
        mp = (tp == t) & (ex == "passive")
        for x in ("detractor", "promoter"):
            mx = (tp == t) & (ex == x)
            pt = ch[mx].mean() - ch[mp].mean()
            wx, wp = W[:, mx], W[:, mp]
            with np.errstate(invalid="ignore", divide="ignore"):
                dr = (wx @ ch[mx]) / wx.sum(1) - (wp @ ch[mp]) / wp.sum(1)
            res[x] = _est(f"{t} {x} spend", pt, dr, int(mx.sum()),
                          "change in spend per customer next quarter vs a passive answer (currency)")
        out[t] = res
    return out


# ------------------------------------------------------------------------------------------ money


@dataclass
class DetractorValue:
    """What one avoided detractor experience at a touchpoint is worth (a passive one instead)."""

    touchpoint: str
    customers_kept: Estimate  # customers kept per avoided detractor experience (probability, 0-1)
    value: float  # median over the draws (currency)
    p10: float
    p90: float
    acquisition_share: float  # the share of the value that is acquisition spend avoided (the 6-7x rule)

    def to_dict(self) -> dict:
        return {"touchpoint": self.touchpoint, "customers_kept": self.customers_kept.to_dict(), "value": self.value,
                "p10": self.p10, "p90": self.p90, "acquisition_share": self.acquisition_share}


ECONOMICS = ("acquisition_cost_multiple", "retention_cost_per_customer_per_year", "revenue_per_customer_per_year",
             "margin_share", "margin_horizon_months")


def economics(a: Any, revenue_per_customer_year: float | None) -> dict[str, tuple[float, float, float]]:
    """(value, low, high) of the assumptions the money needs, resolved as the money page resolves them
    (:func:`servicechain.finance.resolve`: auto revenue from the data, acquisition = multiple x retention)."""
    from . import finance

    r = finance.resolve(a, SimpleNamespace(revenue_per_customer_year=revenue_per_customer_year))
    out = {}
    for k in ECONOMICS:
        p = r.params[k]
        out[k] = (float(p.value), float(p.low if p.low is not None else p.value),
                  float(p.high if p.high is not None else p.value))
    return out


def detractor_value(moments: CustomerMoments, econ: Mapping[str, tuple[float, float, float]],
                    seed: int = 7) -> list[DetractorValue]:
    """Value of one avoided detractor experience per touchpoint (see the module docstring).

    customers kept = -detractor_pp / 100 (bootstrap draws); each is valued by
    :func:`servicechain.finance.customer_value` with every assumption drawn uniformly in its range (the 6-7x
    multiple included). A range (P10-P90) that includes 0 says the data cannot tell it from nothing.
    """
    from . import finance

    rng = np.random.default_rng([seed, 1602])
    out = []
    for t, e in moments.effects.items():
        kept_draws = -moments.draws[t] / 100.0
        n = len(kept_draws)
        par = {k: rng.uniform(lo, hi, n) if hi > lo else np.full(n, v) for k, (v, lo, hi) in econ.items()}
        cv = finance.customer_value(kept_draws, par["acquisition_cost_multiple"],
                                    par["retention_cost_per_customer_per_year"], par["revenue_per_customer_per_year"],
                                    par["margin_share"], par["margin_horizon_months"])
        tot = np.asarray(cv.total)
        pt = finance.customer_value(-e.detractor_pp.estimate / 100.0, *(econ[k][0] for k in ECONOMICS))
        kept = Estimate(f"{t} customers kept", -e.detractor_pp.estimate / 100.0, e.detractor_pp.se / 100.0,
                        -e.detractor_pp.ci_high / 100.0, -e.detractor_pp.ci_low / 100.0, e.detractor_pp.p_value,
                        e.detractor_pp.n, "customers kept per avoided detractor experience")
        out.append(DetractorValue(t, kept, float(pt.total), float(np.quantile(tot, 0.1)),
                                  float(np.quantile(tot, 0.9)),
                                  float(pt.acquisition / pt.total) if pt.total else math.nan))
    return out


# ------------------------------------------------------------------------------------------ without customer ids


def touchpoint_cells(tables: Mapping[str, Any]) -> pl.DataFrame:
    """NPS per unit, quarter and touchpoint with the sampling variance of that NPS (from its own answers), and the
    unit-quarter's NPS at its other touchpoints with its sampling variance."""
    fb = (tables["customer_feedback"].lazy().filter(pl.col("touchpoint").is_not_null())
          .with_columns(Q.index_expr("date").alias("qi"),
                        (100.0 * ((pl.col("nps") >= 9).cast(pl.Float64) - (pl.col("nps") <= 6).cast(pl.Float64)))
                        .alias("_s")).collect())
    cell = fb.group_by("unit_id", "qi", "touchpoint").agg(pl.len().alias("responses"), pl.col("_s").sum().alias("_sum"),
                                                          (pl.col("_s") ** 2).sum().alias("_ss"))
    tot = cell.group_by("unit_id", "qi").agg(pl.col("responses").sum().alias("_n_all"), pl.col("_sum").sum().alias("_sum_all"),
                                             pl.col("_ss").sum().alias("_ss_all"))

    def mv(n: pl.Expr, s: pl.Expr, ss: pl.Expr, name: str) -> list[pl.Expr]:
        mean = s / n
        var = (ss / n - mean**2) * n / (n - 1)  # the answers' variance; / n: the sampling variance of the mean
        return [mean.alias(name), (var / n).alias(f"{name}_errvar")]

    return (cell.join(tot, on=["unit_id", "qi"])
            .with_columns((pl.col("_n_all") - pl.col("responses")).alias("other_responses"))
            .with_columns(*mv(pl.col("responses"), pl.col("_sum"), pl.col("_ss"), "tp_nps"),
                          *mv(pl.col("other_responses"), pl.col("_sum_all") - pl.col("_sum"),
                              pl.col("_ss_all") - pl.col("_ss"), "other_nps"))
            .select("unit_id", "qi", "touchpoint", "responses", "tp_nps", "tp_nps_errvar", "other_responses",
                    "other_nps", "other_nps_errvar"))


@dataclass
class UnitMoments:
    """Unit-level moments of truth corrected for measurement error (weaker than the customer-level link)."""

    table: pl.DataFrame  # touchpoint, estimate, ci_low, ci_high, naive, naive_low, naive_high, reliability, n_obs
    method: str = UNIT_METHOD
    level: str = "unit"

    def to_dict(self) -> dict:
        return {"level": self.level, "method": self.method, "per_10_nps_points": self.table.to_dicts()}


def _eiv(y: np.ndarray, x: np.ndarray, Z: np.ndarray, errvar: np.ndarray, w: np.ndarray | None = None
         ) -> tuple[float, float, float]:
    """Errors-in-variables slope of y on the first column of x (x: mismeasured regressors, errvar: their mean
    sampling variances), exact controls Z partialled out; returns (corrected, naive, reliability of x[:, 0])."""
    w = np.ones(len(y)) if w is None else w
    sw = np.sqrt(w)
    Zw = Z * sw[:, None]
    def resid(v: np.ndarray) -> np.ndarray:
        vw = v * sw[:, None]
        return vw - Zw @ np.linalg.lstsq(Zw, vw, rcond=None)[0]

    ry, rx = resid(y[:, None])[:, 0], resid(x)
    N = w.sum()
    Sxx, Sxy = rx.T @ rx / N, rx.T @ ry / N
    naive = np.linalg.solve(Sxx, Sxy)[0]
    S_err = np.diag(errvar) * (1 - Z.shape[1] / len(y))
    corrected = np.linalg.solve(Sxx - S_err, Sxy)[0]
    return float(corrected), float(naive), float(1 - S_err[0, 0] / Sxx[0, 0])


def fit_unit_corrected(uq: pl.DataFrame, cells: pl.DataFrame, outcome: str = "customer_retention_pct",
                       min_responses: int = 2, boot: int = 199, seed: int = 7) -> UnitMoments:
    """Per touchpoint: customer retention (pp) on its NPS (per 10 points), errors-in-variables corrected.

    Regressors: the touchpoint's NPS this quarter and the unit's NPS at its other touchpoints (both measured with
    sampling error from their own answers: the error variances come from the answers themselves), lagged drivers
    and quarter effects (exact). Cluster bootstrap by unit for the CIs.
    """
    from .features import UNIT_DRIVERS
    from .loyalty import model_rows, _quarter_dummies

    base = model_rows(uq, outcome, UNIT_DRIVERS)
    rng = np.random.default_rng([seed, 1603])
    out = []
    for name in sorted(cells["touchpoint"].unique().to_list()):
        c = cells.filter((pl.col("touchpoint") == name) & (pl.col("responses") >= min_responses)
                         & (pl.col("other_responses") >= min_responses))
        rows = base.join(c, on=["unit_id", "qi"], how="inner").drop_nulls(["tp_nps_errvar", "other_nps_errvar"])
        if rows.height < 30 or rows["unit_id"].n_unique() < MIN_UNITS:
            continue
        qd, _ = _quarter_dummies(rows)
        Z = np.column_stack([np.ones(rows.height), rows.select([f"{d}_lag" for d in UNIT_DRIVERS]).to_numpy().astype(float), qd])
        x = np.column_stack([rows["tp_nps"].to_numpy() / 10.0, rows["other_nps"].to_numpy() / 10.0])
        ev = np.column_stack([rows["tp_nps_errvar"].to_numpy() / 100.0, rows["other_nps_errvar"].to_numpy() / 100.0])
        y = rows[outcome].to_numpy().astype(float)
        est, naive, rel = _eiv(y, x, Z, ev.mean(0))
        groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy() - 1
        W = _cluster_weights(groups, boot, rng)
        bd = np.array([[*_eiv(y, x, Z, (ev * W[b][:, None]).sum(0) / W[b].sum(), W[b])[:2]] for b in range(boot)])
        e = _est(name, est, bd[:, 0], rows.height, "pp of customer retention per +10 NPS points (corrected)")
        nv = _est(name, naive, bd[:, 1], rows.height, "pp per +10 NPS points (uncorrected)")
        ident = rel >= MIN_RELIABILITY  # below it the correction divides by ~0: the touchpoint is not estimated
        out.append({"touchpoint": name, "estimate": e.estimate if ident else math.nan,
                    "ci_low": e.ci_low if ident else math.nan, "ci_high": e.ci_high if ident else math.nan,
                    "identified": ident, "p_value": e.p_value, "naive": nv.estimate, "naive_low": nv.ci_low, "naive_high": nv.ci_high,
                    "reliability": rel, "n_obs": rows.height, "responses": int(rows["responses"].sum())})
    return UnitMoments(pl.DataFrame(out) if out else pl.DataFrame())


def separable_ranking(table: pl.DataFrame, col: str = "estimate", low: str = "ci_low", high: str = "ci_high") -> list[str]:
    """The touchpoints that can be put first: the largest estimate, only when its CI does not overlap the runner-up's
    (else []: never rank touchpoints whose CIs overlap). Returns [] or [first]."""
    if table.height < 1:
        return []
    t = table.sort(col, descending=True)
    t = t.filter(pl.col(col).is_not_nan() & pl.col(low).is_not_nan())
    if t.height == 0:
        return []
    if t.height == 1:
        return [t["touchpoint"][0]] if t[low][0] > 0 else []
    return [t["touchpoint"][0]] if t[low][0] > t[high][1] else []


# ------------------------------------------------------------------------------------------ page text


def _tp_word(name: str, lang: str) -> str:
    from . import i18n

    return i18n.t(name, lang) if i18n.has(name) else name


def forest_frame(cm: CustomerMoments, lang: str) -> pl.DataFrame:
    """Detractor and promoter effects (customers in 100 coming back vs passive) as rows for charts.forest."""
    from . import i18n

    rows = []
    for t, e in sorted(cm.effects.items(), key=lambda kv: kv[1].detractor_pp.estimate):
        tp = _tp_word(t, lang)
        for key, x in (("mtc_detractor", e.detractor_pp), ("mtc_promoter", e.promoter_pp)):
            rows.append({"label": i18n.t(key, lang, tp=tp), "estimate": x.estimate, "ci_low": x.ci_low,
                         "ci_high": x.ci_high})
    return pl.DataFrame(rows)


def asymmetry_table(cm: CustomerMoments, lang: str) -> pl.DataFrame:
    """The page's table: per touchpoint, both sides (customers in 100) and the difference with the verdict."""
    from . import charts, i18n

    return pl.DataFrame([{
        i18n.t("mtc_col_tp", lang): _tp_word(t, lang),
        i18n.t("mtc_col_bad", lang): charts.ci_text(e.detractor_pp.estimate, e.detractor_pp.ci_low, e.detractor_pp.ci_high, lang, 1),
        i18n.t("mtc_col_good", lang): charts.ci_text(e.promoter_pp.estimate, e.promoter_pp.ci_low, e.promoter_pp.ci_high, lang, 1),
        i18n.t("mtc_col_diff", lang): charts.ci_text(e.asymmetry.estimate, e.asymmetry.ci_low, e.asymmetry.ci_high, lang, 2),
        i18n.t("mtc_col_verdict", lang): i18n.t(f"mtc_verdict_{e.verdict}", lang),
    } for t, e in cm.effects.items()])


def asymmetry_text(cm: CustomerMoments, lang: str) -> str:
    """One paragraph: where the data support that a bad moment costs more than a good one gains, and where not."""
    from . import i18n

    sup = [_tp_word(t, lang) for t, e in cm.effects.items() if e.verdict == "supported"]
    oth = [_tp_word(t, lang) for t, e in cm.effects.items() if e.verdict != "supported"]
    none = i18n.t("mtc_none", lang)
    return i18n.t("mtc_asym_text", lang, supported=i18n.join_words(sup, lang) if sup else none,
                  others=i18n.join_words(oth, lang) if oth else none)


def value_table(values: list[DetractorValue], lang: str, currency: str = "EUR") -> pl.DataFrame:
    """The money table: customers kept per 100 avoided detractor experiences (CI) and the value of one (P10-P90)."""
    from . import charts, i18n

    out = []
    for v in values:
        k = v.customers_kept
        rng = f"{i18n.fmt_money(v.p10, currency, lang)} – {i18n.fmt_money(v.p90, currency, lang)}"
        if v.p10 <= 0:
            rng += f" ({i18n.t('mtc_range_loss', lang)})"
        out.append({i18n.t("mtc_col_tp", lang): _tp_word(v.touchpoint, lang),
                    i18n.t("mtc_col_kept", lang): charts.ci_text(100 * k.estimate, 100 * k.ci_low, 100 * k.ci_high, lang, 1),
                    i18n.t("mtc_col_value", lang): i18n.fmt_money(v.value, currency, lang),
                    i18n.t("mtc_col_range", lang): rng})
    return pl.DataFrame(out)


def unit_table(um: UnitMoments, lang: str) -> pl.DataFrame:
    """The weaker unit-level table: corrected and uncorrected estimates, reliability; not ranked (alphabetical)."""
    from . import charts, i18n

    rows = []
    for r in um.table.sort("touchpoint").to_dicts():
        est = (charts.ci_text(r["estimate"], r["ci_low"], r["ci_high"], lang, 2) if r["identified"]
               else i18n.t("mtc_unit_not_estimated", lang))
        rows.append({i18n.t("mtc_col_tp", lang): _tp_word(r["touchpoint"], lang),
                     i18n.t("mtc_unit_col_est", lang): est,
                     i18n.t("mtc_unit_col_naive", lang): charts.ci_text(r["naive"], r["naive_low"], r["naive_high"], lang, 2),
                     i18n.t("mtc_unit_col_rel", lang): i18n.fmt_number(r["reliability"], lang, 2)})
    return pl.DataFrame(rows)


def page_results(cm: CustomerMoments | None, um: UnitMoments | None, values: list[DetractorValue]) -> dict:
    """What the loyalty page saves for the summary and metrics.json (``moments_customer``, ``moments_unit``,
    ``detractor_value``)."""
    return {"moments_customer": cm.to_dict() if cm is not None else None,
            "moments_unit": um.to_dict() if um is not None else None,
            "detractor_value": [v.to_dict() for v in values]}
