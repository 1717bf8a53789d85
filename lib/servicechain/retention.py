"""Employee retention: who leaves voluntarily, and how recognition, empowerment and leadership relate to it.

The main model is a discrete-time hazard: a logit of "left voluntarily in
quarter q" on person-quarters at risk, with drivers measured in q-1, tenure band,
role and quarter effects. Standard errors are clustered by unit (people in one
unit share a manager, a culture and local labour markets). We prefer clustering
to unit fixed effects because the effects of interest vary largely *between*
units, a fixed-effects logit would drop every unit without an exit, and the
population-averaged logit stays a plain GLM that scales to millions of rows
(statsmodels MixedLM does not).

Involuntary exits are competing events: those person-quarters count as "did not
leave voluntarily", and the person leaves the risk set afterwards (a
cause-specific hazard).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import statsmodels.api as sm
from statsmodels.duration.survfunc import SurvfuncRight

from . import charts, i18n
from .estimates import Estimate
from .features import DRIVERS, TENURE_LABELS

SCALE_LOGODDS = "log-odds per unit change in the quarterly voluntary-exit hazard (drivers lagged one quarter)"
SCALE_ANNUAL = "change in annual voluntary-exit probability (percentage points) for +1 unit, averaged over the workforce"
MODEL_LABEL = "discrete-time logit, unit-clustered SE"
REF_TENURE = "2-5"
REF_ROLE = "support"
# Recognition bands in recognitions per month; weekly (~4.33 a month) is the practitioners' target.
RECOGNITION_BANDS = ((0.0, "none"), (1e-9, "less than monthly"), (1.0, "monthly"), (52 / 12, "weekly or more"))


@dataclass
class Design:
    """Numpy arrays at the statsmodels boundary, with column names."""

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    groups: np.ndarray
    rows: pl.DataFrame  # the model rows (drivers, quarter, unit) for predictions


def _dummies(df: pl.DataFrame, col: str, ref: str | None, levels: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    levels = levels or sorted(df[col].drop_nulls().unique().to_list())
    keep = [lv for lv in levels if lv != (ref if ref is not None else levels[0])]
    if not keep:
        return np.zeros((df.height, 0)), []
    arr = df.select([(pl.col(col) == lv).cast(pl.Float64).alias(f"{col}[{lv}]") for lv in keep])
    return arr.to_numpy(), arr.columns


def model_rows(panel: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS) -> pl.DataFrame:
    """Complete cases for the drivers (people who answered last quarter's survey)."""
    return panel.drop_nulls(list(drivers)).filter(pl.col("role").is_not_null())


def content_order(rows: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS) -> pl.DataFrame:
    """``rows`` sorted by what the model sees (drivers, tenure band, role, quarter, outcome), never by an id.

    Published results must not depend on the pseudonymisation key: an order by the
    pseudonymised ``employee_id`` changes with the key, and so would a seeded subset drawn
    from it. Rows that tie on every sort column are identical for the model, so their
    relative order cannot change a result. Stable, so equal inputs keep one order.
    """
    keys = [c for c in (*drivers, "tenure_band", "role", "quarter", "voluntary_exit", "other_exit") if c in rows.columns]
    return rows.sort(keys, nulls_last=True, maintain_order=True)


def exog(rows: pl.DataFrame, drivers: tuple[str, ...], quarters: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """The model matrix (constant, drivers, tenure-band, role and quarter dummies) and its column names."""
    tb, tb_names = _dummies(rows, "tenure_band", REF_TENURE, list(TENURE_LABELS))
    rl, rl_names = _dummies(rows, "role", REF_ROLE, ["frontline", "manager", "support"])
    qs = quarters or sorted(rows["quarter"].unique().to_list())
    qd, q_names = _dummies(rows, "quarter", qs[0], qs)
    X = np.column_stack([np.ones(rows.height), rows.select(list(drivers)).to_numpy().astype(float), tb, rl, qd])
    return X, ["const", *drivers, *tb_names, *rl_names, *q_names]


def design(rows: pl.DataFrame, drivers: tuple[str, ...], quarters: list[str] | None = None) -> Design:
    X, names = exog(rows, drivers, quarters)
    groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    return Design(rows["voluntary_exit"].to_numpy().astype(float), X, names, groups, rows)


def _linear_predictor(names: list[str], params: np.ndarray, drivers: tuple[str, ...]) -> list[pl.Expr]:
    """One polars expression per model column (the same columns as ``exog``), for row-wise scores."""
    cols = []
    for name in names:
        if name == "const":
            cols.append(pl.lit(1.0))
        elif name in drivers:
            cols.append(pl.col(name).cast(pl.Float64))
        else:  # "tenure_band[<1]" -> (tenure_band == "<1")
            col, _, level = name[:-1].partition("[")
            cols.append((pl.col(col) == level).cast(pl.Float64))
    return cols


def fit_grouped_logit(rows: pl.DataFrame, drivers: tuple[str, ...], quarters: list[str]):
    """The person-quarter logit fitted on covariate patterns, with unit-clustered (CRV1) covariance.

    Every person-quarter with the same drivers, tenure band, role and quarter has
    the same predicted hazard, so the binomial likelihood of (exits, trials) per
    pattern is the person-level likelihood: same estimates, a fraction of the rows
    (6 million person-quarters -> tens of thousands of patterns). The cluster-robust
    covariance needs the person-level scores x_i (y_i - p_i) summed by unit; they
    are computed in one polars pass, and the sandwich uses statsmodels' CRV1 small-
    sample factor G/(G-1) (N-1)/(N-K). Equal to fitting the rows one by one up to
    floating-point rounding. Returns (params, cov, names, converged).
    """
    keys = [*drivers, "tenure_band", "role", "quarter"]
    pat = (rows.group_by(keys).agg(pl.len().alias("_n"), pl.col("voluntary_exit").cast(pl.Float64).sum().alias("_k"))
           .sort(keys, nulls_last=True))
    Xp, names = exog(pat, drivers, quarters)
    n, k = pat["_n"].to_numpy().astype(float), pat["_k"].to_numpy()
    res = sm.GLM(np.column_stack([k, n - k]), Xp, family=sm.families.Binomial()).fit()
    params = np.asarray(res.params)
    p = 1.0 / (1.0 + np.exp(-(Xp @ params)))
    H = (Xp * (n * p * (1 - p))[:, None]).T @ Xp
    try:
        Hinv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        Hinv = np.linalg.pinv(H)
    cols = _linear_predictor(names, params, drivers)
    eta = pl.sum_horizontal([c * float(b) for c, b in zip(cols, params)])
    resid = pl.col("voluntary_exit").cast(pl.Float64) - 1.0 / (1.0 + (-eta).exp())
    G = (rows.lazy().group_by("unit_id").agg([(c * resid).sum().alias(f"s{i}") for i, c in enumerate(cols)])
         .drop("unit_id").collect().to_numpy())
    n_groups, nobs, k_params = G.shape[0], rows.height, Xp.shape[1]
    cov = Hinv @ (G.T @ G) @ Hinv
    cov *= n_groups / (n_groups - 1.0) * ((nobs - 1.0) / float(nobs - k_params))
    return params, cov, names, bool(res.converged)


@dataclass
class HazardResult:
    """A fitted discrete-time hazard model of voluntary exit."""

    effects: dict[str, Estimate]  # log-odds per unit (the truth.json scale)
    odds_ratios: dict[str, Estimate]
    annual_pp: dict[str, Estimate]  # change in annual exit probability, percentage points
    params: np.ndarray
    cov: np.ndarray
    names: list[str]
    n_obs: int
    n_events: int
    n_clusters: int
    n_people: int
    quarters: list[str]
    baseline_quarterly_rate: float
    converged: bool
    drivers: tuple[str, ...]
    recognition_source: str = "events"
    notes: list[str] = field(default_factory=list)

    def predict(self, rows: pl.DataFrame, params: np.ndarray | None = None) -> np.ndarray:
        """Quarterly exit probability for rows of the person-quarter panel."""
        d = design(rows.with_columns(pl.lit(0, pl.Int8).alias("voluntary_exit")) if "voluntary_exit" not in rows.columns else rows,
                   self.drivers, self.quarters)
        beta = self.params if params is None else params
        return 1.0 / (1.0 + np.exp(-(d.X @ beta)))

    def to_dict(self, oot: "OutOfTime | None" = None) -> dict:
        """The results contract of the retention notebook (log-odds effects on the truth.json scale).

        ``params``/``cov``/``param_names`` carry the full coefficient vector and its
        cluster-robust covariance, so the money notebook can draw from them. With
        ``oot`` the out-of-time AUC and Brier scores are added.
        """
        out = {
            "model": MODEL_LABEL,
            "params": dict(zip(self.names, (float(x) for x in self.params))),
            "param_names": list(self.names),
            "cov": [[float(x) for x in row] for row in self.cov],
            "drivers": list(self.drivers),
            "effects": {k: {**v.to_dict(), "scale": SCALE_LOGODDS} for k, v in self.effects.items()},
            "odds_ratios": {k: v.to_dict() for k, v in self.odds_ratios.items()},
            "annual_exit_probability_pp": {k: v.to_dict() for k, v in self.annual_pp.items()},
            "n_obs": self.n_obs, "n_events": self.n_events, "n_clusters": self.n_clusters, "n_people": self.n_people,
            "quarters": self.quarters, "baseline_quarterly_rate": self.baseline_quarterly_rate,
            "converged": self.converged, "recognition_source": self.recognition_source,
        }
        if oot is not None:
            out.update({"auc_out_of_time": oot.auc, "brier_out_of_time": oot.brier,
                        "brier_baseline_out_of_time": oot.brier_baseline, "out_of_time": oot.to_dict()})
        return out


def fit_hazard(panel: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS, *, seed: int = 7, draws: int = 1000,
               max_rows_for_draws: int = 5000, recognition_source: str = "events") -> HazardResult:
    """Fit the hazard model; effects as log-odds and odds ratios, plus annual-probability changes.

    The annual change for +1 unit of a driver is the workforce average of
    1-(1-h')^4 minus 1-(1-h)^4, with its CI from ``draws`` parametric draws of the
    coefficients (cluster-robust covariance). A seeded random subset of rows keeps
    that step light on large panels; it estimates a mean, not a coefficient.
    """
    rows = model_rows(panel, drivers)
    if rows.height < 50 or rows["voluntary_exit"].sum() < 10:
        raise ValueError(f"too little data for the retention model: {rows.height} person-quarters with answers, "
                         f"{int(rows['voluntary_exit'].sum())} voluntary exits (need >= 50 and >= 10)")
    quarters = sorted(rows["quarter"].unique().to_list())
    params, cov, names, converged = fit_grouped_logit(rows, drivers, quarters)
    se = np.sqrt(np.diag(cov))
    n = rows.height
    effects = {dr: Estimate.from_normal(dr, params[i + 1], se[i + 1], n, SCALE_LOGODDS) for i, dr in enumerate(drivers)}
    ors = {k: v.exp() for k, v in effects.items()}

    rng = np.random.default_rng(seed)
    # A fixed row order by content, so the seeded subset depends neither on how the panel happened
    # to be built nor on the pseudonymisation key (sorting by the pseudonymised id would).
    ordered = content_order(rows, drivers)
    sub_rows = ordered if n <= max_rows_for_draws else ordered[rng.choice(n, max_rows_for_draws, replace=False)]
    sub, _ = exog(sub_rows, drivers, quarters)
    beta_draws = rng.multivariate_normal(params, cov, size=draws)
    eta = sub @ beta_draws.T  # rows x draws
    annual0 = 1 - (1 - 1 / (1 + np.exp(-eta))) ** 4
    annual = {}
    for i, dr in enumerate(drivers):
        eta1 = eta + beta_draws[:, i + 1][None, :]
        diff = (1 - (1 - 1 / (1 + np.exp(-eta1))) ** 4 - annual0).mean(axis=0) * 100
        point = float(((1 - (1 - 1 / (1 + np.exp(-(sub @ params + params[i + 1])))) ** 4)
                       - (1 - (1 - 1 / (1 + np.exp(-(sub @ params)))) ** 4)).mean() * 100)
        lo, hi = np.percentile(diff, [2.5, 97.5])
        annual[dr] = Estimate(dr, point, float(diff.std()), float(lo), float(hi), effects[dr].p_value, n, SCALE_ANNUAL)
    return HazardResult(
        effects=effects, odds_ratios=ors, annual_pp=annual, params=params, cov=cov, names=names,
        n_obs=n, n_events=int(rows["voluntary_exit"].sum()), n_clusters=rows["unit_id"].n_unique(),
        n_people=rows["employee_id"].n_unique(), quarters=quarters,
        baseline_quarterly_rate=float(rows["voluntary_exit"].cast(pl.Float64).mean()),
        converged=converged, drivers=tuple(drivers), recognition_source=recognition_source,
    )


def auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney form; ties count half)."""
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    n1, n0 = y.sum(), (~y).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(p)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass
class OutOfTime:
    """Fit on earlier quarters, predict the last one."""

    train_quarters: list[str]
    test_quarter: str
    auc: float
    brier: float
    brier_baseline: float  # predicting the training exit rate for everyone
    n_test: int
    events_test: int
    calibration: pl.DataFrame  # bin, mean_predicted, observed_rate, n

    def to_dict(self) -> dict:
        return {"train_quarters": self.train_quarters, "test_quarter": self.test_quarter, "auc": self.auc,
                "brier": self.brier, "brier_baseline": self.brier_baseline, "n_test": self.n_test,
                "events_test": self.events_test}


def out_of_time(panel: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS, test_quarter: str | None = None,
                bins: int = 10) -> OutOfTime:
    """Honest validation: the last quarter is never seen by the fit."""
    rows = model_rows(panel, drivers)
    qs = sorted(rows["quarter"].unique().to_list())
    test_q = test_quarter or qs[-1]
    train = rows.filter(pl.col("quarter") < test_q)
    # fixed order by content (never by pseudonym): ties in p fill the bins alike every run and for every key
    test = content_order(rows.filter(pl.col("quarter") == test_q), drivers)
    if train.height == 0 or test.height == 0:
        raise ValueError(f"out-of-time validation needs quarters before {test_q} and data in it")
    fit = fit_hazard(train, drivers, draws=50)
    # The test quarter has no quarter effect of its own: predict it with the last training quarter's.
    test_as = test.with_columns(pl.lit(fit.quarters[-1]).alias("quarter"))
    p = fit.predict(test_as)
    y = test["voluntary_exit"].to_numpy().astype(float)
    base = float(train["voluntary_exit"].mean())
    cal = (
        pl.DataFrame({"p": p, "y": y})
        .with_columns(((pl.col("p").rank("ordinal") - 1) * bins // pl.len()).alias("bin"))  # equal-count bins
        .group_by("bin").agg(pl.col("p").mean().alias("mean_predicted"), pl.col("y").mean().alias("observed_rate"), pl.len().alias("n"))
        .sort("mean_predicted")
    )
    return OutOfTime(fit.quarters, test_q, auc(y, p), float(np.mean((p - y) ** 2)), float(np.mean((base - y) ** 2)),
                     test.height, int(y.sum()), cal)


# When recognition comes from the survey item (1-5 "I was recognised..."), band the answers instead.
ITEM_BANDS = ((0.0, "rarely (1-2)"), (2.5, "sometimes (3)"), (3.5, "often (4-5)"))


def recognition_band(x: pl.Expr, bands: tuple[tuple[float, str], ...] = RECOGNITION_BANDS) -> pl.Expr:
    """Label of the band whose lower bound is the largest one <= x (``RECOGNITION_BANDS``: 0 -> "none")."""
    if bands is RECOGNITION_BANDS:
        e = pl.when(x >= RECOGNITION_BANDS[3][0]).then(pl.lit(RECOGNITION_BANDS[3][1]))
        e = e.when(x >= RECOGNITION_BANDS[2][0]).then(pl.lit(RECOGNITION_BANDS[2][1]))
        e = e.when(x > 0).then(pl.lit(RECOGNITION_BANDS[1][1]))
        return e.otherwise(pl.lit(RECOGNITION_BANDS[0][1]))
    ordered = sorted(bands, reverse=True)
    e = pl.when(x >= ordered[0][0]).then(pl.lit(ordered[0][1]))
    for lo, label in ordered[1:-1]:
        e = e.when(x >= lo).then(pl.lit(label))
    return e.otherwise(pl.lit(ordered[-1][1]))


@dataclass
class SurvivalCurves:
    """Kaplan-Meier retention by recognition band, on a tenure grid (aggregates only)."""

    curves: pl.DataFrame  # band, tenure_years, retained, ci_low, ci_high, at_risk
    bands: pl.DataFrame  # band, employees, voluntary_exits, retained_1y, retained_1y_low, retained_1y_high


def km_by_recognition(panel: pl.DataFrame, grid_step: float = 0.25, max_years: float = 10.0,
                      min_group: int = 5, bands: tuple[tuple[float, str], ...] = RECOGNITION_BANDS) -> SurvivalCurves:
    """Retention curves over tenure by recognitions per month known *before* each person's time at risk.

    Landmark design: a person's band is their recognition rate in the quarter before the first quarter
    they are observed at risk with it, and follow-up starts there (left-truncated at that tenure). A band
    from the whole observed spell would give those who leave early fewer recognitions (immortal-time bias:
    with no true effect it still showed 34% vs 85% retained). Descriptive, not adjusted for anything else.
    """
    rows = panel.select("employee_id", "qi", "recognition_per_month", "tenure_years", "voluntary_exit")
    first = (rows.filter(pl.col("recognition_per_month").is_not_null())
             .group_by("employee_id").agg(pl.col("qi").min().alias("_q0"),
                                          pl.col("recognition_per_month").sort_by("qi").first().alias("rec"),
                                          pl.col("tenure_years").sort_by("qi").first().alias("entry")))
    per = (
        rows.join(first, on="employee_id").filter(pl.col("qi") >= pl.col("_q0"))
        .group_by("employee_id")
        .agg(
            pl.col("rec").first(), pl.col("entry").first(),
            (pl.col("tenure_years").max() + 0.25).alias("exit_time"),
            pl.col("voluntary_exit").max().alias("event"),
        )
        .with_columns(pl.col("rec").round(9))  # float sums differ in the last bit between runs: 1.0 must stay 1.0
        .with_columns(recognition_band(pl.col("rec"), bands).alias("band"))
    )
    grid = np.arange(0, max_years + 1e-9, grid_step)
    curves, summary = [], []
    for _, label in bands:  # a handful of groups, not rows
        g = per.filter(pl.col("band") == label)
        if g.height < min_group:
            continue
        sf = SurvfuncRight(g["exit_time"].to_numpy(), g["event"].to_numpy(), entry=g["entry"].to_numpy())
        t, s = np.asarray(sf.surv_times), np.asarray(sf.surv_prob)
        se = np.asarray(sf.surv_prob_se)
        idx = np.searchsorted(t, grid, side="right") - 1
        surv = np.where(idx >= 0, s[np.maximum(idx, 0)], 1.0)
        sse = np.where(idx >= 0, se[np.maximum(idx, 0)], 0.0)
        at_risk = np.array([(g["entry"].to_numpy() <= x).sum() - (g["exit_time"].to_numpy() < x).sum() for x in grid])
        ok = at_risk >= min_group
        curves.append(pl.DataFrame({
            "band": pl.Series([label] * int(ok.sum()), dtype=pl.String), "tenure_years": grid[ok], "retained": surv[ok],
            "ci_low": np.clip(surv - 1.96 * sse, 0, 1)[ok], "ci_high": np.clip(surv + 1.96 * sse, 0, 1)[ok],
            "at_risk": at_risk[ok],
        }))
        k = int(np.searchsorted(grid, 1.0))
        summary.append({"band": label, "employees": g.height, "voluntary_exits": int(g["event"].sum()),
                      "retained_1y": float(surv[k]), "retained_1y_low": float(max(0, surv[k] - 1.96 * sse[k])),
                      "retained_1y_high": float(min(1, surv[k] + 1.96 * sse[k]))})
    return SurvivalCurves(pl.concat(curves) if curves else pl.DataFrame(), pl.DataFrame(summary))


@dataclass
class SnapshotResult:
    """Cross-sectional logit of a left/stayed flag (snapshot data: no timing)."""

    odds_ratios: dict[str, Estimate]
    effects: dict[str, Estimate]
    n: int
    n_left: int
    items: list[str]
    limitations: list[str]

    def to_dict(self) -> dict:
        return {"effects": {k: v.to_dict() for k, v in self.effects.items()},
                "odds_ratios": {k: v.to_dict() for k, v in self.odds_ratios.items()},
                "n": self.n, "n_left": self.n_left, "items": self.items, "limitations": self.limitations}


SNAPSHOT_LIMITATIONS = [
    "One row per employee: no dates, so no hazard over time and no out-of-time validation.",
    "Satisfaction was measured at the same time as (or after) leaving: association only, and reverse causation "
    "(people about to leave rate things lower) cannot be ruled out.",
    "No units or customers: nothing can be said about customer loyalty or money from customers.",
]


def fit_snapshot(df: pl.DataFrame, items: list[str]) -> SnapshotResult:
    """Logit of ``left`` on the satisfaction items and log tenure, with robust (HC1) errors."""
    rows = df.drop_nulls([*items, "tenure_years", "left"])
    if rows.height < 30 or rows["left"].sum() < 5:
        raise ValueError(f"too little snapshot data: {rows.height} complete rows, {int(rows['left'].sum())} leavers")
    X = np.column_stack([np.ones(rows.height), rows.select(items).to_numpy().astype(float),
                         np.log1p(rows["tenure_years"].to_numpy().astype(float))])
    res = sm.GLM(rows["left"].to_numpy().astype(float), X, family=sm.families.Binomial()).fit(cov_type="HC1")
    se = np.sqrt(np.diag(res.cov_params()))
    scale = "log-odds of having left per point (snapshot, cross-sectional)"
    eff = {it: Estimate.from_normal(it, res.params[i + 1], se[i + 1], rows.height, scale) for i, it in enumerate(items)}
    return SnapshotResult({k: v.exp() for k, v in eff.items()}, eff, rows.height, int(rows["left"].sum()), items,
                          SNAPSHOT_LIMITATIONS)


# ------------------------------------------------------------------------------------------ report text and tables


def clearest_reduction(estimates: Mapping[str, Estimate], ref: float = 0.0) -> Estimate | None:
    """Among estimates whose whole 95% CI lies below ``ref`` (0 for differences, 1 for odds ratios), the lowest; else None."""
    clear = [e for e in estimates.values() if e.ci_high < ref]
    return min(clear, key=lambda e: e.estimate) if clear else None


def effects_table(haz: HazardResult, lang: str, item_recognition: bool = False) -> pl.DataFrame:
    """One row per driver as report text: what "+1" means, the annual exit change (pp) and the odds ratio, with CIs."""
    unit = {"recognition_per_month": i18n.t("ret_unit_recognition_item" if item_recognition
                                            else "ret_unit_recognition_events", lang)}
    return pl.DataFrame([{
        "driver": i18n.t(d, lang),
        "change_for": unit.get(d, i18n.t("ret_unit_point", lang)),
        "annual_exit_pp_ci": charts.ci_text(a.estimate, a.ci_low, a.ci_high, lang, 1) + " " + i18n.t("points", lang),
        "odds_ratio_ci": charts.ci_text(o.estimate, o.ci_low, o.ci_high, lang, 2),
    } for d, a, o in ((d, haz.annual_pp[d], haz.odds_ratios[d]) for d in haz.drivers)])


def km_table(bands: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The Kaplan-Meier bands (``SurvivalCurves.bands``) as report text: band, employees, exits, 1-year retention with CI."""
    return bands.select(
        charts.word_col("band", lang), "employees", "voluntary_exits",
        charts.ci_col("retained_1y", "retained_1y_low", "retained_1y_high", lang, 0, pct=True, name="retained_1y_ci"),
    )


def snapshot_overview(df: pl.DataFrame) -> dict:
    """What index.html can say from a snapshot: who is still employed. No rates (there is no period)."""
    left = int(df["left"].fill_null(0).sum())
    return {"headcount": df.height - left, "employees_in_export": df.height, "left": left}
