"""Money: what employee turnover and lost customers cost, and what the programmes are worth.

The chain, in money, per year:

* **Employees.** The fitted hazard model (``retention.fit_hazard``) predicts each
  at-risk person's annual voluntary-exit probability ``1-(1-h)^4`` before and after a
  scenario's driver change. Exits avoided x salary x replacement-cost share of the
  person's role = *replacement cost avoided*.
* **Customers.** The scenario changes each unit's mean drivers and (through the exits
  above) its voluntary turnover; the pooled unit model of customer retention
  (``loyalty.fit_unit_model(uq, "customer_retention_pct")``) turns those into
  percentage points of customers who come back each quarter, x the unit's customer
  base x 4 quarters = *customers retained* a year, never more than the customers the
  units lose in a year today (a scenario cannot keep a customer who was not leaving).
* **Each customer counted once.** An avoided customer loss is valued one way: what
  losing it would have cost, i.e. the *acquisition spend* of winning its replacement
  (``acquisition_cost_multiple x retention cost``: our users' working rule, winning a
  customer costs six to seven times as much as keeping one) plus the *margin* lost
  until the replacement is won (``margin_horizon_months``), but never more margin than
  the kept customer would itself have brought: its expected remaining life under the
  units' churn, ``3 / quarterly churn`` months (:func:`remaining_life_months`). So one
  customer slot earns at most 12 months of margin a year however many quarterly gains
  it sees, and a scenario is never worth more than the margin of the customers it could
  keep plus what their replacement would cost. No discounting (horizons of 6-24 months).
* **Net value** = replacement cost avoided + acquisition spend avoided + margin kept
  - the programme's first-year cost; **payback** = 12 x cost / annual gross value.

Uncertainty: the coefficients of both models are drawn jointly (seeded), so every
money figure has a P10/P50/P90: a multivariate normal whose blocks are each model's
own cluster-robust covariance and whose cross-block carries the correlations of a
unit-level bootstrap that refits both models on the same resampled units
(:func:`bootstrap_coefficients`, :func:`joint_covariance`); both come from the same
units, so their errors are not independent. The hazard is fitted on everyone at risk
(missing answers: the unit's mean answer plus a no-answer indicator, the same rule in
the fit and in the population's prediction) and, when someone was at risk for only
part of a quarter, as a complementary log-log model with a log-exposure offset.

Early leavers (within ``features.EARLY_DAYS`` of hire or in their hire quarter, the
index's definition) are in the baseline's replacement cost and counted on their own;
the scenarios change last quarter's drivers of the people at risk and do not value
early exits (the early-attrition model's drivers, what happens in a hire's first 30
days, are not what the scenarios change).

Computation: every effect is a *sum over the people at risk* of a function of their
hazard-model row (drivers, tenure band, role, quarter) and the coefficient draw,
weighted by one, their salary by role, or their unit's customers per head. People
with identical rows are therefore grouped into covariate cells with summed weights
(:func:`covariate_cells`), which is exact. Only when an organisation has more than
``MAX_CELLS`` distinct rows (people whose missing answers were filled with their
unit's mean make rows unique) is a seeded stratified sample used: the
``MAX_CELLS // 2`` most populated cells are kept whole and a simple random sample
of the rest stands for all of them (weights scaled by the inverse sampling
fraction), an unbiased estimate of the sums whose sampling error is small next to
the coefficient uncertainty. The default demo organisation (3,000 employees) is
far below the cap and is computed exactly.

Assumption uncertainty is drawn jointly with the coefficients: each draw also takes
every assumption that has a range (the acquisition-cost multiple, the replacement
share of each role, margin share, margin horizon, retention cost and revenue per
customer, and the programme cost) from a triangular distribution over its documented
low..high range with its mode at the default (:func:`draw_economics`). The headline
P10-P90 is that joint range; the coefficient-only range (assumptions at their
defaults) is kept as a second, labelled figure for analysts, and the *conservative
case* (every assumption at its cautious end, the programme cost at its high end) is
reported next to every money figure. The tornado chart moves one assumption at a time.

These are associations turned into money, not causal effects: a programme that
raised recognition would only be worth this if the association is causal and the
programme actually moves the driver.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from . import features, i18n, loyalty, retention
from .assumptions import ROLES, Assumptions, Change, Param, Scenario, load
from .estimates import ResultMixin
from .features import UNIT_DRIVERS
from .i18n import fmt_money, fmt_number, fmt_pct, fmt_quarter, t

ROLE_INDEX = {r: i for i, r in enumerate(ROLES)}
LIKERT_DRIVERS = ("empowerment", "leadership")
WHATIF_MULTIPLES = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 6.5, 7.0, 8.0, 10.0, 12.5, 15.0, 20.0, 25.0)
BREAK_EVEN_MAX = 1000.0
QUARTERS_PER_YEAR = 4
COMPONENTS = ("replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept")

# ------------------------------------------------------------------------------ accounting identities


def replacement_cost(salary_of_leavers: Mapping[str, float] | np.ndarray, shares: Mapping[str, float] | np.ndarray):
    """Cost of replacing leavers: sum over roles of (salaries of the leavers of that role) x (share of salary).

    ``salary_of_leavers`` may be a mapping role -> money or an array ``(..., 3)`` in
    ``ROLES`` order (e.g. one row per draw); exits that are fractional (expected
    exits) simply carry fractional salaries.

    >>> replacement_cost({"frontline": 50_000, "support": 0, "manager": 60_000}, {"frontline": 0.4, "support": 0.8, "manager": 2.0})
    140000.0
    """
    s = _by_role(salary_of_leavers)
    w = _by_role(shares)
    out = (s * w).sum(axis=-1) if w.ndim == 2 else s @ w  # shares per draw (D+1, 3) or one set (3,)
    return float(out) if np.ndim(out) == 0 else out


def _by_role(x: Mapping[str, float] | np.ndarray) -> np.ndarray:
    if isinstance(x, Mapping):
        return np.array([float(x.get(r, 0.0)) for r in ROLES])
    return np.asarray(x, dtype=float)


@dataclass(frozen=True)
class CustomerValue:
    """What a number of customers is worth for a year: acquisition spend + margin (arrays allowed)."""

    acquisition: Any
    margin: Any

    @property
    def total(self) -> Any:
        return self.acquisition + self.margin


def remaining_life_months(customers_base: float, customers_lost_per_quarter: float) -> float:
    """Expected months a customer stays under a quarterly churn of lost / base: 3 / churn (geometric, memoryless).

    ``inf`` when nobody is lost.

    >>> remaining_life_months(1000, 250)
    12.0
    """
    if not customers_lost_per_quarter > 0:
        return math.inf
    return 3.0 * float(customers_base) / float(customers_lost_per_quarter)


def customer_value(customers, multiple: float, retention_cost: float, revenue_per_customer: float,
                   margin_share: float, horizon_months: float, remaining_months: float = math.inf) -> CustomerValue:
    """Cost of losing (or value of keeping) ``customers``, each counted once.

    acquisition = customers x multiple x retention cost per customer per year
    (what winning a replacement costs); margin = customers x revenue per customer per
    year x margin share x min(horizon, remaining_months) / 12: the margin lost until a
    replacement is won, but no more than the customer's expected remaining life
    (:func:`remaining_life_months`) would have brought.

    >>> v = customer_value(100, 6.5, 20.0, 300.0, 0.3, 12)
    >>> v.acquisition, v.margin, v.total
    (13000.0, 9000.0, 22000.0)
    >>> float(customer_value(100, 6.5, 20.0, 300.0, 0.3, 12, remaining_months=6).margin)
    4500.0
    """
    c = np.asarray(customers, dtype=float) if not np.isscalar(customers) else float(customers)
    acq = c * multiple * retention_cost
    months = np.minimum(horizon_months, remaining_months)
    margin = c * revenue_per_customer * margin_share * months / 12.0
    return CustomerValue(acq, margin)


def net_value(gross, programme_cost: float):
    """Net value = gross value - programme cost. ``net_value(120_000, 50_000) == 70_000``."""
    return gross - programme_cost


def payback_months(programme_cost: float, annual_gross: float) -> float | None:
    """Months until the programme's cost is earned back by its annual gross value (None: never).

    >>> payback_months(50_000, 120_000)
    5.0
    """
    if programme_cost <= 0:
        return 0.0
    if not annual_gross > 0:
        return None
    return 12.0 * programme_cost / annual_gross


def break_even(values_at: Any, lo: float = 1.0, hi: float = BREAK_EVEN_MAX, tol: float = 1e-4) -> float | str:
    """The acquisition multiple at which ``values_at(multiple)`` (a non-decreasing net value) crosses zero.

    ``"always"``: positive even at a multiple of 1 (keeping and winning customers cost
    the same); ``"never"``: still negative at ``hi``.
    """
    if values_at(lo) >= 0:
        return "always"
    if values_at(hi) < 0:
        return "never"
    a, b = lo, hi
    while b - a > tol * max(1.0, a):
        m = 0.5 * (a + b)
        if values_at(m) >= 0:
            b = m
        else:
            a = m
    return float(round(b, 3))


def break_even_multiple(value_without_acquisition: float, acquisition_per_multiple: float,
                        programme_cost: float) -> float | str:
    """Closed form for one set of numbers: net(m) = F + m x K - C = 0  ->  m = (C - F) / K.

    >>> break_even_multiple(20_000, 10_000, 90_000)
    7.0
    """
    F, K, C = value_without_acquisition, acquisition_per_multiple, programme_cost
    if F + K - C >= 0:
        return "always"
    if K <= 0:
        return "never"
    return float((C - F) / K)


# ------------------------------------------------------------------------------ the population


@dataclass
class Population:
    """People at risk in the report quarter (model matrix, never shown) and the units' customer bases."""

    quarter: str
    X0: np.ndarray  # hazard-model design of the at-risk people (drivers measured last quarter)
    drivers0: np.ndarray  # (n, 3) recognition_per_month, empowerment, leadership (imputed where missing)
    role_idx: np.ndarray
    salary: np.ndarray
    unit_idx: np.ndarray
    units: pl.DataFrame  # unit_id, region, headcount, customers_base, customers_lost, at_risk
    headcount: int
    managers: int
    revenue_per_customer_year: float | None
    imputed_share: float
    salary_imputed_share: float
    driver_cols: tuple[int, ...]  # columns of the drivers in X0
    _cells: dict = field(default_factory=dict, repr=False, compare=False)  # covariate_cells cache

    @property
    def n(self) -> int:
        return int(self.X0.shape[0])


def _salary_fill(df: pl.DataFrame, fallback: float | None) -> pl.DataFrame:
    """Missing salaries: the assumption when given, else the role's median, else everyone's median."""
    if fallback is not None:
        return df.with_columns(pl.col("annual_salary").fill_null(fallback))
    out = df.with_columns(pl.col("annual_salary").fill_null(pl.col("annual_salary").median().over("role")))
    return out.with_columns(pl.col("annual_salary").fill_null(pl.col("annual_salary").median()).fill_null(0.0))


def revenue_per_customer_year(uq: pl.DataFrame, quarter: str) -> float | None:
    """4 x revenue of the quarter / customers active in it (None without customer activity)."""
    r = uq.filter(pl.col("quarter") == quarter).select(pl.col("revenue").sum(), pl.col("customers").sum()).row(0)
    if not r[1]:
        return None
    return QUARTERS_PER_YEAR * float(r[0]) / float(r[1])


def population(pq: pl.DataFrame, uq: pl.DataFrame, quarter: str, hazard: retention.HazardResult,
               a: Assumptions, tables: Mapping[str, Any] | None = None) -> Population:
    """Build the report quarter's population for the scenarios.

    Missing survey answers (people who did not answer last quarter) are filled by the hazard
    fit's own rule (``hazard.fill``: the unit's mean answer plus the ``no_answer`` indicator, see
    :class:`retention.UnitFill`), so every at-risk person counts and is predicted with the same
    columns and values the model was fitted on. A complete-case hazard cannot predict people
    without answers, so it is refused when some are missing. Missing salaries as in
    :func:`_salary_fill`.
    """
    drivers = tuple(hazard.drivers)
    rows = pq.filter((pl.col("quarter") == quarter) & pl.col("role").is_not_null())
    if rows.height == 0:
        raise ValueError(f"nobody is at risk of leaving in {quarter}: no money can be estimated for it")
    imputed = float(rows.select(pl.any_horizontal([pl.col(d).is_null() for d in drivers]).mean()).item())
    if imputed > 0 and hazard.fill is None:
        raise ValueError("the money needs a hazard model fitted with missing='indicator' (some people at risk have "
                         "no survey answer; a complete-case fit cannot predict them)")
    rows = hazard.prepare(rows)
    salary_missing = float(rows["annual_salary"].is_null().mean())
    fb = a["annual_salary_fallback"].value
    rows = _salary_fill(rows, fb)
    uqq = uq.filter(pl.col("quarter") == quarter).sort("unit_id")
    n_cust = a["customers_per_unit"].value
    base = pl.col("customers_prev").fill_null(0).cast(pl.Float64)
    if n_cust is not None:
        base = pl.when(base > 0).then(pl.lit(float(n_cust))).otherwise(0.0)
    units = uqq.select(
        "unit_id", "region", pl.col("headcount").cast(pl.Float64),
        base.alias("customers_base"),
        (base * (1 - pl.col("customer_retention_pct").fill_null(100.0) / 100.0)).alias("customers_lost"),
    ).with_row_index("u")
    rows = rows.join(units.select("unit_id", "u"), on="unit_id", how="left")
    if rows["u"].null_count():
        raise ValueError("some at-risk people belong to units missing from the unit panel")
    d = hazard.design(rows)  # the fit's columns, in its order (raises otherwise)
    at_risk = rows.group_by("u").len()
    units = units.join(at_risk.rename({"len": "at_risk"}), on="u", how="left").with_columns(pl.col("at_risk").fill_null(0))
    managers = int((rows["role"] == "manager").sum()) if tables is None else managers_at_start(tables, quarter)
    return Population(
        quarter=quarter, X0=d.X, drivers0=rows.select(list(drivers)).to_numpy().astype(float),
        role_idx=rows["role"].replace_strict(ROLE_INDEX, return_dtype=pl.Int64).to_numpy(),
        salary=rows["annual_salary"].to_numpy().astype(float), unit_idx=rows["u"].to_numpy().astype(np.int64),
        units=units, headcount=int(uqq["headcount"].sum()), managers=managers,
        revenue_per_customer_year=revenue_per_customer_year(uq, quarter), imputed_share=imputed,
        salary_imputed_share=salary_missing, driver_cols=tuple(d.names.index(x) for x in drivers),
    )


def managers_at_start(tables: Mapping[str, Any], quarter: str) -> int:
    """People in the manager role employed when ``quarter`` starts (the leadership programme's audience)."""
    from . import quarters as Q

    emp = tables["employees"]
    emp = emp.lazy() if isinstance(emp, pl.DataFrame) else emp
    qi = Q.parse(quarter)
    return int(emp.filter((pl.col("role") == "manager") & (Q.index_expr("hire_date") < qi)
                          & (pl.col("exit_date").is_null() | (Q.index_expr("exit_date") >= qi)))
               .select(pl.len()).collect().item())


def resolve(a: Assumptions, pop: Population) -> Assumptions:
    """Fill the ``auto`` assumptions from the data (revenue per customer) and from each other.

    The customer costs are linked by our users' rule, acquisition = multiple x retention:
    the one the user gave (``a.customer_cost_given``) is used as it is and the other is
    derived from it; when neither is given, retention = retention_cost_share_of_revenue x
    revenue per customer and acquisition follows.
    """
    params = dict(a.params)
    rev = params["revenue_per_customer_per_year"]
    if rev.auto:
        r = pop.revenue_per_customer_year or 0.0
        rev = rev.resolved(r, 0.8 * r, 1.2 * r, *_derived_notes("d13_derived_revenue", value=(r, 2)))
        params[rev.key] = rev
    m = params["acquisition_cost_multiple"]
    ret, acq = params["retention_cost_per_customer_per_year"], params["acquisition_cost_per_customer"]
    if a.customer_cost_given == "acquisition":
        lo = acq.low if acq.low is not None else acq.value
        hi = acq.high if acq.high is not None else acq.value
        ret = ret.resolved(acq.value / m.value, lo / m.high, hi / m.low,
                           *_derived_notes("d13_derived_retention_from_acquisition", acquisition=(acq.value, 2),
                                           multiple=(m.value, None)))
    else:
        if ret.auto:
            sh = params["retention_cost_share_of_revenue"]
            ret = ret.resolved(sh.value * rev.value, sh.low * rev.value, sh.high * rev.value,
                               *_derived_notes("d13_derived_retention_from_share", share=(sh.value, None),
                                               revenue=(rev.value, 2)))
        lo = ret.low if ret.low is not None else ret.value
        hi = ret.high if ret.high is not None else ret.value
        acq = acq.resolved(m.value * ret.value, m.low * lo, m.high * hi,
                           *_derived_notes("d13_derived_acquisition", multiple=(m.value, None), retention=(ret.value, 2)))
    params[ret.key], params[acq.key] = ret, acq
    return a.with_params(**params)


def _derived_notes(key: str, **numbers: tuple[float, int | None]) -> tuple[str, str]:
    """How an ``auto`` assumption was derived, in English and in Spanish (catalog ``key``), each number written as
    that language writes it: ``(x, 2)`` with two decimals and grouping, ``(x, None)`` as short as it goes (6.5)."""
    def num(x: float, decimals: int | None, lang: str) -> str:
        if decimals is not None:
            return fmt_number(x, lang, decimals)
        g = f"{x:g}"
        return g.replace(".", ",") if lang == "es" else g

    return tuple(t(key, lang, **{k: num(x, d, lang) for k, (x, d) in numbers.items()}) for lang in ("en", "es"))


# ------------------------------------------------------------------------------ scenarios


def expand(a: Assumptions, scenario: Scenario, _seen: tuple[str, ...] = ()) -> tuple[tuple[Change, ...], list[Scenario]]:
    """A scenario's changes and the scenarios whose costs it carries (``includes`` first, then its own)."""
    if scenario.name in _seen:
        raise ValueError(f"scenario {scenario.name} includes itself: {' -> '.join((*_seen, scenario.name))}")
    changes: list[Change] = []
    parts: list[Scenario] = []
    for inc in scenario.includes:
        c, p = expand(a, a.scenario(inc), (*_seen, scenario.name))
        changes += c
        parts += p
    return (*changes, *scenario.changes), [*parts, scenario]


def apply_changes(x: np.ndarray, changes: tuple[Change, ...], drivers: tuple[str, ...],
                  unit_idx: np.ndarray | None = None) -> np.ndarray:
    """Drivers after a scenario: add / at_least / set, Likert drivers kept within 1-5, recognition >= 0.

    ``unit_quantile q`` (needs ``unit_idx``, one unit per row of people): every unit whose mean is
    below the q-quantile of today's unit means is raised to it, each of its people by the unit's gap
    (then kept within the scale); units at or above it are unchanged.

    >>> apply_changes(np.array([[1.0, 2.0, 3.0], [1.0, 4.0, 3.0], [1.0, 3.0, 3.0]]),
    ...               (Change("empowerment", "unit_quantile", 1.0),), ("recognition_per_month", "empowerment", "leadership"),
    ...               unit_idx=np.array([0, 1, 1]))[:, 1]
    array([3.5, 4. , 3. ])

    >>> apply_changes(np.array([[1.0, 4.8, 3.0]]), (Change("empowerment", "add", 0.5),), ("recognition_per_month", "empowerment", "leadership"))
    array([[1., 5., 3.]])
    """
    out = np.array(x, dtype=float, copy=True)
    for c in changes:
        j = drivers.index(c.driver)
        col = out[:, j]
        if c.op == "add":
            col = col + c.amount
        elif c.op == "at_least":
            col = np.maximum(col, c.amount)
        elif c.op == "set":
            col = np.full_like(col, c.amount)
        elif c.op == "unit_quantile":
            if unit_idx is None:
                raise ValueError("a unit_quantile change needs each person's unit")
            means = unit_means(col, unit_idx)
            target = float(np.quantile(means[~np.isnan(means)], c.amount))
            col = col + np.maximum(target - np.nan_to_num(means, nan=target), 0.0)[unit_idx]
        else:
            raise ValueError(f"unknown change {c.op!r}")
        lo, hi = (1.0, 5.0) if c.driver in LIKERT_DRIVERS else (0.0, np.inf)
        out[:, j] = np.clip(col, lo, hi)
    return out


def unit_means(col: np.ndarray, unit_idx: np.ndarray) -> np.ndarray:
    """Mean of ``col`` per unit (NaN for a unit with nobody)."""
    n = np.bincount(unit_idx)
    sums = np.bincount(unit_idx, weights=col, minlength=n.size)
    return np.divide(sums, n, out=np.full(n.size, np.nan), where=n > 0)


EXTRAPOLATION_SHARE = 0.10  # a scenario that fewer units than this reach today goes beyond the data


@dataclass(frozen=True)
class Reach:
    """How far a scenario goes beyond the data: the share of units (and of people) already at the level it asks of
    the average unit, for the driver it pushes furthest."""

    units: float
    people: float
    driver: str | None

    @property
    def extrapolates(self) -> bool:
        return self.units < EXTRAPOLATION_SHARE


def reach(x0: np.ndarray, x1: np.ndarray, unit_idx: np.ndarray, drivers: tuple[str, ...]) -> Reach:
    """For each driver the scenario moves, the level it asks of the average unit (mean over units of the unit means
    after the change), and the share of units (people) whose mean (value) is already at or above it today; the
    driver with the lowest share of units counts.

    >>> x0 = np.array([[1.0], [2.0], [3.0], [4.0]]); u = np.array([0, 1, 2, 3])
    >>> r = reach(x0, x0 + 1.0, u, ("recognition_per_month",))
    >>> r.units, r.people, r.driver          # the average unit would be at 3.5: one unit of four is there
    (0.25, 0.25, 'recognition_per_month')
    """
    best = Reach(1.0, 1.0, None)
    for j, d in enumerate(drivers):
        if not np.any(x1[:, j] != x0[:, j]):
            continue
        m0, m1 = unit_means(x0[:, j], unit_idx), unit_means(x1[:, j], unit_idx)
        have = ~np.isnan(m0)
        level = float(m1[have].mean())
        eps = 1e-9 * max(1.0, abs(level))
        units = float((m0[have] >= level - eps).mean())
        people = float((x0[:, j] >= level - eps).mean())
        if units < best.units or best.driver is None:
            best = Reach(units, people, d)
    return best


def programme_cost(parts: list[Scenario], headcount: int, managers: int, which: str = "value") -> float:
    """First-year cost: per_employee x headcount + per_manager x managers + fixed, over the included scenarios.

    >>> from servicechain.assumptions import Param, Scenario
    >>> s = Scenario("x", {}, (), {"per_employee": Param("e", 60.0), "per_manager": Param("m", 3000.0), "fixed": Param("f", 1000.0)})
    >>> programme_cost([s], headcount=100, managers=10)
    37000.0
    """
    total = 0.0
    for s in parts:
        for basis, n in (("per_employee", headcount), ("per_manager", managers), ("fixed", 1)):
            p = s.cost[basis]
            v = getattr(p, which) if getattr(p, which) is not None else p.value
            total += float(v or 0.0) * n
    return total


def cost_is_placeholder(parts: list[Scenario]) -> bool:
    """Whether some of a scenario's programme cost (over its included scenarios) is still a shipped illustrative
    default, i.e. not replaced by the user's assumptions file."""
    return any(p.placeholder and p.value for part in parts for p in part.cost.values())


@dataclass
class Effects:
    """Physical effects of a scenario per year; index 0 = the point estimates, 1.. = coefficient draws."""

    exits_avoided: np.ndarray  # (D+1,)
    salary_of_exits_avoided: np.ndarray  # (D+1, 3) by role, in ROLES order
    customers_retained: np.ndarray  # (D+1,) a year, at most customers_could_keep
    retention_pp: np.ndarray  # (D+1,) customer-weighted change in quarterly customer retention, pp
    mean_change: dict[str, float]  # mean driver change among the people at risk
    customers_could_keep: float = math.inf  # customers the units lose in a year today (4 x the quarter's losses)
    remaining_months: float = math.inf  # expected remaining life of a kept customer (remaining_life_months)
    customers_base: float = 0.0  # the units' customer base (for the counted-once bound)

    @classmethod
    def zero(cls, d: int, **kw: float) -> "Effects":
        return cls(np.zeros(d), np.zeros((d, 3)), np.zeros(d), np.zeros(d), {}, **kw)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


MAX_CELLS = 40_000
CELL_WEIGHTS = ("people", *(f"salary_{r}" for r in ROLES), "customers_per_head")


@dataclass
class Cells:
    """People at risk grouped by identical hazard-model rows, with summed weights (never shown).

    ``weights`` columns (``CELL_WEIGHTS``): people, salary of the cell's people in each
    role (``ROLES`` order), and sum of 100 x customers_base / headcount of their units.
    ``sampled``: the rest stratum was sampled (see the module docstring); weights of
    sampled cells are already scaled up.
    """

    X: np.ndarray  # (C, k)
    weights: np.ndarray  # (C, 5)
    n_cells: int  # distinct rows before any sampling
    sampled: bool
    rep: np.ndarray | None = None  # (C,) one person of each cell (every person of a cell has the same scenario values)


def _unique_rows(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of X in lexicographic order and each row's position among them (``np.unique(axis=0)``, faster)."""
    cols = [f"c{i}" for i in range(X.shape[1])]
    df = pl.DataFrame(X, schema=cols, orient="row")
    levels = df.unique().sort(cols).with_row_index("_cell")
    inv = df.join(levels, on=cols, how="left", maintain_order="left")["_cell"].to_numpy().astype(np.int64)
    return levels.drop("_cell").to_numpy(), inv


def covariate_cells(pop: Population, max_cells: int = MAX_CELLS, seed: int = 7, by_unit: bool = False) -> Cells:
    """Group ``pop``'s people by their hazard-model row (exact); sample the rest stratum above ``max_cells`` cells.

    ``by_unit``: group by (row, unit), for scenarios whose change depends on the unit (``unit_quantile``).
    Cached on the population (one grouping serves every scenario).
    """
    key = (max_cells, seed, by_unit)
    if key in pop._cells:
        return pop._cells[key]
    X, inv = _unique_rows(np.column_stack([pop.X0, pop.unit_idx]) if by_unit else pop.X0)
    if by_unit:
        X = X[:, :-1]
    C = X.shape[0]
    rep = np.unique(inv, return_index=True)[1]
    head = pop.units["headcount"].to_numpy().astype(float)
    base = pop.units["customers_base"].to_numpy().astype(float)
    per_head = np.divide(100.0 * base, head, out=np.zeros_like(base), where=head > 0)
    w_person = [np.ones(pop.n), *(np.where(pop.role_idx == r, pop.salary, 0.0) for r in range(len(ROLES))),
                per_head[pop.unit_idx]]
    W = np.column_stack([np.bincount(inv, weights=w, minlength=C) for w in w_person])
    sampled = C > max_cells
    if sampled:
        order = np.argsort(-W[:, 0], kind="stable")  # most populated first; ties in row order
        keep, rest = order[: max_cells // 2], order[max_cells // 2:]
        m = max_cells - keep.size
        pick = np.sort(np.random.default_rng(seed).choice(rest.size, m, replace=False))
        chosen = rest[pick]
        W[chosen] *= rest.size / m
        idx = np.sort(np.concatenate([keep, chosen]))
        X, W, rep = X[idx], W[idx], rep[idx]
    out = Cells(X, W, C, bool(sampled), rep)
    pop._cells[key] = out
    return out


def unit_driver_index(unit_model: loyalty.UnitModel) -> list[int]:
    """Positions of UNIT_DRIVERS in the pooled unit model's parameters (after the constant)."""
    if unit_model.spec != "pooled":
        raise ValueError("money uses the pooled unit model (it has the between-unit differences the scenarios change)")
    return [1 + i for i in range(len(UNIT_DRIVERS))]


def simulate(pop: Population, drivers: tuple[str, ...], changes: tuple[Change, ...], beta_h: np.ndarray,
             beta_u: np.ndarray, chunk: int | None = None, max_cells: int = MAX_CELLS, link: str = "logit") -> Effects:
    """Exits avoided, their salaries by role, and customers retained, for every coefficient vector.

    ``beta_h`` (D, k) hazard coefficients; ``beta_u`` (D, p) pooled unit-model
    coefficients. Predictions are made per covariate cell (:func:`covariate_cells`),
    only for the cells the scenario changes, ``chunk`` cells at a time (memory stays
    at chunk x D).

    Each unit's mean drivers move by the mean change of its people, and its voluntary
    turnover by 100 x (sum of its people's quarterly hazard changes) / headcount; the
    unit model turns both into percentage points of customer retention, times the
    unit's customer base. Because that is linear in the people's hazard changes, the
    customer side is a weighted sum over people (weight: the unit's customers per
    head) and never needs per-unit predictions.

    ``link``: the hazard model's (``HazardResult.link``); with ``"cloglog"`` the quarterly probability
    of staying is exp(-e^eta) for a whole quarter at risk, with the logit 1 / (1 + e^eta).
    """
    D = beta_h.shape[0]
    base = pop.units["customers_base"].to_numpy().astype(float)
    lost = float(pop.units["customers_lost"].sum())
    bounds = dict(customers_could_keep=QUARTERS_PER_YEAR * lost, remaining_months=remaining_life_months(base.sum(), lost),
                  customers_base=float(base.sum()))
    x1 = apply_changes(pop.drivers0, changes, drivers, pop.unit_idx)
    delta = x1 - pop.drivers0
    if not np.any(delta):
        return Effects.zero(D, **bounds)
    by_unit = any(c.op == "unit_quantile" for c in changes)
    cells = covariate_cells(pop, max_cells, by_unit=by_unit)
    cols = list(pop.driver_cols)
    xd = cells.X[:, cols]
    xd1 = x1[cells.rep]  # every person of a cell has the same drivers before and after the change
    moved = np.any(xd1 != xd, axis=1)
    X0 = cells.X[moved]
    X1 = X0.copy()
    X1[:, cols] = xd1[moved]
    W = cells.weights[moved]
    acc = np.zeros((W.shape[1], D))  # people, salary by role (annual exit drop); customers per head (hazard change)
    BT = np.ascontiguousarray(beta_h.T)
    step = chunk or max(64, 2_000_000 // max(D, 1))
    with np.errstate(over="ignore"):
        for s in range(0, X0.shape[0], step):
            sl = slice(s, s + step)
            q0 = X0[sl] @ BT  # 1 - h = 1 / (1 + exp(eta)): the quarterly probability of staying
            q1 = X1[sl] @ BT
            for q in (q0, q1):
                np.exp(q, out=q)
                if link == "cloglog":  # 1 - h = exp(-exp(eta))
                    np.negative(q, out=q)
                    np.exp(q, out=q)
                else:
                    q += 1.0
                    np.reciprocal(q, out=q)
            acc[-1] += W[sl, -1] @ (q0 - q1)  # h1 - h0
            for q in (q0, q1):  # staying all year: (1 - h)^4
                np.square(q, out=q)
                np.square(q, out=q)
            q1 -= q0  # annual exit probability drop
            acc[:-1] += W[sl, :-1].T @ q1
    exits, sal, turn = acc[0], acc[1:1 + len(ROLES)].T, acc[-1]
    # Unit means of the drivers move by the mean change of the unit's people (exact, per person).
    at_risk = pop.units["at_risk"].to_numpy().astype(float)
    U = pop.units.height
    sums = np.column_stack([np.bincount(pop.unit_idx, weights=delta[:, j], minlength=U) for j in range(delta.shape[1])])
    dmean = np.divide(sums, at_risk[:, None], out=np.zeros_like(sums), where=at_risk[:, None] > 0)
    unit_cols = {d: i for i, d in enumerate(UNIT_DRIVERS)}
    # sum over units of customers_base x change in retention (pp), per draw
    base_pp = turn * beta_u[:, 1 + unit_cols["voluntary_turnover_pct"]]
    for j, d in enumerate(drivers):
        if d in unit_cols:
            base_pp = base_pp + float(base @ dmean[:, j]) * beta_u[:, 1 + unit_cols[d]]
    # counted once: no more customers kept than the units lose in a year today
    kept = np.minimum(QUARTERS_PER_YEAR * base_pp / 100.0, bounds["customers_could_keep"])
    pp = base_pp / base.sum() if base.sum() > 0 else np.zeros(D)
    mean_change = {d: float(delta[:, j].mean()) for j, d in enumerate(drivers)}
    return Effects(exits, sal, kept, pp, mean_change, **bounds)


# ------------------------------------------------------------------------------ economics


@dataclass(frozen=True)
class Economics:
    """The numbers that turn effects into money (resolved assumptions, one value each)."""

    multiple: float
    retention_cost: float
    revenue_per_customer: float
    margin_share: float
    horizon_months: float
    shares: tuple[float, float, float]  # ROLES order
    given: str = "revenue_share"  # Assumptions.customer_cost_given: "acquisition" keeps the acquisition cost fixed

    @classmethod
    def from_assumptions(cls, a: Assumptions, **override: Any) -> "Economics":
        e = cls(a.value("acquisition_cost_multiple"), a.value("retention_cost_per_customer_per_year"),
                a.value("revenue_per_customer_per_year"), a.value("margin_share"), a.value("margin_horizon_months"),
                tuple(a.replacement_share[r].value for r in ROLES), a.customer_cost_given)
        return e.but(**override) if override else e

    @property
    def acquisition_cost(self) -> Any:
        """What winning one customer costs: multiple x retention cost (per draw when those are arrays)."""
        return self.multiple * self.retention_cost

    def but(self, **kw: Any) -> "Economics":
        """The same economics with some numbers changed. When the user gave the acquisition cost, a new
        multiple changes the derived retention cost, not the acquisition cost (what the user knows)."""
        from dataclasses import replace

        if "multiple" in kw and "retention_cost" not in kw and self.given == "acquisition":
            kw["retention_cost"] = self.acquisition_cost / kw["multiple"]
        return replace(self, **kw)

    def value(self, eff: Effects, cost: float) -> dict[str, np.ndarray]:
        """Money per draw: replacement cost avoided, acquisition spend avoided, margin kept, gross, net."""
        rep = replacement_cost(eff.salary_of_exits_avoided, np.array(self.shares))
        cv = customer_value(eff.customers_retained, self.multiple, self.retention_cost, self.revenue_per_customer,
                            self.margin_share, self.horizon_months, eff.remaining_months)
        gross = rep + cv.total
        return {"replacement_cost_avoided": rep, "acquisition_spend_avoided": cv.acquisition, "margin_kept": cv.margin,
                "gross_value": gross, "net_value": net_value(gross, cost)}


def _triangular(rng: np.random.Generator, value: float, low: float | None, high: float | None, n: int) -> np.ndarray:
    """``n`` draws over low..high with mode ``value`` (constant when there is no range)."""
    if low is None or high is None or not high > low:
        return np.full(n, float(value))
    return rng.triangular(float(low), float(min(max(value, low), high)), float(high), size=n)


def draw_economics(a: Assumptions, draws: int, seed: int) -> Economics:
    """Economics with one value per draw: row 0 the defaults, rows 1.. drawn jointly over every range.

    ``a`` must be resolved (no ``auto``). The draws are independent across assumptions
    and independent of the coefficient draws (their own seeded stream).
    """
    rng = np.random.default_rng([seed, 1])

    def col(key: str) -> np.ndarray:
        p = a[key]
        return np.concatenate([[p.value], _triangular(rng, p.value, p.low, p.high, draws)])

    shares = np.column_stack([np.concatenate([[a.replacement_share[r].value],
                                              _triangular(rng, a.replacement_share[r].value, a.replacement_share[r].low,
                                                          a.replacement_share[r].high, draws)]) for r in ROLES])
    mult = col("acquisition_cost_multiple")
    given = a.customer_cost_given
    # the cost the user stated is drawn over its range; the other follows from acquisition = multiple x retention
    ret = col("acquisition_cost_per_customer") / mult if given == "acquisition" else col("retention_cost_per_customer_per_year")
    return Economics(mult, ret, col("revenue_per_customer_per_year"), col("margin_share"), col("margin_horizon_months"),
                     shares, given)


def conservative_economics(a: Assumptions) -> Economics:
    """Every assumption at the end of its range that makes a programme worth least."""
    def lo(key: str) -> float:
        p = a[key]
        return p.low if p.low is not None else p.value

    given = a.customer_cost_given
    ret = (lo("acquisition_cost_per_customer") / lo("acquisition_cost_multiple") if given == "acquisition"
           else lo("retention_cost_per_customer_per_year"))
    return Economics(lo("acquisition_cost_multiple"), ret,
                     lo("revenue_per_customer_per_year"), lo("margin_share"), lo("margin_horizon_months"),
                     tuple(a.replacement_share[r].low if a.replacement_share[r].low is not None
                           else a.replacement_share[r].value for r in ROLES), given)


def quantiles(x: np.ndarray) -> tuple[float, float, float]:
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return float(p10), float(p50), float(p90)


# ------------------------------------------------------------------------------ baseline


@dataclass
class Baseline:
    """The report quarter's cost of voluntary turnover and of lost customers, per region and in total."""

    quarter: str
    regions: pl.DataFrame  # region, headcount, voluntary_exits, replacement_cost, customers_base, customers_lost,
    #                        lost_margin, reacquisition_cost, lost_customer_cost, total_cost
    total: dict[str, float]

    def to_dict(self, threshold: int) -> dict:
        total = dict(self.total)
        if 0 < total.get("early_leavers", 0) < threshold:  # a few people's cost would give their salaries away
            total["early_replacement_cost"] = None
        return {"quarter": self.quarter, **total, "regions": region_table(self, threshold).to_dicts()}


def baseline(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], pop: Population, econ: Economics,
             a: Assumptions) -> Baseline:
    """Voluntary exits of the quarter x salary x replacement share; customers lost x (multiple x retention cost + margin).

    Every voluntary leaver of the quarter is counted, early leavers included; ``total`` also says how many of them
    were early leavers (``features.turnover``'s definition, the index's and page 01's: within ``EARLY_DAYS`` of hire
    or in the quarter they joined) and what replacing them costs (``early_replacement_cost``, part of
    ``replacement_cost``, not added to it).
    """
    from . import quarters as Q

    emp = tables["employees"]
    emp = emp.collect() if isinstance(emp, pl.LazyFrame) else emp
    units = tables["units"]
    units = (units.collect() if isinstance(units, pl.LazyFrame) else units).select("unit_id", "region")
    emp = _salary_fill(emp, a["annual_salary_fallback"].value)
    shares = dict(zip(ROLES, econ.shares))
    leavers = (
        emp.filter((Q.index_expr("exit_date") == Q.parse(pop.quarter)) & (pl.col("exit_reason") == "voluntary"))
        .join(units, on="unit_id", how="left")
        .with_columns((pl.col("annual_salary") * pl.col("role").replace_strict(shares, default=0.0,
                                                                                return_dtype=pl.Float64)).alias("cost"),
                      ((Q.index_expr("hire_date") == Q.parse(pop.quarter))  # features.turnover's early leavers
                       | ((pl.col("exit_date") - pl.col("hire_date")).dt.total_days() < features.EARLY_DAYS))
                      .fill_null(False).alias("early"))
        .group_by("region").agg(pl.len().alias("voluntary_exits"), pl.col("cost").sum().alias("replacement_cost"),
                                pl.col("early").sum().alias("_early"),
                                pl.col("cost").filter(pl.col("early")).sum().alias("_early_cost"))
    )
    early_n, early_cost = (int(leavers["_early"].sum()), float(leavers["_early_cost"].sum())) if leavers.height else (0, 0.0)
    leavers = leavers.drop("_early", "_early_cost")
    cust = pop.units.group_by("region").agg(pl.col("headcount").sum().cast(pl.Int64), pl.col("customers_base").sum(),
                                            pl.col("customers_lost").sum())
    life = remaining_life_months(float(pop.units["customers_base"].sum()), float(pop.units["customers_lost"].sum()))
    per_lost = customer_value(1.0, econ.multiple, econ.retention_cost, econ.revenue_per_customer, econ.margin_share,
                              econ.horizon_months, life)
    reg = (
        cust.join(leavers, on="region", how="full", coalesce=True)
        .with_columns(pl.col("voluntary_exits").fill_null(0).cast(pl.Int64), pl.col("replacement_cost").fill_null(0.0),
                      pl.col("headcount").fill_null(0), pl.col("customers_base", "customers_lost").fill_null(0.0))
        .with_columns((pl.col("customers_lost") * per_lost.margin).alias("lost_margin"),
                      (pl.col("customers_lost") * per_lost.acquisition).alias("reacquisition_cost"))
        .with_columns((pl.col("lost_margin") + pl.col("reacquisition_cost")).alias("lost_customer_cost"))
        .with_columns((pl.col("replacement_cost") + pl.col("lost_customer_cost")).alias("total_cost"))
        .select("region", "headcount", "voluntary_exits", "replacement_cost", "customers_base", "customers_lost",
                "lost_margin", "reacquisition_cost", "lost_customer_cost", "total_cost")
        .sort("region", nulls_last=True)
    )
    tot = reg.drop("region").sum().row(0, named=True)
    to = features.turnover(tables, pop.quarter)  # the headline split of the same leavers (index, summary)
    return Baseline(pop.quarter, reg, {**{k: (int(v) if k in ("headcount", "voluntary_exits") else float(v))
                                          for k, v in tot.items()},
                                       "voluntary_leavers_from_start": to.leavers_from_start,
                                       "voluntary_joined_and_left": to.joined_and_left,
                                       # early leavers (within EARLY_DAYS of hire or in their hire quarter): part of
                                       # the leavers above, the index's figure; their replacement cost is in the total
                                       "early_leavers": early_n, "early_replacement_cost": early_cost,
                                       "early_days": features.EARLY_DAYS,
                                       # months of margin a lost customer costs: the horizon, capped at its expected life
                                       "margin_months": float(min(econ.horizon_months, life))})


def region_table(b: Baseline, threshold: int) -> pl.DataFrame:
    """The baseline per region with the anonymity rule applied.

    A region with fewer than ``threshold`` people hides everything; one with fewer than
    ``threshold`` leavers hides its leavers' count and cost (a single leaver's
    replacement cost would give away their salary), with complementary suppression so
    the hidden cell cannot be recovered from the total.
    """
    try:
        from .privacy import suppress_small
    except ImportError:  # pragma: no cover
        return b.regions
    out = suppress_small(b.regions, "headcount", threshold, flag_col="_s1",
                         value_cols=[c for c in b.regions.columns if c != "region"])
    out = suppress_small(out, "voluntary_exits", threshold, flag_col="_s2",
                         value_cols=["voluntary_exits", "replacement_cost", "total_cost"])
    return out.drop("_s1", "_s2")


# ------------------------------------------------------------------------------ the whole analysis


@dataclass(repr=False)
class ScenarioResult(ResultMixin):
    """One scenario's money: draws of every quantity (index 0 = point estimates), P10/P50/P90 over the draws.

    ``summary()`` and ``to_frame()`` show P10/P50/P90 and the mean (ranges over coefficient and assumption
    draws, not 95% CIs); ``summary(lang)`` is the results record metrics.json keeps."""

    scenario: Scenario
    effects: Effects
    cost: float
    cost_low: float
    cost_high: float
    money: dict[str, np.ndarray]  # coefficients and assumptions drawn jointly; index 0 = point estimates
    break_even_multiple: float | str
    headline: bool = False
    money_coef: dict[str, np.ndarray] = field(default_factory=dict)  # coefficients only, assumptions at defaults
    conservative: dict[str, float] = field(default_factory=dict)  # P50 with every assumption at its cautious end
    cost_placeholder: bool = False  # some of its programme cost is a shipped illustrative default, not the user's
    reach: Reach | None = None  # how far it goes beyond the data
    value_at_multiple: dict[float, float] = field(default_factory=dict)  # P50 net value with the multiple fixed
    joint_draws: bool = False  # the two models' coefficients drawn jointly (bootstrap cross-correlations)

    @property
    def name(self) -> str:
        return self.scenario.name

    def q(self, key: str) -> tuple[float, float, float]:
        return quantiles(self.money[key][1:])

    _title: ClassVar[str] = "Money scenario (P10/P50/P90 over coefficient and assumption draws)"

    def to_frame(self) -> pl.DataFrame:
        """One row per quantity: money (net and gross value, its components) and effects (exits avoided,
        customers retained, customer retention in pp), with P10/P50/P90 and the mean over the draws."""
        eff = {"exits_avoided": self.effects.exits_avoided, "customers_retained": self.effects.customers_retained,
               "customer_retention_pp": self.effects.retention_pp}
        rows = [("money", k, np.asarray(self.money[k][1:])) for k in ("net_value", "gross_value", *COMPONENTS)]
        rows += [("effect", k, np.asarray(v[1:])) for k, v in eff.items()]
        return pl.DataFrame([{"quantity": qn, "name": k, **dict(zip(("p10", "p50", "p90"), quantiles(x))),
                              "mean": float(np.mean(x))} for qn, k, x in rows])

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", f"scenario {self.name}" + (" (headline)" if self.headline else "")),
                ("method", "coefficients and assumptions drawn jointly; P10/P50/P90 over the draws"),
                ("draws", len(self.money["net_value"]) - 1), ("programme cost", self.cost),
                ("break-even multiple", self.break_even_multiple),
                ("P(net value > 0)", float((self.money["net_value"][1:] > 0).mean()))]

    def _notes(self) -> list[str]:
        out = ["the programme cost is (partly) a shipped illustrative default"] if self.cost_placeholder else []
        if self.reach is not None and self.reach.extrapolates:
            out.append(f"goes beyond the data for {self.reach.driver}")
        return out

    def _repr_lines(self) -> list[str]:
        a, b, c = self.q("net_value")
        return [f"  net value P50 {b:,.0f} (P10 {a:,.0f} to P90 {c:,.0f})"]

    def summary(self, lang: str | None = None) -> Any:
        """Without ``lang``: an :class:`estimates.Summary` to print or display. With ``lang``: the scenario's
        results record for metrics.json (a dict; its label in ``lang``)."""
        if lang is None:
            return ResultMixin.summary(self)
        s: dict[str, Any] = {"name": self.name, "label": self.scenario.label_in(lang), "headline": self.headline}
        v10, v50, v90 = self.q("net_value")
        s.update(value_p10=v10, value_p50=v50, value_p90=v90)
        s["range_basis"] = RANGE_BASIS if self.joint_draws else "coefficients_and_assumptions"
        for k in ("gross_value", "replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept"):
            a, b, c = self.q(k)
            s.update({f"{k}_p10": a, f"{k}_p50": b, f"{k}_p90": c})
        if self.money_coef:
            a, b, c = quantiles(self.money_coef["net_value"][1:])
            s.update(coefficient_only_value_p10=a, coefficient_only_value_p50=b, coefficient_only_value_p90=c)
        s["conservative_value_p50"] = self.conservative.get("net_value")
        # averages over the draws: they add up (medians do not): components -> gross, gross - cost -> net
        s["components"] = {k: float(np.mean(self.money[k][1:])) for k in COMPONENTS}
        s["components_basis"] = "mean_over_draws"
        s["gross_value_mean"] = float(np.mean(self.money["gross_value"][1:]))
        s["programme_cost_mean"] = float(np.mean(self.money["gross_value"][1:] - self.money["net_value"][1:]))
        s["net_value_mean"] = float(np.mean(self.money["net_value"][1:]))
        s["value_p50_at_multiple"] = {f"{m:g}": v for m, v in self.value_at_multiple.items()}
        s["programme_cost_placeholder"] = self.cost_placeholder
        if self.reach is not None:
            s["reach_units"], s["reach_people"] = self.reach.units, self.reach.people
            s["reach_driver"], s["extrapolates"] = self.reach.driver, self.reach.extrapolates
        for k, arr in (("exits_avoided", self.effects.exits_avoided), ("customers_retained", self.effects.customers_retained),
                       ("customer_retention_pp", self.effects.retention_pp)):
            a, b, c = quantiles(arr[1:])
            s.update({f"{k}_p10": a, f"{k}_p50": b, f"{k}_p90": c})
        s["programme_cost"] = self.cost
        s["programme_cost_range"] = [self.cost_low, self.cost_high]
        s["payback_months_p50"] = payback_months(self.cost, s["gross_value_p50"])
        s["break_even_multiple"] = self.break_even_multiple
        s["probability_positive"] = float((self.money["net_value"][1:] > 0).mean())
        s["mean_driver_change"] = self.effects.mean_change
        return s


@dataclass(repr=False)
class FinanceResult(ResultMixin):
    """Everything the money notebook shows and saves (``summary()``/``to_frame()``: every scenario's money)."""

    quarter: str
    assumptions: Assumptions
    econ: Economics
    population: Population
    baseline: Baseline
    scenarios: list[ScenarioResult]
    draws: int
    seed: int
    hazard_n: int
    unit_n: int
    notes: list[str] = field(default_factory=list)
    # how the coefficients were drawn (metrics.json ``coefficient_draws``): joint or independent, the bootstrap,
    # the hazard's link and missing-answer rule
    coefficient_draws: dict = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.assumptions.currency

    _title: ClassVar[str] = "Money: every scenario (P10/P50/P90 over coefficient and assumption draws)"

    def to_frame(self) -> pl.DataFrame:
        """Every scenario's :meth:`ScenarioResult.to_frame`, with a ``scenario`` column first."""
        return pl.concat([s.to_frame().select(pl.lit(s.name).alias("scenario"), pl.all()) for s in self.scenarios])

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", f"{len(self.scenarios)} scenarios, quarter {self.quarter}"),
                ("method", "coefficients and assumptions drawn jointly; P10/P50/P90 over the draws"),
                ("draws", self.draws), ("seed", self.seed), ("currency", self.currency),
                ("acquisition multiple", float(self.econ.multiple)), ("people at risk", self.population.n),
                ("hazard person-quarters", self.hazard_n), ("unit-quarters", self.unit_n)]

    def _repr_lines(self) -> list[str]:
        return [line for s in self.scenarios[: self._repr_rows]
                for line in (f"  {s.name}:{s._repr_lines()[0][1:]}",)]

    def scenario(self, name: str) -> ScenarioResult:
        return next(s for s in self.scenarios if s.name == name)

    @property
    def headline(self) -> ScenarioResult:
        return next((s for s in self.scenarios if s.headline), self.scenarios[0])

    def customer_cost(self) -> dict:
        """Which customer cost was given (acquisition, retention, or neither: a share of revenue) and both values."""
        return {"given": self.assumptions.customer_cost_given, "multiple": float(self.econ.multiple),
                "acquisition_cost_per_customer": float(self.econ.acquisition_cost),
                "retention_cost_per_customer_per_year": float(self.econ.retention_cost)}

    def customer_cost_text(self, lang: str) -> str:
        """One sentence for the money page: which customer cost was given and which derived by the rule."""
        c = self.customer_cost()
        sh = self.assumptions["retention_cost_share_of_revenue"].value
        return t(f"fin_customer_cost_{c['given']}", lang, acq=money(c["acquisition_cost_per_customer"], self, lang, False),
                 ret=money(c["retention_cost_per_customer_per_year"], self, lang, False),
                 multiple=fmt_number(c["multiple"], lang, 1), share=fmt_pct(sh, lang, 0))

    def to_results(self, lang: str = "en", threshold: int = 5) -> dict:
        """The contract with the quarterly run (``nb.save_results("finance", ...)``)."""
        return {
            "currency": self.currency,
            "acquisition_cost_multiple": self.econ.multiple,
            "quarter": self.quarter,
            "draws": self.draws,
            "range_basis": RANGE_BASIS if self.coefficient_draws.get("joint") else "coefficients_and_assumptions",
            "coefficient_draws": self.coefficient_draws,
            "customer_cost": self.customer_cost(),
            "seed": self.seed,
            "baseline": self.baseline.to_dict(threshold),
            "scenarios": [s.summary(lang) for s in self.scenarios],
            "assumptions": self.assumptions.to_dict(),
            "sensitivity": {s.name: sensitivity(self, s.name).to_dicts() for s in self.scenarios},
        }


def draw_coefficients(hazard: retention.HazardResult, unit_model: loyalty.UnitModel, draws: int,
                      seed: int, boot: "CoefficientBootstrap | None" = None) -> tuple[np.ndarray, np.ndarray]:
    """Point estimates (row 0) and ``draws`` multivariate-normal draws of both models' coefficients.

    Without ``boot`` the two models are drawn independently; with it, jointly (:func:`joint_covariance`):
    each model's own cluster-robust covariance, and between the two the correlations of the unit-level
    bootstrap that refitted both on the same resampled units."""
    rng = np.random.default_rng(seed)
    if boot is not None:
        mean = np.concatenate([hazard.params, unit_model.params])
        cov, _ = joint_covariance(hazard.cov, unit_model.cov, boot)
        b = rng.multivariate_normal(mean, cov, size=draws, method="eigh")
        kh = len(hazard.params)
        return np.vstack([hazard.params, b[:, :kh]]), np.vstack([unit_model.params, b[:, kh:]])
    bh = rng.multivariate_normal(hazard.params, hazard.cov, size=draws, method="eigh")
    bu = rng.multivariate_normal(unit_model.params, unit_model.cov, size=draws, method="eigh")
    return np.vstack([hazard.params, bh]), np.vstack([unit_model.params, bu])


def t_tails(bh: np.ndarray, bu: np.ndarray, hazard: retention.HazardResult, unit_model: loyalty.UnitModel,
            seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Multivariate-t draws from the multivariate-normal ones of :func:`draw_coefficients` (row 0, the point, kept).

    Each draw's deviation from the point estimates is scaled by sqrt(df / chi2_df): one uniform per draw (seeded
    stream ``[seed, 3]``) and its chi-square quantile at each model's df, the hazard's df = G - 1 (its t(G-1)
    intervals), the pooled unit model's the smallest Satterthwaite df of its drivers (its CR2 t intervals); the
    same uniform for both models, so the joint draws' correlation is kept. The coefficients' sampling
    distribution has t tails with few clusters; normal draws made the money's coefficient range too narrow: at
    500 employees (about 14 units with customers) the customer side's P10-P90 covered its plug-in truth 0.71 of
    the time against 0.80 nominal, 0.81 with t draws (200 seeds each; docs/validation.md). With many clusters
    the df are large and the draws are almost unchanged.
    """
    from scipy import stats

    n = bh.shape[0] - 1
    u = np.maximum(np.random.default_rng([seed, 3]).random(n), 1e-12)
    dfs = [float(v) for k, v in (unit_model.df or {}).items() if k in UNIT_DRIVERS and np.isfinite(v) and v > 0]
    df_u = min(dfs) if dfs else float(max(getattr(unit_model, "n_units", 2) - 1, 1))
    df_h = float(max(hazard.df, 1))
    out = []
    for b, df in ((bh, df_h), (bu, df_u)):
        w = np.sqrt(df / stats.chi2.ppf(u, df))
        out.append(np.vstack([b[:1], b[:1] + (b[1:] - b[:1]) * w[:, None]]))
    return out[0], out[1], {"method": "multivariate t: each normal draw scaled by sqrt(df / chi2(df)), one "
                                      "uniform per draw for both models",
                            "hazard_df": df_h, "unit_model_df": df_u}


BOOTSTRAP_REPLICATES = 200
# the hazard's further scoring steps (each a pass over patterns x replicates) only while patterns x replicates stays
# below this; above it the one-step refit alone (measured 0.14 SE from the full refit at 30,000 employees, less the
# larger the organisation): 200 replicates x 400,000 patterns took 5 minutes a step on this 2-core machine
BOOTSTRAP_STEP_BUDGET = 40_000_000
RANGE_BASIS = "coefficients_drawn_jointly_and_assumptions"
COEFFICIENT_DRAWS_JOINT = ("joint multivariate normal: each model's own cluster-robust covariance, and between the "
                           "hazard and the customer-retention model the correlations of a unit-level bootstrap that "
                           "refitted both models on the same resampled units")
COEFFICIENT_DRAWS_INDEPENDENT = "independent multivariate normals, each model's own cluster-robust covariance"


@dataclass
class CoefficientBootstrap:
    """A unit-level (cluster) bootstrap of both money models: ``replicates`` resamples of the units with
    replacement, each refitting the hazard (on its covariate patterns) and the pooled unit model on the same
    resampled units. ``hazard`` (B, k_h) and ``unit`` (B, k_u) are the refitted coefficients; ``counts``
    (B, G) how often each unit (``unit_ids``, sorted) was drawn."""

    hazard: np.ndarray
    unit: np.ndarray
    counts: np.ndarray
    unit_ids: list
    seed: int
    hazard_steps: int = 1  # Fisher-scoring steps of the hazard's refit (1 = the one-step bootstrap)

    @property
    def replicates(self) -> int:
        return int(self.hazard.shape[0])

    def correlation(self) -> np.ndarray:
        """Correlation matrix of the replicates' (hazard, unit) coefficients (0 where a coefficient never moves)."""
        c = np.cov(np.hstack([self.hazard, self.unit]).T)
        sd = np.sqrt(np.clip(np.diag(c), 0.0, None))
        ok = sd > 0
        r = np.zeros_like(c)
        r[np.ix_(ok, ok)] = c[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
        return r

    def to_dict(self) -> dict:
        return {"replicates": self.replicates, "units": len(self.unit_ids), "seed": self.seed,
                "hazard_refit_steps": self.hazard_steps}


def unit_draws(n_units: int, replicates: int, seed: int) -> np.ndarray:
    """(replicates, n_units) counts: how often each unit is drawn when ``n_units`` are drawn with replacement.
    Its own seeded stream ``[seed, 4]`` (1: assumptions, 2: programme cost, 3: :func:`t_tails`)."""
    rng = np.random.default_rng([seed, 4])
    return rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=replicates)


def _unit_design(uq: pl.DataFrame, unit_model: loyalty.UnitModel) -> tuple[np.ndarray, np.ndarray, pl.Series]:
    """The pooled unit model's rows as the fit saw them: X (constant, lagged drivers, quarter dummies), y, unit_id."""
    drivers = tuple(n[:-4] for n in unit_model.names if n.endswith("_lag"))
    rows = loyalty.model_rows(uq, unit_model.outcome, drivers)
    qd, q_names = loyalty._quarter_dummies(rows)
    X = np.column_stack([np.ones(rows.height), rows.select([f"{d}_lag" for d in drivers]).to_numpy().astype(float), qd])
    if ["const", *(f"{d}_lag" for d in drivers), *q_names] != list(unit_model.names):
        raise ValueError("the unit model's columns cannot be rebuilt from the unit panel")
    return X, rows[unit_model.outcome].to_numpy().astype(float), rows["unit_id"]


def _unit_sums(X: np.ndarray, w: np.ndarray, r: np.ndarray, unit: np.ndarray, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Per unit: X_u' diag(w_u) X_u (G, k, k) and X_u' r_u (G, k); one small product per unit, never per row."""
    order = np.argsort(unit, kind="stable")
    Xs, ws, us = X[order], w[order], unit[order]
    bounds = np.searchsorted(us, np.arange(G + 1))
    H = np.zeros((G, X.shape[1], X.shape[1]))
    for g in range(G):
        a, b = bounds[g], bounds[g + 1]
        if b > a:
            H[g] = Xs[a:b].T @ (Xs[a:b] * ws[a:b, None])
    S = np.column_stack([np.bincount(unit, weights=X[:, j] * r, minlength=G) for j in range(X.shape[1])])
    return H, S


def _solve_each(H: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Solve H[b] x = S[b] for every replicate b (pseudo-inverse where a resample leaves H singular)."""
    try:
        return np.linalg.solve(H, S[..., None])[..., 0]
    except np.linalg.LinAlgError:
        pass
    out = np.empty_like(S)
    for b in range(S.shape[0]):
        try:
            out[b] = np.linalg.solve(H[b], S[b])
        except np.linalg.LinAlgError:
            out[b] = np.linalg.pinv(H[b]) @ S[b]
    return out


def _grouped_score_terms(eta: np.ndarray, n: np.ndarray, k: np.ndarray, link: str) -> tuple[np.ndarray, np.ndarray]:
    """Fisher weights n mu'^2 / (p (1 - p)) and score terms (k - n p) mu' / (p (1 - p)) of grouped binomial rows."""
    if link == "cloglog":
        e = np.exp(eta)
        p = np.clip(-np.expm1(-e), 1e-12, 1 - 1e-12)
        d = e * (1 - p)  # mu'(eta)
    else:
        p = np.clip(1.0 / (1.0 + np.exp(-eta)), 1e-12, 1 - 1e-12)
        d = p * (1 - p)
    v = p * (1 - p)
    return n * d * d / v, (k - n * p) * d / v


def bootstrap_coefficients(pq: pl.DataFrame, uq: pl.DataFrame, hazard: retention.HazardResult,
                           unit_model: loyalty.UnitModel, replicates: int = BOOTSTRAP_REPLICATES,
                           seed: int = 7, steps: int = 6, tol: float = 0.01) -> CoefficientBootstrap:
    """Refit both models on ``replicates`` unit-level resamples (the same resampled units for both), seeded.

    A unit drawn c times counts c times. The pooled unit model is refitted exactly: least squares with
    X'X = sum_u c_u X_u'X_u and X'y = sum_u c_u X_u'y_u. The hazard is refitted by Fisher scoring from the
    full-data estimate with the information held at that estimate, I_b = sum_u c_u I_u (each unit's information
    computed once): the first step uses each unit's score at the full-data estimate (the one-step bootstrap,
    Davidson and MacKinnon 1999), up to ``steps - 1`` further ones the resample's score at the current value, all
    replicates at once, stopping once no coefficient moves by more than ``tol`` of its standard error (the larger
    the organisation, the closer the one-step estimate already is: fewer passes over its patterns; above
    ``BOOTSTRAP_STEP_BUDGET`` patterns x replicates, the one-step refit alone). That converges to each resample's maximum-likelihood estimate (a test checks it against
    full refits on stacked resampled rows) at the cost of a few matrix products instead of 200 logit fits. The
    hazard keeps its link, offset and missing-answer fill (a unit's fill is its own mean, which resampling whole
    units leaves as it is).
    """
    rows = hazard.prepare(pq.filter(pl.col("role").is_not_null()))
    cll = hazard.link == "cloglog"
    if cll:
        rows = retention.with_exposure(rows)
    keys = [*hazard.model_drivers, "tenure_band", "role", "quarter", *((retention.EXPOSURE,) if cll else ())]
    pat = (rows.group_by([*keys, "unit_id"]).agg(pl.len().alias("_n"),
                                                 pl.col("voluntary_exit").cast(pl.Float64).sum().alias("_k"))
           .sort([*keys, "unit_id"], nulls_last=True))
    Xh, names = retention.exog(pat, hazard.model_drivers, hazard.quarters)
    if names != hazard.names:
        raise ValueError(f"the hazard's columns cannot be rebuilt: {names} vs {hazard.names}")
    n, k = pat["_n"].to_numpy().astype(float), pat["_k"].to_numpy().astype(float)
    off = np.log(pat[retention.EXPOSURE].to_numpy().astype(float)) if cll else np.zeros(len(n))
    w0, r0 = _grouped_score_terms(Xh @ hazard.params + off, n, k, hazard.link)
    Xu, yu, uid = _unit_design(uq, unit_model)
    ids = sorted(set(pat["unit_id"].to_list()) | set(uid.to_list()))
    pos = {u: i for i, u in enumerate(ids)}
    G = len(ids)
    ih = pat["unit_id"].replace_strict(pos, return_dtype=pl.Int64).to_numpy()
    iu = uid.replace_strict(pos, return_dtype=pl.Int64).to_numpy()
    Ih, Sh = _unit_sums(Xh, w0, r0, ih, G)
    Iu, Su = _unit_sums(Xu, np.ones(len(yu)), yu, iu, G)
    counts = unit_draws(G, replicates, seed)
    c = counts.astype(float)
    kh, ku = Xh.shape[1], Xu.shape[1]
    Hb = (c @ Ih.reshape(G, -1)).reshape(-1, kh, kh)
    bh = hazard.params[None, :] + _solve_each(Hb, c @ Sh)
    chunk = max(1, 2_000_000 // max(len(n), 1))  # replicates at a time: patterns x chunk numbers in memory
    se = np.sqrt(np.clip(np.diag(hazard.cov), 0.0, None))
    inv_se = np.divide(1.0, se, out=np.zeros_like(se), where=se > 0)  # dropped columns (se 0) never move
    done = 1
    if len(n) * replicates > BOOTSTRAP_STEP_BUDGET:
        steps = 1
    for _ in range(steps - 1):
        done += 1
        moved = 0.0
        for a in range(0, replicates, chunk):
            sl = slice(a, a + chunk)
            _, r = _grouped_score_terms(Xh @ bh[sl].T + off[:, None], n[:, None], k[:, None], hazard.link)
            step = _solve_each(Hb[sl], (r * c[sl].T[ih]).T @ Xh)  # (B, k); X.T @ r is 20x slower in BLAS
            bh[sl] += step
            moved = max(moved, float(np.max(np.abs(step) * inv_se)))
        if moved < tol:
            break
    bu = _solve_each((c @ Iu.reshape(G, -1)).reshape(-1, ku, ku), c @ Su)
    return CoefficientBootstrap(bh, bu, counts, ids, seed, done)


def joint_covariance(cov_h: np.ndarray, cov_u: np.ndarray, boot: CoefficientBootstrap) -> tuple[np.ndarray, float]:
    """The covariance both models' coefficients are drawn from, and the shrink factor used.

    Diagonal blocks: each model's own cluster-robust covariance (what the retention and loyalty pages quote, small-
    cluster corrections included). Off-diagonal block: sd_h x (bootstrap cross-correlation) x sd_u, so a drawn hazard
    coefficient and a drawn unit-model coefficient are correlated as in the bootstrap. When that matrix is not
    positive semi-definite (the bootstrap's correlations are estimates from a few hundred replicates), the cross block
    is shrunk by the largest factor in [0, 1] that makes it so (1 = not shrunk).
    """
    kh = cov_h.shape[0]
    R = boot.correlation()
    cross = R[:kh, kh:]
    sh, su = np.sqrt(np.clip(np.diag(cov_h), 0, None)), np.sqrt(np.clip(np.diag(cov_u), 0, None))

    def build(lam: float) -> np.ndarray:
        c = lam * np.outer(sh, su) * cross
        return np.block([[cov_h, c], [c.T, cov_u]])

    def psd(m: np.ndarray) -> bool:
        scale = np.sqrt(np.clip(np.diag(m), 1e-300, None))
        return bool(np.linalg.eigvalsh(m / np.outer(scale, scale)).min() > -1e-9)

    if psd(build(1.0)):
        return build(1.0), 1.0
    lo, hi = 0.0, 1.0
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if psd(build(mid)) else (lo, mid)
    return build(lo), float(lo)


def pick_headline(results: list[ScenarioResult]) -> ScenarioResult | None:
    """The most valuable scenario (P50 net value) that stays within the observed range; if every scenario
    extrapolates, the most valuable one."""
    if not results:
        return None
    within = [r for r in results if r.reach is None or not r.reach.extrapolates]
    return max(within or results, key=lambda r: (r.q("net_value")[1], r.name))


def evaluate(pop: Population, hazard: retention.HazardResult, unit_model: loyalty.UnitModel, a: Assumptions,
             tables: Mapping[str, Any], seed: int = 7, headline: str | None = None,
             boot: CoefficientBootstrap | None = None) -> FinanceResult:
    """Baseline and every scenario of ``a`` (``a`` must be resolved, see :func:`resolve`).

    ``headline``: the scenario the index and the page lead with; None = :func:`pick_headline`.
    ``boot``: the unit-level bootstrap of both models (:func:`bootstrap_coefficients`); the coefficients are then
    drawn jointly (:func:`draw_coefficients`), independently without it."""
    unit_driver_index(unit_model)
    econ = Economics.from_assumptions(a)
    econ_draws = draw_economics(a, a.draws, seed)
    cautious = conservative_economics(a)
    cost_rng = np.random.default_rng([seed, 2])
    bh, bu = draw_coefficients(hazard, unit_model, a.draws, seed, boot)
    bh, bu, tails = t_tails(bh, bu, hazard, unit_model, seed)
    draws_info = {"joint": boot is not None, "method": COEFFICIENT_DRAWS_JOINT if boot is not None
                  else COEFFICIENT_DRAWS_INDEPENDENT, "hazard_link": hazard.link, "hazard_missing": hazard.missing}
    draws_info["t_tails"] = tails
    if boot is not None:
        draws_info.update(bootstrap=boot.to_dict(),
                          cross_correlation_shrink=joint_covariance(hazard.cov, unit_model.cov, boot)[1])
    out = []
    for sc in a.scenarios:
        changes, parts = expand(a, sc)
        eff = simulate(pop, tuple(hazard.drivers), changes, bh, bu, link=hazard.link)
        cost = programme_cost(parts, pop.headcount, pop.managers)
        c_lo = programme_cost(parts, pop.headcount, pop.managers, "low")
        c_hi = programme_cost(parts, pop.headcount, pop.managers, "high")
        costs = np.concatenate([[cost], _triangular(cost_rng, cost, c_lo, c_hi, a.draws)])
        r = ScenarioResult(sc, eff, cost, c_lo, c_hi, econ_draws.value(eff, costs), "never",
                           headline=(sc.name == headline), money_coef=econ.value(eff, cost), joint_draws=boot is not None)
        r.conservative = {k: float(np.median(v[1:])) for k, v in cautious.value(eff, c_hi).items()}
        r.cost_placeholder = cost_is_placeholder(parts)
        r.reach = reach(pop.drivers0, apply_changes(pop.drivers0, changes, tuple(hazard.drivers), pop.unit_idx),
                        pop.unit_idx, tuple(hazard.drivers))
        m = a["acquisition_cost_multiple"]
        for mult in sorted({m.low, m.high} - {None}):  # the headline at each end of the users' 6-7x band
            at = econ_draws.but(multiple=np.full_like(econ_draws.multiple, mult)).value(eff, costs)["net_value"]
            r.value_at_multiple[float(mult)] = float(np.median(at[1:]))
        r.break_even_multiple = break_even(lambda m, r=r: float(np.median(
            econ.but(multiple=m).value(r.effects, r.cost)["net_value"][1:])))
        out.append(r)
    if out and not any(r.headline for r in out):
        pick_headline(out).headline = True
    notes = []
    cells = covariate_cells(pop)
    if cells.sampled:
        notes.append(f"{pop.n:,} people at risk in {cells.n_cells:,} distinct model rows: the {MAX_CELLS // 2:,} largest "
                     f"groups computed exactly, a seeded random sample of {MAX_CELLS - MAX_CELLS // 2:,} of the rest "
                     "stands for the others")
    if pop.imputed_share > 0:
        notes.append(f"{pop.imputed_share:.0%} of the people at risk had no survey answer last quarter: their unit's "
                     "mean answers and the no-answer indicator of the hazard fit used (the fit's own rule)")
    return FinanceResult(pop.quarter, a, econ, pop, baseline(tables, pop, econ, a), out, a.draws, seed,
                         hazard.n_obs, unit_model.n_obs, notes, draws_info)


def analyse(tables: Mapping[str, Any], quarter: str, assumptions: str | Path | Assumptions | None = None,
            seed: int = 7, *, panels: tuple[pl.DataFrame, features.PanelInfo, pl.DataFrame] | None = None) -> FinanceResult:
    """From the data as known at the end of ``quarter`` to money: features, both models, scenarios.

    ``tables`` are the contract tables; they are filtered with ``features.as_of`` here.
    ``panels``: ``(person_quarters, its PanelInfo, unit_quarters)`` already built from
    ``features.as_of(tables, quarter)`` by the caller (they are built here otherwise).
    """
    a = assumptions if isinstance(assumptions, Assumptions) else load(assumptions)
    tabs = features.as_of(tables, quarter)
    if panels is None:
        pq, info = features.person_quarters(tabs)
        uq = features.unit_quarters(tabs)
    else:
        pq, info, uq = panels
    # the money rests on the retention page's model: no money where that page says there is too little data
    # (preconditions.check says the same), even though the indicator fit below has everyone at risk
    cc = retention.model_rows(pq)
    if cc.height < 50 or cc["voluntary_exit"].sum() < 10:
        raise ValueError(f"too little data for the retention model: {cc.height} person-quarters with answers, "
                         f"{int(cc['voluntary_exit'].sum())} voluntary exits (need >= 50 and >= 10)")
    # everyone at risk counts (missing answers: unit means + indicator, in the fit and in the prediction); a
    # complementary log-log model with a log-exposure offset when someone was at risk for part of a quarter
    hazard = retention.fit_hazard(pq, seed=seed, draws=200, recognition_source=info.recognition_source,
                                  missing="indicator", link="auto")
    unit_model = loyalty.fit_unit_model(uq, "customer_retention_pct")
    pop = population(pq, uq, quarter, hazard, a, tabs)
    a = resolve(a, pop)
    boot = bootstrap_coefficients(pq, uq, hazard, unit_model, BOOTSTRAP_REPLICATES, seed)
    res = evaluate(pop, hazard, unit_model, a, tabs, seed, boot=boot)
    if info.recognition_source != "events":
        res.notes.append("recognition comes from the survey item (no recognition events): the weekly target is approximate")
    return res


# ------------------------------------------------------------------------------ sensitivity and what-if


def _variants(res: FinanceResult) -> list[tuple[str, str, float, float, dict, dict]]:
    """(key, kind of number, low, high, economics override at low, at high) for the tornado."""
    a = res.assumptions
    m = a["acquisition_cost_multiple"]
    v = [("multiple_band", "x", m.low, m.high, {"multiple": m.low}, {"multiple": m.high})]
    if m.stress_low is not None:
        v.append(("multiple_stress", "x", m.stress_low, m.stress_high, {"multiple": m.stress_low},
                  {"multiple": m.stress_high}))
    lo = tuple(a.replacement_share[r].low for r in ROLES)
    hi = tuple(a.replacement_share[r].high for r in ROLES)
    if lo != hi:
        # the low end is the floor for every role; the label shows the frontline share
        v.append(("replacement_cost_share", "shares", min(lo), max(hi), {"shares": lo}, {"shares": hi}))
    for key, attr, kind in (("margin_share", "margin_share", "pct"), ("margin_horizon_months", "horizon_months", "months"),
                            ("retention_cost_per_customer_per_year", "retention_cost", "money"),
                            ("revenue_per_customer_per_year", "revenue_per_customer", "money")):
        p = a[key]
        if key == "retention_cost_per_customer_per_year" and a.customer_cost_given == "acquisition":
            p = a["acquisition_cost_per_customer"]  # what the user gave moves; retention follows at the multiple
            if p.low is not None and p.high is not None and p.low != p.high:
                v.append(("acquisition_cost_per_customer", "money", p.low, p.high,
                          {attr: p.low / m.value}, {attr: p.high / m.value}))
            continue
        if p.low is not None and p.high is not None and p.low != p.high:
            v.append((key, kind, p.low, p.high, {attr: p.low}, {attr: p.high}))
    return v


def sensitivity(res: FinanceResult, name: str) -> pl.DataFrame:
    """Tornado rows: P50 net value of scenario ``name`` with each assumption at its low and high end.

    Each assumption moves alone, the others stay at their values; the programme cost
    moves over its range too. Sorted by swing, widest first.
    """
    r = res.scenario(name)
    base = float(np.median((r.money_coef or r.money)["net_value"][1:]))
    rows = []
    for key, kind, low, high, lo, hi in _variants(res):
        vl = float(np.median(res.econ.but(**lo).value(r.effects, r.cost)["net_value"][1:]))
        vh = float(np.median(res.econ.but(**hi).value(r.effects, r.cost)["net_value"][1:]))
        rows.append({"assumption": key, "kind": kind, "low": low, "high": high, "value_low": vl, "value_high": vh})
    if r.cost_low != r.cost_high:
        # a dearer programme is worth less: its low end of value is the high cost
        rows.append({"assumption": "programme_cost", "kind": "money", "low": r.cost_low, "high": r.cost_high,
                     "value_low": base + r.cost - r.cost_low, "value_high": base + r.cost - r.cost_high})
    df = pl.DataFrame(rows, schema={"assumption": pl.String, "kind": pl.String, "low": pl.Float64, "high": pl.Float64,
                                    "value_low": pl.Float64, "value_high": pl.Float64})
    return (df.with_columns(pl.lit(base).alias("p50"), (pl.col("value_high") - pl.col("value_low")).abs().alias("swing"))
            .sort("swing", descending=True))


def fmt_assumption(x: float, kind: str, res: FinanceResult, lang: str) -> str:
    """An assumption's value in the report language (for tornado labels)."""
    if kind == "x":
        return f"{fmt_number(x, lang, 1 if x % 1 else 0)}×"
    if kind in ("pct", "shares"):
        return fmt_pct(x, lang, 0)
    if kind == "money":
        return fmt_money(x, res.currency, lang, compact=True)
    if kind == "months":
        return t("fin_n_months", lang, n=fmt_number(x, lang, 0))
    return fmt_number(x, lang, 0)


def whatif_grid(res: FinanceResult, multiples: tuple[float, ...] = WHATIF_MULTIPLES) -> pl.DataFrame:
    """P10/P50/P90 of every money component per scenario and acquisition multiple (precomputed for the HTML)."""
    mults = sorted(set(multiples) | {res.econ.multiple})
    rows = []
    for r in res.scenarios:
        for m in mults:
            money = res.econ.but(multiple=m).value(r.effects, r.cost)
            for comp in ("replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept", "net_value"):
                p10, p50, p90 = quantiles(money[comp][1:])
                rows.append({"scenario": r.name, "multiple": m, "component": comp, "p10": p10, "p50": p50, "p90": p90})
            rows.append({"scenario": r.name, "multiple": m, "component": "programme_cost", "p10": -r.cost,
                         "p50": -r.cost, "p90": -r.cost})
    return pl.DataFrame(rows)


def distribution(res: FinanceResult, bins: int = 40) -> pl.DataFrame:
    """Histogram (share of draws per bin) of each scenario's net value: aggregates of simulation draws."""
    allv = np.concatenate([r.money["net_value"][1:] for r in res.scenarios])
    lo, hi = np.percentile(allv, [0.5, 99.5])
    edges = np.linspace(lo, hi, bins + 1)
    rows = []
    for r in res.scenarios:
        x = np.clip(r.money["net_value"][1:], lo, hi)
        counts, _ = np.histogram(x, edges)
        rows += [{"scenario": r.name, "mid": float((edges[i] + edges[i + 1]) / 2), "share": float(c / len(x))}
                 for i, c in enumerate(counts)]
    return pl.DataFrame(rows)


# ------------------------------------------------------------------------------ words and charts


def money(x: float, res: FinanceResult, lang: str, compact: bool = True) -> str:
    return fmt_money(x, res.currency, lang, compact=compact)


def early_baseline_text(res: FinanceResult, lang: str, threshold: int) -> str:
    """The baseline's early leavers in one sentence: how many (the index's count) and what replacing them costs
    (part of the baseline's replacement cost; hidden when fewer than ``threshold`` people)."""
    b = res.baseline.total
    kw = dict(exits=fmt_number(b["voluntary_exits"], lang), early=fmt_number(b["early_leavers"], lang),
              days=fmt_number(b["early_days"], lang))
    if 0 < b["early_leavers"] < threshold:
        return t("fin12_early_baseline_hidden", lang, threshold=fmt_number(threshold, lang), **kw)
    return t("fin12_early_baseline", lang, cost=money(b["early_replacement_cost"], res, lang),
             rep=money(b["replacement_cost"], res, lang), **kw)


def scenarios_early_text(res: FinanceResult, lang: str, threshold: int) -> str:
    """Why the scenarios do not value early exits, with the quarter's early leavers and (when shown) their cost."""
    b = res.baseline.total
    cost = ("–" if 0 < b["early_leavers"] < threshold else money(b["early_replacement_cost"], res, lang))
    return t("fin12_scenarios_early", lang, early=fmt_number(b["early_leavers"], lang), cost=cost)


def method_text(res: FinanceResult, lang: str) -> str:
    """What the ranges draw and how the hazard treats missing answers and partial quarters (markdown paragraphs)."""
    cd = res.coefficient_draws
    parts = []
    if cd.get("joint"):
        bs = cd["bootstrap"]
        parts.append(t("fin12_draws_method", lang, replicates=fmt_number(bs["replicates"], lang),
                       units=fmt_number(bs["units"], lang)))
        if cd.get("cross_correlation_shrink", 1.0) < 1.0:
            parts[-1] += " " + t("fin12_draws_shrunk", lang, shrink=fmt_pct(cd["cross_correlation_shrink"], lang, 0))
    if cd.get("hazard_missing") == "indicator" and res.population.imputed_share > 0:
        parts.append(t("fin12_missing_method", lang, imputed=fmt_pct(res.population.imputed_share, lang, 0)))
    if cd.get("hazard_link") == "cloglog":
        parts.append(t("fin12_cloglog_method", lang))
    return "\n\n".join(parts)


def headline_title(r: ScenarioResult, res: FinanceResult, lang: str) -> str:
    """"Weekly recognition for everyone is worth €X (P10–P90 €Y–€Z) a year, net of its cost"."""
    p10, p50, p90 = r.q("net_value")
    key = "fin_title_worth" if p50 >= 0 else "fin_title_costs"
    title = t(key, lang, scenario=r.scenario.label_in(lang), value=money(abs(p50) if p50 < 0 else p50, res, lang),
              low=money(p10, res, lang), high=money(p90, res, lang))
    return title + (PLACEHOLDER_MARK if r.cost_placeholder else "")


def placeholder_note(res: FinanceResult, lang: str) -> str | None:
    """The footnote for figures net of an illustrative programme cost (None when the user gave every cost)."""
    return t("fin_placeholder_note", lang) if any(r.cost_placeholder for r in res.scenarios) else None


def fig_scenarios(res: FinanceResult, lang: str):
    """Net value per scenario: P50 bars with P10–P90 whiskers."""
    import plotly.graph_objects as go

    from . import theme

    q = [r.q("net_value") for r in res.scenarios]
    p50 = [x[1] for x in q]
    names = [f"{r.scenario.label_in(lang)}"
             + (f" <i>({t('fin_beyond_data', lang)})</i>" if r.reach is not None and r.reach.extrapolates else "")
             + f"  <b>{money(v, res, lang)}</b>" for r, v in zip(res.scenarios, p50)]
    fig = go.Figure(go.Bar(
        y=names, x=p50, orientation="h",
        marker_color=[theme.GOOD if v >= 0 else theme.BAD for v in p50],
        # scenarios beyond the data are drawn pale: their value extrapolates the models
        marker_opacity=[0.45 if r.reach is not None and r.reach.extrapolates else 1.0 for r in res.scenarios],
        error_x=dict(type="data", symmetric=False, array=[x[2] - x[1] for x in q], arrayminus=[x[1] - x[0] for x in q],
                     color=theme.INK, thickness=1.5),
        customdata=[[money(a, res, lang), money(b, res, lang), money(c, res, lang)] for a, b, c in q],
        hovertemplate="%{customdata[1]} (P10–P90 %{customdata[0]} – %{customdata[2]})<extra></extra>",
    ))
    fig.update_layout(title=headline_title(res.headline, res, lang), height=120 + 70 * len(names),
                      xaxis_title=t("fin_axis_net_value", lang, currency=res.currency),
                      yaxis=dict(autorange="reversed"), showlegend=False)
    fig.add_vline(x=0, line_color=theme.MUTED, line_width=1)
    return _localize(fig, lang)


def _localize(fig, lang: str):
    """Decimal and thousands separators of the report language on the axes (1,5M in Spanish)."""
    fig.update_layout(separators=i18n.plotly_separators(lang))
    return fig


def fig_baseline(res: FinanceResult, lang: str, threshold: int):
    """The quarter's cost by region: replacing voluntary leavers and losing customers (suppressed cells left out)."""
    import plotly.graph_objects as go

    from . import theme

    reg = region_table(res.baseline, threshold).filter(pl.col("region").is_not_null())
    x = reg["region"].to_list()
    fig = go.Figure()
    for col, key, color in (("replacement_cost", "fin_replacement_cost", theme.ACCENT),
                            ("lost_margin", "fin_lost_margin", theme.COLORWAY[1]),
                            ("reacquisition_cost", "fin_reacquisition_cost", theme.COLORWAY[5])):
        vals = reg[col].to_list()
        fig.add_trace(go.Bar(x=x, y=vals, name=t(key, lang), marker_color=color,
                             customdata=[money(v, res, lang) if v is not None else "–" for v in vals],
                             hovertemplate="%{x}: %{customdata}<extra>" + t(key, lang) + "</extra>"))
    b = res.baseline.total
    fig.update_layout(
        barmode="stack", height=440,
        title=t("fin_title_baseline", lang, rep=money(b["replacement_cost"], res, lang),
                cust=money(b["lost_customer_cost"], res, lang), quarter=fmt_quarter(res.quarter, lang)),
        yaxis_title=t("fin_axis_money_quarter", lang, currency=res.currency), margin=dict(t=110))
    return _localize(fig, lang)


def fig_distribution(res: FinanceResult, lang: str):
    """How sure: the spread of each scenario's net value over the coefficient draws."""
    import plotly.graph_objects as go

    from . import theme

    df = distribution(res)
    fig = go.Figure()
    for i, r in enumerate(res.scenarios):
        d = df.filter(pl.col("scenario") == r.name)
        fig.add_trace(go.Scatter(x=d["mid"].to_list(), y=(d["share"] * 100).to_list(), mode="lines", line_shape="hvh",
                                 name=r.scenario.label_in(lang), fill="tozeroy", opacity=0.6,
                                 line=dict(color=theme.COLORWAY[i % len(theme.COLORWAY)]),
                                 hovertemplate="%{x:,.0f}: %{y:.1f}%<extra>" + r.scenario.label_in(lang) + "</extra>"))
    pos = [(r.scenario.label_in(lang), float((r.money["net_value"][1:] > 0).mean())) for r in res.scenarios]
    sure = [p for p in pos if p[1] >= 0.9]
    if sure:
        title = t("fin_title_dist_sure", lang, n=len(sure), total=len(pos))
    else:
        title = t("fin_title_dist_unsure", lang)
    fig.add_vline(x=0, line_color=theme.MUTED, line_width=1)
    fig.update_layout(title=title, xaxis_title=t("fin_axis_net_value", lang, currency=res.currency),
                      yaxis_title=t("fin_axis_share_draws", lang), height=440)
    return _localize(fig, lang)


def fig_tornado(res: FinanceResult, name: str, lang: str):
    """Which assumption moves the scenario's P50 net value most (each at its low and high end)."""
    import plotly.graph_objects as go

    from . import theme

    r = res.scenario(name)
    df = sensitivity(res, name).sort("swing")
    base = float(df["p50"][0]) if df.height else float(np.median(r.money["net_value"][1:]))
    labels = [t(f"fin_assumption_{k}", lang) for k in df["assumption"].to_list()]
    fig = go.Figure()
    for side, col, num_col, color in (("low", "value_low", "low", theme.COLORWAY[4]),
                                      ("high", "value_high", "high", theme.COLORWAY[0])):
        vals = df[col].to_list()
        labs = [fmt_assumption(x, k, res, lang) for x, k in zip(df[num_col].to_list(), df["kind"].to_list())]
        if side == "high":  # the shares' high end is one value per role
            roles = "/".join(fmt_number(res.assumptions.replacement_share[r].high * 100, lang, 0) for r in ROLES)
            pct = i18n.percent_suffix(lang)
            labs = [roles + pct if k == "shares" else lab
                    for lab, k in zip(labs, df["kind"].to_list())]
        fig.add_trace(go.Bar(
            y=labels, x=[v - base for v in vals], base=base, orientation="h", name=t(f"fin_{side}_end", lang),
            marker_color=color, text=labs, textposition="outside", cliponaxis=False,
            customdata=[money(v, res, lang) for v in vals],
            hovertemplate="%{y} = %{text}: %{customdata}<extra></extra>"))
    top = df["assumption"].to_list()[-1] if df.height else "multiple_stress"
    neg = df.filter((pl.col("value_low") < 0) | (pl.col("value_high") < 0)).height > 0
    title = t("fin_title_tornado_flip" if neg and base > 0 else "fin_title_tornado", lang,
              scenario=r.scenario.label_in(lang), assumption=t(f"fin_assumption_{top}", lang).split(" (")[0].lower())
    fig.add_vline(x=base, line_color=theme.INK, line_width=1)
    fig.add_vline(x=0, line_color=theme.MUTED, line_width=1, line_dash="dot")
    fig.update_layout(title=title, barmode="overlay", height=140 + 48 * max(df.height, 1),
                      xaxis_title=t("fin_axis_p50_net_value", lang, currency=res.currency))
    return _localize(fig, lang)


WHATIF_COMPONENTS = ("replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept", "programme_cost", "net_value")


def fig_whatif(res: FinanceResult, lang: str):
    """Interactive what-if that works offline: a dropdown picks the scenario, a slider the acquisition multiple.

    All combinations are precomputed: one bar trace per scenario (the dropdown sets which
    is visible), and each slider step restyles every trace's values at once, so the two
    controls compose without a kernel. The bars are horizontal, one component a row with its name on the
    left (wrapped by the page), so that on a phone five names never overlap and the slider keeps its room.
    """
    import plotly.graph_objects as go

    from . import theme

    grid = whatif_grid(res)
    mults = sorted(grid["multiple"].unique().to_list())
    comps = list(WHATIF_COMPONENTS)
    xlab = [t(f"fin_comp_{c}", lang) for c in comps]
    default_m = res.econ.multiple
    colors = [theme.ACCENT, theme.ACCENT, theme.ACCENT, theme.BAD, theme.GOOD]

    def values(name: str, m: float) -> tuple[list[float], list[float], list[float]]:
        g = grid.filter((pl.col("scenario") == name) & (pl.col("multiple") == m))
        d = {row["component"]: row for row in g.to_dicts()}
        p50 = [round(d[c]["p50"]) for c in comps]  # whole currency units: the page carries 7 x 13 sets of them
        return p50, [round(d[c]["p90"] - d[c]["p50"]) for c in comps], [round(d[c]["p50"] - d[c]["p10"]) for c in comps]

    span = max(grid["p90"].max(), 0) - min(grid["p10"].min(), 0)

    def label_pos(p50: list[float], up: list[float], dn: list[float]) -> list[float]:
        return [round(v + u + 0.01 * span if v >= 0 else v - d - 0.01 * span) for v, u, d in zip(p50, up, dn)]

    n = len(res.scenarios)
    fig = go.Figure()
    for i, r in enumerate(res.scenarios):
        p50, up, dn = values(r.name, default_m)
        fig.add_trace(go.Bar(
            y=xlab, x=p50, orientation="h", name=r.scenario.label_in(lang), visible=(i == 0),
            marker_color=colors, error_x=dict(type="data", symmetric=False, array=up, arrayminus=dn, color=theme.INK),
            customdata=[money(v, res, lang) for v in p50],
            hovertemplate="%{y}: %{customdata}<extra>" + r.scenario.label_in(lang) + "</extra>"))
    for i, r in enumerate(res.scenarios):  # the values as text beyond the whiskers (left of negative bars)
        p50, up, dn = values(r.name, default_m)
        fig.add_trace(go.Scatter(
            y=xlab, x=label_pos(p50, up, dn), mode="text", visible=(i == 0), hoverinfo="skip", showlegend=False,
            text=[money(v, res, lang) for v in p50], textfont=dict(size=13, color=theme.INK),
            textposition=["middle right" if v >= 0 else "middle left" for v in p50], cliponaxis=False))
    buttons = [dict(label=_wrap_control(r.scenario.label_in(lang)), method="restyle",
                    args=[{"visible": [j % n == i for j in range(2 * n)]}])
               for i, r in enumerate(res.scenarios)]
    steps = []
    for m in mults:
        ys, ups, dns, texts, pos, tpos = [], [], [], [], [], []
        for r in res.scenarios:
            p50, up, dn = values(r.name, m)
            ys.append(p50)
            ups.append(up)
            dns.append(dn)
            pos.append(label_pos(p50, up, dn))
            texts.append([money(v, res, lang) for v in p50])
            tpos.append(["middle right" if v >= 0 else "middle left" for v in p50])
        # one restyle for all 2n traces: bars first (values, whiskers, hover), then the text traces
        steps.append(dict(label=f"{fmt_number(m, lang, 1 if m % 1 else 0)}×", method="restyle",
                          args=[{"x": ys + pos, "error_x.array": ups + [None] * n, "error_x.arrayminus": dns + [None] * n,
                                 "customdata": texts + [None] * n, "text": [None] * n + texts,
                                 "textposition": [None] * n + tpos}]))
    active = mults.index(default_m)
    lo = min(grid["p10"].min(), 0)
    hi = max(grid["p90"].max(), 0)
    pad = 0.3 * (hi - lo)  # room for the value labels beyond the longest whiskers, on a phone too
    fig.update_layout(
        title=t("fin_title_whatif", lang), height=WHATIF_HEIGHT, showlegend=False,
        xaxis=dict(title=t("fin_axis_money_year", lang, currency=res.currency), range=[lo - (pad if lo < 0 else 0), hi + pad],
                   zeroline=True, zerolinecolor=theme.MUTED),
        updatemenus=[dict(type="dropdown", buttons=buttons, active=0, showactive=True, bgcolor="white",
                          bordercolor=theme.MUTED, name="scenario", **_WHATIF_MENU)],
        sliders=[_whatif_slider(steps, active, lang)],
    )
    _whatif_rows(fig, xlab)
    return _localize(fig, lang)


# The what-ifs on a phone (a 337 px chart): every control lies inside the chart's width. The components' names
# sit above their bars, not in a left margin that would leave the controls (placed from the plot's left edge)
# hanging off the right; the scenario names in the dropdown are wrapped; the share buttons are short words
# under a caption; the slider spans the plot with a short "winning a customer costs 6.5x keeping one".
WHATIF_HEIGHT = 600
WHATIF_WRAP = 26  # characters per line of a control's label
_WHATIF_MARGIN = dict(l=8, r=12, t=72, b=150)
_WHATIF_MENU = dict(x=0.0, xanchor="left", y=1.0, yanchor="bottom", pad=dict(b=12, l=0, r=0, t=0), font=dict(size=13))


def _wrap_control(label: str, width: int = WHATIF_WRAP) -> str:
    """A control's label in lines of at most ``width`` characters (plotly's ``<br>``), broken between words."""
    lines: list[str] = []
    for word in str(label).split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _whatif_slider(steps: list[dict], active: int, lang: str) -> dict:
    """The acquisition-multiple slider below the x axis, as wide as the plot, its value in a short sentence."""
    return dict(steps=steps, active=active, x=0.0, xanchor="left", len=1.0, y=0.0, yanchor="top",
                pad=dict(t=62, b=0, l=0, r=0), font=dict(size=12),
                currentvalue=dict(prefix=t("wi_slider_prefix", lang), suffix=t("wi_slider_suffix", lang),
                                  xanchor="left", font=dict(size=13)))


def _whatif_rows(fig, names: list[str]) -> None:
    """Each component's name above its bar, from the plot's left edge (no tick labels, no left margin)."""
    from . import theme

    fig.update_layout(
        bargap=0.5, margin=_WHATIF_MARGIN,
        yaxis=dict(autorange="reversed", showgrid=False, showticklabels=False, ticks=""),
        annotations=[dict(text=name, x=0, xref="paper", xanchor="left", y=i - 0.25, yref="y", yanchor="bottom",
                          yshift=1, showarrow=False, font=dict(size=13, color=theme.INK), bgcolor="white",
                          borderpad=1)  # the zero line passes behind the name, not through it
                     for i, name in enumerate(names)])


SHARE_LEVELS = ("low", "default", "high")  # each role's replacement share at the end of its range, or the default


def share_levels(res: FinanceResult) -> dict[str, tuple[float, float, float]]:
    """The replacement shares (ROLES order) at each of ``SHARE_LEVELS``: the documented range's ends or the default."""
    rs = res.assumptions.replacement_share
    pick = lambda p, lvl: (p.low if lvl == "low" else p.high) if lvl != "default" and getattr(p, lvl) is not None \
        else p.value  # noqa: E731
    return {lvl: tuple(float(pick(rs[r], lvl)) for r in ROLES) for lvl in SHARE_LEVELS}


def whatif_share_grid(res: FinanceResult, scenario: str | None = None,
                      multiples: tuple[float, ...] = WHATIF_MULTIPLES) -> pl.DataFrame:
    """P50 of every money component of one scenario (default: the headline) for each replacement-share level
    and acquisition multiple: the second what-if's precomputed values (aggregates only)."""
    r = next((x for x in res.scenarios if x.name == scenario), None) if scenario else res.headline
    mults = sorted(set(multiples) | {res.econ.multiple})
    rows = []
    for lvl, shares in share_levels(res).items():
        for m in mults:
            money = res.econ.but(multiple=m, shares=shares).value(r.effects, r.cost)
            for comp in ("replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept", "net_value"):
                rows.append({"scenario": r.name, "level": lvl, "multiple": m, "component": comp,
                             "p50": quantiles(money[comp][1:])[1]})
            rows.append({"scenario": r.name, "level": lvl, "multiple": m, "component": "programme_cost", "p50": -r.cost})
    return pl.DataFrame(rows)


def fig_whatif_share(res: FinanceResult, lang: str, scenario: str | None = None):
    """The headline scenario's what-if with both levers: three buttons set every role's replacement share (the
    low end of its range, the default, the high end) and the slider the acquisition multiple. The buttons only
    switch which precomputed set of bars is visible and every slider step restyles all three sets, so the two
    controls compose offline without a kernel."""
    import plotly.graph_objects as go

    from . import theme

    grid = whatif_share_grid(res, scenario)
    name = grid["scenario"][0]
    sc = next(x for x in res.scenarios if x.name == name)
    mults = sorted(grid["multiple"].unique().to_list())
    comps = list(WHATIF_COMPONENTS)
    ylab = [t(f"fin_comp_{c}", lang) for c in comps]
    colors = [theme.ACCENT, theme.ACCENT, theme.ACCENT, theme.BAD, theme.GOOD]
    levels = share_levels(res)

    def vals(lvl: str, m: float) -> list[float]:
        g = grid.filter((pl.col("level") == lvl) & (pl.col("multiple") == m))
        d = {row["component"]: row["p50"] for row in g.to_dicts()}
        return [d[c] for c in comps]

    fig = go.Figure()
    for lvl in SHARE_LEVELS:
        v = vals(lvl, res.econ.multiple)
        fig.add_trace(go.Bar(y=ylab, x=v, orientation="h", marker_color=colors, visible=(lvl == "default"),
                             text=[money(x, res, lang) for x in v], textposition="outside", cliponaxis=False,
                             customdata=[money(x, res, lang) for x in v], name=t(f"fin_share_{lvl}", lang),
                             hovertemplate="%{y}: %{customdata}<extra></extra>"))
    shares_txt = {lvl: ", ".join(f"{t(r, lang).lower()} {fmt_pct(x, lang, 0)}" for r, x in zip(ROLES, sh))
                  for lvl, sh in levels.items()}
    buttons = [dict(label=t(f"wi_share_{lvl}", lang), method="restyle",
                    args=[{"visible": [j == i for j in range(len(SHARE_LEVELS))]}])
               for i, lvl in enumerate(SHARE_LEVELS)]
    steps = []
    for m in mults:
        xs = [vals(lvl, m) for lvl in SHARE_LEVELS]
        txt = [[money(x, res, lang) for x in v] for v in xs]
        steps.append(dict(label=f"{fmt_number(m, lang, 1 if m % 1 else 0)}×", method="restyle",
                          args=[{"x": xs, "text": txt, "customdata": txt}]))
    lo = min(grid["p50"].min(), 0)
    hi = max(grid["p50"].max(), 0)
    pad = 0.3 * (hi - lo)
    fig.update_layout(
        title=t("fin_title_whatif_share", lang, scenario=sc.scenario.label_in(lang)), height=WHATIF_HEIGHT,
        showlegend=False,
        xaxis=dict(title=t("fin_axis_money_year", lang, currency=res.currency),
                   range=[lo - (pad if lo < 0 else 0), hi + pad], zeroline=True, zerolinecolor=theme.MUTED),
        updatemenus=[dict(type="buttons", direction="right", buttons=buttons, active=1, showactive=True,
                          bgcolor="white", bordercolor=theme.MUTED, **_WHATIF_MENU)],
        sliders=[_whatif_slider(steps, mults.index(res.econ.multiple), lang)],
        meta={"share_levels": shares_txt},
    )
    _whatif_rows(fig, ylab)
    # the buttons' caption above them (the buttons say only "low end", "default", "high end")
    fig.add_annotation(text=t("wi_share_caption", lang), x=0, xref="paper", xanchor="left", y=1, yref="paper",
                       yanchor="bottom", yshift=52, showarrow=False, font=dict(size=13, color=theme.MUTED))
    fig.update_layout(margin=dict(t=_WHATIF_MARGIN["t"] + 44))
    return _localize(fig, lang)


def assumptions_table(res: FinanceResult, lang: str) -> pl.DataFrame:
    """One row per assumption: the word for it, the value used, its range and source."""
    a = res.assumptions
    rows = []

    def fmt_v(p: Param, kind: str) -> str:
        if p.value is None:
            return t("fin_auto", lang)
        if kind == "pct":
            return fmt_pct(p.value, lang, 0)
        if kind == "money":
            return fmt_money(p.value, res.currency, lang)
        if kind == "x":
            return f"{fmt_number(p.value, lang, 1)}×"
        return fmt_number(p.value, lang, 0)

    def rng(p: Param, kind: str) -> str:
        if p.low is None or p.high is None:
            return "–"
        if kind == "pct":
            return f"{fmt_number(p.low * 100, lang, 0)}–{fmt_pct(p.high, lang, 0)}"
        if kind == "money":
            return f"{fmt_money(p.low, res.currency, lang)} – {fmt_money(p.high, res.currency, lang)}"
        if kind == "x":
            s = f"{fmt_number(p.low, lang, 0)}–{fmt_number(p.high, lang, 0)}×"
            if p.stress_low is not None:
                s += f" ({t('fin_stress', lang)} {fmt_number(p.stress_low, lang, 0)}–{fmt_number(p.stress_high, lang, 0)}×)"
            return s
        return f"{fmt_number(p.low, lang, 0)}–{fmt_number(p.high, lang, 0)}"

    linked = {"acquisition_cost_per_customer": a.customer_cost_given == "acquisition",
              "retention_cost_per_customer_per_year": a.customer_cost_given == "retention"}
    for key, kind in (("acquisition_cost_multiple", "x"), ("acquisition_cost_per_customer", "money"),
                      ("retention_cost_per_customer_per_year", "money"),
                      ("revenue_per_customer_per_year", "money"), ("margin_share", "pct"),
                      ("margin_horizon_months", "n"), ("customers_per_unit", "n"), ("annual_salary_fallback", "money")):
        p = a[key]
        v = fmt_v(p, kind)
        if key in linked:  # the two customer costs: which was given and which derived
            v += f" ({t('fin_given' if linked[key] else 'fin_derived', lang)})"
        rows.append({"fin_col_assumption": t(f"fin_assumption_{key}", lang), "fin_col_value_used": v,
                     "fin_col_range": rng(p, kind), "fin_col_source": p.source_in(lang)})
    for role in ROLES:
        p = a.replacement_share[role]
        rows.append({"fin_col_assumption": t("fin_assumption_replacement_share_role", lang, role=t(role, lang).lower()),
                     "fin_col_value_used": fmt_v(p, "pct"), "fin_col_range": rng(p, "pct"), "fin_col_source": p.source_in(lang)})
    for r in res.scenarios:
        if r.cost > 0:
            own = [p.source_in(lang) for p in r.scenario.cost.values() if p.value]
            if r.scenario.includes:
                own.append(t("fin_cost_sum", lang, scenarios=", ".join(a.scenario(n).label_in(lang) for n in r.scenario.includes)))
            srcs = " ".join(own)
            rows.append({"fin_col_assumption": t("fin_assumption_programme_cost_of", lang, scenario=r.scenario.label_in(lang)),
                         "fin_col_value_used": fmt_money(r.cost, res.currency, lang),
                         "fin_col_range": f"{fmt_money(r.cost_low, res.currency, lang)} – {fmt_money(r.cost_high, res.currency, lang)}",
                         "fin_col_source": srcs if len(srcs) < 600 else t("fin_see_components", lang)})
    return pl.DataFrame(rows)


def scenario_table(res: FinanceResult, lang: str) -> pl.DataFrame:
    """The scenarios side by side: effects, cost, net value (P50 and P10–P90), payback, break-even."""
    rows = []
    for r in res.scenarios:
        s = r.summary(lang)

        def rg(k: str, f=lambda v: money(v, res, lang)) -> str:
            return f"{f(s[k + '_p50'])} ({f(s[k + '_p10'])} – {f(s[k + '_p90'])})"

        be = s["break_even_multiple"]
        mark = PLACEHOLDER_MARK if r.cost_placeholder else ""
        rows.append({
            "scenario": s["label"],
            "fin_exits_avoided": rg("exits_avoided", lambda v: fmt_number(v, lang, 0)),
            "fin_customers_retained": rg("customers_retained", lambda v: fmt_number(v, lang, 0)),
            "fin_comp_programme_cost": money(r.cost, res, lang) + (f" ({t('fin_illustrative', lang)})" if mark else ""),
            "fin_comp_net_value": rg("value") + mark,
            "fin_net_value_coef_only": rg("coefficient_only_value") + mark,
            "fin_conservative_case": money(s["conservative_value_p50"], res, lang) + mark,
            "fin_payback_months": (fmt_number(s["payback_months_p50"], lang, 1) if s["payback_months_p50"] is not None
                                   else t("fin_never", lang)),
            "fin_break_even_multiple": (t(f"fin_{be}", lang) if isinstance(be, str)
                                        else f"{fmt_number(be, lang, 1)}×"),
            **({"fin_col_reach": reach_words(r.reach, lang)} if r.reach is not None else {}),
        })
    return pl.DataFrame(rows)


def reach_words(rc: Reach, lang: str) -> str:
    """"17% of units, 20% of people: within the data" (or "beyond the data")."""
    cell = t("fin_reach_cell", lang, units=fmt_pct(rc.units, lang, 0), people=fmt_pct(rc.people, lang, 0))
    return f"{cell}: {t('fin_beyond_data' if rc.extrapolates else 'fin_within_data', lang)}"


def reach_note(res: FinanceResult, lang: str) -> str:
    """What the reach column means, and which scenario is the headline (the most valuable within the data)."""
    lim = fmt_pct(EXTRAPOLATION_SHARE, lang, 0)
    if all(r.reach is not None and r.reach.extrapolates for r in res.scenarios):
        return t("fin_reach_note_none", lang, min=lim)
    return t("fin_reach_note", lang, min=lim, scenario=res.headline.scenario.label_in(lang))


def components_table(res: FinanceResult, lang: str) -> pl.DataFrame:
    """Where each scenario's value comes from: averages over the draws per year, which add up
    (replacement + acquisition + margin = gross; gross - programme cost = net)."""
    rows = []
    for r in res.scenarios:
        s = r.summary(lang)
        mark = PLACEHOLDER_MARK if r.cost_placeholder else ""
        rows.append({"scenario": s["label"],
                     **{f"fin_comp_{k}": money(s["components"][k], res, lang) for k in COMPONENTS},
                     "fin_gross_value_mean": money(s["gross_value_mean"], res, lang),
                     "fin_comp_programme_cost": money(-s["programme_cost_mean"], res, lang) + mark,
                     "fin_net_value_mean": money(s["net_value_mean"], res, lang) + mark})
    return pl.DataFrame(rows)


PLACEHOLDER_MARK = "\u00a0†"


def multiple_effect_text(res: FinanceResult, lang: str) -> str:
    """The headline at each end of the users' 6-7x band: how much the rule moves the money."""
    r = res.headline
    v = r.value_at_multiple
    mark = PLACEHOLDER_MARK if r.cost_placeholder else ""
    if res.econ.given == "acquisition" or not v:
        return t("fin_multiple_effect_fixed", lang, scenario=r.scenario.label_in(lang),
                 value=money(r.q("net_value")[1], res, lang) + mark)
    (lo, vlo), (hi, vhi) = sorted(v.items())[0], sorted(v.items())[-1]  # one entry when the band is a point
    return t("fin_multiple_effect", lang, scenario=r.scenario.label_in(lang), low=fmt_number(lo, lang, 1 if lo % 1 else 0),
             high=fmt_number(hi, lang, 1 if hi % 1 else 0), v_low=money(vlo, res, lang) + mark,
             v_high=money(vhi, res, lang) + mark,
             acq=money(r.summary(lang)["components"]["acquisition_spend_avoided"], res, lang))


def baseline_table(res: FinanceResult, lang: str, threshold: int) -> pl.DataFrame:
    """Baseline per region (suppressed) plus the total row, formatted."""
    reg = region_table(res.baseline, threshold)
    tot = pl.DataFrame([{"region": t("total", lang), **{k: v for k, v in res.baseline.total.items()}}]).cast(
        {c: reg.schema[c] for c in reg.columns if c != "region"}, strict=False)
    df = pl.concat([reg, tot.select(reg.columns)], how="vertical_relaxed")
    return df.select(
        "region", "headcount", "voluntary_exits",
        pl.col("replacement_cost").alias("fin_replacement_cost"),
        pl.col("customers_lost").round(0).alias("fin_customers_lost"),
        pl.col("lost_margin").alias("fin_lost_margin"),
        pl.col("reacquisition_cost").alias("fin_reacquisition_cost"),
        pl.col("total_cost").alias("fin_total_cost"),
    )


def is_finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
