"""Customer loyalty: does last quarter's employee experience predict this quarter's NPS and customer retention?

Unit-quarter regressions. The main ("between and within") specification is
pooled OLS with quarter effects and standard errors clustered by unit. The
robustness check adds unit fixed effects, so only changes *within* a unit over
time identify the effects: stable differences between units (location,
clientele) cannot drive it. When the two agree, the association is not just
"good units are good at everything"; when they differ, say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import polars as pl
import statsmodels.api as sm

from . import charts, i18n
from .estimates import Estimate, ResultMixin
from .features import DRIVERS, UNIT_DRIVERS
from .notebook import fmt

# The employee-experience drivers a finding may name (UNIT_DRIVERS also holds the unit's turnover, a control here).
EX_DRIVERS = DRIVERS

OUTCOMES = {
    "nps": ("NPS points (-100..100) per unit change in the unit's previous-quarter driver", "nps_responses", 5),
    "customer_retention_pct": ("percentage points of last quarter's customers who came back, per unit change in the "
                               "unit's previous-quarter driver", "customers_prev", 10),
}

SMALL_CLUSTERS = 30  # below this many units the page says so and shows the minimum detectable effect
INFERENCE_METHOD = "CR2 (Bell-McCaffrey) cluster-robust variance, t critical values with Satterthwaite degrees of freedom"
DIFF_TEST = ("Mundlak auxiliary regression (pooled model + unit means of the lagged drivers and quarter dummies): "
             "H0 between-unit = within-unit slope; CR2 t (Satterthwaite df) per driver, CR2 Wald F(q, G-1) joint")
DIFF_LEVEL = 0.05  # a driver's pooled and within-unit estimates "differ" when the test's p is below this


@dataclass(repr=False)
class UnitModel(ResultMixin):
    """A unit-quarter OLS of ``outcome`` on the lagged drivers (``<driver>_lag``), CR2 cluster-robust by unit.

    Fitted by least squares here (statsmodels has no CR2 covariance), so there is no statsmodels result:
    ``params``/``cov``/``names`` hold every coefficient; ``summary()``/``to_frame()`` the drivers' effects."""

    outcome: str
    spec: str  # "pooled" | "unit_fe"
    effects: dict[str, Estimate]
    n_obs: int
    n_units: int
    r2: float
    outcome_mean: float
    params: np.ndarray
    cov: np.ndarray
    names: list[str] = field(default_factory=list)  # one per entry of params
    method: str = INFERENCE_METHOD
    df: dict[str, float] = field(default_factory=dict)  # Satterthwaite df per driver
    mde: dict[str, float] = field(default_factory=dict)  # minimum detectable effect (80% power, 5% two-sided)
    notes: list[str] = field(default_factory=list)  # e.g. the small-cluster note below SMALL_CLUSTERS units
    # unit_fe only: the cluster-robust test of between vs within (mundlak_test): per driver and joint
    difference: dict[str, dict[str, float]] = field(default_factory=dict)
    difference_joint: dict[str, float] = field(default_factory=dict)

    _title: ClassVar[str] = "Unit-quarter OLS (CR2 cluster-robust SE)"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return [(self.spec, e) for e in self.effects.values()]

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", f"{self.outcome} on lagged drivers, quarter effects"
                 + (", unit fixed effects" if self.spec == "unit_fe" else "")), ("method", self.method),
                ("unit-quarters", self.n_obs), ("clusters", self.n_units), ("R2", self.r2),
                ("outcome mean", self.outcome_mean)]

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "spec": self.spec, "effects": {k: v.to_dict() for k, v in self.effects.items()},
                "n_obs": self.n_obs, "n_units": self.n_units, "r2": self.r2, "outcome_mean": self.outcome_mean,
                "params": dict(zip(self.names, (float(x) for x in self.params))), "param_names": list(self.names),
                "cov": [[float(x) for x in row] for row in self.cov], "method": self.method,
                "n_clusters": self.n_units, "df": dict(self.df), "mde": dict(self.mde), "notes": list(self.notes),
                **({"difference_test": {"method": DIFF_TEST, "per_driver": self.difference,
                                        "joint": self.difference_joint}} if self.difference else {})}


def model_rows(uq: pl.DataFrame, outcome: str, drivers: tuple[str, ...] = UNIT_DRIVERS) -> pl.DataFrame:
    """Unit-quarters with the outcome, enough answers behind it, and every lagged driver."""
    _, n_col, min_n = OUTCOMES[outcome]
    lags = [f"{d}_lag" for d in drivers]
    return uq.drop_nulls([outcome, *lags]).filter(pl.col(n_col) >= min_n).filter(pl.col("respondents_lag") > 0)


def within(y: np.ndarray, X: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The within (unit fixed-effects) transformation, Frisch-Waugh: ``y`` and every column of ``X`` (quarter
    dummies included) minus their mean in each group."""
    frame = pl.DataFrame(np.column_stack([y, X]), schema=[f"c{i}" for i in range(X.shape[1] + 1)]).with_columns(
        pl.Series("g", groups))
    dm = frame.select([(pl.col(c) - pl.col(c).mean().over("g")) for c in frame.columns if c != "g"]).to_numpy()
    return dm[:, 0], dm[:, 1:]


def _quarter_dummies(rows: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    qs = sorted(rows["quarter"].unique().to_list())
    if len(qs) < 2:
        return np.zeros((rows.height, 0)), []
    d = rows.select([(pl.col("quarter") == q).cast(pl.Float64).alias(f"quarter[{q}]") for q in qs[1:]])
    return d.to_numpy(), d.columns


def fit_unit_model(uq: pl.DataFrame, outcome: str = "nps", drivers: tuple[str, ...] = UNIT_DRIVERS,
                   spec: str = "pooled") -> UnitModel:
    """OLS of a unit-quarter outcome on lagged drivers (+ quarter effects; + unit effects when spec='unit_fe')."""
    if spec not in ("pooled", "unit_fe"):
        raise ValueError("spec must be 'pooled' or 'unit_fe'")
    scale, _, _ = OUTCOMES[outcome]
    rows = all_rows = model_rows(uq, outcome, drivers)
    if spec == "unit_fe":  # a unit seen once carries no within-unit information
        rows = rows.filter(pl.len().over("unit_id") > 1)
    n_units = rows["unit_id"].n_unique()
    if rows.height < len(drivers) + 10 or n_units < 5:
        raise ValueError(f"too few unit-quarters for the {outcome} model ({rows.height} rows, {n_units} units)")
    lags = [f"{d}_lag" for d in drivers]
    qd, q_names = _quarter_dummies(rows)
    X = np.column_stack([rows.select(lags).to_numpy().astype(float), qd])
    y = rows[outcome].to_numpy().astype(float)
    groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    if spec == "unit_fe":
        y, X = within(y, X, groups)
    else:
        X = np.column_stack([np.ones(len(y)), X])
    res = _ols(y, X)
    cov, dfs = cr2_vcov(X, np.asarray(res.resid), groups)
    off = 0 if spec == "unit_fe" else 1
    se = np.sqrt(np.diag(cov))
    effects = {d: _t_estimate(d, res.params[i + off], se[i + off], dfs[i + off], rows.height, scale)
               for i, d in enumerate(drivers)}
    df = {d: float(dfs[i + off]) for i, d in enumerate(drivers)}
    mde = {d: minimum_detectable_effect(se[i + off], dfs[i + off]) for i, d in enumerate(drivers)}
    notes = [small_cluster_note(n_units, mde)] if n_units < SMALL_CLUSTERS else []
    names = [*lags, *q_names] if spec == "unit_fe" else ["const", *lags, *q_names]
    diff, joint = mundlak_test(all_rows, outcome, drivers) if spec == "unit_fe" else ({}, {})
    return UnitModel(outcome, spec, effects, rows.height, n_units, float(res.rsquared),
                     float(rows[outcome].mean()), np.asarray(res.params), cov, names,
                     INFERENCE_METHOD, df, mde, notes, diff, joint)


def mundlak_test(rows: pl.DataFrame, outcome: str, drivers: tuple[str, ...] = UNIT_DRIVERS
                 ) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Cluster-robust test that the between-unit and the within-unit (fixed-effects) slopes are equal.

    Mundlak (1978) auxiliary regression on the pooled model's rows: y ~ 1 + x + quarter dummies
    + the unit means of x and of the quarter dummies (means that add no dimension dropped). Its x coefficients
    equal the unit fixed-effects estimates, and the coefficient gamma of a driver's unit mean is
    the between-unit minus the within-unit slope; the pooled estimate mixes the two, so gamma = 0
    is the hypothesis "pooled and fixed effects estimate the same thing". Per driver: CR2 t test
    with Satterthwaite df; all drivers: CR2 Wald statistic / q against F(q, G-1). Returns
    ({driver: {between_minus_within, se, df, p_value}}, {statistic, df1, df2, p_value}).
    """
    from scipy import stats

    lags = [f"{d}_lag" for d in drivers]
    qd, _ = _quarter_dummies(rows)
    X = np.column_stack([rows.select(lags).to_numpy().astype(float), qd])
    groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    frame = pl.DataFrame(X, schema=[f"c{i}" for i in range(X.shape[1])]).with_columns(pl.Series("g", groups))
    means = frame.select([pl.col(c).mean().over("g") for c in frame.columns if c != "g"]).to_numpy()
    Z = np.column_stack([np.ones(rows.height), X, means[:, :len(lags)]])
    for j in range(len(lags), means.shape[1]):  # a quarter dummy's unit mean only where it adds a dimension
        cand = np.column_stack([Z, means[:, j]])
        if np.linalg.matrix_rank(cand.T @ cand, hermitian=True) == cand.shape[1]:  # p x p: cheap
            Z = cand
    res = _ols(rows[outcome].to_numpy().astype(float), Z)
    cov, dfs = cr2_vcov(Z, np.asarray(res.resid), groups)
    idx = 1 + X.shape[1] + np.arange(len(lags))  # the unit means of the drivers come first among the means
    gamma, V = np.asarray(res.params)[idx], cov[np.ix_(idx, idx)]
    per = {}
    for j, d in enumerate(drivers):
        se = float(np.sqrt(V[j, j]))
        p = float(2 * stats.t.sf(abs(gamma[j] / se), dfs[idx[j]])) if se > 0 else float("nan")
        per[d] = {"between_minus_within": float(gamma[j]), "se": se, "df": float(dfs[idx[j]]), "p_value": p}
    G, q = int(groups.max()), len(lags)
    W = float(gamma @ np.linalg.pinv(V) @ gamma)
    joint = {"statistic": W / q, "df1": q, "df2": G - 1, "p_value": float(stats.f.sf(W / q, q, max(G - 1, 1)))}
    return per, joint


def small_cluster_note(n_units: int, mde: dict[str, float]) -> str:
    """Machine-readable English note for results below SMALL_CLUSTERS units (report wording lives in i18n)."""
    parts = ", ".join(f"{d} {v:.2g}" for d, v in mde.items())
    return (f"with {n_units} units, effects smaller than X cannot be told from zero (X = minimum detectable effect at "
            f"80% power, 5% two-sided: {parts})")


def side_by_side(uq: pl.DataFrame, outcome: str, drivers: tuple[str, ...] = UNIT_DRIVERS) -> pl.DataFrame:
    """Pooled and unit-FE estimates in one table, one row per driver and specification."""
    rows = []
    for spec in ("pooled", "unit_fe"):
        m = fit_unit_model(uq, outcome, drivers, spec)
        rows += [{"spec": spec, "driver": d, "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
                  "n_obs": m.n_obs, "n_units": m.n_units} for d, e in m.effects.items()]
    return pl.DataFrame(rows)


@dataclass
class MomentsOfTruth:
    """Which touchpoint's satisfaction moves customer retention most."""

    table: pl.DataFrame  # touchpoint, estimate (pp per +10 NPS points), ci_low, ci_high, n_obs, mean_nps, responses
    outcome: str

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "per_10_nps_points": self.table.to_dicts()}


def moments_of_truth(uq: pl.DataFrame, tp: pl.DataFrame, outcome: str = "customer_retention_pct",
                     min_responses: int = 5, drivers: tuple[str, ...] = UNIT_DRIVERS) -> MomentsOfTruth:
    """For each touchpoint: retention this quarter on that touchpoint's NPS this quarter (per 10 points).

    Controls for the unit's lagged drivers and quarter effects; errors clustered by
    unit. Touchpoint NPS is measured in the same quarter as retention, so this is
    the weakest design in the suite: read it as a ranking of where satisfaction and
    loyalty move together, not as a causal effect.
    """
    base = model_rows(uq, outcome, drivers)
    out = []
    for name in sorted(tp["touchpoint"].unique().to_list()):
        t = tp.filter((pl.col("touchpoint") == name) & (pl.col("responses") >= min_responses)).select(
            "unit_id", "qi", pl.col("nps").alias("tp_nps"), pl.col("responses").alias("tp_responses"))
        rows = base.join(t, on=["unit_id", "qi"], how="inner")
        if rows.height < 30 or rows["unit_id"].n_unique() < 5:
            continue
        qd, _ = _quarter_dummies(rows)
        X = np.column_stack([np.ones(rows.height), rows["tp_nps"].to_numpy() / 10.0,
                             rows.select([f"{d}_lag" for d in drivers]).to_numpy().astype(float), qd])
        groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
        res = sm.OLS(rows[outcome].to_numpy().astype(float), X).fit()
        cov, dfs = cr2_vcov(X, np.asarray(res.resid), groups)
        e = _t_estimate(name, res.params[1], float(np.sqrt(cov[1, 1])), dfs[1], rows.height,
                        "pp of customer retention per +10 NPS points at this touchpoint")
        out.append({"touchpoint": name, "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high,
                    "p_value": e.p_value, "n_obs": rows.height, "mean_nps": float(rows["tp_nps"].mean()),
                    "responses": int(rows["tp_responses"].sum())})
    table = pl.DataFrame(out).sort("estimate", descending=True) if out else pl.DataFrame()
    return MomentsOfTruth(table, outcome)


def compare_specs(pooled: UnitModel, fe: UnitModel) -> pl.DataFrame:
    """Do the pooled and the unit fixed-effects estimates differ? One row per driver.

    ``difference_p``: p-value of the cluster-robust test of the difference (:func:`mundlak_test`,
    stored on the fixed-effects model); ``differ``: p < DIFF_LEVEL. A driver that does not
    differ is *not shown to agree*: the within-unit estimate is often imprecise, because only
    changes inside a unit over time count (``fe_significant``: it alone excludes zero).
    """
    if not fe.difference:
        raise ValueError("the fixed-effects model carries no difference test (fit it with fit_unit_model)")
    rows = []
    for d, p in pooled.effects.items():
        f, t = fe.effects[d], fe.difference[d]
        rows.append({"driver": d, "pooled": p.estimate, "pooled_low": p.ci_low, "pooled_high": p.ci_high,
                     "unit_fe": f.estimate, "unit_fe_low": f.ci_low, "unit_fe_high": f.ci_high,
                     "between_minus_within": t["between_minus_within"], "difference_p": t["p_value"],
                     "differ": bool(t["p_value"] < DIFF_LEVEL), "same_sign": (p.estimate > 0) == (f.estimate > 0),
                     "pooled_significant": p.significant, "fe_significant": f.significant})
    return pl.DataFrame(rows)


@dataclass(repr=False)
class LoyaltyResults(ResultMixin):
    """Everything the customer-loyalty notebook reports and saves (each model is a :class:`UnitModel`)."""

    nps: UnitModel
    nps_fe: UnitModel
    retention: UnitModel
    retention_fe: UnitModel
    moments: MomentsOfTruth | None

    _title: ClassVar[str] = "Customer loyalty: unit-quarter models (CR2 cluster-robust SE)"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return [(f"{m.outcome} {m.spec}", e) for m in (self.nps, self.nps_fe, self.retention, self.retention_fe)
                for e in m.effects.values()]

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", "unit-quarter OLS, quarter effects; robustness: unit fixed effects"),
                ("method", INFERENCE_METHOD), ("unit-quarters (NPS)", self.nps.n_obs), ("clusters", self.nps.n_units),
                ("unit-quarters (retention)", self.retention.n_obs)]

    def _notes(self) -> list[str]:
        return list(dict.fromkeys([*self.nps.notes, *self.retention.notes]))

    def to_dict(self) -> dict:
        """The results contract (``effects`` on the truth.json ``loyalty`` scale: the pooled NPS model)."""
        eff = lambda m: {k: {**v.to_dict()} for k, v in m.effects.items()}  # noqa: E731
        return {
            "model": "unit-quarter OLS, quarter effects, unit-clustered SE; robustness: unit fixed effects",
            "method": INFERENCE_METHOD, "n_clusters": self.nps.n_units, "df": dict(self.nps.df),
            "mde": dict(self.nps.mde), "notes": list(self.nps.notes),
            "effects": eff(self.nps), "effects_unit_fe": eff(self.nps_fe),
            "n_obs": self.nps.n_obs, "n_units": self.nps.n_units, "r2": self.nps.r2,
            "outcome_mean": self.nps.outcome_mean,
            "params": dict(zip(self.nps.names, (float(x) for x in self.nps.params))),
            "param_names": list(self.nps.names), "cov": [[float(x) for x in r] for r in self.nps.cov],
            "customer_retention": {
                "effects": eff(self.retention), "effects_unit_fe": eff(self.retention_fe),
                "n_obs": self.retention.n_obs, "n_units": self.retention.n_units, "r2": self.retention.r2,
                "outcome_mean": self.retention.outcome_mean,
                "params": dict(zip(self.retention.names, (float(x) for x in self.retention.params))),
                "param_names": list(self.retention.names),
                "cov": [[float(x) for x in r] for r in self.retention.cov],
                "method": INFERENCE_METHOD, "n_clusters": self.retention.n_units, "df": dict(self.retention.df),
                "mde": dict(self.retention.mde), "notes": list(self.retention.notes),
            },
            "agreement": {
                "test": DIFF_TEST, "level": DIFF_LEVEL,
                "nps": compare_specs(self.nps, self.nps_fe)
                .select("driver", "between_minus_within", "difference_p", "differ", "same_sign").to_dicts(),
                "customer_retention": compare_specs(self.retention, self.retention_fe)
                .select("driver", "between_minus_within", "difference_p", "differ", "same_sign").to_dicts(),
                "joint": {"nps": dict(self.nps_fe.difference_joint),
                          "customer_retention": dict(self.retention_fe.difference_joint)},
            },
            "moments_of_truth": self.moments.table.to_dicts() if self.moments is not None and self.moments.table.height else [],
        }


def fit_all(uq: pl.DataFrame, tp: pl.DataFrame | None = None, drivers: tuple[str, ...] = UNIT_DRIVERS,
            min_responses: int = 5) -> LoyaltyResults:
    """Pooled and unit-FE models of NPS and customer retention, plus moments of truth when touchpoints exist."""
    mot = moments_of_truth(uq, tp, min_responses=min_responses, drivers=drivers) if tp is not None and tp.height else None
    return LoyaltyResults(
        fit_unit_model(uq, "nps", drivers, "pooled"), fit_unit_model(uq, "nps", drivers, "unit_fe"),
        fit_unit_model(uq, "customer_retention_pct", drivers, "pooled"),
        fit_unit_model(uq, "customer_retention_pct", drivers, "unit_fe"), mot)


def binned_outcome(uq: pl.DataFrame, outcome: str, driver: str, bins: int = 5, min_respondents: int = 5) -> pl.DataFrame:
    """Mean outcome (with a normal 95% CI) by quantile group of a unit's previous-quarter driver.

    A descriptive picture for readers; only unit-quarters whose previous-quarter
    driver rests on at least ``min_respondents`` survey respondents count, and
    each group pools many unit-quarters (groups below ``min_respondents`` rows are dropped).
    """
    rows = model_rows(uq, outcome).filter(pl.col("respondents_lag") >= min_respondents)
    lag = f"{driver}_lag"
    return (
        rows.with_columns(((pl.col(lag).rank("ordinal") - 1) * bins // pl.len() + 1).cast(pl.Int32).alias("group"))
        .group_by("group")
        .agg(pl.col(lag).mean().alias("driver_mean"), pl.col(lag).min().alias("driver_min"),
             pl.col(lag).max().alias("driver_max"), pl.col(outcome).mean().alias("mean"),
             (1.96 * pl.col(outcome).std() / pl.len().sqrt()).alias("_h"), pl.len().alias("n"))
        .filter(pl.col("n") >= min_respondents)
        .with_columns((pl.col("mean") - pl.col("_h")).alias("ci_low"), (pl.col("mean") + pl.col("_h")).alias("ci_high"))
        .drop("_h").sort("group")
    )


def specs_frame(pooled: UnitModel, fe: UnitModel) -> pl.DataFrame:
    """Both specifications' estimates in long form (spec, driver, estimate, ci_low, ci_high) for a side-by-side chart."""
    return pl.DataFrame([
        {"spec": m.spec, "driver": d, "estimate": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high, "n_obs": m.n_obs}
        for m in (pooled, fe) for d, e in m.effects.items()
    ])


# ------------------------------------------------------------------------------------------ report text


def clearest_link(model: UnitModel, drivers: tuple[str, ...] = EX_DRIVERS) -> Estimate | None:
    """The clearest positive employee-experience link of a model (CI above zero, largest estimate/SE), or None."""
    clear = [e for d, e in model.effects.items() if d in drivers and e.ci_low > 0]
    return max(clear, key=lambda e: e.estimate / e.se) if clear else None


def strongest_driver(model: UnitModel, drivers: tuple[str, ...] = EX_DRIVERS) -> str:
    """The employee-experience driver with the largest |estimate/SE| in a model, whatever its sign or CI."""
    return max(drivers, key=lambda d: abs(model.effects[d].estimate / model.effects[d].se))


def agreement_text(pooled: UnitModel, fe: UnitModel, lang: str) -> str:
    """One markdown paragraph: does a cluster-robust test find the pooled and within-unit (FE) estimates differ?"""
    cmp = compare_specs(pooled, fe)
    n, k = cmp.height, int((~cmp["differ"]).sum())
    differ = i18n.join_words([i18n.t(d, lang) for d in cmp.filter(pl.col("differ"))["driver"].to_list()], lang)
    text = i18n.t("loy_diff_none" if k == n else "loy_diff_some", lang) + " " + i18n.t("loy_fe_imprecise", lang)
    return fmt(text, lang, n=n, k=k, which=differ, k_fe=int((~cmp["fe_significant"]).sum()))


def inference_text(res: LoyaltyResults, lang: str, drivers: tuple[str, ...] = EX_DRIVERS) -> str:
    """Markdown for the page's notes: the inference used and, below SMALL_CLUSTERS units, the power sentence.

    The sentence gives each employee-experience driver's minimum detectable effect (80% power,
    5% two-sided) in the pooled NPS and customer-retention models, from the organisation's own data.
    """
    text = i18n.t("loy_method", lang)
    if res.nps.n_units >= SMALL_CLUSTERS:
        return text

    def mdes(model: UnitModel, key: str, decimals: int) -> str:
        return i18n.join_words([i18n.t(key, lang, value=i18n.fmt_number(model.mde[d], lang, decimals),
                                       driver=charts.driver_word(d, lang)) for d in drivers if d in model.mde], lang)

    few = fmt(i18n.t("loy_few_units", lang), lang, n_units=res.nps.n_units, min_units=SMALL_CLUSTERS,
              nps=mdes(res.nps, "loy_mde_nps", 1), cr=mdes(res.retention, "loy_mde_cr", 1))
    return text + "\n\n" + few


def spec_table(pooled: UnitModel, fe: UnitModel, lang: str, decimals: int = 1) -> pl.DataFrame:
    """The two specifications' estimates as report text, one row per driver (columns driver, pooled_ci, unit_fe_ci)."""
    return pl.DataFrame([{
        "driver": i18n.t(d, lang),
        "pooled_ci": charts.ci_text(e.estimate, e.ci_low, e.ci_high, lang, decimals),
        "unit_fe_ci": charts.ci_text(fe.effects[d].estimate, fe.effects[d].ci_low, fe.effects[d].ci_high, lang, decimals),
    } for d, e in pooled.effects.items()])


# ------------------------------------------------------------------------------------------ small-cluster inference



@dataclass
class _OLS:
    params: np.ndarray
    resid: np.ndarray
    rsquared: float


def _ols(y: np.ndarray, X: np.ndarray) -> _OLS:
    """Least squares (minimum-norm when X is rank-deficient, as statsmodels' pinv) in one LAPACK call.

    R² is centred; for the within-transformed (unit FE) model y has mean zero, so it equals
    statsmodels' uncentred R² there. statsmodels' OLS costs two SVDs of X (rank, pinv), which
    dominated the coverage simulations.
    """
    params = np.linalg.lstsq(X, y, rcond=None)[0]
    resid = y - X @ params
    tss = float(((y - y.mean()) ** 2).sum())
    return _OLS(params, resid, 1.0 - float(resid @ resid) / tss if tss > 0 else float("nan"))


def _inv_sqrt_psd(B: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Symmetric (pseudo-)inverse square roots of a batch of PSD matrices (k, n, n)."""
    w, V = np.linalg.eigh(B)
    inv = np.where(w > tol, 1.0 / np.sqrt(np.clip(w, tol, None)), 0.0)
    return np.matmul(V * inv[:, None, :], np.swapaxes(V, 1, 2))


def cr2_vcov(X: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CR2 (Bell-McCaffrey 2002) cluster-robust covariance of OLS coefficients, and Satterthwaite df per coefficient.

    V = M (sum_g X_g' A_g e_g e_g' A_g X_g) M with M = (X'X)^-1 and A_g = (I - H_gg)^{-1/2}
    (pseudo-inverse square root). With unit fixed effects absorbed by demeaning, pass the
    demeaned X: fixed effects nested in the clusters leave CR2 unchanged (Pustejovsky and
    Tipton 2018, Theorem 2). The df are those of Bell-McCaffrey / Pustejovsky-Tipton under a
    working independence model, computed in O(G p^2) without the n x n residual maker.
    Clusters of equal size are processed as one batch (a loop over cluster sizes, not rows).
    """
    X = np.asarray(X, float)
    e = np.asarray(resid, float)
    p = X.shape[1]
    M = np.linalg.pinv(X.T @ X)
    codes = np.unique(groups, return_inverse=True)[1]
    G = int(codes.max()) + 1
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=G)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    scores = np.zeros((G, p))          # X_g' A_g e_g
    ww = np.zeros((G, p))              # |w_gc|^2 with w_gc = A_g X_g M c, for every coefficient c at once
    Z = np.zeros((G, p, p))            # Z[g][:, c] = X_g' w_gc
    for n_g in np.unique(sizes):
        gs = np.flatnonzero(sizes == n_g)
        idx = order[starts[gs][:, None] + np.arange(n_g)[None, :]]  # (k, n_g)
        Xg, eg = X[idx], e[idx]                                       # (k, n_g, p), (k, n_g)
        H = np.einsum("kip,pq,kjq->kij", Xg, M, Xg)
        A = _inv_sqrt_psd(np.eye(n_g)[None] - H)
        AXg = np.matmul(A, Xg)
        scores[gs] = np.einsum("kip,ki->kp", AXg, eg)
        W = np.matmul(AXg, M)                                         # (k, n_g, p)
        ww[gs] = (W**2).sum(axis=1)
        Z[gs] = np.einsum("kip,kic->kpc", Xg, W)
    V = M @ (scores.T @ scores) @ M
    # Omega_gh = delta_gh |w_g|^2 - z_g' M z_h; df = tr(Omega)^2 / |Omega|_F^2, per coefficient
    ZMZd = np.einsum("gpc,pq,gqc->gc", Z, M, Z)
    S = np.einsum("gpc,gqc->cpq", Z, Z)                               # (p, p, p): S_c = sum_g z_gc z_gc'
    MS = np.matmul(M[None], S)
    frob = np.einsum("cij,cji->c", MS, MS)
    num = (ww - ZMZd).sum(axis=0) ** 2
    den = (ww**2).sum(axis=0) - 2 * (ww * ZMZd).sum(axis=0) + frob
    with np.errstate(divide="ignore", invalid="ignore"):
        df = np.where(den > 0, num / den, np.nan)
    return V, df


def _t_estimate(name: str, est: float, se: float, df: float, n: int, scale: str, level: float = 0.95) -> Estimate:
    """An Estimate with a t(df) CI and p-value (small-cluster inference)."""
    from scipy import stats

    tq = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(est / se), df)) if se > 0 else float("nan")
    return Estimate(name, float(est), float(se), float(est - tq * se), float(est + tq * se), p, int(n), scale)


def minimum_detectable_effect(se: float, df: float, power: float = 0.8, level: float = 0.95) -> float:
    """Smallest true effect a two-sided test at ``level`` detects with ``power``: (t_{1-a/2,df} + t_{power,df}) * SE."""
    from scipy import stats

    return float((stats.t.ppf(0.5 + level / 2, df) + stats.t.ppf(power, df)) * se)
