"""The internal customer: who serves whom inside the company, and whether it reaches the front line's customers.

Every department is at once an internal *supplier* (``from_department``) and an internal *client*
(``to_department``) of others. The ``internal_service`` table comes in three shapes (data/README.md):

* ``ratings``: one row per rating, with ``rater_id`` (the rating employee): every cell's n, SD and CI come
  from the ratings, and the rater's unit says which unit received the service (the first link of the chain);
* ``counts``: one row per quarter and department pair with the pair's mean ``score`` and its respondent count
  ``n``: the CI uses the largest SD a 1-5 mean can have (Bhatia-Davis: sqrt((m-1)(5-m))), so it is never too
  narrow; no unit-level link;
* ``means``: the pair's mean only (neither column): no n and no CI; a cell is shown only when the client
  department had at least the anonymity threshold's headcount (it bounds the raters) in that quarter.

Every cell of the supplier x client matrix is a group: cells below the anonymity threshold are hidden, with
complementary suppression within each quarter's client row and supplier column (:func:`privacy.suppress_small`).

The first link of the service-profit chain: the internal service a customer-facing unit *received* (the mean
rating its own staff gave their suppliers) in quarter q-1 against its engagement, voluntary turnover and NPS in
q: unit-quarter OLS with quarter effects, CR2 errors clustered by unit (``loyalty.cr2_vcov``), and the unit
fixed-effects check. Associations, not causes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go
import polars as pl
from scipy import stats

from . import charts, features, i18n, loyalty, privacy, theme
from . import quarters as Q
from .estimates import Estimate

Frame = pl.DataFrame | pl.LazyFrame
LIKERT_LO, LIKERT_HI = 1.0, 5.0
FRONT_LINE_SHARE = 0.5  # a department (unit) is front line when at least this share of its staff is role frontline
OUTCOMES = {
    "engagement_mean": ("points of the unit's mean engagement answer (1-5) in q per 1-point change in the mean "
                        "internal-service rating its staff gave in q-1", "engagement_n"),
    "voluntary_turnover_pct": ("percentage points of voluntary turnover in q per 1-point change in the q-1 "
                               "internal-service rating", "headcount"),
    "nps": ("NPS points (-100..100) in q per 1-point change in the q-1 internal-service rating", "nps_responses"),
}
EXPOSURE = "internal_service_received"


def _lazy(f: Frame) -> pl.LazyFrame:
    return f.lazy() if isinstance(f, pl.DataFrame) else f


def shape(table: Frame) -> str:
    """``"ratings"`` (a ``rater_id`` column), ``"counts"`` (an ``n`` column) or ``"means"``."""
    lf = _lazy(table)
    names = lf.collect_schema().names()  # the loader adds an optional column the export lacks as all-null
    cols = [c for c in ("rater_id", "n") if c in names]
    filled = lf.select(pl.col(c).is_not_null().any() for c in cols).collect().row(0, named=True) if cols else {}
    return "ratings" if filled.get("rater_id") else "counts" if filled.get("n") else "means"


def _with_ci(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``se``, ``ci_low``, ``ci_high`` from ``mean``, ``sd`` and ``n`` (t interval on n-1 df, clipped to 1-5)."""
    n = df["n"].cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        se = df["sd"].cast(pl.Float64).to_numpy() / np.sqrt(n)
        tq = np.where(n > 1, stats.t.ppf(0.975, np.maximum(n - 1, 1)), np.nan)
    m = df["mean"].to_numpy()
    return df.with_columns(pl.Series("se", se), pl.Series("ci_low", np.clip(m - tq * se, LIKERT_LO, LIKERT_HI)),
                           pl.Series("ci_high", np.clip(m + tq * se, LIKERT_LO, LIKERT_HI))).with_columns(
        pl.col("se", "ci_low", "ci_high").fill_nan(None))


def _bhatia_davis_sd(mean: pl.Expr) -> pl.Expr:
    return ((mean - LIKERT_LO) * (LIKERT_HI - mean)).clip(0, None).sqrt()


def client_headcount(tables: Mapping[str, Frame]) -> pl.LazyFrame:
    """Staff per department on the payroll at the start of each quarter (``quarter``, ``department``, ``headcount``)."""
    emp = _lazy(tables["employees"])
    qs = _lazy(tables["internal_service"]).select(pl.col("quarter").unique()).collect()["quarter"].to_list()
    if not qs:
        return pl.LazyFrame(schema={"quarter": pl.String, "department": pl.String, "headcount": pl.UInt32})
    idx = [Q.parse(q) for q in qs]
    return (features.employment_quarters(emp, min(idx), max(idx), 0)
            .group_by("department", "qi").agg(pl.len().alias("headcount"))
            .select(Q.label_expr("qi").alias("quarter"), "department", "headcount"))


def cells(tables: Mapping[str, Frame], by: tuple[str, ...] = ("quarter", "from_department", "to_department"),
          clients: list[str] | None = None) -> pl.DataFrame:
    """Mean score with n, SD and a 95% CI per group of ``by`` (default: quarter x supplier x client).

    ``clients`` keeps only ratings given by those client departments (e.g. the front line). ``n`` is the number
    of ratings (``ratings`` shape) or respondents (``counts``); null for the ``means`` shape (then ``n_bound``,
    the client departments' headcount, is what the anonymity rule checks).
    """
    t = _lazy(tables["internal_service"]).filter(pl.col("from_department") != pl.col("to_department"))
    if clients is not None:
        t = t.filter(pl.col("to_department").is_in(clients))
    kind = shape(tables["internal_service"])
    s = pl.col("score").cast(pl.Float64)
    if kind == "ratings":
        out = t.group_by(*by).agg(pl.len().alias("n"), pl.col("rater_id").n_unique().alias("raters"),
                                  s.mean().alias("mean"), s.std().alias("sd")).collect()
        out = out.with_columns(pl.col("sd").fill_null(0.0))
    elif kind == "counts":
        w = pl.col("n").cast(pl.Float64)
        out = t.group_by(*by).agg(pl.col("n").sum().cast(pl.Int64).alias("n"), ((s * w).sum() / w.sum()).alias("mean")
                                  ).collect().with_columns(pl.col("n").alias("raters"), _bhatia_davis_sd(pl.col("mean")).alias("sd"))
    else:
        hc = client_headcount(tables).rename({"department": "to_department"})
        t = t.join(hc, on=["quarter", "to_department"], how="left")
        out = t.group_by(*by).agg(s.mean().alias("mean"), pl.col("headcount").sum().alias("n_bound")).collect().with_columns(
            pl.lit(None, pl.Int64).alias("n"), pl.lit(None, pl.Int64).alias("raters"), pl.lit(None, pl.Float64).alias("sd"))
        return out.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("se", "ci_low", "ci_high")).sort(*by)
    return _with_ci(out.with_columns(pl.col("n").cast(pl.Int64), pl.col("raters").cast(pl.Int64))).sort(*by)


def suppress(df: pl.DataFrame, threshold: int, breakdowns: tuple[tuple[str, ...], ...]) -> pl.DataFrame:
    """The anonymity rule on cells: primary suppression below ``threshold`` (n, or ``n_bound`` for the means shape)
    and complementary suppression within each breakdown (e.g. a quarter's client row and supplier column).
    Hidden cells get null in every value column and ``suppressed`` says why ("small" or "complementary")."""
    count = "n" if df["n"].null_count() < df.height or "n_bound" not in df.columns else "n_bound"
    values = [c for c in ("n", "raters", "mean", "sd", "se", "ci_low", "ci_high", "n_bound") if c in df.columns]
    out = df.with_columns(pl.lit(None, pl.String).alias("suppressed"))
    for _ in range(20):  # hiding a cell of a column can leave its row with a single hidden cell: repeat until stable
        before = int(out["suppressed"].is_not_null().sum())
        out = _suppress_pass(out, count, values, threshold, breakdowns)
        if int(out["suppressed"].is_not_null().sum()) == before:
            break
    return out


def _suppress_pass(out: pl.DataFrame, count: str, values: list[str], threshold: int,
                   breakdowns: tuple[tuple[str, ...], ...]) -> pl.DataFrame:
    for groups in breakdowns:
        step = privacy.suppress_small(out.drop("suppressed").with_columns(pl.col(count).alias("_count")), "_count",
                                      threshold, *groups, value_cols=[*values, "_count"], flag_col="_flag")
        out = out.with_columns(
            pl.coalesce(out["suppressed"], step["_flag"]).alias("suppressed"))
        out = out.with_columns(pl.when(pl.col("suppressed").is_null()).then(pl.col(c)).alias(c) for c in values)
        # a cell hidden by one breakdown counts as hidden in the next: its count is null
        if count not in values:
            out = out.with_columns(pl.when(pl.col("suppressed").is_null()).then(pl.col(count)).alias(count))
    return out


@dataclass
class Matrix:
    """Supplier x client cells of every quarter (suppressed), plus each department as supplier and as client."""

    shape: str
    threshold: int
    quarter: str
    cells: pl.DataFrame  # quarter, from_department, to_department, n, raters, mean, sd, se, ci_low, ci_high, suppressed
    as_supplier: pl.DataFrame  # quarter, department, n, mean, ci_low, ci_high, suppressed
    as_client: pl.DataFrame
    departments: list[str]
    front_line: list[str]

    def current(self) -> pl.DataFrame:
        return self.cells.filter(pl.col("quarter") == self.quarter)

    def to_dict(self) -> dict:
        cur = self.current()
        return {"shape": self.shape, "quarter": self.quarter, "threshold": self.threshold,
                "departments": self.departments, "front_line": self.front_line,
                "cells_shown": int(cur["suppressed"].is_null().sum()), "cells_hidden": int(cur["suppressed"].is_not_null().sum())}


def front_line_departments(tables: Mapping[str, Frame]) -> list[str]:
    """Departments that face customers: at least half of their staff have role ``frontline``."""
    return sorted(_lazy(tables["employees"]).group_by("department").agg(
        (pl.col("role") == "frontline").mean().alias("share")).filter(pl.col("share") >= FRONT_LINE_SHARE)
        .collect()["department"].to_list())


def matrix(tables: Mapping[str, Frame], quarter: str, threshold: int = privacy.DEFAULT_THRESHOLD) -> Matrix:
    """Every quarter's supplier x client cells up to ``quarter`` and the departments' scores as supplier and client."""
    t = _lazy(tables["internal_service"]).filter(pl.col("quarter") <= quarter)
    tabs = {**tables, "internal_service": t}
    c = suppress(cells(tabs), threshold, (("quarter", "to_department"), ("quarter", "from_department")))
    sup = suppress(cells(tabs, ("quarter", "from_department")).rename({"from_department": "department"}), threshold,
                   (("quarter",),))
    cli = suppress(cells(tabs, ("quarter", "to_department")).rename({"to_department": "department"}), threshold,
                   (("quarter",),))
    depts = sorted(set(c["from_department"].to_list()) | set(c["to_department"].to_list()))
    return Matrix(shape(tables["internal_service"]), threshold, quarter, c, sup, cli, depts, front_line_departments(tables))


# ------------------------------------------------------------------------------------------ trends and weak links


def trend(df: pl.DataFrame, group: list[str], last: int = 4) -> pl.DataFrame:
    """Per group: the change per quarter over the last ``last`` quarters (weighted least squares of the quarterly
    means on the quarter index, weights 1/se^2) with a 95% CI, and the change against the previous quarter.
    Hidden (suppressed) quarters are left out; groups with fewer than 2 shown quarters get nulls."""
    d = df.filter(pl.col("suppressed").is_null() & pl.col("mean").is_not_null()).with_columns(
        pl.col("quarter").map_elements(Q.parse, return_dtype=pl.Int64).alias("qi"))
    if d.height == 0:
        return pl.DataFrame()
    hi = int(d["qi"].max())
    d = d.filter(pl.col("qi") > hi - last).filter(pl.len().over(group) >= 2)
    if d.height == 0:
        return pl.DataFrame()
    has_se = d["se"].null_count() < d.height
    w = (1.0 / pl.col("se").clip(1e-6, None) ** 2) if has_se else pl.lit(1.0)
    d = d.with_columns(w.alias("w"))
    xm = (pl.col("w") * pl.col("qi")).sum() / pl.col("w").sum()
    agg = d.sort("qi").group_by(group).agg(
        pl.len().alias("quarters"),
        ((pl.col("w") * (pl.col("qi") - xm) * pl.col("mean")).sum() / (pl.col("w") * (pl.col("qi") - xm) ** 2).sum()).alias("slope"),
        (1.0 / (pl.col("w") * (pl.col("qi") - xm) ** 2).sum()).sqrt().alias("slope_se"),
        pl.col("mean").last().alias("last_mean"),
        (pl.col("mean").last() - pl.col("mean").get(pl.len() - 2)).alias("change"),
        (pl.col("se").last() ** 2 + pl.col("se").get(pl.len() - 2) ** 2).sqrt().alias("change_se"),
        pl.col("qi").last().alias("last_qi"), pl.col("qi").get(pl.len() - 2).alias("prev_qi"),
    ).filter(pl.col("quarters") >= 2)
    z = float(stats.norm.ppf(0.975))
    if not has_se:
        agg = agg.with_columns(pl.lit(None, pl.Float64).alias(c) for c in ("slope_se", "change_se"))
    return agg.with_columns(
        (pl.col("slope") - z * pl.col("slope_se")).alias("slope_low"), (pl.col("slope") + z * pl.col("slope_se")).alias("slope_high"),
        (pl.col("change") - z * pl.col("change_se")).alias("change_low"), (pl.col("change") + z * pl.col("change_se")).alias("change_high"),
    ).sort(group)


@dataclass
class WeakLinks:
    """The lowest pairs of the quarter, the pairs that fell most, and the suppliers the front line rates lowest."""

    quarter: str
    lowest: pl.DataFrame  # from_department, to_department, n, mean, ci_low, ci_high
    fell: pl.DataFrame  # from_department, to_department, change, change_low, change_high, last_mean
    front_line: pl.DataFrame  # department (supplier), n, mean, ci_low, ci_high, slope, slope_low, slope_high, rank
    front_line_clients: list[str]

    def weakest(self) -> dict | None:
        return self.lowest.row(0, named=True) if self.lowest.height else None

    def front_line_lowest(self) -> dict | None:
        return self.front_line.row(0, named=True) if self.front_line.height else None

    def to_dict(self) -> dict:
        def rows(df: pl.DataFrame) -> list[dict]:
            return df.to_dicts()
        return {"quarter": self.quarter, "lowest": rows(self.lowest), "fell_most": rows(self.fell),
                "front_line_suppliers": rows(self.front_line), "front_line_clients": self.front_line_clients}


def weak_links(tables: Mapping[str, Frame], m: Matrix, k: int = 5) -> WeakLinks:
    """The ``k`` pairs that score lowest in ``m.quarter`` (shown cells only), the ``k`` that fell most against the
    previous quarter, and every supplier as rated by the front-line departments (lowest first, with its trend)."""
    cur = m.current().filter(pl.col("suppressed").is_null())
    lowest = cur.sort("mean", "from_department", "to_department").head(k).select(
        "from_department", "to_department", "n", "mean", "ci_low", "ci_high")
    tr = trend(m.cells, ["from_department", "to_department"])
    qi = Q.parse(m.quarter)
    fell = (tr.filter((pl.col("last_qi") == qi) & (pl.col("prev_qi") == qi - 1)).sort("change").head(k)
            .select("from_department", "to_department", "last_mean", "change", "change_low", "change_high")
            if tr.height else pl.DataFrame())
    front = m.front_line
    fl = pl.DataFrame()
    if front:
        t = {**tables, "internal_service": _lazy(tables["internal_service"]).filter(pl.col("quarter") <= m.quarter)}
        fc = suppress(cells(t, ("quarter", "from_department"), clients=front).rename({"from_department": "department"}),
                      m.threshold, (("quarter",),))
        ftr = trend(fc, ["department"])
        fl = fc.filter((pl.col("quarter") == m.quarter) & pl.col("suppressed").is_null() & ~pl.col("department").is_in(front))
        if ftr.height:
            fl = fl.join(ftr.select("department", "slope", "slope_low", "slope_high", "quarters"), on="department", how="left")
        fl = fl.sort("mean", "department").select(
            "department", "n", "mean", "ci_low", "ci_high",
            *[c for c in ("slope", "slope_low", "slope_high", "quarters") if c in fl.columns])
    return WeakLinks(m.quarter, lowest, fell, fl, front)


# ------------------------------------------------------------------------------------------ the first link


def received_by_unit(tables: Mapping[str, Frame]) -> pl.DataFrame | None:
    """Per unit and quarter: the mean rating the unit's own staff gave their internal suppliers (the service the
    unit received), its number of ratings and raters. None unless the table has one row per rating (rater_id)."""
    t = tables["internal_service"]
    if shape(t) != "ratings":
        return None
    emp = _lazy(tables["employees"]).select(pl.col("employee_id").alias("rater_id"), "unit_id")
    return (_lazy(t).filter(pl.col("from_department") != pl.col("to_department")).join(emp, on="rater_id", how="inner")
            .group_by("unit_id", "quarter").agg(
                pl.col("score").cast(pl.Float64).mean().alias(EXPOSURE), pl.len().alias(f"{EXPOSURE}_n"),
                pl.col("rater_id").n_unique().alias(f"{EXPOSURE}_raters"))
            .collect())


def front_line_units(tables: Mapping[str, Frame]) -> list[str]:
    """Units that face customers: at least half of their staff (ever on the payroll) have role ``frontline``."""
    return (_lazy(tables["employees"]).group_by("unit_id").agg((pl.col("role") == "frontline").mean().alias("s"))
            .filter(pl.col("s") >= FRONT_LINE_SHARE).collect()["unit_id"].to_list())


def link_panel(tables: Mapping[str, Frame], uq: pl.DataFrame | None = None) -> pl.DataFrame | None:
    """``features.unit_quarters`` plus the internal service the unit received in q (``internal_service_received``,
    its ``_n``) and in q-1 (``_lag``, ``_n_lag``) and q-2 (``_lag2``), front-line units only. None without ratings."""
    rec = received_by_unit(tables)
    if rec is None:
        return None
    uq = features.unit_quarters(tables) if uq is None else uq
    front = front_line_units(tables)
    cols = [EXPOSURE, f"{EXPOSURE}_n"]
    p = (uq.filter(pl.col("unit_id").is_in(front)).join(rec.drop(f"{EXPOSURE}_raters"), on=["unit_id", "quarter"], how="left")
         .sort("unit_id", "qi"))
    return p.with_columns(
        *[pl.col(c).shift(1).over("unit_id", order_by="qi").alias(f"{c}_lag") for c in cols],
        pl.col(EXPOSURE).shift(2).over("unit_id", order_by="qi").alias(f"{EXPOSURE}_lag2"),
        pl.col(f"{EXPOSURE}_n").shift(2).over("unit_id", order_by="qi").alias(f"{EXPOSURE}_n_lag2"),
        pl.col("engagement_mean").shift(1).over("unit_id", order_by="qi").alias("engagement_mean_lag")
        if "engagement_mean" in p.columns else pl.lit(None, pl.Float64).alias("engagement_mean_lag"),
        pl.col("engagement_n").shift(1).over("unit_id", order_by="qi").alias("engagement_n_lag")
        if "engagement_n" in p.columns else pl.lit(None, pl.Int64).alias("engagement_n_lag"),
    )


@dataclass
class LinkModel:
    """One outcome on the lagged exposure: pooled (quarter effects) and unit fixed effects, CR2 by unit."""

    outcome: str
    exposure: str
    pooled: Estimate
    unit_fe: Estimate | None
    n_obs: int
    n_units: int
    controls: list[str] = field(default_factory=list)
    df: float = float("nan")
    mde: float = float("nan")

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "exposure": self.exposure, "pooled": self.pooled.to_dict(),
                "unit_fe": self.unit_fe.to_dict() if self.unit_fe else None, "n_obs": self.n_obs, "n_units": self.n_units,
                "controls": self.controls, "df": self.df, "mde": self.mde, "method": loyalty.INFERENCE_METHOD}


def fit_lagged(rows: pl.DataFrame, outcome: str, exposures: list[str], controls: list[str], scale: str,
               spec: str = "pooled") -> tuple[dict[str, Estimate], int, int, dict[str, float], dict[str, float]]:
    """OLS of ``outcome`` on ``exposures`` + ``controls`` + quarter dummies (+ unit effects when spec='unit_fe'),
    CR2 covariance clustered by unit with Satterthwaite df (loyalty's machinery). Returns (effects, n, units, df, mde)."""
    if spec == "unit_fe":
        rows = rows.filter(pl.len().over("unit_id") > 1)
    n_units = rows["unit_id"].n_unique() if rows.height else 0
    regs = [*exposures, *controls]
    if rows.height < len(regs) + 10 or n_units < 5:
        raise ValueError(f"too few unit-quarters for the {outcome} model ({rows.height} rows, {n_units} units)")
    qd, _ = loyalty._quarter_dummies(rows)
    X = np.column_stack([rows.select(regs).to_numpy().astype(float), qd])
    y = rows[outcome].to_numpy().astype(float)
    groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    if spec == "unit_fe":
        (y, X), off = loyalty.within(y, X, groups), 0
    else:
        X, off = np.column_stack([np.ones(len(y)), X]), 1
    res = loyalty._ols(y, X)
    cov, dfs = loyalty.cr2_vcov(X, np.asarray(res.resid), groups)
    se = np.sqrt(np.diag(cov))
    eff = {e: loyalty._t_estimate(e, res.params[i + off], se[i + off], dfs[i + off], rows.height, scale)
           for i, e in enumerate(exposures)}
    df = {e: float(dfs[i + off]) for i, e in enumerate(exposures)}
    mde = {e: loyalty.minimum_detectable_effect(se[i + off], dfs[i + off]) for i, e in enumerate(exposures)}
    return eff, rows.height, n_units, df, mde


CONTROLS = tuple(f"{d}_lag" for d in features.DRIVERS)


@dataclass
class FirstLink:
    """The internal service a front-line unit received (q-1) against its engagement, voluntary turnover, NPS (q)."""

    models: dict[str, LinkModel]
    mediation: object | None = None  # mediation.Mediation: exposure q-2 -> engagement q-1 -> NPS q (q-1 service fixed)
    problems: dict[str, str] = field(default_factory=dict)

    def effects(self) -> dict[str, Estimate]:
        return {o: m.pooled for o, m in self.models.items()}

    def to_dict(self) -> dict:
        out = {"effects": {o: e.to_dict() for o, e in self.effects().items()},
               "effects_unit_fe": {o: m.unit_fe.to_dict() for o, m in self.models.items() if m.unit_fe},
               "models": {o: m.to_dict() for o, m in self.models.items()}, "problems": dict(self.problems),
               "exposure": "mean internal-service rating (1-5) the unit's own staff gave their internal suppliers in q-1"}
        if self.mediation is not None:
            out["mediation"] = self.mediation.to_dict()
        return out


def first_link(panel: pl.DataFrame, threshold: int = privacy.DEFAULT_THRESHOLD, mediation_boot: int = 400,
               seed: int = 7) -> FirstLink:
    """Fit the three lagged models (and the mediation through engagement when there are three quarters)."""
    from . import mediation as med

    models, problems = {}, {}
    controls = [c for c in CONTROLS if c in panel.columns and panel[c].null_count() < panel.height]
    for outcome, (scale, n_col) in OUTCOMES.items():
        if outcome not in panel.columns:
            problems[outcome] = f"no {outcome} in the data"
            continue
        rows = panel.drop_nulls([outcome, f"{EXPOSURE}_lag", *controls]).filter(
            (pl.col(f"{EXPOSURE}_n_lag") >= threshold) & (pl.col(n_col) >= threshold))
        try:
            pooled, n, g, df, mde = fit_lagged(rows, outcome, [f"{EXPOSURE}_lag"], controls, scale)
            try:
                fe = fit_lagged(rows, outcome, [f"{EXPOSURE}_lag"], controls, scale, "unit_fe")[0][f"{EXPOSURE}_lag"]
            except ValueError as e:
                fe, problems[f"{outcome}.unit_fe"] = None, str(e)
            key = f"{EXPOSURE}_lag"
            models[outcome] = LinkModel(outcome, key, pooled[key], fe, n, g, controls, df[key], mde[key])
        except ValueError as e:
            problems[outcome] = str(e)
    mediation = None
    need = [f"{EXPOSURE}_lag2", "engagement_mean_lag", "nps"]
    if all(c in panel.columns for c in need):
        held = [f"{EXPOSURE}_lag", *controls]  # q-1: the service received and the drivers NPS responds to
        need += held
        rows = panel.drop_nulls(need).filter((pl.col(f"{EXPOSURE}_n_lag2") >= threshold) & (pl.col(f"{EXPOSURE}_n_lag") >= threshold)
                                             & (pl.col("engagement_n_lag") >= threshold) & (pl.col("nps_responses") >= threshold))
        qcols = [f"q_{q}" for q in sorted(rows["quarter"].unique().to_list())[1:]]
        rows = rows.with_columns((pl.col("quarter") == q[2:]).cast(pl.Float64).alias(q) for q in qcols)
        try:
            # the service received in q-1 (the same suppliers) and the q-1 recognition, empowerment and leadership
            # that NPS in q responds to also go with engagement in q-1: held fixed in the outcome model
            # (post-exposure confounders of mediator and outcome; interventional indirect effect, mediation.py)
            mediation = med.mediate(rows, f"{EXPOSURE}_lag2", "engagement_mean_lag", "nps", covariates=qcols,
                                    cluster="unit_id", contrast=(0.0, 1.0), n_boot=mediation_boot, seed=seed,
                                    outcome_covariates=held)
        except ValueError as e:
            problems["mediation"] = str(e)
    return FirstLink(models, mediation, problems)


# ------------------------------------------------------------------------------------------ figures


def fig_matrix(m: Matrix, lang: str, title: str, x_title: str, y_title: str) -> go.Figure:
    """Heat map of the quarter: suppliers (rows) x internal clients (columns), mean score with n; hidden cells blank."""
    cur = m.current()
    sup = sorted(cur["from_department"].unique().to_list())
    cli = sorted(cur["to_department"].unique().to_list())
    look = {(r["from_department"], r["to_department"]): r for r in cur.iter_rows(named=True)}
    z, text = [], []
    for s in sup:
        zr, tr = [], []
        for c in cli:
            r = look.get((s, c))
            if r is None or r["mean"] is None:
                zr.append(None)
                tr.append("" if r is None or s == c else "·")
            else:
                zr.append(round(r["mean"], 2))
                n = i18n.fmt_number(r["n"], lang) if r["n"] is not None else "?"
                tr.append(f"{i18n.fmt_number(r['mean'], lang, 1)}<br>n={n}")
        z.append(zr)
        text.append(tr)
    fig = go.Figure(go.Heatmap(
        z=z, x=cli, y=sup, text=text, texttemplate="%{text}", textfont=dict(size=11), zmin=1, zmax=5,
        colorscale=[[0, "#b2182b"], [0.5, "#f7f7f7"], [1, "#2166ac"]], hoverongaps=False,
        hovertemplate="%{y} → %{x}: %{z:.2f}<extra></extra>", colorbar=dict(title=dict(text="1-5"))))
    fig.update_layout(height=max(360, 130 + 46 * len(sup)), xaxis=dict(title=x_title, side="bottom"),
                      yaxis=dict(title=y_title, autorange="reversed"), margin=dict(l=24, r=24, b=96))
    charts.finding_title(fig, title)
    return charts.localize(fig, lang)


def fig_supplier_trend(m: Matrix, lang: str, title: str, y_title: str, departments: list[str] | None = None) -> go.Figure:
    """Each department's score as a supplier per quarter (shown quarters only), with its 95% CI as a band."""
    d = m.as_supplier.filter(pl.col("suppressed").is_null())
    if departments:
        d = d.filter(pl.col("department").is_in(departments))
    fig = go.Figure()
    for i, dep in enumerate(sorted(d["department"].unique().to_list())):
        s = d.filter(pl.col("department") == dep).sort("quarter")
        xs = [i18n.fmt_quarter(q, lang) for q in s["quarter"].to_list()]
        fig.add_trace(go.Scatter(x=xs, y=s["mean"].to_list(), mode="lines+markers", name=dep,
                                 line=dict(color=charts._colour(i)),
                                 error_y=dict(type="data", symmetric=False,
                                              array=[(h - v) if h is not None else 0 for h, v in zip(s["ci_high"], s["mean"])],
                                              arrayminus=[(v - lo) if lo is not None else 0 for lo, v in zip(s["ci_low"], s["mean"])],
                                              thickness=1, width=3)))
    fig.update_layout(height=420, yaxis=dict(title=y_title, range=[1, 5]), xaxis=dict(title=None))
    charts.finding_title(fig, title, legend=True)
    return charts.localize(fig, lang)


def link_frame(fl: FirstLink) -> pl.DataFrame:
    """The first link's estimates for a forest plot: one row per outcome and specification."""
    rows = []
    for o, m in fl.models.items():
        for spec, e in (("pooled", m.pooled), ("unit_fe", m.unit_fe)):
            if e is not None:
                rows.append({"outcome": o, "spec": spec, "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high})
    return pl.DataFrame(rows)


def range_text(lo: float | None, hi: float | None, lang: str, decimals: int = 2, pct: bool = False) -> str:
    """``2.4 to 2.6`` (``2,4 a 2,6``): a 95% range without its estimate (the sentence says the estimate)."""
    if lo is None or hi is None or not (is_finite(lo) and is_finite(hi)):
        return i18n.MISSING
    f = (lambda x: i18n.fmt_pct(x, lang, decimals)) if pct else (lambda x: i18n.fmt_number(x, lang, decimals))
    return f"{f(lo)} {'a' if i18n.base(lang) == 'es' else 'to'} {f(hi)}"


def est_range(e: Estimate, lang: str, decimals: int = 2) -> str:
    """An estimate's 95% range as text (:func:`range_text`)."""
    return range_text(e.ci_low, e.ci_high, lang, decimals)


def shown(df: pl.DataFrame, quarter: str) -> pl.DataFrame:
    """The rows of ``quarter`` that the anonymity rule lets a page show."""
    return df.filter((pl.col("quarter") == quarter) & pl.col("suppressed").is_null())


def headline(wl: WeakLinks, lang: str) -> str | None:
    """The index's internal-service line: the weakest link of the quarter (and the front line's lowest supplier)."""
    w = wl.weakest()
    if w is None:
        return None
    if w["n"] is None and w["ci_low"] is None:  # an export of means only: no count, no interval to quote
        txt = i18n.t("rvw_is_headline_means", lang, supplier=w["from_department"], client=w["to_department"],
                     score=i18n.fmt_number(w["mean"], lang, 1))
    else:
        txt = i18n.t("is15_headline", lang, supplier=w["from_department"], client=w["to_department"],
                     score=i18n.fmt_number(w["mean"], lang, 1),
                     ci=range_text(w["ci_low"], w["ci_high"], lang, 1),
                     n=i18n.fmt_number(w["n"], lang) if w["n"] is not None else i18n.MISSING)
    f = wl.front_line_lowest()
    if f is not None:
        falling = f.get("slope_high") is not None and f["slope_high"] < 0
        txt += " " + i18n.t("is15_headline_front_falling" if falling else "is15_headline_front", lang,
                            supplier=f["department"], score=i18n.fmt_number(f["mean"], lang, 1))
    return txt


def is_finite(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


__all__ = ["shape", "cells", "suppress", "matrix", "Matrix", "trend", "weak_links", "WeakLinks", "received_by_unit",
           "link_panel", "first_link", "FirstLink", "LinkModel", "fig_matrix", "fig_supplier_trend", "headline", "theme"]
