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
from typing import Any, ClassVar

import numpy as np
import polars as pl
import statsmodels.api as sm
from statsmodels.duration.survfunc import SurvfuncRight

from . import charts, i18n
from .estimates import Estimate, ResultMixin
from .features import DRIVERS, TENURE_LABELS
from .snapshot import (  # noqa: F401,E402 - re-exported: the snapshot model used to live here
    SNAPSHOT_LIMITATIONS,
    SnapshotResult,
    fit_snapshot,
    snapshot_overview,
)

SCALE_LOGODDS = "log-odds per unit change in the quarterly voluntary-exit hazard (drivers lagged one quarter)"
SCALE_ANNUAL = "change in annual voluntary-exit probability (percentage points) for +1 unit, averaged over the current workforce (people at risk in the report quarter)"
MODEL_LABEL = "discrete-time logit, unit-clustered SE"
INFERENCE_METHOD = "unit-clustered (CRV1) covariance, t critical values with G-1 degrees of freedom (G = units)"
SMALL_CLUSTERS = 30  # below this many units the page says so
MIN_EVENTS_PER_PARAMETER = 10  # below this many exits per model parameter the page and metrics warn
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
    keys = [c for c in (*drivers, "tenure_band", "role", "quarter", "voluntary_exit", "other_exit", "exposure")
            if c in rows.columns]
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


def fit_grouped_logit(rows: pl.DataFrame, drivers: tuple[str, ...], quarters: list[str], link: str = "logit"):
    """The person-quarter logit fitted on covariate patterns, with unit-clustered (CRV1) covariance.

    ``link="cloglog"``: a complementary log-log model with offset log(``exposure``) (the share of the
    quarter each person-quarter was at risk, a column of ``rows``, see :func:`with_exposure`), so
    that a person at risk for part of a quarter is not counted as at risk for all of it; the
    patterns then include the exposure, and the sandwich uses the observed information and the
    person-level scores x (y - p) mu'(eta) / (p (1 - p)) (equal to the row-level statsmodels fit).

    Every person-quarter with the same drivers, tenure band, role and quarter has
    the same predicted hazard, so the binomial likelihood of (exits, trials) per
    pattern is the person-level likelihood: same estimates, a fraction of the rows
    (6 million person-quarters -> tens of thousands of patterns). The cluster-robust
    covariance needs the person-level scores x_i (y_i - p_i) summed by unit; they
    are computed in one polars pass, and the sandwich uses statsmodels' CRV1 small-
    sample factor G/(G-1) (N-1)/(N-K). Equal to fitting the rows one by one up to
    floating-point rounding. Returns (params, cov, names, converged).
    """
    if link not in LINKS:
        raise ValueError(f"link must be one of {LINKS}, got {link!r}")
    cll = link == "cloglog"
    keys = [*drivers, "tenure_band", "role", "quarter", *((EXPOSURE,) if cll else ())]
    pat = (rows.group_by(keys).agg(pl.len().alias("_n"), pl.col("voluntary_exit").cast(pl.Float64).sum().alias("_k"))
           .sort(keys, nulls_last=True))
    Xp, names = exog(pat, drivers, quarters)
    # a subgroup's constant columns (frontline staff only: the role dummies) are left out of the fit, then
    # put back with coefficient 0 and variance 0 (fitted_columns): names and predictions keep one layout
    full_names, keep = names, fitted_columns(Xp, names, drivers)
    Xp, names = Xp[:, keep], [names[j] for j in keep]
    n, k = pat["_n"].to_numpy().astype(float), pat["_k"].to_numpy()
    if cll:
        off = np.log(pat[EXPOSURE].to_numpy().astype(float))
        res = sm.GLM(np.column_stack([k, n - k]), Xp, family=sm.families.Binomial(link=sm.families.links.CLogLog()),
                     offset=off).fit()
        params = np.asarray(res.params)
        H = -np.asarray(res.model.hessian(params))  # observed information, as statsmodels' row-level sandwich
    else:
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
    if cll:  # score of a cloglog row: (y - p) mu' / (p (1 - p)) with mu' = (1 - p) e^eta, i.e. (y - p) e^eta / p
        ee = (eta + pl.col(EXPOSURE).cast(pl.Float64).log()).exp()
        resid = (pl.col("voluntary_exit").cast(pl.Float64) - (1.0 - (-ee).exp())) * ee / (1.0 - (-ee).exp())
    else:
        resid = pl.col("voluntary_exit").cast(pl.Float64) - 1.0 / (1.0 + (-eta).exp())
    # per-unit sums in content order, units in id order (unit ids are not pseudonymised): the covariance is then
    # bit-for-bit the same whatever the row order or the pseudonymisation key
    G = (content_order(rows, drivers).sort("unit_id", maintain_order=True).lazy().group_by("unit_id")
         .agg([(c * resid).sum().alias(f"s{i}") for i, c in enumerate(cols)])
         .sort("unit_id").drop("unit_id").collect().to_numpy())
    n_groups, nobs, k_params = G.shape[0], rows.height, Xp.shape[1]
    cov = Hinv @ (G.T @ G) @ Hinv
    cov *= n_groups / (n_groups - 1.0) * ((nobs - 1.0) / float(nobs - k_params))
    params, cov = _put_back(params, cov, keep, len(full_names))
    return params, cov, full_names, bool(res.converged)


def fitted_columns(X: np.ndarray, names: list[str], drivers: tuple[str, ...]) -> list[int]:
    """Indices of the columns of ``X`` the fit can estimate: the constant, every driver, and each dummy that
    varies in these rows and is not a combination of the columns before it (a subgroup: frontline staff only
    has constant role dummies; people in two tenure bands only have band dummies that sum to the constant).

    Raises ValueError when a driver cannot be estimated (constant, or a combination of the others)."""
    def rank(cols: list[int]) -> int:
        return int(np.linalg.matrix_rank(X[:, cols])) if cols else 0

    must = [j for j, nm in enumerate(names) if nm == "const" or nm in drivers]
    if rank(must) < len(must):
        flat = [names[j] for j in must if names[j] != "const" and np.ptp(X[:, j]) == 0]
        raise ValueError("the drivers cannot be estimated on these rows: "
                         + (f"{', '.join(flat)} do(es) not vary" if flat else "one is a combination of the others"))
    varying = [j for j in range(X.shape[1]) if j in must or np.ptp(X[:, j]) > 0]
    if rank(varying) == len(varying):
        return varying
    keep = list(must)
    for j in varying:
        if j not in must and rank([*keep, j]) > len(keep):
            keep.append(j)
    return sorted(keep)


def _put_back(params: np.ndarray, cov: np.ndarray, keep: list[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and covariance of the fitted columns ``keep`` in the full layout of ``k`` columns (0 elsewhere)."""
    if len(keep) == k:
        return params, cov
    p, c = np.zeros(k), np.zeros((k, k))
    p[keep] = params
    c[np.ix_(keep, keep)] = cov
    return p, c


def dropped_columns(names: list[str], cov: np.ndarray, drivers: tuple[str, ...] = ()) -> list[str]:
    """The columns :func:`fitted_columns` left out of a fit (coefficient and variance put back as exactly 0)."""
    d = np.diag(cov)
    return [nm for nm, v in zip(names, d) if v == 0.0 and nm != "const" and nm not in drivers]


@dataclass(repr=False)
class HazardResult(ResultMixin):
    """A fitted discrete-time hazard model of voluntary exit.

    Look at it with ``repr()``/``summary()``/``to_frame()`` (the drivers on three scales: log-odds, odds ratio,
    annual percentage points), :meth:`coefficients` (every model column) and :meth:`statsmodels_result` (the same
    model refitted row by row with statsmodels, to use its tools)."""

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
    df: int = 0  # degrees of freedom of the t critical values (units - 1)
    events_per_parameter: float = float("nan")
    current_quarter: str = ""  # the quarter whose people at risk the annual change is averaged over
    n_current: int = 0  # how many person-quarters (people) that average is over
    missing: str = "complete_cases"  # or "indicator": missing answers filled by ``fill`` plus a no_answer column
    fill: "UnitFill | None" = None  # the fill rule of the fit, applied again to every row predicted
    link: str = "logit"  # or "cloglog" (fitted with offset log(exposure); predictions for a whole quarter)
    dropped: list[str] = field(default_factory=list)  # columns left out of the fit (constant in a subgroup)

    _title: ClassVar[str] = "Discrete-time hazard of voluntary exit (unit-clustered SE)"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return ([("log-odds", e) for e in self.effects.values()] + [("odds ratio", e) for e in self.odds_ratios.values()]
                + [("annual pp", e) for e in self.annual_pp.values()])

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", MODEL_LABEL if self.link == "logit" else f"discrete-time {self.link}, unit-clustered SE"),
                ("method", INFERENCE_METHOD), ("person-quarters", self.n_obs), ("people", self.n_people),
                ("events", self.n_events), ("clusters", self.n_clusters),
                ("quarters", f"{self.quarters[0]} to {self.quarters[-1]}" if self.quarters else ""),
                ("df", self.df), ("converged", self.converged), ("missing answers", self.missing),
                ("annual change over", f"{self.n_current:,} at risk in {self.current_quarter}")]

    def coefficients(self) -> pl.DataFrame:
        """Every model column (constant, drivers, tenure-band, role and quarter dummies): log-odds, SE, t(df) CI,
        p-value, and ``dropped`` (left out of the fit: constant in these rows, coefficient fixed at 0)."""
        se = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        rows = [{**_t_estimate(nm, float(b), float(s), max(self.df, 1), self.n_obs, "log-odds (model coefficient)").to_dict(),
                 "dropped": nm in self.dropped} for nm, b, s in zip(self.names, self.params, se)]
        for r in rows:
            if r["dropped"]:
                r.update(estimate=None, se=None, ci_low=None, ci_high=None, p_value=None)
        return pl.DataFrame(rows, schema={"name": pl.String, "estimate": pl.Float64, "se": pl.Float64,
                                          "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64,
                                          "n": pl.Int64, "scale": pl.String, "dropped": pl.Boolean})

    def statsmodels_result(self, panel: pl.DataFrame) -> Any:
        """The same model fitted person-quarter by person-quarter with statsmodels (``GLM``, binomial, cluster-robust
        covariance by unit: CRV1, as this fit), on ``panel`` (the one given to :func:`fit_hazard`). Its ``params``
        and ``bse`` equal this result's up to rounding (the dropped columns are left out); use it for statsmodels'
        own tools (``.summary()``, ``.get_prediction()``, ``.wald_test()``). Slow on millions of rows."""
        if self.link != "logit":
            raise NotImplementedError("statsmodels_result() refits the logit only; this fit used " + self.link)
        base = panel.filter(pl.col("role").is_not_null())
        rows = self.fill.apply(base) if self.fill is not None else model_rows(panel, self.drivers)
        rows = content_order(rows, self.model_drivers)
        d = design(rows, self.model_drivers, self.quarters)
        keep = [j for j, nm in enumerate(d.names) if nm not in self.dropped]
        return sm.GLM(d.y, d.X[:, keep], family=sm.families.Binomial()).fit(
            cov_type="cluster", cov_kwds={"groups": d.groups})

    @property
    def model_drivers(self) -> tuple[str, ...]:
        """The model's driver columns: the drivers, then ``no_answer`` when the fit has the missing-answer indicator."""
        return tuple(n for n in self.names if n in self.drivers or n == NO_ANSWER)

    def prepare(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` as the fit saw them: with the indicator approach, each missing answer filled by the fit's rule
        (:class:`UnitFill`) and ``no_answer`` added; complete cases otherwise (rows with a missing driver dropped)."""
        if self.fill is not None:
            return self.fill.apply(rows)
        return rows.drop_nulls(list(self.drivers))

    def design(self, rows: pl.DataFrame) -> Design:
        """The model matrix of ``rows`` after :meth:`prepare`: the fit's columns, in its order."""
        r = self.prepare(rows)
        if "voluntary_exit" not in r.columns:
            r = r.with_columns(pl.lit(0, pl.Int8).alias("voluntary_exit"))
        d = design(r, self.model_drivers, self.quarters)
        if d.names != self.names:
            raise ValueError(f"rows give the model columns {d.names}, the fit had {self.names}")
        return d

    def predict(self, rows: pl.DataFrame, params: np.ndarray | None = None) -> np.ndarray:
        """Quarterly exit probability (for a whole quarter at risk) for rows of the person-quarter panel."""
        beta = self.params if params is None else params
        return inverse_link(self.design(rows).X @ beta, self.link)

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
            "method": INFERENCE_METHOD, "df": self.df, "events_per_parameter": self.events_per_parameter,
            "annual_change_over": {"quarter": self.current_quarter, "people_at_risk": self.n_current},
            "notes": list(self.notes),
        }
        if oot is not None:
            out.update({"auc_out_of_time": oot.auc, "brier_out_of_time": oot.brier,
                        "brier_baseline_out_of_time": oot.brier_baseline, "out_of_time": oot.to_dict()})
        return out


def fit_hazard(panel: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS, *, seed: int = 7, draws: int = 1000,
               max_rows_for_draws: int = 5000, recognition_source: str = "events",
               current_quarter: str | None = None, missing: str = "complete_cases",
               link: str = "logit") -> HazardResult:
    """Fit the hazard model; effects as log-odds and odds ratios, plus annual-probability changes.

    ``panel``: person-quarters at risk, as :func:`features.person_quarters` builds them; it must hold
    ``employee_id``, ``unit_id`` (the clusters), ``quarter`` (``2026Q3`` labels), ``role`` (frontline /
    manager / support; rows without one are left out), ``tenure_band`` (``features.TENURE_LABELS``),
    ``voluntary_exit`` (0/1 in that quarter) and every driver. A subset of it (one region, frontline
    staff only) is fine: columns that are constant in it are left out of the fit and named in ``notes``.

    ``drivers``: numeric columns measured *before* the outcome quarter. In the person panel every
    survey and recognition column is already last quarter's (``lag_qi`` is that quarter), so it keeps
    its plain name: ``recognition_per_month``, ``empowerment``, ``leadership`` (the defaults), and
    ``internal_service``, ``engagement``, ``recognition_item``, ``leadership_team_mean`` or any other
    survey item of the data (``ds.items``). The unit panel holds this quarter's and last quarter's
    values side by side, so there the lagged one is ``<name>_lag``: one rule, a driver is always last
    quarter's, and ``_lag`` appears only where a same-quarter column of that name exists too. Rows
    missing a driver are dropped (complete cases) unless ``missing="indicator"``.

    CIs and p-values use t critical values with G-1 degrees of freedom (G = units) on the
    unit-clustered covariance. The annual change for +1 unit of a driver is averaged over the
    current workforce: the people at risk (with last quarter's answers) in ``current_quarter``
    (default: the last quarter of the data), see :func:`annual_change`. ``notes`` warn when
    there are fewer than SMALL_CLUSTERS units or fewer than MIN_EVENTS_PER_PARAMETER exits per
    model parameter (small-sample logit bias; statsmodels has no Firth correction).

    ``missing="indicator"`` keeps everyone at risk: a missing answer is filled with the unit's mean
    answer (:class:`UnitFill`, kept on the result and applied again by :meth:`HazardResult.predict`)
    and a ``no_answer`` column (1 for those without last quarter's answers) enters the model; the
    default fits complete cases (the effects the retention page quotes, see :class:`NonResponse`).
    ``link="cloglog"`` fits a complementary log-log model with offset log(exposure) (the share of
    the quarter at risk, :func:`with_exposure`); ``"auto"`` chooses it when exposure varies (someone
    left involuntarily inside a quarter) and the logit otherwise.
    """
    fill = None
    if missing == "indicator":
        base = panel.filter(pl.col("role").is_not_null())
        fill = unit_fill(base, drivers)
        rows = fill.apply(base)
    elif missing == "complete_cases":
        rows = model_rows(panel, drivers)
    else:
        raise ValueError(f"missing must be 'complete_cases' or 'indicator', got {missing!r}")
    rows = with_exposure(rows)
    if link == "auto":
        link = "cloglog" if bool((rows[EXPOSURE] < 1.0).any()) else "logit"
    if link == "logit":
        rows = rows.drop(EXPOSURE)
    model_drivers = (*drivers, NO_ANSWER) if fill is not None and rows[NO_ANSWER].sum() > 0 else tuple(drivers)
    if rows.height < 50 or rows["voluntary_exit"].sum() < 10:
        raise ValueError(f"too little data for the retention model: {rows.height} person-quarters with answers, "
                         f"{int(rows['voluntary_exit'].sum())} voluntary exits (need >= 50 and >= 10)")
    quarters = sorted(rows["quarter"].unique().to_list())
    params, cov, names, converged = fit_grouped_logit(rows, model_drivers, quarters, link=link)
    se = np.sqrt(np.diag(cov))
    n = rows.height
    df_t = max(rows["unit_id"].n_unique() - 1, 1)  # t(G-1) critical values: honest with few units, ~z with many
    effects = {dr: _t_estimate(dr, params[i + 1], se[i + 1], df_t, n, SCALE_LOGODDS) for i, dr in enumerate(drivers)}
    ors = {k: v.exp() for k, v in effects.items()}

    current = current_quarter or quarters[-1]
    workforce = rows.filter(pl.col("quarter") == current)
    annual = annual_change(workforce, params, cov, model_drivers, quarters, draws=draws,
                           df=df_t, seed=seed, max_patterns=max_rows_for_draws, n=n, p_values=effects, link=link)
    annual.pop(NO_ANSWER, None)
    n_events, n_clusters = int(rows["voluntary_exit"].sum()), rows["unit_id"].n_unique()
    dropped = dropped_columns(names, cov, model_drivers)
    epv = n_events / (len(names) - len(dropped))
    notes = []
    if dropped:
        notes.append(f"left out of the fit (constant, or a combination of other columns, in these rows, e.g. a "
                     f"subgroup of one role): {', '.join(dropped)}; their coefficients are fixed at 0, so the model "
                     "describes the rows it was fitted on only")
    if n_clusters < SMALL_CLUSTERS:
        notes.append(f"only {n_clusters} units (clusters): t critical values with {df_t} degrees of freedom; "
                     "effects must be large to be detected")
    if epv < MIN_EVENTS_PER_PARAMETER:
        notes.append(f"{n_events} voluntary exits for {len(names) - len(dropped)} model parameters ({epv:.1f} events per parameter, "
                     f"fewer than {MIN_EVENTS_PER_PARAMETER}): logit estimates can be biased away from zero and "
                     "their intervals too narrow")
    return HazardResult(
        effects=effects, odds_ratios=ors, annual_pp=annual, params=params, cov=cov, names=names,
        n_obs=n, n_events=n_events, n_clusters=n_clusters,
        n_people=rows["employee_id"].n_unique(), quarters=quarters,
        baseline_quarterly_rate=float(rows["voluntary_exit"].cast(pl.Float64).mean()),
        converged=converged, drivers=tuple(drivers), recognition_source=recognition_source, notes=notes,
        df=df_t, events_per_parameter=epv, current_quarter=current, n_current=workforce.height,
        missing=missing, fill=fill, link=link, dropped=dropped,
    )


def _t_estimate(name: str, est: float, se: float, df: int, n: int, scale: str, level: float = 0.95) -> Estimate:
    """An Estimate with a t(df) CI and p-value."""
    from scipy import stats

    tq = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(est / se), df)) if se > 0 else float("nan")
    return Estimate(name, float(est), float(se), float(est - tq * se), float(est + tq * se), p, int(n), scale)


def _annual(eta: np.ndarray, link: str = "logit") -> np.ndarray:
    """Annual exit probability from a quarterly linear predictor: 1 - (1 - h)^4 (cloglog: 1 - exp(-4 e^eta))."""
    if link == "cloglog":
        return -np.expm1(-4.0 * np.exp(eta))
    return 1.0 - (1.0 / (1.0 + np.exp(eta))) ** 4


def annual_change(current: pl.DataFrame, params: np.ndarray, cov: np.ndarray, drivers: tuple[str, ...],
                  quarters: list[str], *, draws: int = 1000, df: int = 1000, seed: int = 7, max_patterns: int = 5000,
                  n: int = 0, p_values: Mapping[str, Estimate] | None = None,
                  chunk: int = 2000, link: str = "logit") -> dict[str, Estimate]:
    """Change in annual exit probability (pp) for +1 of each driver, averaged over ``current`` (the current workforce).

    ``current``: the person-quarters at risk in the report quarter. The average is exact: rows
    are grouped into covariate patterns (drivers, tenure band, role, quarter) weighted by their
    counts, so the result does not depend on row order, a sample or the pseudonymisation key.
    The CI: 2.5/97.5 percentiles over ``draws`` coefficient vectors from a multivariate t(df)
    with the cluster-robust covariance. With more than ``max_patterns`` patterns the draws
    use evenly spaced patterns in content order (deterministic); the point estimate uses all.
    """
    keys = [*drivers, "tenure_band", "role", "quarter"]
    pat = current.group_by(keys).agg(pl.len().alias("_n")).sort(keys, nulls_last=True)
    if pat.height == 0:
        raise ValueError("no people at risk in the current quarter to average the annual change over")
    X, _ = exog(pat, drivers, quarters)
    w = pat["_n"].to_numpy().astype(float)
    w /= w.sum()
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal(np.zeros(len(params)), cov, size=draws)
    beta = params[None, :] + z / np.sqrt(rng.chisquare(df, size=draws) / df)[:, None]
    idx = np.arange(len(w)) if len(w) <= max_patterns else np.unique(np.linspace(0, len(w) - 1, max_patterns).round().astype(int))
    Xd, wd = X[idx], w[idx] / w[idx].sum()
    out = {}
    for i, dr in enumerate(drivers):
        eta = X @ params
        point = float(w @ (_annual(eta + params[i + 1], link) - _annual(eta, link)) * 100)
        diff = np.zeros(draws)
        for s in range(0, len(idx), chunk):  # bounded memory: chunk x draws
            e = Xd[s:s + chunk] @ beta.T
            diff += wd[s:s + chunk] @ (_annual(e + beta[:, i + 1][None, :], link) - _annual(e, link)) * 100
        lo, hi = np.percentile(diff, [2.5, 97.5]) if draws else (float("nan"), float("nan"))
        pv = p_values[dr].p_value if p_values is not None and dr in p_values else float("nan")
        out[dr] = Estimate(dr, point, float(diff.std()) if draws else float("nan"), float(lo), float(hi), pv, n,
                           SCALE_ANNUAL)
    return out


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


def inference_text(haz: HazardResult, lang: str) -> str:
    """Markdown for the page's notes: which inference is used, and warnings for few units or few exits per parameter."""
    from .notebook import fmt

    parts = [fmt(i18n.t("ret_method", lang), lang, df=haz.df, people=haz.n_current, quarter=haz.current_quarter)]
    if haz.n_clusters < SMALL_CLUSTERS:
        parts.append(fmt(i18n.t("ret_few_units", lang), lang, n_clusters=haz.n_clusters, min_units=SMALL_CLUSTERS))
    if haz.events_per_parameter < MIN_EVENTS_PER_PARAMETER:
        parts.append(fmt(i18n.t("ret_few_events", lang), lang, n_events=haz.n_events, n_params=len(haz.names) - len(haz.dropped),
                         epv=haz.events_per_parameter, min_epv=MIN_EVENTS_PER_PARAMETER))
    return "\n\n".join(parts)


def km_table(bands: pl.DataFrame, lang: str) -> pl.DataFrame:
    """The Kaplan-Meier bands (``SurvivalCurves.bands``) as report text: band, employees, exits, 1-year retention with CI."""
    return bands.select(
        charts.word_col("band", lang), "employees", "voluntary_exits",
        charts.ci_col("retained_1y", "retained_1y_low", "retained_1y_high", lang, 0, pct=True, name="retained_1y_ci"),
    )


# ------------------------------------------------------------------------------------------ early attrition (issue 12)

EARLY_LANDMARK_DAYS = 30  # what is known by day 30 of tenure explains an early exit after it
EARLY_DRIVERS = ("onboarding_training", "recognition_30d", "leadership_team_mean")
EARLY_MODEL_LABEL = "logit of an early voluntary exit among hires employed on day 30, unit-clustered SE"
SCALE_EARLY = ("log-odds of an early voluntary exit (within 90 days of hire or in the quarter they joined), among hires "
               "with full follow-up still employed on day 30, per unit change (0/1 for onboarding_training and "
               "recognition_30d, one answer point for leadership_team_mean)")


def new_hires(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], quarter: str) -> pl.DataFrame:
    """One row per person hired from the first data quarter to the end of ``quarter``, with what the first weeks showed.

    ``tables`` are the data as known at the end of ``quarter`` (``features.as_of``). Columns:
    ``unit_id``, ``hire_date``, ``hire_qi``, ``days`` (hire to exit, null while employed), ``early`` (a voluntary exit
    within ``features.EARLY_DAYS`` days of hire or in the quarter they joined: the index's early leavers),
    ``followed_early`` (the whole early window lies before the quarter's end), ``left_2q`` (voluntary exit in the hire
    quarter or the next) with ``followed_2q``, ``at_day30`` (still employed on day 30), and the drivers
    ``onboarding_training`` (1 if a training is dated in days 0-29 after hire), ``recognition_30d`` (1 if a
    recognition was received in days 0-29) and ``leadership_team_mean`` (mean leadership answer of the manager's team
    in the quarter before hire; null when nobody in it answered). A driver whose table is absent is left out.
    Hires before the first data quarter are left out: their first weeks predate the event data.
    """
    from . import features as F
    from . import quarters as Q

    qs = F.data_quarters(tables)
    if not qs:
        raise ValueError("the survey has no dates: no quarters to study new hires in")
    first, end, end_qi = Q.start(qs[0]), Q.end(quarter), Q.parse(quarter)
    emp = F._lazy(tables["employees"]).filter(pl.col("hire_date") >= first)
    hires = emp.select(
        "employee_id", "unit_id", "manager_id", "hire_date",
        Q.index_expr("hire_date").alias("hire_qi"),
        (pl.col("exit_date") - pl.col("hire_date")).dt.total_days().alias("days"),
        (pl.col("exit_reason") == "voluntary").fill_null(False).alias("_vol"),
        Q.index_expr("exit_date").alias("_exit_qi"),
    ).with_columns(
        (pl.col("_vol") & ((pl.col("days") < F.EARLY_DAYS) | (pl.col("_exit_qi") == pl.col("hire_qi"))))
        .fill_null(False).cast(pl.Int8).alias("early"),
        (((pl.lit(end) - pl.col("hire_date")).dt.total_days() >= F.EARLY_DAYS - 1) & (pl.col("hire_qi") < end_qi))
        .alias("followed_early"),
        (pl.col("_vol") & (pl.col("_exit_qi") <= pl.col("hire_qi") + 1)).fill_null(False).cast(pl.Int8).alias("left_2q"),
        (pl.col("hire_qi") + 1 <= end_qi).alias("followed_2q"),
        (pl.col("days").is_null() | (pl.col("days") >= EARLY_LANDMARK_DAYS)).alias("at_day30"),
    )

    def within_30(name: str, person: str, out: str) -> pl.LazyFrame:
        ev = F._lazy(tables[name]).select(pl.col(person).alias("employee_id"), pl.col("date").alias("_d"))
        return (hires.select("employee_id", "hire_date").join(ev, on="employee_id")
                .filter((pl.col("_d") >= pl.col("hire_date"))
                        & ((pl.col("_d") - pl.col("hire_date")).dt.total_days() < EARLY_LANDMARK_DAYS))
                .select("employee_id").unique().with_columns(pl.lit(1.0).alias(out)))

    drivers = []
    for name, person, out in (("trainings", "employee_id", "onboarding_training"),
                              ("recognitions", "receiver_id", "recognition_30d")):
        if tables.get(name) is not None:
            hires = hires.join(within_30(name, person, out), on="employee_id", how="left").with_columns(
                pl.col(out).fill_null(0.0))
            drivers.append(out)
    sv = F.survey_by_quarter(tables, ("leadership",))
    team = (sv.join(F._lazy(tables["employees"]).select("employee_id", "manager_id"), on="employee_id")
            .filter(pl.col("manager_id").is_not_null())
            .group_by("manager_id", "qi").agg(pl.col("leadership").mean().alias("leadership_team_mean")))
    hires = hires.join(team.with_columns((pl.col("qi") + 1).alias("hire_qi")).drop("qi"),
                       on=["manager_id", "hire_qi"], how="left")
    return hires.drop("_vol", "_exit_qi").collect()


@dataclass(repr=False)
class EarlyAttrition(ResultMixin):
    """Early attrition of new hires: counts, a breakdown by unit and by the first weeks, and a landmark logit."""

    hires_followed: int  # hires whose whole early window is observed
    early_leavers: int  # among them, voluntary exits within 90 days or in the hire quarter
    hires_followed_2q: int
    left_2q: int  # voluntary exits in the hire quarter or the next, among hires followed that long
    effects: dict[str, Estimate]  # log-odds (SCALE_EARLY)
    odds_ratios: dict[str, Estimate]
    n_obs: int  # hires in the model (followed, employed on day 30)
    n_events: int
    n_clusters: int
    drivers: tuple[str, ...]
    missing_leadership: int  # hires in the model whose manager's team had no leadership answer (indicator column)
    by_unit: pl.DataFrame  # unit_id, hires, early_leavers, early_rate, suppressed (privacy.suppress_small)
    by_driver: pl.DataFrame  # driver, level, hires, early_leavers, early_rate, suppressed
    first_quarter: str
    last_quarter: str
    model_result: Any = field(default=None, compare=False)  # the statsmodels GLM result (unit-clustered covariance)

    _title: ClassVar[str] = "Early attrition of new hires (landmark logit, unit-clustered SE)"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return [("log-odds", e) for e in self.effects.values()] + [("odds ratio", e) for e in self.odds_ratios.values()]

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", EARLY_MODEL_LABEL), ("hires followed", self.hires_followed),
                ("early leavers", self.early_leavers), ("hires in the model", self.n_obs), ("events", self.n_events),
                ("clusters", self.n_clusters), ("quarters", f"{self.first_quarter} to {self.last_quarter}"),
                ("no team answer", self.missing_leadership)]

    @property
    def early_rate(self) -> float | None:
        return self.early_leavers / self.hires_followed if self.hires_followed else None

    def to_dict(self) -> dict:
        """For metrics.json ``retention.early_attrition`` (aggregates only; suppressed cells are null)."""
        return {
            "model": EARLY_MODEL_LABEL, "definition_days": _early_days(), "landmark_days": EARLY_LANDMARK_DAYS,
            "hires_followed": self.hires_followed, "early_leavers": self.early_leavers, "early_rate": self.early_rate,
            "hires_followed_2q": self.hires_followed_2q, "left_first_two_quarters": self.left_2q,
            "left_first_two_quarters_rate": self.left_2q / self.hires_followed_2q if self.hires_followed_2q else None,
            "effects": {k: {**v.to_dict(), "scale": SCALE_EARLY} for k, v in self.effects.items()},
            "odds_ratios": {k: v.to_dict() for k, v in self.odds_ratios.items()},
            "n_obs": self.n_obs, "n_events": self.n_events, "n_clusters": self.n_clusters,
            "missing_leadership": self.missing_leadership, "drivers": list(self.drivers),
            "quarters": [self.first_quarter, self.last_quarter],
            "by_unit": self.by_unit.to_dicts(), "by_driver": self.by_driver.to_dicts(),
        }


def _early_days() -> int:
    from .features import EARLY_DAYS

    return EARLY_DAYS


def missing_indicator(rows: pl.DataFrame, col: str, fill: float) -> pl.DataFrame:
    """``col`` with nulls replaced by ``fill`` plus ``<col>_missing`` (1 where it was null): one rule for fit and prediction."""
    return rows.with_columns(pl.col(col).is_null().cast(pl.Float64).alias(f"{col}_missing"),
                             pl.col(col).cast(pl.Float64).fill_null(fill))


def _rate_table(df: pl.DataFrame, by: list[str], threshold: int, group: list[str]) -> pl.DataFrame:
    from .privacy import suppress_small

    agg = (df.group_by(by).agg(pl.len().alias("hires"), pl.col("early").sum().cast(pl.Int64).alias("early_leavers"))
           .with_columns((pl.col("early_leavers") / pl.col("hires")).alias("early_rate")).sort(by))
    return suppress_small(agg, "hires", threshold, *group, value_cols=["hires", "early_leavers", "early_rate"])


def fit_early_attrition(tables: Mapping[str, pl.DataFrame | pl.LazyFrame], quarter: str, threshold: int = 5,
                        min_events: int = 10) -> EarlyAttrition:
    """Early attrition of the hires of the data's quarters, as known at the end of ``quarter``.

    Counts use the index's definition (``features.EARLY_DAYS``: a voluntary exit within 90 days of hire or in the
    quarter they joined) among hires whose whole window is observed. The model is a landmark logit: among those
    hires still employed on day 30, an early exit on ``EARLY_DRIVERS`` known by day 30 (so nobody's drivers are cut
    short by their own exit, the immortal-time bias a day-0 start would have), with unit-clustered (CRV1) errors.
    A hire whose manager's team gave no leadership answer keeps the mean and a ``leadership_team_mean_missing``
    indicator. Breakdowns by unit and by driver level hide cells below ``threshold`` hires (with complementary
    suppression). Raises ValueError when there are too few hires or early exits to fit.
    """
    from . import features as F

    h = new_hires(tables, quarter)
    fol = h.filter(pl.col("followed_early"))
    f2 = h.filter(pl.col("followed_2q"))
    drivers = tuple(d for d in EARLY_DRIVERS if d in fol.columns)
    # a fixed order by content (never by pseudonym): sums, hence metrics.json, are the same for every key
    rows = fol.filter(pl.col("at_day30")).sort([*drivers, "early", "unit_id"], nulls_last=True, maintain_order=True)
    n_events = int(rows["early"].sum()) if rows.height else 0
    if rows.height < 50 or n_events < min_events:
        raise ValueError(f"too little data for the early-attrition model: {rows.height} hires followed for "
                         f"{F.EARLY_DAYS} days and employed on day {EARLY_LANDMARK_DAYS}, {n_events} early exits "
                         f"(need >= 50 and >= {min_events})")
    # a driver that does not vary among these hires (an empty trainings export, no team answers) cannot be estimated
    drivers = tuple(d for d in drivers if rows[d].drop_nulls().n_unique() > 1)
    X_rows, names = rows, [*drivers]
    if "leadership_team_mean" in drivers:
        X_rows = missing_indicator(rows, "leadership_team_mean", float(rows["leadership_team_mean"].mean()))
        if X_rows["leadership_team_mean_missing"].sum() > 0:
            names.append("leadership_team_mean_missing")
    X = np.column_stack([np.ones(rows.height), X_rows.select(names).to_numpy().astype(float)])
    groups = rows.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    res = sm.GLM(rows["early"].to_numpy().astype(float), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups})
    se = np.sqrt(np.diag(np.asarray(res.cov_params())))
    params = np.asarray(res.params)
    df_t = max(int(groups.max()) - 1, 1)  # t(G-1), as the hazard model
    effects = {d: _t_estimate(d, params[i + 1], se[i + 1], df_t, rows.height, SCALE_EARLY)
               for i, d in enumerate(drivers)}
    by_unit = _rate_table(fol, ["unit_id"], threshold, [])
    levels = fol.with_columns(
        *[pl.col(d).cast(pl.Int8).cast(pl.String).alias(d) for d in drivers if d != "leadership_team_mean"],
        pl.when(pl.col("leadership_team_mean").is_null()).then(pl.lit("no_answer"))
        .when(pl.col("leadership_team_mean") >= 4.0).then(pl.lit("4_or_more"))
        .when(pl.col("leadership_team_mean") >= 3.0).then(pl.lit("3_to_4"))
        .otherwise(pl.lit("below_3")).alias("leadership_team_mean"),
    )
    by_driver = pl.concat([_rate_table(levels.rename({d: "level"}).with_columns(pl.lit(d).alias("driver")),
                                       ["driver", "level"], threshold, ["driver"]) for d in drivers])
    return EarlyAttrition(
        hires_followed=fol.height, early_leavers=int(fol["early"].sum()), hires_followed_2q=f2.height,
        left_2q=int(f2["left_2q"].sum()), effects=effects, odds_ratios={k: v.exp() for k, v in effects.items()},
        n_obs=rows.height, n_events=n_events, n_clusters=int(rows["unit_id"].n_unique()), drivers=drivers,
        missing_leadership=int(rows["leadership_team_mean"].null_count()), by_unit=by_unit, by_driver=by_driver,
        first_quarter=F.data_quarters(tables)[0], last_quarter=quarter, model_result=res,
    )


def early_tables(ea: EarlyAttrition, units: pl.DataFrame | pl.LazyFrame, lang: str,
                 top: int = 10) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The early-attrition view as report tables: the ``top`` units by early-leaver rate (hidden units left out)
    and the rate by what was known by day 30. Columns are ``ea_*`` word keys; ``ea_early_rate`` is a share."""
    names = (units.lazy() if isinstance(units, pl.DataFrame) else units).select("unit_id", "unit_name").collect()
    by_unit = (ea.by_unit.filter(pl.col("suppressed").is_null()).join(names, on="unit_id", how="left")
               .sort(["early_rate", "hires", "unit_id"], descending=[True, True, False]).head(top)
               .select(pl.col("unit_name").alias("ea_unit"), pl.col("hires").alias("ea_hires"),
                       pl.col("early_leavers").alias("ea_early_leavers"), pl.col("early_rate").alias("ea_early_rate")))
    by_driver = ea.by_driver.select(
        pl.col("driver").map_elements(lambda d: i18n.t(d, lang), return_dtype=pl.String).alias("ea_factor"),
        pl.col("level").map_elements(lambda v: i18n.t(f"ea_level_{v}", lang), return_dtype=pl.String).alias("ea_level"),
        pl.col("hires").alias("ea_hires"), pl.col("early_leavers").alias("ea_early_leavers"),
        pl.col("early_rate").alias("ea_early_rate"), pl.col("driver").alias("_d"), pl.col("level").alias("_l"),
    ).with_columns(
        pl.col("_d").replace_strict({d: i for i, d in enumerate(EARLY_DRIVERS)}, default=len(EARLY_DRIVERS)).alias("_d"),
        pl.col("_l").replace_strict(_LEVEL_ORDER, default=len(_LEVEL_ORDER)).alias("_l"),
    ).sort("_d", "_l").drop("_d", "_l")
    return by_unit, by_driver


_LEVEL_ORDER = {"0": 0, "1": 1, "below_3": 0, "3_to_4": 1, "4_or_more": 2, "no_answer": 3}


# ------------------------------------------------------------------------------------------ non-response (issue 12)

NONRESPONSE_SCALE = ("log-odds of a voluntary exit in a quarter for people without last quarter's survey answer vs those "
                     "with one, at the same recognition events, tenure band, role and quarter (missing-indicator model)")


@dataclass
class NonResponse:
    """Does not answering the survey go with leaving? The missing-answer indicator of the hazard logit.

    The effects the pages quote stay complete-case: with correlated drivers the missing-indicator
    method biases the *other* coefficients (the drivers still observed for non-respondents, here
    recognition events, absorb the omitted answers' effect; Jones 1996, Groenwold et al. 2012); on
    the demo (seed 10) it moved recognition from -0.18 (complete cases) to -0.22, outside the CI
    around the true -0.15. The indicator is used for what it answers well: whether the people
    who did not answer leave at a different rate than respondents like them, i.e. whether
    filling their answers in (the money's unit means) is safe. ``fill`` holds the constants
    that replace a missing answer, the same in the fit and in :meth:`predict`.
    """

    indicator: Estimate  # log-odds, NONRESPONSE_SCALE
    odds_ratio: Estimate
    share_missing: float  # person-quarters at risk without an answer
    fill: dict[str, float]
    params: np.ndarray
    names: list[str]
    drivers: tuple[str, ...]
    quarters: list[str]

    def predict(self, rows: pl.DataFrame) -> np.ndarray:
        """Quarterly exit probability under the missing-indicator model (missing answers filled as in the fit)."""
        X, names = exog(with_missing_indicator(rows, self.drivers, self.fill), (*self.drivers, NO_ANSWER), self.quarters)
        if names != self.names:
            raise ValueError(f"rows give the model columns {names}, the fit had {self.names}")
        return 1.0 / (1.0 + np.exp(-(X @ self.params)))

    def to_dict(self) -> dict:
        return {"indicator": {**self.indicator.to_dict(), "scale": NONRESPONSE_SCALE},
                "odds_ratio": self.odds_ratio.to_dict(), "share_missing": self.share_missing, "fill": self.fill,
                "model": "discrete-time logit with a missing-answer indicator, unit-clustered SE"}


NO_ANSWER = "no_answer"


def with_missing_indicator(rows: pl.DataFrame, drivers: tuple[str, ...], fill: Mapping[str, float]) -> pl.DataFrame:
    """One rule for fit and prediction: each missing driver becomes ``fill[driver]`` and ``no_answer`` is 1
    where any driver was missing (a survey not answered leaves its items missing together)."""
    return rows.with_columns(
        pl.any_horizontal([pl.col(d).is_null() for d in drivers]).cast(pl.Float64).alias(NO_ANSWER),
        *[pl.col(d).cast(pl.Float64).fill_null(float(fill[d])) for d in drivers],
    )


def nonresponse_check(panel: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS) -> NonResponse:
    """Fit the hazard logit on every person-quarter at risk, missing answers filled with the complete-case
    means plus a ``no_answer`` indicator; unit-clustered (CRV1) errors, t(G-1) CIs."""
    rows = content_order(panel.filter(pl.col("role").is_not_null()), drivers)  # key-independent sums
    cc = rows.drop_nulls(list(drivers))
    if cc.height == 0 or cc.height == rows.height:
        raise ValueError("the non-response check needs people with and without last quarter's answers")
    fill = {d: float(cc[d].cast(pl.Float64).mean()) for d in drivers}
    filled = with_missing_indicator(rows, drivers, fill)
    quarters = sorted(rows["quarter"].unique().to_list())
    X, names = exog(filled, (*drivers, NO_ANSWER), quarters)
    groups = filled.select(pl.col("unit_id").rank("dense")).to_series().to_numpy()
    res = sm.GLM(filled["voluntary_exit"].to_numpy().astype(float), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": groups})
    j = names.index(NO_ANSWER)
    se = float(np.sqrt(np.asarray(res.cov_params())[j, j]))
    est = _t_estimate(NO_ANSWER, float(res.params[j]), se, max(int(groups.max()) - 1, 1), rows.height, NONRESPONSE_SCALE)
    return NonResponse(est, est.exp(), float(filled[NO_ANSWER].mean()), fill, np.asarray(res.params), names,
                       tuple(drivers), quarters)


# ------------------------------------------------------------------------------------------ money's hazard (issue 12)

LINKS = ("logit", "cloglog")
EXPOSURE = "exposure"  # share of the quarter a person-quarter was at risk (1 unless it ended early)


def inverse_link(eta: np.ndarray, link: str = "logit", exposure: np.ndarray | float = 1.0) -> np.ndarray:
    """Probability of an exit in the period from the linear predictor: expit(eta), or for the complementary
    log-log model 1 - exp(-exposure x e^eta) (a constant hazard e^eta per quarter over the time at risk)."""
    if link == "cloglog":
        return -np.expm1(-np.asarray(exposure) * np.exp(eta))
    return 1.0 / (1.0 + np.exp(-eta))


def with_exposure(rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``exposure``: the share of the quarter the person was at risk of a voluntary exit.

    1 for everyone the risk set holds at the start of the quarter (it starts there) except those who
    left involuntarily (``other_exit``) inside it: they were at risk from the first day to their exit
    date, (days to the exit + 1) / days in the quarter. A voluntary leaver was at risk the whole
    quarter (nothing censored them before their exit). Kept as it is when the column is already there;
    1 when the rows carry no dates (``qi``, ``exit_date``, ``other_exit``).
    """
    if EXPOSURE in rows.columns:
        return rows
    if not {"qi", "exit_date", "other_exit"} <= set(rows.columns):
        return rows.with_columns(pl.lit(1.0).alias(EXPOSURE))
    qi = pl.col("qi").cast(pl.Int32)
    start = pl.date(qi // 4, (qi % 4) * 3 + 1, 1)
    days = (start.dt.offset_by("3mo") - start).dt.total_days().cast(pl.Float64)
    part = (((pl.col("exit_date") - start).dt.total_days().cast(pl.Float64) + 1.0) / days).clip(1.0 / 92.0, 1.0)
    return rows.with_columns(
        pl.when((pl.col("other_exit") == 1) & pl.col("exit_date").is_not_null()).then(part)
        .otherwise(pl.lit(1.0)).round(9).alias(EXPOSURE))


@dataclass
class UnitFill:
    """The missing-answer rule of the hazard fit, applied again to every row it predicts.

    A missing driver becomes the mean answer of the person's unit among the fit's person-quarters with an
    answer (``units``: unit_id + one mean per driver), else the overall mean (``overall``); ``no_answer`` is 1
    where any driver was missing (a survey not answered leaves its items missing together). With unit means
    rather than one constant, the filled values keep the between-unit differences, so a driver observed for
    everyone (recognition events) does not absorb the omitted answers' effect: on the demo (seeds 3, 7, 10)
    recognition's coefficient stayed within 0.002 of the complete-case fit, against 0.008-0.009 away with
    the overall means (:func:`with_missing_indicator`).
    """

    drivers: tuple[str, ...]
    units: pl.DataFrame
    overall: dict[str, float]

    def apply(self, rows: pl.DataFrame) -> pl.DataFrame:
        """``rows`` with every missing driver filled and ``no_answer`` added; rows already filled (they have
        ``no_answer``) are returned as they are, so applying the rule twice cannot erase the indicator."""
        if NO_ANSWER in rows.columns:
            return rows
        means = self.units.rename({d: f"_fill_{d}" for d in self.drivers})
        out = rows.join(means, on="unit_id", how="left", maintain_order="left")
        return out.with_columns(
            pl.any_horizontal([pl.col(d).is_null() for d in self.drivers]).cast(pl.Float64).alias(NO_ANSWER),
            *[pl.col(d).cast(pl.Float64).fill_null(pl.col(f"_fill_{d}")).fill_null(self.overall[d])
              for d in self.drivers],
        ).drop([f"_fill_{d}" for d in self.drivers])


def unit_fill(rows: pl.DataFrame, drivers: tuple[str, ...] = DRIVERS) -> UnitFill:
    """The unit means (and overall means) of each driver among the person-quarters of ``rows`` with an answer,
    summed in content order so that the fill is the same for any row order or pseudonymisation key."""
    r = content_order(rows, drivers).sort("unit_id", maintain_order=True)
    units = (r.group_by("unit_id", maintain_order=True)
             .agg([pl.col(d).cast(pl.Float64).drop_nulls().mean().alias(d) for d in drivers]).sort("unit_id"))
    overall = {d: float(r[d].cast(pl.Float64).drop_nulls().mean() or 0.0) for d in drivers}
    return UnitFill(tuple(drivers), units, overall)

