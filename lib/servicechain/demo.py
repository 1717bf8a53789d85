"""The demo organisation: a service company whose data follow a known causal story.

The story is the service-profit chain. Recognition frequency, empowerment and
leadership drive the quarterly voluntary-exit hazard (drivers measured one
quarter before the outcome). Each unit's employee experience and turnover in one
quarter drive its customers' NPS and customer retention in the next. Revenue
follows retained customers.

The true effects are written to ``truth.json`` on the *exact* scale the models
report, so tests and readers can check that the models recover them:

* ``retention``: log-odds per unit change in the quarterly voluntary-exit hazard
  (discrete-time logit), drivers from the previous quarter, controlling for tenure
  band and role.
* ``loyalty``: NPS points (-100..100) per unit change in the unit's
  previous-quarter driver means / turnover.
* ``customer_retention``: percentage points of last quarter's customers who come
  back, per unit change in the same drivers.

The outcome mechanisms use the values the data show (the survey answer, the
count of recognition events, the unit means of what respondents answered), so the
truth is identified without measurement-error corrections. Everything is
vectorised with numpy; the only Python loop is over quarters.

The first 90 days (``EARLY_WINDOW_DAYS``, the same window as ``features.EARLY_DAYS``)
follow their own mechanism, drawn at hire (issue 12):

* in the first weeks a new hire may get an onboarding training (program
  ``ONBOARDING_PROGRAM``, dated in days 0-13) and a first ("welcome")
  recognition from their manager (dated in days 0-29); both shares vary by unit,
  independently of its culture; no other recognition or training falls in days 0-29;
* a voluntary exit in days 0-29 with probability ``EARLY_P_FIRST_30`` whatever
  happened (too early for anything to matter), else in days 30-89 with the logit
  ``EARLY_INTERCEPT + onboarding_training * [training in days 0-29] +
  recognition_30d * [recognition in days 0-29]`` (``truth.json`` ``early_attrition``,
  log-odds among hires still employed on day 30); the manager's team leadership
  plays no part in it (its true early effect is 0);
* the quarterly hazard (and involuntary exits) start on day 90 or with the
  quarter after the hire quarter, whichever is later, so every voluntary exit
  before then is an early one as ``features.turnover`` counts it (within 90 days
  or in the quarter they joined), and the hazard model's risk set (a full
  quarter on the payroll first) is unchanged.

New hires' "previous quarter" drivers are never left at zero: they are set to
what their unit's culture and their own disposition would show (recognitions per
month at their expected rate, the rounded expected answers), as for the people
employed when the simulation starts. (Before, zeros made 30% of new hires leave
in their hire quarter.)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from . import quarters as Q

EPOCH = dt.date(1970, 1, 1)

REGIONS = ("Norte", "Sur", "Centro", "Costa", "Andes")
UNIT_TYPES = ("store", "branch", "contact_centre", "back_office")
UNIT_TYPE_P = (0.5, 0.25, 0.1, 0.15)
UNIT_LABEL = {"store": "Tienda", "branch": "Sucursal", "contact_centre": "Centro de contacto", "back_office": "Oficina"}
BACK_OFFICE_DEPTS = ("Logística", "Finanzas", "TI", "Recursos Humanos")
FRONT_DEPT = {"store": "Ventas", "branch": "Atención al cliente", "contact_centre": "Atención al cliente"}
TOUCHPOINTS = ("counter", "phone", "delivery", "web", "complaint")
# Share of feedback by touchpoint for each customer-facing unit type.
TOUCHPOINT_P = {
    "store": (0.55, 0.05, 0.15, 0.15, 0.10),
    "branch": (0.50, 0.15, 0.05, 0.20, 0.10),
    "contact_centre": (0.0, 0.60, 0.0, 0.25, 0.15),
}
TOUCHPOINT_OFFSET = np.array([5.0, -5.0, 0.0, 0.0, -30.0])  # NPS points vs the unit's level
# How much a touchpoint's unit-quarter satisfaction shock moves customer retention
# (pp per NPS point): the complaint is the moment of truth that matters most.
TOUCHPOINT_RETENTION_WEIGHT = np.array([0.08, 0.05, 0.04, 0.02, 0.15])
# Moments of truth customer by customer (issue 16): the customer who answered the survey comes back next quarter
# with log-odds shifted by their experience at that touchpoint, vs a passive answer (7-8): a detractor answer
# (0-6) costs more than a promoter answer (9-10) gains (Carlzon: the bad impression is remembered more).
# Columns: detractor, passive (reference, 0), promoter; rows: TOUCHPOINTS.
MOT_EFFECT = np.array([[-0.6, 0.0, 0.25],
                       [-0.5, 0.0, 0.20],
                       [-0.7, 0.0, 0.20],
                       [-0.3, 0.0, 0.15],
                       [-1.1, 0.0, 0.40]])
MOT_STREAM = 1601  # the respondents' customer ids come from their own RNG stream: every other draw is unchanged
# Active customers per employee of a customer-facing unit per quarter, by unit type: the regulars a store
# recognises (loyalty card) ~25 per employee; a bank branch's active customers ~30 per employee; a contact
# centre's distinct callers ~60 per agent. With back offices that gives ~34 customers per employee of the whole
# organisation per quarter (documented range 20-60: tens per employee, as in service companies; the issue's
# floor is 20). Revenue per visit (VISIT_REVENUE) is set per type to match.
CUSTOMERS_PER_EMPLOYEE = {"store": 25.0, "branch": 30.0, "contact_centre": 60.0}
CUSTOMERS_PER_EMPLOYEE_RANGE = (20.0, 60.0)  # per employee of the whole organisation per quarter (tested)
# Organisations of LARGE_ORG employees and more (the benchmark sizes) keep 2 customers per employee until the
# aggregated customer path exists (raw visits at ~34 per employee would not fit the benchmark machine).
LARGE_ORG, LARGE_ORG_CUSTOMERS_PER_EMPLOYEE = 100_000, 2.0
# NPS answers per employee of a customer-facing unit per quarter (survey invitations answered, ~2-3% of
# customers): the customer base grew, the feedback volume a CX tool collects did not.
FEEDBACK_PER_EMPLOYEE = 1.2
# Median revenue per visit/contact by unit type (store basket; a branch customer's fees and interest margin per
# contact; a contact-centre subscriber's monthly bill per contact), back office unused.
VISIT_REVENUE = np.array([35.0, 90.0, 60.0, 0.0])
TRAINING_PROGRAMS = ("Servicio de excelencia", "Empoderamiento en primera línea", "Liderazgo de servicio", "Cliente interno")
ONBOARDING_PROGRAM = "Bienvenida"  # the onboarding training of the first weeks (a data label, as the programs above)
# Early attrition (see the module docstring). EARLY_WINDOW_DAYS must equal features.EARLY_DAYS (a test checks it).
EARLY_WINDOW_DAYS = 90
EARLY_LANDMARK_DAYS = 30  # what is known by day 30 (first recognition, onboarding) explains exits in days 30-89
EARLY_P_FIRST_30 = 0.03
EARLY_INTERCEPT = -1.6

DEFAULT_EFFECTS: dict[str, dict[str, float]] = {
    "retention": {"recognition_per_month": -0.15, "empowerment": -0.30, "leadership": -0.35},
    "loyalty": {"recognition_per_month": 4.0, "empowerment": 6.0, "leadership": 5.0, "voluntary_turnover_pct": -0.4},
    "customer_retention": {"recognition_per_month": 1.5, "empowerment": 2.5, "leadership": 2.0, "voluntary_turnover_pct": -0.2},
    "early_attrition": {"onboarding_training": -0.6, "recognition_30d": -0.5},
    # issue 15: the unit's mean rating of the internal service it received in q-1 (1-5) -> its engagement and NPS
    # in q (customer-facing units); voluntary exits and customer retention get no internal-service effect (0)
    "internal_service": {"engagement": 0.25, "nps": 5.0},
    # issue 15: the unit's share of staff trained in the last 6 months at the end of q-1 (percent) -> NPS in q;
    # the share whose last training was 7-12 months before has none (the effect fades after six months)
    "training": {"nps_trained_0_6": 0.15, "nps_trained_7_12": 0.0},
}
SCALES = {
    "retention": (
        "log-odds per unit change in the quarterly voluntary-exit hazard (discrete-time logit); drivers measured "
        "in the previous quarter: recognition_per_month = recognition events received in the previous quarter / 3, "
        "empowerment and leadership = the employee's own 1-5 survey answer; controls: tenure band, role"
    ),
    "loyalty": (
        "NPS points (-100..100) of the unit in quarter q per unit change in the unit's quarter q-1 value: "
        "mean recognitions per employee per month, mean empowerment and leadership answers (1-5), "
        "voluntary turnover in percent of start-of-quarter headcount"
    ),
    "customer_retention": (
        "percentage points of the unit's quarter q-1 customers who come back in quarter q, per unit change in the "
        "same quarter q-1 unit drivers as loyalty"
    ),
    "early_attrition": (
        "log-odds of a voluntary exit within 90 days of hire (in days 30-89), among hires still employed on day 30 "
        "with 90 days of follow-up, for (0/1) a training dated in days 0-29 after hire (onboarding_training) and "
        "(0/1) at least one recognition received in days 0-29 (recognition_30d); leadership_team_mean (the "
        "manager's team mean leadership answer in the quarter before hire) has no true effect (0)"
    ),
    "internal_service": (
        "engagement: points of the unit's mean engagement answer (1-5) in quarter q per 1-point change in the mean "
        "rating (1-5) the unit's own staff gave their internal suppliers in quarter q-1 (customer-facing units; the "
        "value is the plug-in slope after rounding answers to 1-5); nps: NPS points (-100..100) in q per 1-point "
        "change in that q-1 rating; voluntary_turnover_pct and customer_retention_pct: no effect (0)"
    ),
    "moments_of_truth_customer": (
        "log-odds that the customer who answered the NPS survey in quarter q is active (any purchase or visit) in "
        "quarter q+1, for a detractor (0-6) or a promoter (9-10) answer at that touchpoint vs a passive (7-8) answer "
        "there, given the customer's unit and quarter (every customer of a unit-quarter shares its return "
        "probability); asymmetry = |detractor| - |promoter|; the customer's spending after the answer: no effect (0)"
    ),
    "training": (
        "NPS points (-100..100) of the unit in quarter q per percentage point of its staff (on the payroll on the "
        "last day of q-1) whose last training is dated 0-182 days before that day (nps_trained_0_6) or 183-365 "
        "days before (nps_trained_7_12, no effect: it fades after six months); customer retention and the "
        "voluntary-exit hazard by months since the last training: no effect (0)"
    ),
}
# The internal customer (issue 15): departments rate the departments that serve them (their internal suppliers).
WEAK_SUPPLIER = "TI"  # the weak supplier department: starts low and falls every quarter
WEAK_SUPPLIER_START, WEAK_SUPPLIER_TREND = 3.0, -0.08
SUPPLIER_LEVEL = 3.7  # the other suppliers' mean level (+ a department draw)
INTERNAL_RATING_P = 0.7  # share of survey respondents who also rate two internal suppliers
INTERNAL_REF = 3.5  # the internal-service rating at which the engagement and NPS mechanisms add nothing
TRAINING_REF = 40.0  # percent trained in the last 6 months at which the NPS mechanism adds nothing
ENGAGEMENT_NOISE = 0.6  # SD of an engagement answer around its expected value (before rounding to 1-5)
TRAINED_DAYS = (182, 365)  # "trained in the last 6 months" = 0-182 days; 7-12 months = 183-365 days
# Tenure bands used by the generator and by the retention model: [0,1) [1,2) [2,5) [5,inf) years.
TENURE_BREAKS = (1.0, 2.0, 5.0)
TENURE_EFFECT = np.array([0.5, 0.2, 0.0, -0.3])
ROLE_EFFECT = {"frontline": 0.2, "support": 0.0, "manager": -0.3}
HAZARD_INTERCEPT = -0.75
INVOLUNTARY_P = 0.008
# Population reference levels (centre the customer mechanisms so baselines stay realistic).
REF = {"recognition_per_month": 1.8, "empowerment": 3.3, "leadership": 3.4, "voluntary_turnover_pct": 5.0}


@dataclass
class DemoConfig:
    seed: int = 7
    employees: int = 3000
    quarters: int = 8
    end_quarter: str = "2026Q3"
    customers_per_employee: float | None = None  # None: CUSTOMERS_PER_EMPLOYEE by unit type; a number: all types
    effects: dict[str, dict[str, float]] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_EFFECTS)))
    fmt: str = "parquet"  # or "csv"
    pilot: "DemoPilot | None" = None  # issue 16: a randomised pilot with a known NPS effect (only when asked)

    def set_effect(self, spec: str) -> None:
        """``"retention.empowerment=0"`` -> overrides one true effect."""
        key, _, value = spec.partition("=")
        model, _, driver = key.partition(".")
        if model not in self.effects or driver not in self.effects[model] or not value:
            raise ValueError(f"--effect must look like retention.empowerment=0 (known: "
                             f"{', '.join(m + '.' + d for m in self.effects for d in self.effects[m])}); got {spec!r}")
        self.effects[model][driver] = float(value)


@dataclass
class DemoPilot:
    """A randomised pilot in the demo (issue 16): ``units`` customer-facing units drawn by the pilot design's
    stratified randomisation (size band x baseline NPS band, pairs by region) get ``effect`` NPS points on their
    expected unit-quarter NPS from ``start_quarter`` (default: the last ``quarters`` quarters) to the end."""

    effect: float = 15.0  # about the 80%-power MDE of 20 + 20 units over 2 quarters in the default demo
    units: int = 20
    quarters: int = 2
    start_quarter: str | None = None
    baseline_quarters: int = 2


PILOT_STREAM = 1600  # the pilot's draws (its assignment) come from their own stream: nothing else moves


def _pilot_assignment(cfg: "DemoConfig", qlabels: list[str], customer_facing: np.ndarray, size: np.ndarray,
                      nps_base: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, int, dict | None]:
    """(treated flag per unit, index of the first pilot quarter, truth.json's ``pilot``) - no pilot: zeros."""
    n_units = len(size)
    if cfg.pilot is None:
        return np.zeros(n_units, bool), len(qlabels), None
    from . import pilot as P

    sp = cfg.pilot
    start = sp.start_quarter or qlabels[-sp.quarters]
    if start not in qlabels or qlabels.index(start) < sp.baseline_quarters:
        raise ValueError(f"--pilot-start must be one of {', '.join(qlabels[sp.baseline_quarters:])}; got {start}")
    pilot_q = qlabels[qlabels.index(start):]
    cf = np.flatnonzero(customer_facing)
    ids = [f"U{i + 1:04d}" for i in cf]
    units = pl.DataFrame({"unit_id": ids, "region": [REGIONS[r] for r in region[cf]],
                          "stratum": P.strata_codes(nps_base[cf], size[cf].astype(float))})
    asg = P.assign(units, int(sp.units), seed=int(np.random.default_rng([cfg.seed, PILOT_STREAM]).integers(1 << 30)))
    treated = np.zeros(n_units, bool)
    treated[[int(u[1:]) - 1 for u in asg.filter(pl.col("group") == "pilot")["unit_id"].to_list()]] = True
    plan = {"format": P.PLAN_FORMAT, "action": "weekly recognition", "outcome": "nps",
            "seed": int(cfg.seed), "start_quarter": start,
            "baseline_quarters": qlabels[qlabels.index(start) - sp.baseline_quarters:qlabels.index(start)],
            "pilot_quarters": pilot_q,
            "units": [{"unit_id": r["unit_id"], "region": r["region"], "stratum": int(r["stratum"]),
                       "group": r["group"]} for r in asg.iter_rows(named=True)]}
    truth = {"outcome": "nps", "effect": float(sp.effect), "start_quarter": start, "quarters": pilot_q,
             "pilot_units": int(treated.sum()), "comparison_units": int(asg.height - treated.sum()),
             "scale": "NPS points (-100..100) added to the expected unit-quarter NPS of the pilot units in every "
                      "quarter from start_quarter (the answers' thresholds clip rarely); the plan is pilot_plan.yml",
             "plan": plan}
    return treated, qlabels.index(start), truth


def _days(d: dt.date) -> int:
    return (d - EPOCH).days


def _likert(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 1, 5).astype(np.int8)


def _expected_likert_shift(mu: np.ndarray, shift: np.ndarray, sd: float) -> np.ndarray:
    """E[_likert(mu + shift + e)] - E[_likert(mu + e)] for e ~ N(0, sd^2): the answer moves one step at each of the
    thresholds 1.5 .. 4.5, so E[_likert(x + e)] = 1 + sum_k Phi((x - k) / sd)."""
    from scipy.special import ndtr

    k = np.array([1.5, 2.5, 3.5, 4.5])
    return (ndtr((mu[:, None] + shift[:, None] - k) / sd) - ndtr((mu[:, None] - k) / sd)).sum(axis=1)


def _date_series(name: str, days: np.ndarray) -> pl.Series:
    return pl.Series(name, days.astype(np.int32)).cast(pl.Date)


def _ids(prefix: str, idx: np.ndarray, width: int, name: str) -> pl.Series:
    s = pl.Series(name, idx.astype(np.int64))
    return pl.select(pl.concat_str([pl.lit(prefix), s.cast(pl.String).str.zfill(width)]).alias(name)).to_series()


def generate(cfg: DemoConfig) -> tuple[dict[str, pl.DataFrame], dict]:
    """Simulate the organisation; returns (tables, truth)."""
    rng = np.random.default_rng(cfg.seed)
    crng = np.random.default_rng([cfg.seed, 1])  # customer draws: their volume never shifts the employees' draws
    eff = cfg.effects
    qlabels = Q.span(Q.shift(cfg.end_quarter, -(cfg.quarters - 1)), cfg.end_quarter)
    qstart = np.array([_days(Q.start(q)) for q in qlabels])
    qend = np.array([_days(Q.end(q)) for q in qlabels])
    E = int(cfg.employees)

    # ---------------------------------------------------------------- units
    n_units = max(len(REGIONS) + 3, round(E / 24))
    region = np.concatenate([np.arange(len(REGIONS)), rng.integers(0, len(REGIONS), n_units - len(REGIONS))])
    utype = np.concatenate([np.full(len(REGIONS), 3), rng.choice(4, n_units - len(REGIONS), p=UNIT_TYPE_P)])
    weight = rng.lognormal(0.0, 0.6, n_units) * np.where(utype == 2, 3.0, 1.0)
    size = np.maximum(3, np.floor(E * weight / weight.sum())).astype(np.int64)
    size[np.argmax(size)] += E - size.sum()  # exact headcount
    ustart = np.concatenate([[0], np.cumsum(size)[:-1]])
    customer_facing = utype < 3
    # Unit culture: correlated recognition (log-rate), empowerment and leadership levels.
    cov = np.array([[0.7**2, 0.4 * 0.7 * 0.35, 0.4 * 0.7 * 0.3],
                    [0.4 * 0.7 * 0.35, 0.35**2, 0.4 * 0.35 * 0.3],
                    [0.4 * 0.7 * 0.3, 0.4 * 0.35 * 0.3, 0.3**2]])
    culture = rng.multivariate_normal(np.zeros(3), cov, n_units)
    resp_rate = rng.beta(15, 5, n_units)  # ~75% response, varying by unit
    # Early attrition draws come from their own stream, so the rest of the story keeps its draws.
    rng_early = np.random.default_rng([cfg.seed, 12])  # 12: the issue; any constant works
    onboarding_rate = rng_early.beta(6, 4, n_units)  # share of a unit's new hires who get onboarding (~60%)
    # Share who get a first ("welcome") recognition from their manager in days 0-29: a unit habit, independent
    # of the unit's culture, so early exits do not pile new hires into low-recognition units (that would
    # confound the later Kaplan-Meier bands by recognition).
    welcome_rate = rng_early.beta(6, 4, n_units)
    b_early = eff["early_attrition"]
    unit_hazard_re = rng.normal(0, 0.1, n_units)
    nps_base = rng.normal(0, 8, n_units)  # customer baselines independent of culture
    ret_base = rng.normal(0, 3, n_units)
    price = rng.lognormal(0, 0.25, n_units)
    unit_dept = np.array([FRONT_DEPT.get(UNIT_TYPES[t], "") for t in utype], dtype=object)
    bo = utype == 3
    unit_dept[bo] = rng.choice(BACK_OFFICE_DEPTS, bo.sum())
    unit_dept[: len(REGIONS)] = "Dirección regional"

    # ------------------------------------------------------------ positions
    P = E
    pos_unit = np.repeat(np.arange(n_units), size)
    pos_is_mgr = np.zeros(P, bool)
    pos_is_mgr[ustart] = True
    front = customer_facing[pos_unit] & (rng.random(P) < 0.85)
    pos_role = np.where(pos_is_mgr, 2, np.where(front, 0, 1))  # 0 frontline 1 support 2 manager
    pos_dept = np.where(pos_role == 1, np.where(customer_facing[pos_unit], "Operaciones", unit_dept[pos_unit]),
                        unit_dept[pos_unit])

    # ------------------------------------------------------------ employees (grow as we hire)
    cap = int(E * (1.2 + 0.12 * cfg.quarters)) + 100
    emp = {
        "pos": np.full(cap, -1, np.int64),
        "hire": np.zeros(cap, np.int64),
        "exit": np.full(cap, -1, np.int64),
        "reason": np.zeros(cap, np.int8),  # 0 none 1 voluntary 2 involuntary
        "e_rec": np.zeros(cap), "e_emp": np.zeros(cap), "e_lead": np.zeros(cap), "mq": np.zeros(cap),
        "lag_rec": np.zeros(cap), "lag_emp": np.zeros(cap), "lag_lead": np.zeros(cap),
        "mgr": np.full(cap, -1, np.int64),
        # early attrition, decided at hire: day of the planned early voluntary exit, of the welcome
        # recognition and of the onboarding training (-1: none)
        "early_exit": np.full(cap, -1, np.int64), "welcome_day": np.full(cap, -1, np.int64),
        "onboarding_day": np.full(cap, -1, np.int64),
        "last_train": np.full(cap, -1, np.int64),  # day of the latest training so far (-1: never)
    }
    n_emp = 0
    minus_one = ("pos", "exit", "mgr", "early_exit", "welcome_day", "onboarding_day", "last_train")

    def hire(positions: np.ndarray, hire_days: np.ndarray, early: bool = True) -> np.ndarray:
        nonlocal n_emp, cap
        k = len(positions)
        if n_emp + k > cap:
            grow = max(k, cap // 2)
            for key, arr in emp.items():
                fill = -1 if key in minus_one else 0
                emp[key] = np.concatenate([arr, np.full(grow, fill, arr.dtype)])
            cap += grow
        idx = np.arange(n_emp, n_emp + k)
        emp["pos"][idx] = positions
        emp["hire"][idx] = hire_days
        emp["e_rec"][idx] = rng.normal(0, 0.6, k)
        emp["e_emp"][idx] = rng.normal(0, 0.5, k)
        emp["e_lead"][idx] = rng.normal(0, 0.4, k)
        emp["mq"][idx] = rng.normal(0, 0.35, k)
        # "Previous quarter" drivers of a new hire: what their unit and disposition would show (never zeros).
        u = pos_unit[positions]
        rate = np.minimum(1.2 * np.exp(culture[u, 0] + emp["e_rec"][idx]), 12.0)
        emp["lag_rec"][idx] = rate
        emp["lag_emp"][idx] = _likert(3.3 + culture[u, 1] + emp["e_emp"][idx])
        emp["lag_lead"][idx] = _likert(3.4 + culture[u, 2] + emp["e_lead"][idx])
        if early:
            onb = rng_early.random(k) < onboarding_rate[u]
            onb_day = np.where(onb, hire_days + rng_early.integers(0, 14, k), -1)
            welcome = rng_early.random(k) < welcome_rate[u]
            welcome_day = np.where(welcome, hire_days + rng_early.integers(0, EARLY_LANDMARK_DAYS, k), -1)
            very_early = rng_early.random(k) < EARLY_P_FIRST_30
            eta = (EARLY_INTERCEPT + b_early["onboarding_training"] * onb
                   + b_early["recognition_30d"] * welcome)
            later = ~very_early & (rng_early.random(k) < 1.0 / (1.0 + np.exp(-eta)))
            exit_day = np.where(very_early, hire_days + rng_early.integers(0, EARLY_LANDMARK_DAYS, k),
                                np.where(later, hire_days + rng_early.integers(EARLY_LANDMARK_DAYS, EARLY_WINDOW_DAYS, k), -1))
            gone = exit_day >= 0
            emp["early_exit"][idx] = exit_day
            emp["onboarding_day"][idx] = np.where(gone & (onb_day > exit_day), -1, onb_day)
            emp["welcome_day"][idx] = np.where(gone & (welcome_day > exit_day), -1, welcome_day)
        n_emp += k
        return idx

    tenure0 = np.minimum(rng.exponential(4.0, P), 25.0)
    inc = hire(np.arange(P), qstart[0] - np.ceil(tenure0 * 365.25).astype(np.int64) - 1, early=False)
    incumbent = inc.copy()  # position -> employee index (-1 vacant)
    # Initial lags: what the previous quarter would have shown.
    u0 = pos_unit
    emp["lag_rec"][inc] = rng.poisson(3 * np.minimum(1.2 * np.exp(culture[u0, 0] + emp["e_rec"][inc]), 12)) / 3
    emp["lag_emp"][inc] = _likert(3.3 + culture[u0, 1] + emp["e_emp"][inc] + rng.normal(0, 0.45, P))
    emp["lag_lead"][inc] = _likert(3.4 + culture[u0, 2] + emp["e_lead"][inc] + rng.normal(0, 0.45, P))

    ev_parts, sv_parts, tr_parts, fb_parts, act_parts = [], [], [], [], []
    unit_mgr_hist = []  # (quarter index, unit -> manager employee index)
    prev_unit_x = None  # unit drivers of the previous quarter (n_units x 4) and availability
    prev_active_customers = None  # (customer ids, unit) active last quarter
    next_customer = 0
    fixed = cfg.customers_per_employee
    if fixed is None and E >= LARGE_ORG:
        fixed = LARGE_ORG_CUSTOMERS_PER_EMPLOYEE
    cpe = np.array([fixed if fixed is not None else CUSTOMERS_PER_EMPLOYEE.get(UNIT_TYPES[t], 0.0) for t in utype])
    K = np.where(customer_facing, np.round(cpe * size), 0).astype(np.int64)
    b_ret = eff["retention"]
    tenure_edges = np.array(TENURE_BREAKS) * 365.25
    role_eff = np.array([ROLE_EFFECT["frontline"], ROLE_EFFECT["support"], ROLE_EFFECT["manager"]])
    # The internal customer and the training cadence (issue 15) draw from their own streams, so every other
    # table keeps its draws; they change only engagement answers and NPS scores (through the mechanisms below).
    # (stream 1500, not 15: with 15 the default demo's exits model showed a 1-in-20 chance association with the
    # internal service, whose true effect on exits is 0; tests/test_internal_service.py checks coverage over seeds)
    rng_is = np.random.default_rng([cfg.seed, 1500])
    rng_tr = np.random.default_rng([cfg.seed, 16])
    depts = sorted(set(pos_dept.tolist()))
    D = len(depts)
    pos_dept_code = np.searchsorted(np.array(depts, dtype=object), pos_dept)
    sup_level = SUPPLIER_LEVEL + rng_is.normal(0, 0.15, D)
    sup_trend = rng_is.normal(0, 0.02, D)
    weak = depts.index(WEAK_SUPPLIER) if WEAK_SUPPLIER in depts else None
    if weak is not None:
        sup_level[weak], sup_trend[weak] = WEAK_SUPPLIER_START, WEAK_SUPPLIER_TREND
    pair_eff = rng_is.normal(0, 0.15, (D, D))
    unit_is = rng_is.normal(0, 0.3, n_units)  # how well the suppliers serve this particular unit
    prev_is_x = np.full(n_units, np.nan)  # the unit's mean rating of its suppliers last quarter
    is_parts = []
    plug = np.zeros(2)  # the engagement effect after rounding: sum(mean increment * dx), sum(dx^2)
    b_is, b_tr = eff["internal_service"], eff["training"]
    train_rate = rng_tr.beta(1.2, 2.4, n_units)  # each unit's training habit: share of staff trained per quarter
    prev_trained = np.full((n_units, 2), np.nan)  # percent trained 0-6 and 7-12 months before last quarter's end
    rng_mot = np.random.default_rng([cfg.seed, MOT_STREAM])
    prev_mot_adj = None  # log-odds shift of coming back for last quarter's customers (their answers' experiences)
    pilot_treated, pilot_start, pilot_truth = _pilot_assignment(cfg, qlabels, customer_facing, size, nps_base, region)

    for qi, ql in enumerate(qlabels):
        qs, qe = qstart[qi], qend[qi]
        qlen = qe - qs + 1
        # Backfill vacancies (90% filled within the quarter).
        vacant = np.flatnonzero(incumbent < 0)
        fill = vacant[rng.random(len(vacant)) < 0.9]
        if len(fill):
            incumbent[fill] = hire(fill, qs + rng.integers(0, int(qlen * 0.8), len(fill)))
        act = np.flatnonzero(incumbent >= 0)
        ids = incumbent[act]
        units = pos_unit[act]
        roles = pos_role[act]
        mgr_of_unit = np.where(incumbent[ustart] >= 0, incumbent[ustart], -1)
        unit_mgr_hist.append(mgr_of_unit.copy())
        # Whose manager: unit staff -> unit manager; unit managers -> their region head.
        region_head = mgr_of_unit[: len(REGIONS)]  # unit i < len(REGIONS) is region i's office
        my_mgr = np.where(roles == 2, region_head[region[units]], mgr_of_unit[units])
        my_mgr = np.where(my_mgr == ids, -1, my_mgr)
        emp["mgr"][ids] = my_mgr
        mq_unit = np.where(mgr_of_unit >= 0, emp["mq"][np.maximum(mgr_of_unit, 0)], 0.0)

        # This quarter's experience (what the survey and the event log will show).
        n = len(ids)
        rate = np.minimum(1.2 * np.exp(culture[units, 0] + emp["e_rec"][ids]), 12.0)
        emp_lik = _likert(3.3 + culture[units, 1] + emp["e_emp"][ids] + rng.normal(0, 0.45, n))
        lead_lik = _likert(3.4 + culture[units, 2] + mq_unit[units] + emp["e_lead"][ids] + rng.normal(0, 0.45, n))

        # Voluntary-exit hazard from last quarter's drivers (the model's specification).
        tenure_days = qs - emp["hire"][ids]
        band = np.searchsorted(tenure_edges, np.maximum(tenure_days, 0), side="right")
        eta = (HAZARD_INTERCEPT + b_ret["recognition_per_month"] * emp["lag_rec"][ids]
               + b_ret["empowerment"] * emp["lag_emp"][ids] + b_ret["leadership"] * emp["lag_lead"][ids]
               + TENURE_EFFECT[band] + role_eff[roles] + unit_hazard_re[units])
        p_vol = 1.0 / (1.0 + np.exp(-eta))
        hired = emp["hire"][ids]
        started = np.maximum(hired, qs)
        new_hire = hired >= qs
        # The quarterly hazard starts on day 90 of tenure or with the quarter after the hire quarter,
        # whichever is later (the first 90 days were drawn at hire; "early" as features.turnover counts it).
        h_start = np.maximum(started, hired + EARLY_WINDOW_DAYS)
        h_len = np.where(new_hire, 0, np.maximum(qe - h_start + 1, 0))
        p_vol = p_vol * h_len / qlen
        u = rng.random(n)
        planned = emp["early_exit"][ids]
        early_now = (planned >= qs) & (planned <= qe)
        vol = early_now | (u < p_vol)
        invol = ~vol & (h_len > 0) & (rng.random(n) < INVOLUNTARY_P)
        leaving = vol | invol
        exit_day = h_start + np.floor(rng.random(n) * np.maximum(h_len, 1)).astype(np.int64)
        exit_day = np.where(early_now, planned, exit_day)
        exit_day = np.where(leaving, exit_day, -1)
        emp["exit"][ids[leaving]] = exit_day[leaving]
        emp["reason"][ids[vol]] = 1
        emp["reason"][ids[invol]] = 2
        last_day = np.where(leaving, exit_day, qe)

        # Recognition events over the days each person was there (days 0-29 of tenure: the welcome one only).
        r_start = np.maximum(started, hired + EARLY_LANDMARK_DAYS)
        r_len = np.maximum(last_day - r_start + 1, 0)
        cnt = rng.poisson(3 * rate * r_len / qlen)
        wday = emp["welcome_day"][ids]
        welcome_now = (wday >= qs) & (wday <= last_day)
        rec_pm = (cnt + welcome_now) / 3.0
        rep = np.repeat(np.arange(n), cnt)
        ev_day = r_start[rep] + np.floor(rng.random(len(rep)) * r_len[rep]).astype(np.int64)
        gpos = ustart[units[rep]] + np.floor(rng.random(len(rep)) * size[units[rep]]).astype(np.int64)
        giver = incumbent[gpos]
        giver = np.where(giver == ids[rep], -1, giver)
        w = np.flatnonzero(welcome_now)
        w_giver = np.where(my_mgr[w] >= 0, my_mgr[w], -1)  # the welcome comes from the manager
        ev_parts.append((np.concatenate([ev_day, wday[w]]), np.concatenate([ids[rep], ids[w]]),
                         np.concatenate([giver, w_giver])))

        # Pulse survey mid-quarter; response below 100%, some items left blank.
        sdate = qs + 40 + rng.integers(0, 21, n)
        there = (emp["hire"][ids] <= sdate) & ((exit_day < 0) | (exit_day > sdate))
        resp = there & (rng.random(n) < resp_rate[units])
        r = np.flatnonzero(resp)
        rec_item = _likert(1.4 + 1.1 * np.log1p(rate[r]) + rng.normal(0, 0.5, len(r)))
        eng_mu = 0.4 + 0.3 * emp_lik[r] + 0.3 * lead_lik[r] + 0.4 * np.log1p(rate[r])
        eng_latent = eng_mu + rng.normal(0, ENGAGEMENT_NOISE, len(r))
        # issue 15: the internal service a customer-facing unit received last quarter moves its engagement
        is_dx = np.where(customer_facing[units[r]], prev_is_x[units[r]] - INTERNAL_REF, np.nan)
        engagement = _likert(eng_latent + b_is["engagement"] * np.nan_to_num(is_dx))
        internal = _likert(3.2 + 0.3 * culture[units[r], 1] + rng.normal(0, 0.8, len(r)))
        miss = rng.random((len(r), 5)) < 0.04
        sv_parts.append((ids[r], sdate[r], rec_item, emp_lik[r], lead_lik[r], internal, engagement, miss))
        has_e = ~miss[:, 4] & np.isfinite(is_dx)
        if has_e.any():
            ue = units[r][has_e]
            ne = np.bincount(ue, minlength=n_units)
            # the expected change of the rounded, clipped answer over the answer noise (not its realisation)
            inc_mean = np.bincount(ue, weights=_expected_likert_shift(eng_mu, b_is["engagement"] * np.nan_to_num(is_dx),
                                                                      ENGAGEMENT_NOISE)[has_e], minlength=n_units)
            dxu = np.bincount(ue, weights=is_dx[has_e], minlength=n_units)
            ok = ne > 0
            dxu = dxu[ok] / ne[ok]
            plug += (float((inc_mean[ok] / ne[ok] * dxu).sum()), float((dxu ** 2).sum()))

        # issue 15: respondents also rate two internal suppliers (other departments), own stream.
        raters = r[rng_is.random(len(r)) < INTERNAL_RATING_P]
        own = pos_dept_code[act[raters]]
        o1 = rng_is.integers(1, D, len(raters))
        o2 = rng_is.integers(1, max(D - 1, 2), len(raters))
        o2 = np.where(o2 >= o1, o2 + 1, o2)
        sup = np.concatenate([(own + o1) % D, (own + o2) % D])
        cli = np.concatenate([own, own])
        ru = np.concatenate([units[raters], units[raters]])
        shock = rng_is.normal(0, 0.25, n_units)
        i_score = _likert(sup_level[sup] + sup_trend[sup] * qi + pair_eff[sup, cli] + unit_is[ru] + shock[ru]
                          + rng_is.normal(0, 0.8, len(sup)))
        valid = sup != cli  # a department never rates itself (D = 2 edge case)
        is_parts.append((np.full(valid.sum(), qi), sup[valid], cli[valid], np.concatenate([ids[raters], ids[raters]])[valid],
                         i_score[valid]))
        cnt_is = np.bincount(ru[valid], minlength=n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            is_x = np.where(cnt_is > 0, np.bincount(ru[valid], weights=i_score[valid], minlength=n_units) / cnt_is, np.nan)

        # Trainings (a few per quarter; in days 0-29 of tenure only the onboarding one).
        t_start = np.maximum(started, hired + EARLY_LANDMARK_DAYS)
        t_len = last_day - t_start + 1
        tmask = (rng.random(n) < 0.08) & (t_len > 0)
        oday = emp["onboarding_day"][ids]
        onb_now = np.flatnonzero((oday >= qs) & (oday <= last_day))
        t_ids = np.concatenate([ids[tmask], ids[onb_now]])
        t_days = np.concatenate([t_start[tmask] + np.floor(rng.random(tmask.sum()) * t_len[tmask]).astype(np.int64),
                                 oday[onb_now]])
        t_prog = np.concatenate([rng.integers(0, len(TRAINING_PROGRAMS), tmask.sum()),
                                 np.full(len(onb_now), len(TRAINING_PROGRAMS))])
        # issue 15: each unit's own training habit adds trainings (own stream, after day 29 of tenure)
        xmask = (rng_tr.random(n) < train_rate[units]) & (t_len > 0)
        x_days = t_start[xmask] + np.floor(rng_tr.random(xmask.sum()) * t_len[xmask]).astype(np.int64)
        t_ids, t_days = np.concatenate([t_ids, ids[xmask]]), np.concatenate([t_days, x_days])
        t_prog = np.concatenate([t_prog, rng_tr.integers(0, len(TRAINING_PROGRAMS), xmask.sum())])
        tr_parts.append((t_ids, t_days, t_prog))
        np.maximum.at(emp["last_train"], t_ids, t_days)
        # share of the staff on the payroll on the quarter's last day trained 0-182 and 183-365 days before it
        stay = ~leaving
        since = qe - emp["last_train"][ids[stay]]
        trained = np.column_stack([(emp["last_train"][ids[stay]] >= 0) & (since <= TRAINED_DAYS[0]),
                                   (since > TRAINED_DAYS[0]) & (since <= TRAINED_DAYS[1])]).astype(float)
        n_stay = np.bincount(units[stay], minlength=n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            trained_pct = 100.0 * np.column_stack([np.bincount(units[stay], weights=trained[:, j], minlength=n_units)
                                                   for j in range(2)]) / n_stay[:, None]

        # Unit drivers this quarter, computed exactly as features.py computes them from the data.
        at_start = ~new_hire
        hc = np.bincount(units[at_start], minlength=n_units).astype(float)
        rec_sum = np.bincount(units[at_start], weights=rec_pm[at_start], minlength=n_units)
        vol_start = np.bincount(units[at_start & vol], minlength=n_units)
        keep_e = resp.copy()
        keep_e[r[miss[:, 1]]] = False
        keep_l = resp.copy()
        keep_l[r[miss[:, 2]]] = False
        emp_n = np.bincount(units[keep_e], minlength=n_units)
        lead_n = np.bincount(units[keep_l], minlength=n_units)
        with np.errstate(invalid="ignore", divide="ignore"):
            unit_x = np.column_stack([
                rec_sum / hc,
                np.bincount(units[keep_e], weights=emp_lik[keep_e], minlength=n_units) / emp_n,
                np.bincount(units[keep_l], weights=lead_lik[keep_l], minlength=n_units) / lead_n,
                100.0 * vol_start / hc,
            ])

        # Customers: retention and NPS respond to last quarter's unit drivers.
        keys = ("recognition_per_month", "empowerment", "leadership", "voluntary_turnover_pct")
        ref = np.array([REF[k] for k in keys])
        if prev_unit_x is None:
            dx = np.zeros((n_units, 4))
        else:
            dx = np.nan_to_num(prev_unit_x - ref)  # units with no respondents: at reference
        g_nps = np.array([eff["loyalty"][k] for k in keys])
        g_ret = np.array([eff["customer_retention"][k] for k in keys])
        tp_shock = rng.normal(0, 8, (n_units, len(TOUCHPOINTS)))
        season = 2.0 * math.sin(qi)  # quarter effects the models absorb
        nps_target = 25 + nps_base + season + dx @ g_nps + rng.normal(0, 4, n_units)
        # issue 15: last quarter's internal service received and training share (no draws: the same answers' draws)
        nps_target = (nps_target + b_is["nps"] * np.nan_to_num(prev_is_x - INTERNAL_REF)
                      + b_tr["nps_trained_0_6"] * np.nan_to_num(prev_trained[:, 0] - TRAINING_REF)
                      + b_tr["nps_trained_7_12"] * np.nan_to_num(prev_trained[:, 1] - TRAINING_REF / 2))
        if qi >= pilot_start:  # issue 16: the pilot units' NPS from the pilot's start (no draws)
            nps_target = nps_target + cfg.pilot.effect * pilot_treated
        ret_pct = 70 + ret_base + 0.5 * season + dx @ g_ret + tp_shock @ TOUCHPOINT_RETENTION_WEIGHT
        ret_p = np.clip(ret_pct, 5, 95) / 100

        if prev_active_customers is None:
            c_unit = np.repeat(np.arange(n_units), K)
            c_id = np.arange(next_customer, next_customer + len(c_unit))
            next_customer += len(c_unit)
            returning = np.zeros(len(c_id), bool)
        else:
            pid, punit = prev_active_customers
            p_back = ret_p[punit]
            if prev_mot_adj is not None:  # the respondents' experiences shift their own return (no extra draws)
                p_back = 1.0 / (1.0 + np.exp(-(np.log(p_back / (1.0 - p_back)) + prev_mot_adj)))
            back = crng.random(len(pid)) < p_back
            kept_id, kept_unit = pid[back], punit[back]
            n_new = crng.poisson(np.maximum(K - np.bincount(kept_unit, minlength=n_units), 0))
            new_unit = np.repeat(np.arange(n_units), n_new)
            new_id = np.arange(next_customer, next_customer + len(new_unit))
            next_customer += len(new_unit)
            c_id = np.concatenate([kept_id, new_id])
            c_unit = np.concatenate([kept_unit, new_unit])
            returning = np.concatenate([np.ones(len(kept_id), bool), np.zeros(len(new_id), bool)])
        prev_active_customers = (c_id, c_unit)
        visits = 1 + crng.poisson(np.where(returning, 0.9, 0.5))
        vrep = np.repeat(np.arange(len(c_id)), visits)
        v_day = qs + np.floor(crng.random(len(vrep)) * qlen).astype(np.int64)
        revenue = np.round(crng.lognormal(np.log(VISIT_REVENUE[utype[c_unit[vrep]]]), 0.5, len(vrep)) * price[c_unit[vrep]]
                           * np.where(returning[vrep], 1.15, 1.0), 2)
        act_parts.append((c_id[vrep], c_unit[vrep], v_day, revenue))

        # Customer feedback answers (NPS 0-10) by touchpoint.
        n_fb = rng.poisson(np.where(customer_facing, FEEDBACK_PER_EMPLOYEE * size, 0.0))
        fb_unit = np.repeat(np.arange(n_units), n_fb)
        tp_p = np.array([TOUCHPOINT_P.get(UNIT_TYPES[t], TOUCHPOINT_P["store"]) for t in range(4)])
        cum = np.cumsum(tp_p[utype[fb_unit]], axis=1)
        tp = (rng.random(len(fb_unit))[:, None] > cum).sum(axis=1)
        tp = np.minimum(tp, len(TOUCHPOINTS) - 1)
        t_tp = np.clip(nps_target[fb_unit] + TOUCHPOINT_OFFSET[tp] + tp_shock[fb_unit, tp], -65, 65) / 100
        p_pro = (0.7 + t_tp) / 2
        uu = rng.random(len(fb_unit))
        score = np.where(uu < p_pro, 9 + (rng.random(len(uu)) < 0.45),
                         np.where(uu < p_pro + 0.3, 7 + (rng.random(len(uu)) < 0.55),
                                  np.minimum(6, np.floor(7 * rng.beta(3, 1.3, len(uu))))))
        fb_day = qs + np.floor(rng.random(len(fb_unit)) * qlen).astype(np.int64)
        # issue 16: each answer comes from one of the unit's customers of this quarter (own stream)
        c_order = np.argsort(c_unit, kind="stable")
        c_count = np.bincount(c_unit, minlength=n_units)
        c_first = np.concatenate([[0], np.cumsum(c_count)[:-1]])
        has_c = c_count[fb_unit] > 0
        pick = c_order[np.minimum(c_first[fb_unit] + np.floor(rng_mot.random(len(fb_unit)) * c_count[fb_unit])
                                  .astype(np.int64), len(c_order) - 1)] if len(c_order) else np.zeros(len(fb_unit), np.int64)
        experience = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
        prev_mot_adj = np.zeros(len(c_id))
        np.add.at(prev_mot_adj, pick[has_c], MOT_EFFECT[tp[has_c], experience[has_c]])
        fb_parts.append((fb_unit, fb_day, score.astype(np.int8), tp, np.where(has_c, c_id[pick] if len(c_id) else -1, -1)))

        # Exits vacate positions; store this quarter's drivers as next quarter's lags.
        incumbent[act[leaving]] = -1
        emp["lag_rec"][ids] = rec_pm
        emp["lag_emp"][ids] = emp_lik
        emp["lag_lead"][ids] = lead_lik
        prev_unit_x = unit_x
        prev_is_x = is_x
        prev_trained = trained_pct

    tables = _assemble(cfg, rng, n_emp, emp, pos_unit, pos_role, pos_dept, region, utype, n_units,
                       ev_parts, sv_parts, tr_parts, fb_parts, act_parts, qlabels, (depts, is_parts, E >= LARGE_ORG))
    truth = {
        "seed": cfg.seed,
        "employees": E,
        "quarters": qlabels,
        "retention": {**eff["retention"], "scale": SCALES["retention"]},
        "loyalty": {**eff["loyalty"], "scale": SCALES["loyalty"]},
        "customer_retention": {**eff["customer_retention"], "scale": SCALES["customer_retention"]},
        "retention_controls": {
            "intercept": HAZARD_INTERCEPT,
            "tenure_band_years": ["<1", "1-2", "2-5", "5+"],
            "tenure_effect": TENURE_EFFECT.tolist(),
            "role_effect": ROLE_EFFECT,
            "involuntary_quarterly_probability": INVOLUNTARY_P,
            "unit_random_effect_sd": 0.1,
        },
        "early_attrition": {**b_early, "leadership_team_mean": 0.0, "intercept": EARLY_INTERCEPT,
                            "p_exit_first_30_days": EARLY_P_FIRST_30, "landmark_days": EARLY_LANDMARK_DAYS,
                            "window_days": EARLY_WINDOW_DAYS, "scale": SCALES["early_attrition"]},
        "customers": {
            "per_employee_per_quarter": ({t: fixed for t in FRONT_DEPT} if fixed is not None else CUSTOMERS_PER_EMPLOYEE),
            "feedback_answers_per_employee_per_quarter": FEEDBACK_PER_EMPLOYEE,
            "median_revenue_per_visit": dict(zip(UNIT_TYPES[:3], VISIT_REVENUE[:3].tolist())),
            "organisation_range_per_employee": list(CUSTOMERS_PER_EMPLOYEE_RANGE),
            "why": "active customers per employee of a customer-facing unit per quarter, by unit type (see demo.CUSTOMERS_PER_EMPLOYEE)",
        },
        "moments_of_truth": {
            "retention_pp_per_nps_point": dict(zip(TOUCHPOINTS, TOUCHPOINT_RETENTION_WEIGHT.tolist())),
            # issue 16: customer by customer (moments.fit_customer_model estimates these on this scale)
            "customer_level": {
                "detractor": dict(zip(TOUCHPOINTS, MOT_EFFECT[:, 0].tolist())),
                "promoter": dict(zip(TOUCHPOINTS, MOT_EFFECT[:, 2].tolist())),
                "asymmetry": dict(zip(TOUCHPOINTS, np.round(np.abs(MOT_EFFECT[:, 0]) - np.abs(MOT_EFFECT[:, 2]), 6).tolist())),
                "spending_change": 0.0, "reference": "passive", "scale": SCALES["moments_of_truth_customer"],
            },
        },
        "internal_service": {
            # the plug-in engagement slope: the expected change of the 1-5 answers (rounding and clipping attenuate
            # the latent effect a little), regressed on the unit's q-1 rating, over every customer-facing unit-quarter
            "engagement": float(plug[0] / plug[1]) if plug[1] > 0 else b_is["engagement"],
            "engagement_latent": b_is["engagement"], "nps": b_is["nps"],
            "voluntary_turnover_pct": 0.0, "customer_retention_pct": 0.0,
            # engagement does not move NPS in the generator: the indirect effect through engagement is 0
            "nps_through_engagement": 0.0,
            "weakest_supplier": WEAK_SUPPLIER if weak is not None else None,
            "weakest_supplier_level": {"start": WEAK_SUPPLIER_START, "per_quarter": WEAK_SUPPLIER_TREND},
            "reference_rating": INTERNAL_REF, "scale": SCALES["internal_service"],
        },
        "training": {
            **b_tr, "customer_retention_trained_0_6": 0.0,
            "exit_hazard_by_months_since_training": {"0-3": 0.0, "4-6": 0.0, "7-12": 0.0, ">12": 0.0},
            "trained_days": list(TRAINED_DAYS), "scale": SCALES["training"],
        },
    }
    if pilot_truth is not None:  # issue 16: only with --pilot (the default truth.json is unchanged)
        truth["pilot"] = pilot_truth
    return tables, truth


def _assemble(cfg, rng, n_emp, emp, pos_unit, pos_role, pos_dept, region, utype, n_units,
              ev_parts, sv_parts, tr_parts, fb_parts, act_parts, qlabels, internal) -> dict[str, pl.DataFrame]:
    """Turn the simulation arrays into contract tables (ids as strings, dates as dates)."""
    uid = _ids("U", np.arange(n_units) + 1, 4, "unit_id")
    type_label = np.array([UNIT_LABEL[t] for t in UNIT_TYPES], dtype=object)[utype]
    region_name = np.array(REGIONS, dtype=object)[region]
    seq = np.arange(n_units) + 1
    names = [f"{t} {r} {s:03d}" for t, r, s in zip(type_label, region_name, seq)]  # n_units strings only
    for i in range(len(REGIONS)):
        names[i] = f"Oficina regional {REGIONS[i]}"
    units = pl.DataFrame({"unit_id": uid, "unit_name": names, "region": region_name.tolist()})

    k = n_emp
    pos = emp["pos"][:k]
    # Format each id once and gather by index: formatting tens of millions of strings is the slow part.
    eid = _ids("E", np.arange(k) + 1, 7, "employee_id")

    def emp_ids(idx: np.ndarray, name: str) -> pl.Series:
        return eid.gather(np.maximum(idx, 0)).alias(name)

    role_names = np.array(["frontline", "support", "manager"], dtype=object)
    base_salary = np.array([24000.0, 36000.0, 58000.0])
    salary = np.round(base_salary[pos_role[pos]] * rng.lognormal(0, 0.18, k), -1)
    exit_days = emp["exit"][:k]
    reason = emp["reason"][:k]
    employees = pl.DataFrame({
        "employee_id": eid,
        "unit_id": uid.gather(pos_unit[pos]),
        "manager_id": emp_ids(emp["mgr"][:k], "manager_id"),
        "department": pos_dept[pos].tolist(),
        "role": role_names[pos_role[pos]].tolist(),
        "hire_date": _date_series("hire_date", emp["hire"][:k]),
        "exit_date": _date_series("exit_date", np.maximum(exit_days, 0)),
        "exit_reason": np.array([None, "voluntary", "involuntary"], dtype=object)[reason].tolist(),
        "annual_salary": salary,
    }).with_columns(
        pl.when(pl.Series(exit_days >= 0)).then(pl.col("exit_date")).otherwise(None).alias("exit_date"),
        pl.when(pl.Series(emp["mgr"][:k] >= 0)).then(pl.col("manager_id")).otherwise(None).alias("manager_id"),
    )

    def cat(parts, j):
        return np.concatenate([p[j] for p in parts])

    giver = cat(ev_parts, 2)
    recognitions = pl.DataFrame({
        "date": _date_series("date", cat(ev_parts, 0)),
        "receiver_id": emp_ids(cat(ev_parts, 1), "receiver_id"),
        "giver_id": emp_ids(giver, "giver_id"),
    }).with_columns(pl.when(pl.Series(giver >= 0)).then(pl.col("giver_id")).otherwise(None).alias("giver_id"))

    miss = np.concatenate([p[7] for p in sv_parts])
    cols = {}
    for j, name in enumerate(("recognition", "empowerment", "leadership", "internal_service", "engagement")):
        v = cat(sv_parts, 2 + j)
        cols[name] = pl.Series(name, v, dtype=pl.Int8).scatter(np.flatnonzero(miss[:, j]), None)
    survey = pl.DataFrame({
        "employee_id": emp_ids(cat(sv_parts, 0), "employee_id"),
        "survey_date": _date_series("survey_date", cat(sv_parts, 1)),
        **cols,
    }).sort("survey_date", "employee_id")

    trainings = pl.DataFrame({
        "employee_id": emp_ids(cat(tr_parts, 0), "employee_id"),
        "date": _date_series("date", cat(tr_parts, 1)),
        "program": np.array((*TRAINING_PROGRAMS, ONBOARDING_PROGRAM), dtype=object)[cat(tr_parts, 2)].tolist(),
    }).sort("date", "employee_id")

    tp_names = pl.Series(TOUCHPOINTS)
    cust_idx = cat(act_parts, 0)
    fb_cust = cat(fb_parts, 4)
    cid = _ids("C", np.arange(max(cust_idx.max(), fb_cust.max()) + 1) + 1, 8, "customer_id")
    customer_feedback = pl.DataFrame({
        "unit_id": uid.gather(cat(fb_parts, 0)),
        "date": _date_series("date", cat(fb_parts, 1)),
        "nps": pl.Series("nps", cat(fb_parts, 2), dtype=pl.Int8),
        "touchpoint": tp_names.gather(cat(fb_parts, 3)),
        "customer_id": cid.gather(np.maximum(fb_cust, 0)),
    }).with_columns(pl.when(pl.Series(fb_cust >= 0)).then(pl.col("customer_id")).otherwise(None).alias("customer_id")
                    ).sort("date", "unit_id")

    customer_activity = pl.DataFrame({
        "customer_id": cid.gather(cust_idx),
        "unit_id": uid.gather(cat(act_parts, 1)),
        "date": _date_series("date", cat(act_parts, 2)),
        "revenue": cat(act_parts, 3),
    })

    # One row per rating (rater_id = the rating employee; the supplier is from_department, the internal client the
    # rater's department); a large organisation gets the aggregated shape with the respondent count n instead.
    depts, is_parts, aggregated = internal
    dnames = pl.Series(depts, dtype=pl.String)
    internal_service = pl.DataFrame({
        "quarter": pl.Series(qlabels, dtype=pl.String).gather(cat(is_parts, 0)),
        "from_department": dnames.gather(cat(is_parts, 1)),
        "to_department": dnames.gather(cat(is_parts, 2)),
        "rater_id": emp_ids(cat(is_parts, 3), "rater_id"),
        "score": pl.Series("score", cat(is_parts, 4), dtype=pl.Int8),
    }).sort("quarter", "from_department", "to_department", "rater_id")
    if aggregated:
        internal_service = (internal_service.group_by("quarter", "from_department", "to_department")
                            .agg(pl.col("score").cast(pl.Float64).mean().round(2), pl.len().cast(pl.Int64).alias("n"))
                            .sort("quarter", "from_department", "to_department"))
    return {
        "units": units, "employees": employees, "survey": survey, "recognitions": recognitions,
        "customer_feedback": customer_feedback, "customer_activity": customer_activity,
        "trainings": trainings, "internal_service": internal_service,
    }


def write(tables: dict[str, pl.DataFrame], truth: dict, out: Path, fmt: str = "parquet") -> None:
    """Write every table plus truth.json; truth.json last, so its presence means a complete folder."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth.json").unlink(missing_ok=True)
    for name, df in tables.items():
        for old in out.glob(f"{name}.*"):
            old.unlink()
        if fmt == "csv":
            df.write_csv(out / f"{name}.csv")
        else:
            df.write_parquet(out / f"{name}.parquet", statistics=True)
    (out / "pilot_plan.yml").unlink(missing_ok=True)
    if "pilot" in truth:  # issue 16: the demo pilot's plan, where the suite looks for one
        import yaml

        (out / "pilot_plan.yml").write_text(yaml.safe_dump(truth["pilot"]["plan"], sort_keys=False, allow_unicode=True),
                                            encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="data/demo", help="folder to write (default data/demo)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--employees", type=int, default=3000, help="headcount at the start (default 3000)")
    p.add_argument("--quarters", type=int, default=8)
    p.add_argument("--end-quarter", default="2026Q3")
    p.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    p.add_argument("--effect", action="append", default=[], metavar="MODEL.DRIVER=VALUE",
                   help="override a true effect, e.g. retention.empowerment=0 (repeatable)")
    p.add_argument("--pilot", action="store_true", help="add a randomised pilot with a known NPS effect (issue 16)")
    p.add_argument("--pilot-effect", type=float, default=15.0, help="the pilot's true NPS effect (default 15)")
    p.add_argument("--pilot-units", type=int, default=20, help="pilot units (as many comparison units; default 20)")
    p.add_argument("--pilot-start", default=None, help="first pilot quarter (default: the second-to-last quarter)")


def main(args: argparse.Namespace) -> int:
    Q.parse(args.end_quarter)
    if args.employees < 50 or args.quarters < 2:
        raise ValueError("--employees must be >= 50 and --quarters >= 2")
    cfg = DemoConfig(seed=args.seed, employees=args.employees, quarters=args.quarters,
                     end_quarter=args.end_quarter, fmt=args.format)
    for spec in args.effect:
        cfg.set_effect(spec)
    if getattr(args, "pilot", False):
        cfg.pilot = DemoPilot(effect=args.pilot_effect, units=args.pilot_units, start_quarter=args.pilot_start)
    tables, truth = generate(cfg)
    write(tables, truth, Path(args.out), cfg.fmt)
    rows = ", ".join(f"{k} {v.height:,}" for k, v in tables.items())
    print(f"demo organisation written to {args.out}: {rows}")
    return 0
