"""Pilots: from association to cause (issue 16).

Every page of the suite reports associations. A pilot earns the word "cause": some units get the action
(``--action "weekly recognition"``), comparable units do not, and which unit is which is decided at random.

* :func:`design` picks pilot and comparison units by **stratified randomisation** (strata: size band x baseline
  outcome band; inside a stratum, units are ordered by region and split pair by pair at random, so the regions
  balance too; seeded and reproducible) and states the **minimum detectable effect** and the power for the chosen
  units and quarters. The power comes from the organisation's own history: the variance of a unit's change
  between a baseline window and a pilot window of the same lengths (placebo splits of past quarters, within
  strata, quarter effects removed), which carries the unit-quarter variance and the within-unit correlation
  (:class:`Variance` also reports the ICC).
* :func:`evaluate` is a difference-in-differences on the unit-quarter panel: unit fixed effects, quarter effects
  by stratum, unit-clustered CR2 errors (``loyalty.cr2_vcov``) with Satterthwaite df, a randomisation-inference
  p-value (the assignment re-drawn with the same stratified design) and a pre-trend check.

The plan is a YAML file (``plan.yml``); the suite looks for ``pilot_plan.yml`` in the data folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import polars as pl
import yaml
from scipy import stats

from . import i18n
from . import quarters as Q
from .estimates import Estimate

PLAN_FORMAT = "servicechain-pilot/1"
PLAN_IN_DATA = "pilot_plan.yml"  # a plan in the data folder: the suite adds the pilot page
# outcome option -> (unit-quarter column, decimals, needs customer-facing units)
OUTCOMES = {
    "nps": ("nps", 1, True),
    "voluntary_turnover": ("voluntary_turnover_pct", 1, False),
    "customer_retention": ("customer_retention_pct", 1, True),
}
SCALE = {"nps": "NPS points (-100..100) of a unit-quarter",
         "voluntary_turnover": "percentage points of a unit's start-of-quarter headcount leaving voluntarily",
         "customer_retention": "percentage points of a unit's last-quarter customers who come back"}
LEVEL, POWER = 0.95, 0.80
MIN_HEADCOUNT = 5  # a unit below the anonymity threshold is not eligible (its outcome would identify people)


class PilotError(ValueError):
    """A design or evaluation the data or the arguments do not allow (shown without a traceback)."""


# ------------------------------------------------------------------------------------------------ the panel

def unit_outcomes(tables: Mapping[str, Any], outcome: str) -> pl.DataFrame:
    """unit_id, region, quarter, qi, headcount, y: the unit-quarter panel of ``outcome`` (rows with y only)."""
    from . import features

    if outcome not in OUTCOMES:
        raise PilotError(f"unknown outcome {outcome!r}; use one of: {', '.join(OUTCOMES)}")
    col = OUTCOMES[outcome][0]
    uq = features.unit_quarters(tables)
    return (uq.select("unit_id", "region", "quarter", "qi", "headcount", pl.col(col).cast(pl.Float64).alias("y"))
            .filter(pl.col("y").is_not_null() & pl.col("y").is_finite()).sort("unit_id", "qi"))


def _wide(panel: pl.DataFrame, qis: list[int]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Units with y in every quarter of ``qis``: (ids, y (units x quarters), headcount (units x quarters))."""
    sub = panel.filter(pl.col("qi").is_in(qis))
    full = sub.group_by("unit_id").agg(pl.len().alias("n"), pl.col("headcount").min().alias("hmin")).filter(
        (pl.col("n") == len(qis)) & (pl.col("hmin") >= MIN_HEADCOUNT))["unit_id"].sort().to_list()
    sub = sub.filter(pl.col("unit_id").is_in(full)).sort("unit_id", "qi")
    y = sub["y"].to_numpy().reshape(len(full), len(qis)) if full else np.zeros((0, len(qis)))
    h = sub["headcount"].to_numpy().reshape(len(full), len(qis)).astype(float) if full else np.zeros((0, len(qis)))
    return full, y, h


def _bands(values: np.ndarray) -> np.ndarray:
    """0/1: below / at or above the median."""
    return (values >= np.median(values)).astype(int) if len(values) else np.zeros(0, int)


def strata_codes(baseline: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Stratum of each unit: size band (below/above median) x baseline outcome band -> 0..3."""
    return 2 * _bands(size) + _bands(baseline)


# ------------------------------------------------------------------------------------------------ variance

@dataclass(frozen=True)
class Variance:
    """What the organisation's own history says about a unit's outcome from quarter to quarter."""

    outcome: str
    total_sd: float          # SD of a unit-quarter value around its quarter's mean
    icc: float               # within-unit correlation: share of that variance that is stable between units
    change_sd: float         # SD of a unit's change (pilot-window mean - baseline-window mean), within strata
    n_units: int
    n_quarters: int
    placebo_splits: int
    baseline_quarters: int
    pilot_quarters: int

    def to_dict(self) -> dict:
        return asdict(self)


def history_variance(panel: pl.DataFrame, outcome: str, baseline_quarters: int, pilot_quarters: int,
                     quarters: list[str] | None = None) -> Variance:
    """Placebo splits of the history: every start s with ``baseline_quarters`` before it and ``pilot_quarters``
    from it; per split each unit's change d, its variance within strata (size x baseline band, as the design
    stratifies), pooled over splits. The ICC is from a one-way ANOVA of the quarter-centred values."""
    qs = sorted(set(panel["quarter"].to_list())) if quarters is None else list(quarters)
    qis = [Q.parse(q) for q in qs]
    need = baseline_quarters + pilot_quarters
    if len(qis) < need:
        raise PilotError(f"the {outcome} history has {len(qis)} quarters; a design with {baseline_quarters} baseline "
                         f"and {pilot_quarters} pilot quarters needs at least {need}")
    ids, y, h = _wide(panel, qis)
    if len(ids) < 6:
        raise PilotError(f"only {len(ids)} units have {outcome} in every quarter of the history (need 6)")
    r = y - y.mean(axis=0, keepdims=True)   # quarter effects removed
    m = r.shape[1]
    msb = m * (r.mean(axis=1) ** 2).sum() / (len(ids) - 1)
    msw = ((r - r.mean(axis=1, keepdims=True)) ** 2).sum() / (len(ids) * (m - 1))
    sb2 = max((msb - msw) / m, 0.0)
    icc = sb2 / (sb2 + msw) if sb2 + msw > 0 else float("nan")
    ss, dof = 0.0, 0
    splits = 0
    for s in range(baseline_quarters, m - pilot_quarters + 1):
        pre, post = y[:, s - baseline_quarters:s].mean(axis=1), y[:, s:s + pilot_quarters].mean(axis=1)
        st = strata_codes(pre, h[:, s - 1])
        d = post - pre
        for c in np.unique(st):
            dc = d[st == c]
            ss += float(((dc - dc.mean()) ** 2).sum())
            dof += len(dc) - 1
        splits += 1
    change_sd = math.sqrt(ss / dof) if dof > 0 else float("nan")
    return Variance(outcome, float(math.sqrt(sb2 + msw)), float(icc), change_sd, len(ids), m, splits,
                    baseline_quarters, pilot_quarters)


def _df(n_pilot: int, n_comparison: int, n_strata: int = 4) -> int:
    return max(n_pilot + n_comparison - n_strata - 1, 2)


def minimum_detectable_effect(change_sd: float, n_pilot: int, n_comparison: int, power: float = POWER,
                              level: float = LEVEL, n_strata: int = 4) -> float:
    """Smallest true effect a two-sided test at ``level`` detects with ``power``: (t_{1-a/2} + t_power) * SE,
    SE = change_sd * sqrt(1/n_pilot + 1/n_comparison), t with n - strata - 1 df."""
    df = _df(n_pilot, n_comparison, n_strata)
    se = change_sd * math.sqrt(1 / n_pilot + 1 / n_comparison)
    return float((stats.t.ppf(0.5 + level / 2, df) + stats.t.ppf(power, df)) * se)


def power_for(effect: float, change_sd: float, n_pilot: int, n_comparison: int, level: float = LEVEL,
              n_strata: int = 4) -> float:
    """Power of the two-sided test for a true ``effect`` (the same t approximation as the MDE)."""
    df = _df(n_pilot, n_comparison, n_strata)
    se = change_sd * math.sqrt(1 / n_pilot + 1 / n_comparison)
    tc = stats.t.ppf(0.5 + level / 2, df)
    delta = abs(effect) / se
    return float(stats.t.sf(tc - delta, df) + stats.t.cdf(-tc - delta, df))


# ------------------------------------------------------------------------------------------------ assignment

def assign(units: pl.DataFrame, n_pilot: int, seed: int, n_comparison: int | None = None) -> pl.DataFrame:
    """Stratified randomisation. ``units``: unit_id, region, stratum. Picks ``n_pilot + n_comparison``
    participants (a systematic sample over strata and regions with a random start, so every stratum is
    represented in proportion), then inside each stratum orders them by region and splits consecutive pairs at
    random (an odd one out: a coin). Returns unit_id, region, stratum, group ('pilot' | 'comparison')."""
    n_comparison = n_pilot if n_comparison is None else n_comparison
    total = n_pilot + n_comparison
    if n_pilot < 2 or n_comparison < 2:
        raise PilotError("a pilot needs at least 2 pilot and 2 comparison units")
    if total > units.height:
        raise PilotError(f"{n_pilot} pilot + {n_comparison} comparison units requested, but only {units.height} "
                         f"units are eligible (outcome in every baseline quarter, headcount {MIN_HEADCOUNT}+)")
    rng = np.random.default_rng([int(seed), 1616])
    u = units.with_columns(pl.Series("_r", rng.random(units.height))).sort("stratum", "region", "_r")
    if total < u.height:
        step = u.height / total
        take = np.floor(rng.random() * step + step * np.arange(total)).astype(int)
        u = u[take.tolist()]
    u = u.with_columns(pl.int_range(pl.len()).over("stratum").alias("_k"), pl.len().over("stratum").alias("_n"))
    k, strat = u["_k"].to_numpy(), u["stratum"].to_numpy()
    # pair p = k // 2 inside its stratum: one coin per pair decides which of the two is the pilot
    coin = rng.random(u.height) < 0.5
    pair_key = strat * 10_000 + k // 2
    _, first, inv = np.unique(pair_key, return_index=True, return_inverse=True)
    flip = coin[first][inv]
    pilot = np.where(k % 2 == 0, flip, ~flip)
    # balance the totals: too many pilots -> turn the last odd-one-outs (alone in their pair) around, and so on
    n_now = int(pilot.sum())
    order = rng.permutation(u.height)
    for i in order:  # at most a handful of units (the odd ones out)
        if n_now == n_pilot:
            break
        if n_now > n_pilot and pilot[i]:
            pilot[i], n_now = False, n_now - 1
        elif n_now < n_pilot and not pilot[i]:
            pilot[i], n_now = True, n_now + 1
    return (u.with_columns(pl.Series("group", np.where(pilot, "pilot", "comparison")))
            .select("unit_id", "region", "stratum", "group").sort("group", "unit_id", descending=[True, False]))


# ------------------------------------------------------------------------------------------------ design

@dataclass
class PilotPlan:
    """What the executive approves: the action, the outcome, the quarters, the units and the stated power."""

    action: str
    outcome: str
    seed: int
    start_quarter: str
    baseline_quarters: list[str]
    pilot_quarters: list[str]
    assignment: pl.DataFrame  # unit_id, region, stratum, group
    variance: Variance
    mde: float
    power: float = POWER
    level: float = LEVEL
    eligible_units: list[str] = field(default_factory=list)  # the population the design drew from
    n_sample: int = 0

    @property
    def n_pilot(self) -> int:
        return int((self.assignment["group"] == "pilot").sum())

    @property
    def n_comparison(self) -> int:
        return int((self.assignment["group"] == "comparison").sum())

    def to_dict(self) -> dict:
        return {
            "format": PLAN_FORMAT, "action": self.action, "outcome": self.outcome, "seed": self.seed,
            "start_quarter": self.start_quarter, "baseline_quarters": self.baseline_quarters,
            "pilot_quarters": self.pilot_quarters,
            "design": {"minimum_detectable_effect": round(self.mde, 4), "power": self.power, "level": self.level,
                       "scale": SCALE[self.outcome], "method": "stratified randomisation (size band x baseline "
                       "band; pairs by region); DiD with unit and stratum-quarter effects, CR2 by unit",
                       **{k: (round(v, 6) if isinstance(v, float) else v) for k, v in self.variance.to_dict().items()
                          if k != "outcome"}},
            "eligible_units": self.eligible_units, "n_sample": self.n_sample,
            "units": [{"unit_id": r["unit_id"], "region": r["region"], "stratum": int(r["stratum"]),
                       "group": r["group"]} for r in self.assignment.iter_rows(named=True)],
        }

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path


def design(tables: Mapping[str, Any], action: str, units: int, pilot_quarters: int = 2, outcome: str = "nps",
           seed: int = 7, baseline_quarters: int = 2, start_quarter: str | None = None,
           comparison_units: int | None = None, panel: pl.DataFrame | None = None) -> PilotPlan:
    """Design a pilot on the data known today (``tables``): eligible units, stratified assignment, MDE.

    ``panel``: the :func:`unit_outcomes` panel, when already built (``tables`` is then not read)."""
    if not action or not action.strip():
        raise PilotError("--action must name what the pilot units will do (e.g. \"weekly recognition\")")
    if units < 2:
        raise PilotError(f"--units must be at least 2 (got {units})")
    if not 1 <= pilot_quarters <= 8:
        raise PilotError(f"--quarters must be between 1 and 8 (got {pilot_quarters})")
    if outcome not in OUTCOMES:
        raise PilotError(f"unknown outcome {outcome!r}; use one of: {', '.join(OUTCOMES)}")
    panel = unit_outcomes(tables, outcome) if panel is None else panel
    if panel.is_empty():
        raise PilotError(f"the data have no {outcome} values by unit and quarter")
    qs = sorted(set(panel["quarter"].to_list()))
    last = qs[-1]
    start = start_quarter or Q.shift(last, 1)
    Q.parse(start)
    history = [q for q in qs if Q.parse(q) < Q.parse(start)]
    base_q = Q.span(Q.shift(start, -baseline_quarters), Q.shift(start, -1))
    if any(q not in history for q in base_q):
        raise PilotError(f"the baseline quarters {', '.join(base_q)} are not all in the data ({qs[0]}-{last})")
    var = history_variance(panel, outcome, baseline_quarters, pilot_quarters, history)
    ids, y, h = _wide(panel, [Q.parse(q) for q in base_q])
    reg = panel.select("unit_id", "region").unique("unit_id")
    elig = pl.DataFrame({"unit_id": ids, "stratum": strata_codes(y.mean(axis=1), h[:, -1])}).join(
        reg, on="unit_id", how="left")
    n_comp = units if comparison_units is None else comparison_units
    asg = assign(elig, units, seed, n_comp)
    mde = minimum_detectable_effect(var.change_sd, units, n_comp)
    return PilotPlan(action.strip(), outcome, int(seed), start, base_q,
                     Q.span(start, Q.shift(start, pilot_quarters - 1)), asg, var, mde,
                     eligible_units=sorted(ids), n_sample=units + n_comp)


def read_plan(path: str | Path) -> dict:
    """The plan file as a dict, checked for its shape (a PilotError names what is wrong)."""
    p = Path(path)
    if not p.is_file():
        raise PilotError(f"plan file not found: {p.name}")
    try:
        plan = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PilotError(f"{p.name} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(plan, dict) or plan.get("format") != PLAN_FORMAT:
        raise PilotError(f"{p.name} is not a pilot plan (written by 'servicechain pilot design')")
    for key in ("outcome", "start_quarter", "baseline_quarters", "pilot_quarters", "units", "seed"):
        if key not in plan:
            raise PilotError(f"{p.name} has no '{key}'")
    if plan["outcome"] not in OUTCOMES:
        raise PilotError(f"{p.name}: unknown outcome {plan['outcome']!r}")
    groups = {u.get("group") for u in plan["units"]}
    if not groups <= {"pilot", "comparison"} or len(groups) < 2:
        raise PilotError(f"{p.name}: units must be in groups 'pilot' and 'comparison'")
    return plan


# ------------------------------------------------------------------------------------------------ evaluation

@dataclass
class PilotEvaluation:
    """The pilot's effect: a difference-in-differences with its CI, the randomisation p-value, the pre-trend."""

    action: str
    outcome: str
    effect: Estimate             # t(Satterthwaite df) CI, CR2 SE
    df: float
    ri_p_value: float            # randomisation inference: share of re-drawn assignments with |effect| >= |observed|
    ri_draws: int
    pre_trend: Estimate | None   # pilot - comparison difference in the per-quarter trend before the start
    n_pilot: int
    n_comparison: int
    dropped_units: list[str]
    means: pl.DataFrame          # group, quarter, mean (aggregates of the groups only)
    start_quarter: str
    quarters: list[str]
    mde: float | None = None

    def to_dict(self) -> dict:
        return {"action": self.action, "outcome": self.outcome, "effect": self.effect.to_dict(), "df": self.df,
                "ri_p_value": self.ri_p_value, "ri_draws": self.ri_draws,
                "pre_trend": self.pre_trend.to_dict() if self.pre_trend else None, "n_pilot": self.n_pilot,
                "n_comparison": self.n_comparison, "dropped_units": len(self.dropped_units),
                "start_quarter": self.start_quarter, "quarters": self.quarters, "mde": self.mde,
                "means": self.means.to_dicts()}


def _dummies(codes: np.ndarray) -> np.ndarray:
    u, inv = np.unique(codes, return_inverse=True)
    return (inv[:, None] == np.arange(len(u))[None, :]).astype(float)


def _unit_demean(M: np.ndarray, g: np.ndarray) -> np.ndarray:
    out = M.copy()
    counts = np.bincount(g)
    for j in range(M.shape[1]):
        out[:, j] -= (np.bincount(g, M[:, j]) / counts)[g]
    return out


def _did(y: np.ndarray, unit: np.ndarray, qcode: np.ndarray, stratum: np.ndarray, treated_unit: np.ndarray,
         post: np.ndarray, scale: str) -> tuple[Estimate, float, np.ndarray, np.ndarray]:
    """y on D = treated x post + unit FE + stratum-by-quarter effects, CR2 by unit. Returns the estimate, its df,
    and (for randomisation inference) the residualised y and the residualised unit-x-post columns."""
    from .loyalty import _t_estimate, cr2_vcov

    sq = _dummies(stratum * 1000 + qcode)[:, 1:]
    D = (treated_unit[unit] & post).astype(float)
    X = _unit_demean(np.column_stack([D, sq]), unit)
    yd = _unit_demean(y[:, None], unit)[:, 0]
    beta, *_ = np.linalg.lstsq(X, yd, rcond=None)
    resid = yd - X @ beta
    V, dfs = cr2_vcov(X, resid, unit)
    est = _t_estimate("pilot_effect", float(beta[0]), float(math.sqrt(max(V[0, 0], 0.0))), float(dfs[0]),
                      len(y), scale)
    # FWL pieces: residualise y and each unit's post indicator on the fixed effects (unit FE + stratum x quarter)
    Z = X[:, 1:]
    def _res(A: np.ndarray) -> np.ndarray:
        A = _unit_demean(A, unit)
        if Z.shape[1] == 0:
            return A
        return A - Z @ np.linalg.lstsq(Z, A, rcond=None)[0]
    n_units = int(unit.max()) + 1
    B = _res(((unit[:, None] == np.arange(n_units)[None, :]) & post[:, None]).astype(float))
    ytil = _res(y[:, None])[:, 0]
    return est, float(dfs[0]), ytil, B


def redraw(strata: np.ndarray, regions: np.ndarray, n_pilot: int, rng: np.random.Generator, draws: int) -> np.ndarray:
    """``draws`` assignments (draws x units, bool) by the same design: inside each stratum, units in region
    order split pair by pair at random; totals kept at ``n_pilot`` (odd ones out by a coin, then balanced)."""
    n = len(strata)
    order = np.lexsort((regions, strata))
    s_sorted = strata[order]
    k = np.zeros(n, int)
    for c in np.unique(s_sorted):
        idx = np.flatnonzero(s_sorted == c)
        k[idx] = np.arange(len(idx))
    pair = np.unique(s_sorted * 10_000 + k // 2, return_inverse=True)[1]
    coins = rng.random((draws, pair.max() + 1)) < 0.5
    first = (k % 2 == 0)
    pil_sorted = np.where(first[None, :], coins[:, pair], ~coins[:, pair])
    # odd ones out (alone in their pair) adjust the total to n_pilot
    alone = np.bincount(pair)[pair] == 1
    for r in range(draws):
        diff = int(pil_sorted[r].sum()) - n_pilot
        if diff:
            cand = np.flatnonzero(alone & (pil_sorted[r] == (diff > 0)))
            if len(cand) < abs(diff):  # fall back: any units of the surplus group
                cand = np.flatnonzero(pil_sorted[r] == (diff > 0))
            pil_sorted[r, rng.choice(cand, abs(diff), replace=False)] ^= True
    out = np.zeros((draws, n), bool)
    out[:, order] = pil_sorted
    return out


def evaluate(tables: Mapping[str, Any], plan: dict, draws: int = 1999, seed: int | None = None,
             panel: pl.DataFrame | None = None) -> PilotEvaluation:
    """Difference-in-differences of the plan's outcome over its baseline and pilot quarters."""
    outcome = plan["outcome"]
    panel = unit_outcomes(tables, outcome) if panel is None else panel
    base_q, pil_q = list(plan["baseline_quarters"]), list(plan["pilot_quarters"])
    have = set(panel["quarter"].to_list())
    missing = [q for q in base_q + pil_q if q not in have]
    if missing:
        raise PilotError(f"the plan does not match the data: no {outcome} for {', '.join(missing)} "
                         f"(the data cover {min(have) if have else '-'} to {max(have) if have else '-'})")
    units = pl.DataFrame(plan["units"]).select("unit_id", "region", "stratum", "group")
    unknown = units.filter(~pl.col("unit_id").is_in(panel["unit_id"].unique().to_list()))["unit_id"].to_list()
    if len(unknown) > units.height // 2 or units.height - len(unknown) < 4:
        raise PilotError(f"the plan does not match the data: {len(unknown)} of its {units.height} units have no "
                         f"{outcome} in these data")
    # pre-trend window: every quarter before the start in the data, up to 4
    pre_all = sorted(q for q in have if Q.parse(q) < Q.parse(plan["start_quarter"]))[-4:]
    window = sorted(set(base_q) | set(pil_q))
    qis = [Q.parse(q) for q in window]
    ids, _, _ = _wide(panel.filter(pl.col("unit_id").is_in(units["unit_id"].to_list())), qis)
    dropped = sorted(set(units["unit_id"].to_list()) - set(ids))
    u = units.filter(pl.col("unit_id").is_in(ids)).sort("unit_id")
    n_p, n_c = int((u["group"] == "pilot").sum()), int((u["group"] == "comparison").sum())
    if n_p < 2 or n_c < 2:
        raise PilotError(f"the plan does not match the data: {n_p} pilot and {n_c} comparison units have the "
                         f"outcome in every quarter of the pilot window")
    rows = (panel.filter(pl.col("unit_id").is_in(ids) & pl.col("qi").is_in(qis))
            .join(u.select("unit_id", "stratum", "group"), on="unit_id").sort("unit_id", "qi"))
    code = {uid: i for i, uid in enumerate(u["unit_id"].to_list())}
    unit = rows["unit_id"].replace_strict(code, return_dtype=pl.Int64).to_numpy()
    qi = rows["qi"].to_numpy()
    post = qi >= Q.parse(plan["start_quarter"])
    stratum = u["stratum"].to_numpy().astype(int)
    treated = (u["group"] == "pilot").to_numpy()
    y = rows["y"].to_numpy().astype(float)
    est, df, ytil, B = _did(y, unit, qi - qi.min(), stratum[unit], treated, post, SCALE[outcome])
    # randomisation inference: the same stratified design re-drawn; effect by FWL for every draw at once
    rng = np.random.default_rng([int(plan.get("seed", 0)) if seed is None else int(seed), 2016])
    A = redraw(stratum, u["region"].fill_null("").to_numpy().astype(str), n_p, rng, draws).astype(float)
    Dt = B @ A.T
    est_r = (Dt * ytil[:, None]).sum(axis=0) / (Dt**2).sum(axis=0)
    ri_p = float((1 + np.sum(np.abs(est_r) >= abs(est.estimate) - 1e-12)) / (draws + 1))
    # pre-trend: before the start only, treated x (quarter index), unit FE + stratum-quarter effects, CR2
    pre_trend = None
    if len(pre_all) >= 2:
        pqi = [Q.parse(q) for q in pre_all]
        pid, _, _ = _wide(panel.filter(pl.col("unit_id").is_in(u["unit_id"].to_list())), pqi)
        pr = (panel.filter(pl.col("unit_id").is_in(pid) & pl.col("qi").is_in(pqi))
              .join(u.select("unit_id", "stratum", "group"), on="unit_id").sort("unit_id", "qi"))
        if pr["unit_id"].n_unique() >= 4 and pr.filter(pl.col("group") == "pilot")["unit_id"].n_unique() >= 2:
            from .loyalty import _t_estimate, cr2_vcov
            pc = {uid: i for i, uid in enumerate(sorted(pid))}
            pu = pr["unit_id"].replace_strict(pc, return_dtype=pl.Int64).to_numpy()
            pq = pr["qi"].to_numpy()
            trend = ((pr["group"] == "pilot").to_numpy() * (pq - pq.mean())).astype(float)
            sq = _dummies(pr["stratum"].to_numpy() * 1000 + pq)[:, 1:]
            X = _unit_demean(np.column_stack([trend, sq]), pu)
            yy = _unit_demean(pr["y"].to_numpy().astype(float)[:, None], pu)[:, 0]
            b, *_ = np.linalg.lstsq(X, yy, rcond=None)
            V, dfs = cr2_vcov(X, yy - X @ b, pu)
            pre_trend = _t_estimate("pre_trend_per_quarter", float(b[0]), float(math.sqrt(max(V[0, 0], 0))),
                                    float(dfs[0]), pr.height, SCALE[outcome] + " per quarter")
    means = (rows.group_by("group", "quarter").agg(pl.col("y").mean().alias("mean"), pl.len().alias("units"))
             .sort("group", "quarter", descending=[True, False]))
    mde = (plan.get("design") or {}).get("minimum_detectable_effect")
    return PilotEvaluation(str(plan.get("action", "")), outcome, est, df, ri_p, draws, pre_trend, n_p, n_c,
                           dropped, means, plan["start_quarter"], window, float(mde) if mde is not None else None)


# ------------------------------------------------------------------------------------------------ pages

def _outcome_word(outcome: str, lang: str) -> str:
    return i18n.t(f"pil_outcome_{outcome}", lang)


def _name(outcome: str, lang: str) -> str:
    """The outcome's name in a sentence ("NPS", "la rotación voluntaria")."""
    return i18n.t(f"pil_name_{outcome}", lang)


def _fx(x: float, lang: str, decimals: int = 1) -> str:
    return i18n.fmt_signed(round(x, decimals), lang, decimals)


def plan_sentence(plan: PilotPlan, lang: str) -> str:
    """'With 20 pilot and 20 comparison units over 2 quarters we can detect +4.0 NPS points with 80% power.'"""
    return i18n.t("pil_plan_headline", lang, n_pilot=plan.n_pilot, n_comparison=plan.n_comparison,
                  quarters=len(plan.pilot_quarters), mde=_fx(plan.mde, lang),
                  outcome=_outcome_word(plan.outcome, lang), power=i18n.fmt_pct(plan.power, lang, 0))


# the suite's own rule (index.html.j2): a table wider than its box scrolls inside it and shows the hint
_MARK_OVERFLOW = ('<script>(function(){function m(){document.querySelectorAll(".sc-scroll").forEach(function(d){'
                  'd.classList.toggle("sc-overflows",d.scrollWidth>d.clientWidth+1);});}m();'
                  'window.addEventListener("resize",m);})();</script>')


def _page(title: str, body: str, lang: str) -> str:
    from . import theme

    return (f'<!DOCTYPE html>\n<html lang="{i18n.base(lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>'
            f"<style>{theme.stylesheet()}</style></head><body><main class=\"sc-page\"><article class=\"sc-sheet\">{body}</article></main>{_MARK_OVERFLOW}</body></html>\n")


def _table(head: list[str], rows: list[list[str]], lang: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    tr = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    from .notebook import scrollable

    return scrollable(f"<table><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>", lang)


def plan_html(plan: PilotPlan, lang: str = "en") -> str:
    """The one-page plan an executive approves (offline: no script, the suite's stylesheet)."""
    t = lambda k, **v: i18n.t(k, lang, **v)  # noqa: E731
    e = html.escape
    v = plan.variance
    alt = []
    for n in sorted({max(2, plan.n_pilot // 2), plan.n_pilot, plan.n_pilot * 2}):
        alt.append([str(n), str(n), _fx(minimum_detectable_effect(v.change_sd, n, n), lang)])
    pil = plan.assignment.filter(pl.col("group") == "pilot")
    com = plan.assignment.filter(pl.col("group") == "comparison")
    def units_rows(df: pl.DataFrame) -> list[list[str]]:
        return [[r["unit_id"], r["region"] or i18n.MISSING] for r in df.iter_rows(named=True)]
    body = (
        f"<h1>{e(t('pil_plan_title', action=plan.action))}</h1>"
        f"<p class=\"sc-lead\">{e(plan_sentence(plan, lang))}</p>"
        f"<h2>{e(t('pil_plan_what_h'))}</h2>"
        f"<p>{e(t('pil_plan_what', action=plan.action, start=i18n.fmt_quarter(plan.start_quarter, lang), quarters=len(plan.pilot_quarters), outcome=_name(plan.outcome, lang)))}</p>"
        f"<h2>{e(t('pil_plan_how_h'))}</h2><p>{e(t('pil_plan_how', seed=plan.seed, eligible=len(plan.eligible_units)))}</p>"
        f"<p>{e(t('pil_plan_why_random'))}</p>"
        f"<h2>{e(t('pil_plan_power_h'))}</h2>"
        f"<p>{e(t('pil_plan_power', sd=i18n.fmt_number(v.total_sd, lang, 1), icc=i18n.fmt_number(v.icc, lang, 2), change=i18n.fmt_number(v.change_sd, lang, 1), splits=v.placebo_splits, quarters=v.n_quarters))}</p>"
        + _table([t("pil_col_pilot_units"), t("pil_col_comparison_units"), t("pil_col_mde")], alt, lang)
        + f"<h2>{e(t('pil_plan_units_h'))}</h2>"
        f"<h3>{e(t('pil_group_pilot'))} ({plan.n_pilot})</h3>" + _table([t("pil_col_unit"), t("pil_col_region")], units_rows(pil), lang)
        + f"<h3>{e(t('pil_group_comparison'))} ({plan.n_comparison})</h3>" + _table([t("pil_col_unit"), t("pil_col_region")], units_rows(com), lang)
        + f"<h2>{e(t('pil_plan_rules_h'))}</h2><p>{e(t('pil_plan_rules'))}</p>"
        f"<p class=\"sc-note\">{e(t('pil_plan_approve'))}</p>"
    )
    return _page(t("pil_plan_title", action=plan.action), body, lang)


def evaluation_sentence(ev: PilotEvaluation, lang: str) -> str:
    """'The pilot raised NPS by +5.1 points (95% CI +1.2 to +9.0) ...' — 'raised' only when the CI excludes 0."""
    e = ev.effect
    vals = dict(action=ev.action, outcome=_name(ev.outcome, lang), unit=i18n.t("pil_points", lang),
                effect=_fx(e.estimate, lang),
                low=_fx(e.ci_low, lang), high=_fx(e.ci_high, lang))
    if e.ci_low > 0:
        return i18n.t("pil_eval_raised", lang, **vals)
    if e.ci_high < 0:
        return i18n.t("pil_eval_lowered", lang, **vals)
    return i18n.t("pil_eval_unclear", lang, **vals)


def evaluation_html(ev: PilotEvaluation, lang: str = "en") -> str:
    """The evaluation page: the causal estimate with its CI, the randomisation p-value, the pre-trend, group means."""
    t = lambda k, **v: i18n.t(k, lang, **v)  # noqa: E731
    e = html.escape
    lead = evaluation_sentence(ev, lang)
    pt = ev.pre_trend
    pre = (t("pil_eval_pretrend", slope=_fx(pt.estimate, lang), low=_fx(pt.ci_low, lang), high=_fx(pt.ci_high, lang))
           + " " + (t("pil_eval_pretrend_ok") if pt.ci_low <= 0 <= pt.ci_high else t("pil_eval_pretrend_warn"))
           ) if pt is not None else t("pil_eval_pretrend_none")
    qs = ev.quarters
    mean = {(r["group"], r["quarter"]): r["mean"] for r in ev.means.iter_rows(named=True)}
    rows = [[i18n.fmt_quarter(q, lang), i18n.fmt_number(mean.get(("pilot", q)), lang, 1),
             i18n.fmt_number(mean.get(("comparison", q)), lang, 1),
             t("pil_phase_pilot") if Q.parse(q) >= Q.parse(ev.start_quarter) else t("pil_phase_baseline")] for q in qs]
    strong = ev.effect.ci_low > 0 or ev.effect.ci_high < 0
    lead_html = f"<strong>{e(lead)}</strong>" if strong else e(lead)
    body = (
        f"<h1>{e(t('pil_eval_title', action=ev.action))}</h1>"
        f"<p class=\"sc-lead\">{lead_html}</p>"
        f"<p>{e(t('pil_eval_causal'))}</p>"
        f"<p>{e(t('pil_eval_ri', p=i18n.fmt_number(ev.ri_p_value, lang, 3), draws=ev.ri_draws))}</p>"
        f"<h2>{e(t('pil_eval_pretrend_h'))}</h2><p>{e(pre)}</p>"
        f"<h2>{e(t('pil_eval_means_h', outcome=i18n.t(f'pil_outcome_{ev.outcome}', lang)[:1].upper() + i18n.t(f'pil_outcome_{ev.outcome}', lang)[1:]))}</h2>"
        + _table([t("pil_col_quarter"), t("pil_group_pilot"), t("pil_group_comparison"), t("pil_col_phase")], rows, lang)
        + f"<p class=\"sc-note\">{e(t('pil_eval_method', n_pilot=ev.n_pilot, n_comparison=ev.n_comparison, ))}" + (" " + e(t('pil_eval_dropped', dropped=len(ev.dropped_units))) if ev.dropped_units else "") + "</p>"
    )
    return _page(t("pil_eval_title", action=ev.action), body, lang)


# ------------------------------------------------------------------------------------------------ the suite

SUITE_PAGE = "07_pilot"  # the page servicechain run adds when the data folder holds a plan


def suite_page(data_dir: str | Path, tables: Mapping[str, Any], report_dir: Path, lang: str, quarter: str,
               results_dir: Path | None = None, draws: int = 1999) -> list[dict]:
    """For ``servicechain run``: when ``data_dir`` holds ``pilot_plan.yml`` and the report's quarter reaches the
    pilot's last quarter, evaluate it and write ``07_pilot.html`` (and the ``pilot`` results for metrics.json).
    Returns the index entry (``[]`` when there is no plan or the pilot has not ended by ``quarter``)."""
    path = Path(data_dir) / PLAN_IN_DATA
    if not path.is_file():
        return []
    plan = read_plan(path)
    if Q.parse(max(plan["pilot_quarters"])) > Q.parse(quarter):
        return []
    res = evaluate(tables, plan, draws=draws)
    (report_dir / f"{SUITE_PAGE}.html").write_text(evaluation_html(res, lang), encoding="utf-8")
    if results_dir is not None:
        from .notebook import save_results

        save_results("pilot", res.to_dict(), results_dir=str(results_dir))
    return [{"href": f"{SUITE_PAGE}.html", "title": i18n.t("pil_eval_title", lang, action=res.action),
             "number": SUITE_PAGE[:2], "name": SUITE_PAGE}]


# ------------------------------------------------------------------------------------------------ CLI

def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="pilot_command", required=True)
    d = sub.add_parser("design", help="pick pilot and comparison units at random and state the power")
    d.add_argument("--data", required=True, help="the data folder")
    d.add_argument("--action", required=True, help='what the pilot units will do, e.g. "weekly recognition"')
    d.add_argument("--units", type=int, required=True, help="pilot units (as many comparison units)")
    d.add_argument("--quarters", type=int, default=2, help="quarters the pilot runs (default 2)")
    d.add_argument("--outcome", default="nps", help="nps | voluntary_turnover | customer_retention (default nps)")
    d.add_argument("--seed", type=int, default=7)
    d.add_argument("--baseline-quarters", type=int, default=2, help="quarters before the start compared (default 2)")
    d.add_argument("--start", default=None, help="first pilot quarter (default: the quarter after the data)")
    d.add_argument("--lang", default="en")
    d.add_argument("--mapping", default=None)
    d.add_argument("--out", required=True, help="folder for plan.yml and plan.html")
    ev = sub.add_parser("evaluate", help="difference-in-differences of a pilot")
    ev.add_argument("--data", required=True)
    ev.add_argument("--plan", required=True, help="plan.yml written by 'pilot design'")
    ev.add_argument("--lang", default="en")
    ev.add_argument("--mapping", default=None)
    ev.add_argument("--draws", type=int, default=1999, help="randomisation-inference draws (default 1999)")
    ev.add_argument("--out", default=None, help="folder for evaluation.html and evaluation.json (default: the plan's)")


def _fail(msg: str) -> int:
    print(f"servicechain pilot: error: {msg}", file=sys.stderr)
    return 2


def _tables(data: str, mapping: str | None) -> dict:
    from . import loading

    if not Path(data).is_dir():
        raise PilotError(f"data folder not found: {data}")
    ds = loading.load(data, mapping)
    if ds.kind != "panel":
        raise PilotError("a pilot needs quarterly data (a panel), not an HR snapshot")
    return ds.tables


def main(args: argparse.Namespace) -> int:
    import json

    try:
        i18n.check_lang(args.lang)
    except ValueError as exc:
        return _fail(str(exc))
    try:
        if args.pilot_command == "design":
            if args.outcome not in OUTCOMES:
                raise PilotError(f"unknown outcome {args.outcome!r}; use one of: {', '.join(OUTCOMES)}")
            tables = _tables(args.data, args.mapping)
            plan = design(tables, args.action, args.units, args.quarters, args.outcome, args.seed,
                          args.baseline_quarters, args.start)
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            plan.write(out / "plan.yml")
            (out / "plan.html").write_text(plan_html(plan, args.lang), encoding="utf-8")
            print(plan_sentence(plan, args.lang))
            print(out / "plan.yml")
            print(out / "plan.html")
            return 0
        plan = read_plan(args.plan)
        if args.draws < 99:
            raise PilotError("--draws must be at least 99")
        tables = _tables(args.data, args.mapping)
        res = evaluate(tables, plan, draws=args.draws)
        out = Path(args.out) if args.out else Path(args.plan).parent
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluation.html").write_text(evaluation_html(res, args.lang), encoding="utf-8")
        (out / "evaluation.json").write_text(json.dumps(res.to_dict(), indent=2, default=str), encoding="utf-8")
        print(evaluation_sentence(res, args.lang))
        print(out / "evaluation.html")
        return 0
    except PilotError as exc:
        return _fail(str(exc))
    except Exception as exc:  # noqa: BLE001 - data errors (validation) are the user's to fix
        from .validation import DataError

        if isinstance(exc, DataError):
            return _fail(str(exc).splitlines()[0] if str(exc) else "the data did not pass validation")
        raise
