"""The training cadence: "something new for everyone every four to six months" -- does it show in the data?

Per employee on the payroll on a quarter's last day: the days (and months) since their latest training dated on
or before that day, in bands 0-3, 4-6, 7-12, >12 months or never (:data:`BANDS`; 0-3 months = 0-91 days, 4-6 =
92-182, 7-12 = 183-365). Per unit: the share trained in the last 6 months (0-182 days) and the share overdue
(more than 6 months, or never), by unit and by region, hidden below the anonymity threshold (with complementary
suppression).

Does it show?

* the unit's share of staff trained in the last 6 months, and the share whose latest training is 7-12 months old,
  at the end of q-1 against its NPS and customer retention in q (unit-quarter OLS with quarter effects and the
  loyalty page's lagged drivers as controls, CR2 errors clustered by unit, unit fixed-effects check): if training
  matters and fades after six months, the first share carries the association and the second does not;
* an employee's months since training (band at the end of q-1, never trained = reference) in their voluntary-exit
  hazard in q (the retention page's person-quarter logit with tenure band, role, quarter effects and the lagged
  drivers; unit-clustered errors, t(G-1) intervals).

Associations, not causes: units that train often may differ in other ways.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy import stats

from . import charts, features, i18n, privacy
from . import quarters as Q
from .estimates import Estimate
from .internal_service import fit_lagged, range_text

Frame = pl.DataFrame | pl.LazyFrame
# (band, last day of the band in days since the latest training); "never" = no training dated before
BANDS = (("0-3", 91), ("4-6", 182), ("7-12", 365), (">12", None))
NEVER = "never"
BAND_ORDER = (*(b for b, _ in BANDS), NEVER)
DAYS_PER_MONTH = 30.4375
RECENT_DAYS, OLD_DAYS = 182, 365  # trained in the last 6 months; latest training 7-12 months before
UNIT_EXPOSURES = ("trained_0_6_pct_lag", "trained_7_12_pct_lag")
UNIT_OUTCOMES = {
    "nps": ("NPS points (-100..100) in q per percentage point of the unit's staff trained (q-1 end)", "nps_responses", 5),
    "customer_retention_pct": ("percentage points of customers who come back in q per percentage point of the unit's "
                               "staff trained (q-1 end)", "customers_prev", 10),
}
HAZARD_DRIVERS = tuple(f"trained_{b}" for b in ("0_3", "4_6", "7_12", "over_12"))
HAZARD_SCALE = ("log-odds of a voluntary exit in q for the band of months since the latest training at the end of "
                "q-1, against never trained")


def _lazy(f: Frame) -> pl.LazyFrame:
    return f.lazy() if isinstance(f, pl.DataFrame) else f


def band_expr(days: pl.Expr) -> pl.Expr:
    """Band label of the days since the latest training (null days = never)."""
    e = pl.when(days.is_null()).then(pl.lit(NEVER))
    for b, hi in BANDS:
        e = e.when(days <= hi).then(pl.lit(b)) if hi is not None else e.otherwise(pl.lit(b))
    return e


def since_last(tables: Mapping[str, Frame], quarters: list[str]) -> pl.DataFrame:
    """One row per employee on the payroll on each quarter's last day: ``quarter``, ``qi``, ``employee_id``,
    ``unit_id``, ``days_since`` (null = never trained), ``months_since``, ``band``."""
    emp = _lazy(tables["employees"]).select("employee_id", "unit_id", "hire_date", "exit_date")
    ends = pl.LazyFrame({"qi": [Q.parse(q) for q in quarters]}, schema={"qi": pl.Int32}).with_columns(
        pl.col("qi").map_elements(lambda i: Q.end(Q.label(i)), return_dtype=pl.Date).alias("end"))
    staff = (emp.join(ends, how="cross")
             .filter((pl.col("hire_date") <= pl.col("end")) & (pl.col("exit_date").is_null() | (pl.col("exit_date") > pl.col("end"))))
             .select("employee_id", "unit_id", "qi", "end"))
    if tables.get("trainings") is None:
        last = staff.with_columns(pl.lit(None, pl.Date).alias("last_training"))
    else:
        tr = (_lazy(tables["trainings"]).select("employee_id", pl.col("date").alias("last_training"))
              .drop_nulls().unique().sort("last_training"))
        last = staff.sort("end").join_asof(tr, left_on="end", right_on="last_training", by="employee_id",
                                           strategy="backward", check_sortedness=False)
    days = (pl.col("end") - pl.col("last_training")).dt.total_days()
    return (last.with_columns(days.alias("days_since"))
            .with_columns((pl.col("days_since") / DAYS_PER_MONTH).alias("months_since"), band_expr(pl.col("days_since")).alias("band"),
                          Q.label_expr("qi").alias("quarter"))
            .drop("end").sort("qi", "unit_id", "employee_id").collect())


def unit_shares(since: pl.DataFrame) -> pl.DataFrame:
    """Per unit and quarter end: ``staff``, percent trained 0-6 months (``trained_0_6_pct``), 7-12 months
    (``trained_7_12_pct``), overdue (more than 6 months or never, ``overdue_pct``)."""
    d = pl.col("days_since")
    return since.group_by("unit_id", "qi", "quarter").agg(
        pl.len().alias("staff"),
        (100.0 * (d <= RECENT_DAYS).fill_null(False).mean()).alias("trained_0_6_pct"),
        (100.0 * ((d > RECENT_DAYS) & (d <= OLD_DAYS)).fill_null(False).mean()).alias("trained_7_12_pct"),
        (100.0 * ((d > RECENT_DAYS) | d.is_null()).mean()).alias("overdue_pct"),
    ).sort("unit_id", "qi")


@dataclass
class Cadence:
    """The quarter's training cadence: bands over the organisation, and overdue shares by unit and by region."""

    quarter: str
    threshold: int
    staff: int
    overdue: Estimate  # share overdue (fraction) with a binomial 95% CI
    trained_0_6: Estimate
    bands: pl.DataFrame  # band, staff, share (suppressed below threshold)
    by_unit: pl.DataFrame  # unit_id, unit_name, region, staff, trained_0_6_pct, overdue_pct, suppressed
    by_region: pl.DataFrame  # region, staff, trained_0_6_pct, overdue_pct, suppressed
    median_months: float | None

    def to_dict(self) -> dict:
        return {"quarter": self.quarter, "staff": self.staff, "overdue_share": self.overdue.to_dict(),
                "trained_0_6_share": self.trained_0_6.to_dict(), "median_months_since_training": self.median_months,
                "bands": self.bands.to_dicts(), "by_region": self.by_region.to_dicts(),
                "units_shown": int(self.by_unit["suppressed"].is_null().sum()),
                "units_hidden": int(self.by_unit["suppressed"].is_not_null().sum())}


def _share(name: str, k: int, n: int, scale: str) -> Estimate:
    """A share with its Wilson 95% interval."""
    if n == 0:
        return Estimate(name, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"), 0, scale)
    p, z = k / n, float(stats.norm.ppf(0.975))
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return Estimate(name, p, math.sqrt(p * (1 - p) / n), mid - half, mid + half, float("nan"), n, scale)


def cadence(tables: Mapping[str, Frame], quarter: str, threshold: int = privacy.DEFAULT_THRESHOLD) -> Cadence:
    """The training cadence at the end of ``quarter`` (see :class:`Cadence`)."""
    s = since_last(tables, [quarter])
    n = s.height
    d = pl.col("days_since")
    k_over = int(s.select(((d > RECENT_DAYS) | d.is_null()).sum()).item()) if n else 0
    k_rec = int(s.select((d <= RECENT_DAYS).fill_null(False).sum()).item()) if n else 0
    bands = (pl.DataFrame({"band": list(BAND_ORDER)}).join(s.group_by("band").agg(pl.len().alias("staff")), on="band", how="left")
             .with_columns(pl.col("staff").fill_null(0)).with_columns((pl.col("staff") / max(n, 1)).alias("share")))
    bands = privacy.suppress_small(bands, "staff", threshold, value_cols=["staff", "share"])
    units = _lazy(tables["units"]).select("unit_id", "unit_name", "region").collect()
    us = unit_shares(s).join(units, on="unit_id", how="left")
    by_unit = privacy.suppress_small(us.select("unit_id", "unit_name", "region", "staff", "trained_0_6_pct", "overdue_pct"),
                                     "staff", threshold, "region", value_cols=["staff", "trained_0_6_pct", "overdue_pct"])
    reg = s.join(units.select("unit_id", "region"), on="unit_id", how="left").group_by("region").agg(
        pl.len().alias("staff"),
        (100.0 * (pl.col("days_since") <= RECENT_DAYS).fill_null(False).mean()).alias("trained_0_6_pct"),
        (100.0 * ((pl.col("days_since") > RECENT_DAYS) | pl.col("days_since").is_null()).mean()).alias("overdue_pct"),
    ).sort("region")
    by_region = privacy.suppress_small(reg, "staff", threshold, value_cols=["staff", "trained_0_6_pct", "overdue_pct"])
    med = s["months_since"].median() if n else None
    scale = "fraction of staff on the payroll on the quarter's last day"
    return Cadence(quarter, threshold, n, _share("overdue", k_over, n, scale + ": latest training more than 6 months "
                                                  "before, or never"),
                   _share("trained_0_6", k_rec, n, scale + ": trained in the last 6 months"),
                   bands, by_unit.sort("overdue_pct", descending=True, nulls_last=True), by_region, med)


# ------------------------------------------------------------------------------------------ does it show?


def unit_panel(tables: Mapping[str, Frame], uq: pl.DataFrame | None = None) -> pl.DataFrame:
    """``features.unit_quarters`` plus the unit's training shares at the end of q and of q-1 (``*_lag``)."""
    uq = features.unit_quarters(tables) if uq is None else uq
    qs = sorted(uq["quarter"].unique().to_list())
    sh = unit_shares(since_last(tables, qs)).drop("quarter")
    cols = ["staff", "trained_0_6_pct", "trained_7_12_pct", "overdue_pct"]
    return (uq.join(sh, on=["unit_id", "qi"], how="left").sort("unit_id", "qi")
            .with_columns(pl.col(c).shift(1).over("unit_id", order_by="qi").alias(f"{c}_lag") for c in cols))


@dataclass
class UnitTraining:
    """NPS and customer retention in q on the unit's training shares at the end of q-1."""

    effects: dict[str, dict[str, Estimate]]  # outcome -> exposure -> pooled estimate
    effects_unit_fe: dict[str, dict[str, Estimate]]
    n_obs: dict[str, int]
    n_units: dict[str, int]
    controls: list[str]
    problems: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"effects": {o: {k: e.to_dict() for k, e in d.items()} for o, d in self.effects.items()},
                "effects_unit_fe": {o: {k: e.to_dict() for k, e in d.items()} for o, d in self.effects_unit_fe.items()},
                "n_obs": self.n_obs, "n_units": self.n_units, "controls": self.controls, "problems": self.problems}


def fit_unit_training(panel: pl.DataFrame, threshold: int = privacy.DEFAULT_THRESHOLD) -> UnitTraining:
    """Pooled (quarter effects) and unit fixed-effects models of NPS and customer retention (q) on the share
    trained 0-6 and 7-12 months before the end of q-1, controlling for the loyalty page's lagged drivers."""
    controls = [c for c in (f"{d}_lag" for d in features.UNIT_DRIVERS) if c in panel.columns and panel[c].null_count() < panel.height]
    eff, fe, nobs, nun, problems = {}, {}, {}, {}, {}
    for outcome, (scale, n_col, min_n) in UNIT_OUTCOMES.items():
        rows = panel.drop_nulls([outcome, *UNIT_EXPOSURES, *controls]).filter(
            (pl.col(n_col) >= max(min_n, threshold)) & (pl.col("staff_lag") >= threshold))
        if "respondents_lag" in rows.columns:
            rows = rows.filter(pl.col("respondents_lag") > 0)
        try:
            eff[outcome], nobs[outcome], nun[outcome], _, _ = fit_lagged(rows, outcome, list(UNIT_EXPOSURES), controls, scale)
        except ValueError as e:
            problems[outcome] = str(e)
            continue
        try:
            fe[outcome] = fit_lagged(rows, outcome, list(UNIT_EXPOSURES), controls, scale, "unit_fe")[0]
        except ValueError as e:
            problems[f"{outcome}.unit_fe"] = str(e)
    return UnitTraining(eff, fe, nobs, nun, controls, problems)


@dataclass
class TrainingHazard:
    """The voluntary-exit hazard by months since the latest training (never = reference)."""

    effects: dict[str, Estimate]  # log-odds per band
    odds_ratios: dict[str, Estimate]
    n_obs: int
    n_events: int
    n_clusters: int
    band_counts: pl.DataFrame  # band, person_quarters, exits (suppressed below the threshold)

    def to_dict(self) -> dict:
        return {"effects": {k: e.to_dict() for k, e in self.effects.items()},
                "odds_ratios": {k: e.to_dict() for k, e in self.odds_ratios.items()},
                "n_obs": self.n_obs, "n_events": self.n_events, "n_clusters": self.n_clusters,
                "band_counts": self.band_counts.to_dicts(), "reference": NEVER}


def hazard_rows(tables: Mapping[str, Frame], panel: pl.DataFrame) -> pl.DataFrame:
    """The retention page's person-quarters (risk set of q, drivers of q-1) with the band at the end of q-1."""
    lag_q = sorted({Q.label(int(i)) for i in panel["lag_qi"].unique().to_list()})
    s = since_last(tables, lag_q).select("employee_id", pl.col("qi").alias("lag_qi"), "band")
    rows = panel.join(s, on=["employee_id", "lag_qi"], how="left").with_columns(pl.col("band").fill_null(NEVER))
    names = dict(zip(HAZARD_DRIVERS, BAND_ORDER[:-1]))
    return rows.with_columns((pl.col("band") == b).cast(pl.Float64).alias(d) for d, b in names.items())


def fit_training_hazard(rows: pl.DataFrame, threshold: int = privacy.DEFAULT_THRESHOLD) -> TrainingHazard:
    """Person-quarter logit: band dummies + the retention drivers + tenure band, role, quarter; CRV1 by unit, t(G-1)."""
    from . import retention

    drivers = (*HAZARD_DRIVERS, *retention.DRIVERS)
    r = rows.drop_nulls([*drivers, "tenure_band", "role", "voluntary_exit"])
    if r.height < 50 or int(r["voluntary_exit"].sum()) < 10:
        raise ValueError(f"too few person-quarters or exits for the training hazard ({r.height} rows, "
                         f"{int(r['voluntary_exit'].sum())} exits)")
    quarters = sorted(r["quarter"].unique().to_list())
    params, cov, names, _ = retention.fit_grouped_logit(r, drivers, quarters)
    G = r["unit_id"].n_unique()
    tq = float(stats.t.ppf(0.975, G - 1))
    eff, ors = {}, {}
    for d in HAZARD_DRIVERS:
        j = names.index(d)
        b, se = float(params[j]), float(math.sqrt(max(cov[j, j], 0.0)))
        p = float(2 * stats.t.sf(abs(b / se), G - 1)) if se > 0 else float("nan")
        e = Estimate(d, b, se, b - tq * se, b + tq * se, p, r.height, HAZARD_SCALE)
        eff[d], ors[d] = e, e.exp()
    counts = (r.group_by("band").agg(pl.len().alias("person_quarters"), pl.col("voluntary_exit").sum().alias("exits"))
              .join(pl.DataFrame({"band": list(BAND_ORDER), "o": list(range(len(BAND_ORDER)))}), on="band").sort("o").drop("o"))
    counts = privacy.suppress_small(counts, "person_quarters", threshold, value_cols=["person_quarters", "exits"])
    return TrainingHazard(eff, ors, r.height, int(r["voluntary_exit"].sum()), G, counts)


def fig_bands(bands: pl.DataFrame, lang: str, *, title: str, x_title: str, y_title: str,
              labels: Mapping[str, str]):
    """Bars: the share of staff in each band of months since the latest training (shown bands only)."""
    import plotly.graph_objects as go

    from . import theme

    recent = {"0-3", "4-6"}
    fig = go.Figure(go.Bar(
        x=[labels.get(b, b) for b in bands["band"].to_list()], y=bands["share"].to_list(),
        marker_color=[theme.ACCENT if b in recent else theme.NEUTRAL for b in bands["band"].to_list()],
        text=[i18n.fmt_pct(v, lang, 0) for v in bands["share"].to_list()], textposition="outside",
        hovertemplate="%{x}: %{text}<extra></extra>"))
    fig.update_layout(height=380, xaxis=dict(title=x_title), yaxis=dict(title=y_title, tickformat=".0%"))
    charts.finding_title(fig, title)
    return charts.localize(fig, lang)


def hazard_frame(h: TrainingHazard) -> pl.DataFrame:
    """Odds ratios per band for a forest plot (never trained = 1)."""
    return pl.DataFrame([{"band": b, "estimate": h.odds_ratios[d].estimate, "ci_low": h.odds_ratios[d].ci_low,
                          "ci_high": h.odds_ratios[d].ci_high} for d, b in zip(HAZARD_DRIVERS, BAND_ORDER)])


def unit_frame(ut: UnitTraining, outcome: str) -> pl.DataFrame:
    """The unit models' estimates (pooled and unit FE) for a forest plot, per 10 percentage points trained."""
    rows = []
    for spec, d in (("pooled", ut.effects.get(outcome, {})), ("unit_fe", ut.effects_unit_fe.get(outcome, {}))):
        for k, e in d.items():
            rows.append({"exposure": k, "spec": spec, "estimate": 10 * e.estimate, "ci_low": 10 * e.ci_low,
                         "ci_high": 10 * e.ci_high})
    return pl.DataFrame(rows)


# ------------------------------------------------------------------------------------------ money


SCENARIO = "training_every_4_6_months"
SESSIONS_PER_YEAR = (2.0, 12 / 5, 3.0)  # every 6, 5 and 4 months: low, value, high


@dataclass
class CadenceScenario:
    """"Train everyone every 4-6 months", priced like the money page's scenarios (P10/P50/P90 over the unit model's
    customer-retention coefficient and every assumption's range; a value per year, net of the extra trainings)."""

    currency: str
    staff: int
    sessions_now_per_person: float  # trainings per person in the last four quarters
    sessions_target: tuple[float, float, float]
    cost: dict[str, float]  # p10, p50, p90 of the extra trainings' cost per year
    customers_retained: dict[str, float]  # per year
    nps_gain: Estimate  # customer-weighted mean NPS change of the customer-facing units
    value: dict[str, float]  # net value per year: p10, p50, p90
    gross: dict[str, float]
    cost_per_training: dict

    def to_dict(self) -> dict:
        return {"name": SCENARIO, "label": {"en": i18n.t("tr15_scenario", "en"), "es": i18n.t("tr15_scenario", "es")},
                "currency": self.currency, "staff": self.staff, "sessions_now_per_person_per_year": self.sessions_now_per_person,
                "sessions_target_per_person_per_year": list(self.sessions_target),
                "value_p10": self.value["p10"], "value_p50": self.value["p50"], "value_p90": self.value["p90"],
                "gross_p10": self.gross["p10"], "gross_p50": self.gross["p50"], "gross_p90": self.gross["p90"],
                "programme_cost_p50": self.cost["p50"], "programme_cost": self.cost,
                "customers_retained": self.customers_retained, "nps_gain": self.nps_gain.to_dict(),
                "cost_per_training": self.cost_per_training,
                "method": "customers retained = sum over customer-facing units of customers(q) x coefficient(customer "
                          "retention on the share trained in the last 6 months, q-1) x (100 - share trained now), x4 "
                          "per year; each valued at acquisition spend avoided + margin kept (finance.customer_value); "
                          "cost = (target - current trainings per person per year) x staff x cost_per_training"}


def cadence_scenario(panel: pl.DataFrame, ut: UnitTraining, tables: Mapping[str, Frame], quarter: str,
                     assumptions=None, seed: int = 7) -> CadenceScenario | None:
    """Price "everyone trained in the last 6 months, all the time" (see :class:`CadenceScenario`); None without the
    customer-retention model."""
    from types import SimpleNamespace

    from . import assumptions as A
    from . import finance

    cr = ut.effects.get("customer_retention_pct", {}).get("trained_0_6_pct_lag")
    nps = ut.effects.get("nps", {}).get("trained_0_6_pct_lag")
    if cr is None or nps is None:
        return None
    a = assumptions if isinstance(assumptions, A.Assumptions) else A.load(assumptions or None)
    cur = panel.filter((pl.col("quarter") == quarter) & (pl.col("customers") > 0) & pl.col("trained_0_6_pct").is_not_null())
    gap = (100.0 - cur["trained_0_6_pct"].to_numpy())
    cust = cur["customers"].to_numpy().astype(float)
    a = finance.resolve(a, SimpleNamespace(revenue_per_customer_year=finance.revenue_per_customer_year(panel, quarter)))
    n = int(a.draws)
    rng = np.random.default_rng([seed, 15])
    econ = finance.draw_economics(a, n, seed)
    beta = rng.normal(cr.estimate, cr.se, n + 1)
    beta[0] = cr.estimate
    kept = 4.0 * float((cust * gap).sum()) / 100.0 * beta  # customers per year
    churn = max(1e-9, 1.0 - float(panel.filter(pl.col("quarter") == quarter)["customers_returned"].sum())
                / max(1.0, float(panel.filter(pl.col("quarter") == quarter)["customers_prev"].sum())))
    cv = finance.customer_value(kept, econ.multiple, econ.retention_cost, econ.revenue_per_customer, econ.margin_share,
                                econ.horizon_months, 3.0 / churn)
    since = since_last(tables, [Q.shift(quarter, -k) for k in range(4)])
    staff = int(since.filter(pl.col("quarter") == quarter).height)
    tr = tables.get("trainings")
    lo_d, hi_d = Q.start(Q.shift(quarter, -3)), Q.end(quarter)
    n_tr = int(_lazy(tr).filter(pl.col("date").is_between(lo_d, hi_d)).select(pl.len()).collect().item()) if tr is not None else 0
    avg_staff = max(1.0, since.height / 4.0)
    now = n_tr / avg_staff
    c = a["cost_per_training"]
    cost_each = np.concatenate([[c.value], finance._triangular(rng, c.value, c.low, c.high, n)])
    target = np.concatenate([[SESSIONS_PER_YEAR[1]], finance._triangular(rng, SESSIONS_PER_YEAR[1], SESSIONS_PER_YEAR[0],
                                                                         SESSIONS_PER_YEAR[2], n)])
    cost = np.maximum(target - now, 0.0) * staff * cost_each
    gross = cv.total
    net = gross - cost

    def q(x: np.ndarray) -> dict[str, float]:  # over the draws (row 0 holds the point values)
        return dict(zip(("p10", "p50", "p90"), finance.quantiles(x[1:])))
    w = cust / cust.sum() if cust.sum() > 0 else np.full(len(cust), 1.0 / max(len(cust), 1))
    g = float((w * gap).sum())
    nps_gain = Estimate("nps_gain", nps.estimate * g, nps.se * g, nps.ci_low * g, nps.ci_high * g, nps.p_value,
                        nps.n, "NPS points: customer-weighted mean over customer-facing units if every unit had 100% of "
                        "its staff trained in the last 6 months")
    return CadenceScenario(a.currency, staff, now, SESSIONS_PER_YEAR, q(cost), q(kept), nps_gain, q(net), q(gross),
                           {"value": c.value, "low": c.low, "high": c.high, "source": c.source, "source_es": c.source_es})


def money(x: float, sc: CadenceScenario, lang: str) -> str:
    """A money figure of the scenario in its currency, compact (``€1.2M``)."""
    return i18n.fmt_money(x, sc.currency, lang, compact=True)


def overdue_headline(c: Cadence, lang: str) -> str:
    """The index's training line: the share overdue (more than 6 months since the latest training, or never)."""
    o = c.overdue
    return i18n.t("tr15_headline", lang, share=i18n.fmt_pct(o.estimate, lang, 0),
                  ci=range_text(o.ci_low, o.ci_high, lang, 0, pct=True),
                  staff=i18n.fmt_number(c.staff, lang))


__all__ = ["since_last", "unit_shares", "cadence", "Cadence", "unit_panel", "fit_unit_training", "UnitTraining",
           "hazard_rows", "fit_training_hazard", "TrainingHazard", "hazard_frame", "unit_frame", "overdue_headline", "np"]
