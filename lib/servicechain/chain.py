"""The service-profit chain as evidence: mediation, key-driver importance, a privacy-safe heat map.

Three analyses on the unit-quarter panel (``features.unit_quarters``):

* **Mediation** (:func:`fit_mediation`): does employee experience (EX) go with
  customer loyalty *through* employee retention? Exposure X = the unit's EX index
  (mean of its recognition, empowerment and leadership answers, standardised) in
  quarter q-2; mediator M = voluntary turnover % (or mean engagement) in q-1;
  outcome Y = NPS or customer retention in q; quarter effects in both equations.
  Product of coefficients: indirect = a*b, direct = c', total = c' + a*b (equal to
  the total-effect regression on the same rows), share mediated = a*b / total,
  each with a 95% expanded percentile CI (mediation.expanded_tail) from a cluster bootstrap that resamples units.
* **Key-driver importance** (:func:`key_drivers`): Shapley decomposition of R²
  (dominance analysis, "general dominance") over all 2^k subsets of k <= 6
  drivers, with quarter effects partialled out, and unit-cluster bootstrap CIs.
  :func:`priority_quadrants` crosses importance with the current quarter's mean
  score ("what to fix first").
* **Heat map** (:func:`driver_heatmap_cells`): mean answers by region or unit for
  the report quarter, with primary and complementary suppression so no group
  below the anonymity threshold can be seen or recovered from a published total.

Caveats, to repeat wherever these numbers are shown:

* Everything here is **association, not causation**. The data are observational.
* The mediation reading (the EX -> turnover -> loyalty path) additionally rests on
  *sequential ignorability*: nothing that is not in the model drives both EX and
  turnover, or both turnover and loyalty (no unmeasured confounders of X->M,
  X->Y, M->Y), and no confounder of M->Y is itself affected by X. A stable unit
  trait (location, clientele, a good manager) that lowers turnover and lifts NPS
  would show up as "mediated". Lagging X two quarters and M one quarter rules
  out reverse timing, not confounding.
* The share mediated is unstable when the total effect is near zero; read it only
  when the total effect's CI excludes zero.

All bootstraps are vectorised and cost O(units) per replicate, not O(rows): each
replicate is a vector of unit weights (multinomial counts), and every statistic the
estimators need is a sum over units of unit-level sufficient statistics (X'X and
X'y per unit for the mediation regressions; per unit and quarter counts, sums and
cross-products for the Shapley R²). Those are computed once from the rows; a
replicate is then one matrix product ``counts @ statistics``. This is the same
estimator as reweighting the rows (identical up to floating-point rounding) and
keeps a million-employee organisation's bootstraps to seconds.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
import polars as pl
from scipy import sparse

from . import i18n
from . import quarters as Q
from .estimates import Estimate, ResultMixin, bootstrap_estimate
from .features import Frame, _lazy, survey_by_quarter
from .mediation import mediate

EX_ITEMS = ("recognition", "empowerment", "leadership")
SURVEY_DRIVERS = ("recognition", "empowerment", "leadership", "internal_service", "engagement")
MEDIATORS = {
    "voluntary_turnover_pct": "percentage points of voluntary turnover in q-1",
    "engagement": "mean engagement answer (1-5) in q-1",
}
OUTCOMES = {
    # outcome: (scale, count column, minimum count)
    "nps": ("NPS points (-100..100) in q", "nps_responses", 5),
    "customer_retention_pct": ("percentage points of last quarter's customers who came back in q", "customers_prev", 10),
    "voluntary_turnover_pct": ("percentage points of voluntary turnover in q", "headcount", 5),
}
# The unit's EX drivers in q-1 as the unit models measure them (recognitions per month from the event log, mean
# empowerment and leadership answers): with turnover they are what the unit's customers in q respond to, so the
# mediation's outcome model holds them fixed (issue 12). The EX index of q-1 alone (a mean of survey items) left
# the b-path 7% too steep on the demo (docs/validation.md, tests/test_mediation_bias.py).
EX_DRIVERS_Q1 = ("recognition_per_month", "empowerment", "leadership")
MAX_SHAPLEY_DRIVERS = 6
QUADRANTS = ("fix_first", "maintain", "secondary", "monitor")
_CHUNK = 64
REASON_EMPTY = "no_answers"


# ------------------------------------------------------------------------------------------ helpers


def item_column(names: Sequence[str], item: str) -> str | None:
    """The unit-quarter column holding the mean answer of survey ``item`` (None when absent).

    ``features.unit_quarters`` names them ``<item>_mean``, except ``empowerment`` and
    ``leadership`` which it keeps under their own names.
    """
    if f"{item}_mean" in names:
        return f"{item}_mean"
    if item in ("empowerment", "leadership") and item in names:
        return item
    return None


def _dummies(codes: np.ndarray) -> np.ndarray:
    """Integer codes 0..L-1 -> indicator columns for levels 1..L-1 (level 0 is the reference)."""
    levels = int(codes.max()) + 1 if codes.size else 0
    return (codes[:, None] == np.arange(1, levels)[None, :]).astype(float)


def _codes(s: pl.Series) -> np.ndarray:
    """Codes 0..L-1 in sorted order of the values (a hash join: ranking millions of strings is slow)."""
    levels = s.unique().sort().to_frame("_v").with_row_index("_code")
    return (s.to_frame("_v").join(levels, on="_v", how="left", maintain_order="left")["_code"]
            .cast(pl.Int64).to_numpy())


def _boot_counts(n_clusters: int, reps: int, seed: int) -> np.ndarray:
    """Cluster-bootstrap weights: how often each cluster is drawn in each replicate (reps, clusters).

    Cached (read-only int32): the analyses of one report share a seed and often the
    number of units, and at 40,000 units one draw of 500 replicates takes a second.
    """
    return _boot_counts_cached(int(n_clusters), int(reps), int(seed))


@lru_cache(maxsize=4)
def _boot_counts_cached(n_clusters: int, reps: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=reps).astype(np.int32)
    out.setflags(write=False)
    return out


def _group_cross(g: np.ndarray, n_groups: int, A: np.ndarray, B: np.ndarray | None = None) -> np.ndarray:
    """Per-group cross-products A_g' B_g for rows with group codes ``g``: (groups, pa, pb)."""
    B = A if B is None else B
    M = sparse.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(n_groups, len(g)))
    out = np.empty((n_groups, A.shape[1], B.shape[1]))
    for j in range(A.shape[1]):
        out[:, j, :] = M @ (A[:, [j]] * B)
    return out


def _replicate_sums(counts: np.ndarray, stats: np.ndarray, chunk: int = _CHUNK) -> np.ndarray:
    """sum_g counts[r, g] * stats[g, ...] for every replicate r, in chunks of replicates: (reps, ...)."""
    flat = stats.reshape(stats.shape[0], -1)
    parts = [counts[i:i + chunk].astype(float) @ flat for i in range(0, counts.shape[0], chunk)]
    out = np.concatenate(parts) if parts else np.empty((0, flat.shape[1]))
    return out.reshape(counts.shape[0], *stats.shape[1:])


def _sym_replicate_sums(counts: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """:func:`_replicate_sums` of symmetric per-unit matrices (G, p, p), summing only the upper triangle."""
    p = cross.shape[-1]
    iu, ju = np.triu_indices(p)
    packed = _replicate_sums(counts, cross[:, iu, ju])
    out = np.empty((counts.shape[0], p, p))
    out[:, iu, ju] = packed
    out[:, ju, iu] = packed
    return out


# ------------------------------------------------------------------------------------------ mediation


@dataclass(repr=False)
class MediationResult(ResultMixin):
    """Product-of-coefficients mediation X(q-2) -> M(q-1) -> Y(q) with unit-cluster bootstrap CIs.

    ``a``: M on X; ``b``: Y on M given X; ``direct`` = c' (Y on X given M); ``indirect`` = a*b;
    ``total`` = c' + a*b; ``share_mediated`` = a*b / total. X is in standard deviations of the
    unit EX index (``exposure_sd`` answer points on the 1-5 scale). Association, not causation:
    the mediated reading needs sequential ignorability (see the module docstring).
    """

    exposure: str
    mediator: str
    outcome: str
    a: Estimate
    b: Estimate
    direct: Estimate
    indirect: Estimate
    total: Estimate
    share_mediated: Estimate
    n_obs: int
    n_units: int
    reps: int
    seed: int
    exposure_items: tuple[str, ...]
    exposure_sd: float
    first_quarter: str
    last_quarter: str
    adjusted_for: tuple[str, ...] = ()
    rho_at_zero: float = float("nan")
    sensitivity: str = ""

    _title: ClassVar[str] = "Mediation X(q-2) -> M(q-1) -> Y(q), unit-cluster bootstrap CIs"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return [("path", getattr(self, k)) for k in ("a", "b", "direct", "indirect", "total", "share_mediated")]

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", f"{self.exposure} -> {self.mediator} -> {self.outcome}"),
                ("method", f"product of coefficients, {self.reps} unit-cluster bootstrap replicates (seed {self.seed})"),
                ("unit-quarters", self.n_obs), ("clusters", self.n_units),
                ("quarters", f"{self.first_quarter} to {self.last_quarter}"),
                ("exposure SD", f"{self.exposure_sd:.3g} answer points"),
                ("adjusted for", ", ".join(self.adjusted_for) or "-"), ("rho at zero", self.rho_at_zero)]

    def _notes(self) -> list[str]:
        return [self.sensitivity] if self.sensitivity else []

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("exposure", "mediator", "outcome", "n_obs", "n_units", "reps", "seed",
                                             "exposure_sd", "first_quarter", "last_quarter", "sensitivity")}
        out["rho_at_zero"] = self.rho_at_zero if math.isfinite(self.rho_at_zero) else None
        out["adjusted_for"] = list(self.adjusted_for)
        out["exposure_items"] = list(self.exposure_items)
        for k in ("a", "b", "direct", "indirect", "total", "share_mediated"):
            out[k] = getattr(self, k).to_dict()
        return out


def mediation_frame(uq: pl.DataFrame, mediator: str = "voluntary_turnover_pct", outcome: str = "nps",
                    items: Sequence[str] = EX_ITEMS, min_respondents: int = 3, min_headcount: int = 5) -> pl.DataFrame:
    """Rows (unit, outcome quarter q) with x = raw EX index in q-2, m = mediator in q-1, y = outcome in q.

    Also the unit's EX in q-1 (possible confounders of m -> y, null when unknown): ``l`` = the EX index and
    ``l_<driver>`` = each of ``EX_DRIVERS_Q1`` the panel has (recognitions per month, empowerment, leadership).

    Quality filters (not privacy: nothing here is published per unit): at least
    ``min_respondents`` respondents behind X (and behind an engagement mediator), at
    least ``min_headcount`` people at the start of q-1 behind a turnover mediator, and
    the outcome's minimum count (5 NPS answers, 10 previous customers).
    """
    if outcome not in OUTCOMES or outcome == "voluntary_turnover_pct":
        raise ValueError(f"outcome must be nps or customer_retention_pct, got {outcome!r}")
    names = uq.columns
    cols = [c for c in (item_column(names, i) for i in items) if c is not None]
    if not cols:
        raise ValueError(f"none of the EX items {', '.join(items)} is in the unit-quarter panel")
    _, n_col, min_n = OUTCOMES[outcome]
    if mediator == "voluntary_turnover_pct":
        m_expr, m_ok = pl.col("voluntary_turnover_pct"), pl.col("headcount") >= min_headcount
    elif mediator == "engagement":
        if "engagement_mean" not in names:
            raise ValueError("the survey has no engagement item")
        m_expr, m_ok = pl.col("engagement_mean"), pl.col("engagement_n") >= min_respondents
    else:
        raise ValueError(f"mediator must be one of {', '.join(MEDIATORS)}, got {mediator!r}")
    x = uq.filter(pl.col("respondents") >= min_respondents).select(
        "unit_id", (pl.col("qi") + 2).alias("qi"), pl.mean_horizontal(cols).alias("x"))
    m = uq.filter(m_ok).select("unit_id", (pl.col("qi") + 1).alias("qi"), m_expr.alias("m"))
    y = uq.filter(pl.col(n_col) >= min_n).select("unit_id", "qi", "quarter", pl.col(outcome).alias("y"))
    # EX in q-1: the index (l) and the unit's drivers as the unit models measure them (l_<driver>)
    ex1 = [c for c in EX_DRIVERS_Q1 if c in names and uq[c].null_count() < uq.height]
    lag = uq.filter(pl.col("respondents") >= min_respondents).select(
        "unit_id", (pl.col("qi") + 1).alias("qi"), pl.mean_horizontal(cols).alias("l"),
        *[pl.col(c).cast(pl.Float64).alias(f"l_{c}") for c in ex1])
    return (y.join(m, on=["unit_id", "qi"], how="inner").join(x, on=["unit_id", "qi"], how="inner")
            .join(lag, on=["unit_id", "qi"], how="left").drop_nulls(["x", "m", "y"]).sort("unit_id", "qi"))


def fit_mediation(uq: pl.DataFrame, mediator: str = "voluntary_turnover_pct", outcome: str = "nps", *,
                  reps: int = 500, seed: int = 7, items: Sequence[str] = EX_ITEMS,
                  min_respondents: int = 3, adjust_ex_lag: bool = True) -> MediationResult:
    """Estimate the EX(q-2) -> mediator(q-1) -> outcome(q) chain on the unit-quarter panel ``uq``.

    a-path: M ~ 1 + X + quarter; b-path: Y ~ 1 + X + M + EX(q-1) + quarter (OLS), adjusting for the
    unit's EX in q-1 (its index and its recognitions per month, empowerment and leadership, ``EX_DRIVERS_Q1``:
    what the customers of q respond to besides turnover), a confounder of M -> Y itself affected by X
    (``adjust_ex_lag=False``: the old model without it); indirect = a*b (interventional), total from Y ~ 1 + X + quarter,
    direct = total - indirect; via :func:`servicechain.mediation.mediate`. The
    bootstrap resamples whole units (``reps`` >= 500 recommended) with ``seed``; the
    same seed gives the same unit draws for every mediator/outcome pair, so the CIs
    of different chains are comparable.
    """
    rows = mediation_frame(uq, mediator, outcome, items, min_respondents)
    adjust = ["l", *(c for c in rows.columns if c.startswith("l_"))] if adjust_ex_lag else []
    rows = rows.drop_nulls(adjust)
    n_units = rows["unit_id"].n_unique()
    if rows.height < 30 or n_units < 10:
        raise ValueError(f"too few unit-quarters for the mediation ({rows.height} rows, {n_units} units)")
    sd = float(rows["x"].std())
    if not sd > 0:
        raise ValueError("the EX index does not vary")
    # x per 1 SD: the contrast mean -/+ 0.5 SD of the raw index, the SD recomputed in every replicate
    counts = _boot_counts(n_units, reps, seed) if reps else np.empty((0, n_units))
    med = mediate(rows, "x", "m", "y", covariates=["quarter"], cluster="unit_id", contrast=None, n_boot=reps,
                  seed=seed, outcome_covariates=adjust, boot_counts=counts)
    y_scale = OUTCOMES[outcome][0]
    m_scale = MEDIATORS[mediator]
    held = ", ".join(["EX index", *(c[2:] for c in adjust[1:])])
    adj = f", holding the unit's q-1 {held} fixed" if adjust_ex_lag else ""
    scales = {
        "a": f"{m_scale} per 1 SD of the unit EX index in q-2",
        "b": f"{y_scale} per unit of the mediator ({m_scale}), holding EX in q-2{adj.replace(', holding', ' and') or ' fixed'}",
        "direct": f"{y_scale} per 1 SD of the unit EX index in q-2, not through the mediator (total - indirect)",
        "indirect": f"{y_scale} per 1 SD of the unit EX index in q-2, through the mediator (a*b{adj}; "
                    "interventional indirect effect)",
        "total": f"{y_scale} per 1 SD of the unit EX index in q-2 (direct + indirect)",
        "share_mediated": "indirect / total (fraction); unstable when the total is near zero",
    }
    src = {"a": med.a, "b": med.b, "direct": med.ade, "indirect": med.acme, "total": med.total,
           "share_mediated": med.prop_mediated}
    ests = {k: Estimate(k, e.estimate, e.se, e.ci_low, e.ci_high, e.p_value, rows.height, scales[k])
            for k, e in src.items()}
    qs = rows["quarter"].unique().sort().to_list()
    used = tuple(i for i in items if item_column(uq.columns, i) is not None)
    return MediationResult("ex_index", mediator, outcome, **ests, n_obs=rows.height, n_units=n_units, reps=reps,
                           seed=seed, exposure_items=used, exposure_sd=sd, first_quarter=qs[0], last_quarter=qs[-1],
                           adjusted_for=tuple(f"{'ex_index' if c == 'l' else c[2:]}_q-1" for c in adjust),
                           rho_at_zero=med.rho_at_zero,
                           sensitivity=sensitivity_text(med.rho_at_zero, mediator, outcome))


def sensitivity_text(rho: float, mediator: str, outcome: str) -> str:
    """Imai-Keele-Yamamoto (2010) sensitivity in words (English, machine-readable; report wording in i18n)."""
    return (f"A hidden confounder of {mediator} (q-1) and {outcome} (q) would have to make the errors of the mediator "
            f"and outcome models correlate by rho = {rho:.2f} to erase the indirect effect; the smaller |rho|, "
            "the more fragile the indirect path.")


# ------------------------------------------------------------------------------------------ Shapley R²


def subset_masks(k: int) -> np.ndarray:
    """All 2^k subsets of k drivers as a boolean (2^k, k) array; row s holds the bits of s."""
    return ((np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1).astype(bool)


def _subset_r2(S: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """R² of every subset from scatter matrices S (r, k+1, k+1) (drivers, then outcome): (2^k, r).

    The OLS R² of y on the drivers in subset s (with intercept/strata already partialled
    out) is c_s' S_ss^-1 c_s / S_yy; all subsets and replicates are solved in one batch
    (drivers outside the subset get an identity block so the system stays square).
    """
    k = S.shape[-1] - 1
    Sxx, sxy, syy = S[:, :k, :k], S[:, :k, k], S[:, k, k]
    mm = (masks[:, :, None] & masks[:, None, :])[:, None]  # (2^k, 1, k, k)
    A = np.where(mm, Sxx[None], 0.0) + np.eye(k)[None, None] * (~masks)[:, None, None, :]
    b = sxy[None] * masks[:, None, :]
    try:
        beta = np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        beta = np.matmul(np.linalg.pinv(A), b[..., None])[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (b * beta).sum(-1) / syy[None]


def shapley_values(v: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Exact Shapley values of a set function ``v`` (2^k, ...) given on ``subset_masks(k)``: (k, ...)."""
    k = masks.shape[1]
    size = masks.sum(1)
    w_of = np.array([math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)])
    out = np.zeros((k, *v.shape[1:]))
    idx = np.arange(2**k)
    for j in range(k):
        s = idx[~masks[:, j]]
        w = w_of[size[s]].reshape(-1, *([1] * (v.ndim - 1)))
        out[j] = (w * (v[s | (1 << j)] - v[s])).sum(0)
    return out


def _scatter(Z: np.ndarray, strata: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weighted within-stratum scatter matrices of Z (n, p) for weights W (r, n): (r, p, p)."""
    D = (strata[:, None] == np.arange(int(strata.max()) + 1)[None, :]).astype(float)  # (n, L)
    ZW = W[:, :, None] * Z[None]
    Sxx = np.matmul(ZW.transpose(0, 2, 1), Z)
    sw = W @ D  # (r, L)
    sz = np.matmul((W[:, :, None] * D[None]).transpose(0, 2, 1), Z)  # (r, L, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(sw[..., None] > 0, sz / sw[..., None], 0.0)
    return Sxx - np.matmul(sz.transpose(0, 2, 1), mean)


def _unit_scatter_stats(Z: np.ndarray, strata: np.ndarray, g: np.ndarray,
                        n_units: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sufficient statistics of the within-stratum scatter per unit: counts (G, L), sums (G, L, p), Z'Z (G, p, p).

    Z is centred within strata first (the within-stratum scatter does not change, its
    rounding does: the cross-products no longer carry the means).
    """
    L = int(strata.max()) + 1 if strata.size else 1
    n_l = np.bincount(strata, minlength=L).astype(float)
    mu = np.stack([np.bincount(strata, weights=Z[:, j], minlength=L) for j in range(Z.shape[1])], 1)
    Zc = Z - (mu / np.maximum(n_l, 1.0)[:, None])[strata]
    key = g * L + strata
    cnt = np.bincount(key, minlength=n_units * L).astype(float).reshape(n_units, L)
    sums = np.stack([np.bincount(key, weights=Zc[:, j], minlength=n_units * L) for j in range(Z.shape[1])], 1)
    return cnt, sums.reshape(n_units, L, Z.shape[1]), _group_cross(g, n_units, Zc)


def _scatter_from_stats(stats: tuple[np.ndarray, np.ndarray, np.ndarray], counts: np.ndarray) -> np.ndarray:
    """Within-stratum scatter matrices for unit weights ``counts`` (r, G): (r, p, p), as :func:`_scatter`."""
    cnt, sums, zz = stats
    G, L, p = sums.shape
    iu, ju = np.triu_indices(p)
    # one product for all statistics: counts, sums, upper triangle of Z'Z
    allr = _replicate_sums(counts, np.concatenate([cnt, sums.reshape(G, L * p), zz[:, iu, ju]], axis=1))
    sw = allr[:, :L]  # (r, L)
    sz = allr[:, L:L + L * p].reshape(-1, L, p)  # (r, L, p)
    szz = np.empty((counts.shape[0], p, p))
    szz[:, iu, ju] = allr[:, L + L * p:]
    szz[:, ju, iu] = allr[:, L + L * p:]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(sw[..., None] > 0, sz / sw[..., None], 0.0)
    return szz - np.matmul(sz.transpose(0, 2, 1), mean)


def shapley_r2(X: np.ndarray, y: np.ndarray, strata: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Shapley (dominance-analysis) decomposition of the OLS R² of y on the k columns of X.

    Returns (R² of the full model, per-driver contributions); the contributions sum to
    the R² exactly. With ``strata`` (integer codes, e.g. quarters) the R² is the
    within-stratum R² (stratum effects partialled out first).
    """
    X = np.asarray(X, float)
    k = X.shape[1]
    if not 1 <= k <= MAX_SHAPLEY_DRIVERS:
        raise ValueError(f"exact Shapley needs 1..{MAX_SHAPLEY_DRIVERS} drivers, got {k}")
    st = np.zeros(len(y), int) if strata is None else np.asarray(strata, int)
    S = _scatter(np.column_stack([X, y]), st, np.ones((1, len(y))))
    masks = subset_masks(k)
    v = _subset_r2(S, masks)
    v[0] = 0.0
    phi = shapley_values(v, masks)
    return float(v[-1, 0]), phi[:, 0]


@dataclass(repr=False)
class KeyDriverResult(ResultMixin):
    """Shapley R² decomposition of one outcome over k drivers, with unit-cluster bootstrap CIs.

    ``contribution[d]``: R² points attributed to driver d (they sum to ``r2``);
    ``share[d]``: the same as a fraction of R² (they sum to 1). Association, not causation.
    """

    outcome: str
    level: str  # "unit" | "person"
    drivers: tuple[str, ...]
    r2: Estimate
    contribution: dict[str, Estimate]
    share: dict[str, Estimate]
    n_obs: int
    n_units: int
    reps: int
    timing: str  # how drivers relate to the outcome in time
    rank: dict[str, int] = field(default_factory=dict)  # 1 = largest share on the data
    rank_stability: dict[str, float] = field(default_factory=dict)  # share of resamples giving the driver that rank

    _title: ClassVar[str] = "Key-driver importance: Shapley R2 decomposition, unit-cluster bootstrap CIs"

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return ([("share of R2", self.share[d]) for d in self.drivers] + [("R2", self.r2)]
                + [("R2 points", self.contribution[d]) for d in self.drivers])

    def _info(self) -> list[tuple[str, Any]]:
        return [("model", f"{self.outcome} on {', '.join(self.drivers)} ({self.level} level)"),
                ("method", f"Shapley R2, {self.reps} bootstrap replicates"), ("rows", self.n_obs),
                ("clusters", self.n_units), ("timing", self.timing),
                ("ranks", ", ".join(f"{d} {self.rank.get(d)}" for d in self.drivers))]

    def rows(self, performance: Mapping[str, float] | None = None) -> list[dict]:
        perf = performance or {}
        return [{"driver": d, "share": self.share[d].estimate, "ci_low": self.share[d].ci_low,
                 "ci_high": self.share[d].ci_high, "r2_contribution": self.contribution[d].estimate,
                 "rank": self.rank.get(d), "rank_stability": self.rank_stability.get(d),
                 "performance": perf.get(d)} for d in self.drivers]

    def to_dict(self) -> dict:
        return {"outcome": self.outcome, "level": self.level, "drivers": list(self.drivers), "r2": self.r2.to_dict(),
                "n_obs": self.n_obs, "n_units": self.n_units, "reps": self.reps, "timing": self.timing,
                "importance": self.rows()}


def key_drivers(rows: pl.DataFrame, outcome: str, drivers: Sequence[str], *, level: str = "unit",
                cluster: str = "unit_id", strata: str = "quarter", reps: int = 200, seed: int = 7,
                timing: str = "") -> KeyDriverResult:
    """Dominance analysis of ``outcome`` on ``drivers`` (columns of ``rows``), quarter effects partialled out.

    The bootstrap resamples clusters (units); each replicate recomputes the exact
    decomposition, so the CIs include the uncertainty of the R² itself.
    """
    drivers = tuple(drivers)
    rows = rows.drop_nulls([outcome, *drivers])
    k = len(drivers)
    if not 1 <= k <= MAX_SHAPLEY_DRIVERS:
        raise ValueError(f"exact Shapley needs 1..{MAX_SHAPLEY_DRIVERS} drivers, got {k}")
    n_units = rows[cluster].n_unique()
    if rows.height < 10 * k or n_units < 5:
        raise ValueError(f"too few rows for the key-driver analysis of {outcome} ({rows.height} rows, {n_units} units)")
    Z = rows.select([*drivers, outcome]).to_numpy().astype(float)
    st = _codes(rows[strata]) if strata else np.zeros(rows.height, int)
    g = _codes(rows[cluster])
    masks = subset_masks(k)
    stats = _unit_scatter_stats(Z, st, g, n_units)

    def decompose(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = _subset_r2(S, masks)
        v[0] = 0.0
        return v[-1], shapley_values(v, masks)  # (r,), (k, r)

    r2, phi = decompose(_scatter_from_stats(stats, np.ones((1, n_units), np.int32)))
    counts = _boot_counts(n_units, reps, seed)
    if reps:
        r2_d, phi_d = decompose(_scatter_from_stats(stats, counts))
    else:
        r2_d, phi_d = np.empty(0), np.empty((k, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        share_pt, share_d = phi[:, 0] / r2[0], phi_d / r2_d[None]
    n = rows.height
    contrib = {d: bootstrap_estimate(d, phi[j, 0], phi_d[j], n, "R² points (within quarters)") for j, d in enumerate(drivers)}
    share = {d: bootstrap_estimate(d, share_pt[j], share_d[j], n, "share of the explained R² (sums to 1)")
             for j, d in enumerate(drivers)}
    rank, stable = rank_stability(phi[:, 0], phi_d)
    return KeyDriverResult(outcome, level, drivers, bootstrap_estimate("r2", r2[0], r2_d, n, "R² within quarters"),
                           contrib, share, n, n_units, reps, timing,
                           dict(zip(drivers, rank.tolist())), dict(zip(drivers, stable.tolist())))


def rank_stability(point: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each driver's rank by importance on the data (1 = largest) and the share of resamples that give it the
    same rank. Shares of R² are non-negative, so their percentile CIs never include zero; how often the order
    holds is the honest summary of their uncertainty."""
    rank = (-point).argsort(kind="stable").argsort() + 1
    if draws.size == 0:
        return rank, np.full(len(point), np.nan)
    boot = (-draws).argsort(axis=0, kind="stable").argsort(axis=0) + 1  # (k, reps)
    return rank, (boot == rank[:, None]).mean(axis=1)


def unit_driver_rows(uq: pl.DataFrame, outcome: str, drivers: Sequence[str] = SURVEY_DRIVERS,
                     min_respondents: int = 3) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Unit-quarters with ``outcome`` in q and the mean answers of ``drivers`` in q-1 (columns named by driver).

    Drivers the survey does not have are skipped; returns (rows, drivers used).
    """
    _, n_col, min_n = OUTCOMES[outcome]
    names = uq.columns
    used = tuple(d for d in drivers if item_column(names, d) is not None and d != outcome)
    lag = uq.filter(pl.col("respondents") >= min_respondents).select(
        "unit_id", (pl.col("qi") + 1).alias("qi"), *[pl.col(item_column(names, d)).alias(d) for d in used])
    y = uq.filter(pl.col(n_col) >= min_n).select("unit_id", "qi", "quarter", pl.col(outcome))
    return y.join(lag, on=["unit_id", "qi"], how="inner").drop_nulls([outcome, *used]), used


def person_engagement_rows(tables: Mapping[str, Frame], drivers: Sequence[str] = SURVEY_DRIVERS) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Person-quarters with engagement and the person's other answers in the same quarter (same survey)."""
    sv = survey_by_quarter(tables)
    names = sv.collect_schema().names()
    if "engagement" not in names:
        raise ValueError("the survey has no engagement item")
    used = tuple(d for d in drivers if d in names and d != "engagement")
    emp = _lazy(tables["employees"]).select("employee_id", "unit_id")
    rows = (sv.join(emp, on="employee_id", how="inner")
            .select("unit_id", Q.label_expr("qi").alias("quarter"), "engagement", *used)
            .drop_nulls().collect())
    return rows, used


def driver_performance(tables: Mapping[str, Frame], quarter: str, drivers: Sequence[str] = SURVEY_DRIVERS) -> dict[str, dict]:
    """Organisation-wide mean answer (1-5) and respondents for each driver in ``quarter``."""
    sv = survey_by_quarter(tables).filter(pl.col("qi") == Q.parse(quarter))
    names = sv.collect_schema().names()
    used = [d for d in drivers if d in names]
    r = sv.select(*[pl.col(d).mean().alias(d) for d in used], *[pl.col(d).count().alias(f"{d}__n") for d in used]).collect()
    return {d: {"mean": r[d][0], "n": int(r[f"{d}__n"][0])} for d in used}


def priority_quadrants(results: Sequence[KeyDriverResult], performance: Mapping[str, float]) -> pl.DataFrame:
    """Importance (mean Shapley share over ``results``) x performance (current mean score) -> quadrant.

    Cut-offs: importance above an equal share (1/k) is "high"; performance below the
    average of the drivers' current means is "low" (a relative reading: the lowest-scored
    of the important drivers come first). Quadrants: fix_first (important, low score),
    maintain (important, high score), secondary (less important, low score), monitor
    (less important, high score). Sorted by quadrant, then importance.
    """
    drivers = [d for d in results[0].drivers if all(d in r.drivers for r in results) and performance.get(d) is not None]
    if not drivers:
        return pl.DataFrame(schema={"driver": pl.String, "importance": pl.Float64, "performance": pl.Float64, "quadrant": pl.String})
    imp = {d: float(np.mean([r.share[d].estimate for r in results])) for d in drivers}
    total = sum(imp.values())
    imp = {d: v / total if total > 0 else float("nan") for d, v in imp.items()}
    k = len(drivers)
    perf_cut = float(np.mean([performance[d] for d in drivers]))
    df = pl.DataFrame({"driver": drivers, "importance": [imp[d] for d in drivers],
                       "performance": [float(performance[d]) for d in drivers]})
    high_imp = pl.col("importance") > 1.0 / k
    low_perf = pl.col("performance") < perf_cut
    quad = (pl.when(high_imp & low_perf).then(pl.lit("fix_first")).when(high_imp).then(pl.lit("maintain"))
            .when(low_perf).then(pl.lit("secondary")).otherwise(pl.lit("monitor")))
    order = {q: i for i, q in enumerate(QUADRANTS)}
    return (df.with_columns(quad.alias("quadrant"), pl.lit(1.0 / k).alias("importance_cut"), pl.lit(perf_cut).alias("performance_cut"))
            .with_columns(pl.col("quadrant").replace_strict(order, return_dtype=pl.Int32).alias("_o"))
            .sort("_o", pl.col("importance"), descending=[False, True]).drop("_o"))


# ------------------------------------------------------------------------------------------ heat map


def suppress_hierarchy(units: pl.DataFrame, regions: pl.DataFrame, threshold: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Anonymity rule for a two-level breakdown (units within regions, regions within the organisation).

    Uses :func:`servicechain.privacy.suppress_small` on each level (per driver), then
    closes the gap between levels: when a region is hidden (too small, or hidden as the
    complement of another small region) but all its units are shown, its value could be
    rebuilt from its units, so its smallest shown unit is hidden as well. Each frame has
    columns ``region`` (+ ``unit`` for units), ``driver``, ``n``, ``mean``.
    """
    from .privacy import suppress_small

    reg = suppress_small(regions, "n", threshold, "driver", value_cols=["mean", "n"], flag_col="suppressed")
    # A unit nobody answered for reveals nothing: blank, but it needs no complementary cell.
    empty = units.filter(pl.col("n") <= 0).with_columns(pl.lit(REASON_EMPTY).alias("suppressed"),
                                                         pl.lit(None, pl.Float64).alias("mean"))
    un = suppress_small(units.filter(pl.col("n") > 0), "n", threshold, "region", "driver",
                        value_cols=["mean", "n"], flag_col="suppressed")
    hidden_regions = reg.filter(pl.col("suppressed").is_not_null()).select("region", "driver", pl.lit(True).alias("_rh"))
    un = un.join(hidden_regions, on=["region", "driver"], how="left").with_columns(pl.col("_rh").fill_null(False))
    # Original counts are needed to pick the smallest shown unit; suppress_small nulled hidden ones only.
    any_hidden = pl.col("suppressed").is_not_null().any().over("region", "driver")
    rank = pl.when(pl.col("suppressed").is_null()).then(pl.col("n")).rank("ordinal").over("region", "driver")
    extra = pl.col("_rh") & ~any_hidden & (rank == 1)
    un = un.with_columns(
        pl.when(extra).then(pl.lit("complementary")).otherwise(pl.col("suppressed")).alias("suppressed")
    ).with_columns(
        pl.when(pl.col("suppressed").is_null()).then(pl.col(c)).alias(c) for c in ("mean", "n")
    ).drop("_rh")
    un = pl.concat([un, empty.with_columns(pl.lit(None, pl.Int64).alias("n"))], how="diagonal_relaxed")
    return un.sort("region", "unit", "driver"), reg


def driver_heatmap_cells(tables: Mapping[str, Frame], quarter: str, drivers: Sequence[str] = SURVEY_DRIVERS,
                         threshold: int = 5) -> dict[str, pl.DataFrame]:
    """Mean answer per driver by unit and by region in ``quarter``, suppressed by the anonymity rule.

    ``n`` counts distinct respondents who answered the item. Returns
    ``{"unit": frame(region, unit, driver, n, mean, suppressed), "region": frame(region, driver, n, mean, suppressed)}``;
    hidden cells have null ``mean`` and ``n`` and a reason in ``suppressed``.
    """
    sv = survey_by_quarter(tables).filter(pl.col("qi") == Q.parse(quarter))
    names = sv.collect_schema().names()
    used = [d for d in drivers if d in names]
    emp = _lazy(tables["employees"]).select("employee_id", "unit_id")
    units = _lazy(tables["units"]).select("unit_id", pl.col("unit_name").fill_null(pl.col("unit_id")).alias("unit"), "region")
    long = (sv.join(emp, on="employee_id", how="inner").join(units, on="unit_id", how="inner")
            .unpivot(index=["unit_id", "unit", "region"], on=used, variable_name="driver", value_name="value")
            .drop_nulls("value"))
    # Every unit x driver appears, so units with no answer at all show as suppressed (n = 0).
    grid = (units.join(emp.select("unit_id").unique(), on="unit_id", how="semi")
            .join(pl.LazyFrame({"driver": used}), how="cross"))
    per_unit = long.group_by("unit_id", "driver").agg(pl.len().alias("n"), pl.col("value").mean().alias("mean"))
    u = (grid.join(per_unit, on=["unit_id", "driver"], how="left")
         .with_columns(pl.col("n").fill_null(0).cast(pl.Int64)).sort("region", "unit", "driver").collect())
    r = (long.group_by("region", "driver").agg(pl.len().cast(pl.Int64).alias("n"), pl.col("value").mean().alias("mean"))
         .sort("region", "driver").collect())
    u, r = suppress_hierarchy(u.drop("unit_id").select("region", "unit", "driver", "n", "mean"), r, threshold)
    return {"unit": u, "region": r}


def region_gap(tables: Mapping[str, Frame], quarter: str, drivers: Sequence[str] = SURVEY_DRIVERS,
               threshold: int = 5) -> tuple[str, Estimate] | None:
    """The lowest-scoring region's mean answer minus the other regions', with a CI that says whether it stands out.

    A respondent's score is the mean of their driver answers; units (people in a unit share a manager) are
    the observations: Welch's t on the unit means of units with ``threshold`` respondents or more. The CI is
    Bonferroni-adjusted over the k regions, because the lowest was picked after looking at all of them.
    None with fewer than two regions of two such units.
    """
    from scipy import stats

    sv = survey_by_quarter(tables).filter(pl.col("qi") == Q.parse(quarter))
    used = [d for d in drivers if d in sv.collect_schema().names()]
    if not used:
        return None
    emp = _lazy(tables["employees"]).select("employee_id", "unit_id")
    units = _lazy(tables["units"]).select("unit_id", "region")
    um = (sv.select("employee_id", pl.mean_horizontal(used).alias("score")).drop_nulls("score")
          .join(emp, on="employee_id").join(units, on="unit_id")
          .group_by("region", "unit_id").agg(pl.len().alias("n"), pl.col("score").mean().alias("m"))
          .filter(pl.col("n") >= threshold).collect())
    regs = (um.group_by("region").agg(pl.col("m").mean().alias("mean"), pl.len().alias("units"))
            .filter(pl.col("units") >= 2).sort("mean", "region"))
    if regs.height < 2:
        return None
    low = regs["region"][0]
    a = um.filter(pl.col("region") == low)["m"].to_numpy()
    b = um.filter((pl.col("region") != low) & pl.col("region").is_in(regs["region"].implode()))["m"].to_numpy()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if se > 0 else float("inf")
    diff = float(a.mean() - b.mean())
    level = 1 - 0.05 / regs.height
    tcrit = float(stats.t.ppf(0.5 + level / 2, df))
    p = float(2 * stats.t.sf(abs(diff) / se, df)) if se > 0 else float("nan")
    return low, Estimate("region_gap", diff, se, diff - tcrit * se, diff + tcrit * se, p, int(len(a) + len(b)),
                         f"mean answer (1-5) of the lowest region minus the other regions, unit means; "
                         f"{level:.1%} CI (Bonferroni over {regs.height} regions)")


# ------------------------------------------------------------------------------------------ words


def driver_label(d: str, lang: str) -> str:
    from .charts import word  # the one function for display names (a mapping's item labels included)

    return word(d if d not in ("voluntary_turnover_pct", "customer_retention_pct") else d.removesuffix("_pct"), lang)


def outcome_label(o: str, lang: str) -> str:
    return i18n.t({"voluntary_turnover_pct": "voluntary_turnover", "customer_retention_pct": "customer_retention",
                   "engagement": "engagement"}.get(o, o), lang)


def fmt_ci(e: Estimate, lang: str, decimals: int = 1, pct: bool = False) -> str:
    """``+0.4 (95% CI −0.1 to +0.9)`` in the report language."""
    f = (lambda v: i18n.fmt_pct(v, lang, decimals)) if pct else (lambda v: i18n.fmt_signed(v, lang, decimals))
    return i18n.t("chain_est_ci", lang, est=f(e.estimate), lo=f(e.ci_low), hi=f(e.ci_high))


def fmt_ci_md(e: Estimate, lang: str, decimals: int = 1, unit_key: str | None = None) -> str:
    """:func:`fmt_ci` (and its unit word) in bold only when the interval excludes no effect: a range that
    includes zero is never a bold finding."""
    text = fmt_ci(e, lang, decimals) + (" " + i18n.t(unit_key, lang) if unit_key else "")
    return f"**{text}**" if e.significant else text


# ------------------------------------------------------------------------------------------ figures


def path_diagram(meds: Sequence[MediationResult], lang: str = "en", title: str | None = None):
    """Plotly path diagram: EX (q-2) -> mediator (q-1) -> each outcome (q), with a, b, c' and their CIs.

    ``meds`` share one mediator (one result per outcome). Solid dark arrows: the CI
    excludes zero; grey dashed arrows: it does not.
    """
    import plotly.graph_objects as go

    from .theme import INK, MUTED, NEUTRAL

    if not meds:
        raise ValueError("path_diagram needs at least one mediation result")
    med = meds[0].mediator
    fig = go.Figure()
    box_w, box_h = 0.22, 0.14
    nodes = {"x": (0.13, 0.5), "m": (0.5, 0.88)}
    ys = np.linspace(0.62, 0.12, len(meds)) if len(meds) > 1 else [0.3]
    for i, r in enumerate(meds):
        nodes[f"y{i}"] = (0.88, float(ys[i]))
    labels = {"x": i18n.t("chain_node_ex", lang), "m": i18n.t(f"chain_node_{med}", lang)}
    for i, r in enumerate(meds):
        labels[f"y{i}"] = i18n.t("chain_node_outcome", lang, outcome=outcome_label(r.outcome, lang))
    for key, (cx, cy) in nodes.items():
        fig.add_shape(type="rect", x0=cx - box_w / 2, x1=cx + box_w / 2, y0=cy - box_h / 2, y1=cy + box_h / 2,
                      line=dict(color=INK, width=1.5), fillcolor="#f0f6fb", layer="below")
        fig.add_annotation(x=cx, y=cy, text=labels[key], showarrow=False, font=dict(size=13, color=INK))

    def arrow(a: str, b: str, est: Estimate, text: str, offset: tuple[float, float] = (0, 0), at: float = 0.5) -> None:
        (x0, y0), (x1, y1) = nodes[a], nodes[b]
        # Start and end on the box edges (shrink the segment by the half box size along its direction).
        dx, dy = x1 - x0, y1 - y0
        t = min(box_w / 2 / abs(dx) if dx else 1, box_h / 2 / abs(dy) if dy else 1)
        sx, sy, ex, ey = x0 + dx * t, y0 + dy * t, x1 - dx * t, y1 - dy * t
        sig = est.significant
        fig.add_annotation(x=ex, y=ey, ax=sx, ay=sy, xref="x", yref="y", axref="x", ayref="y", text="",
                           showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=2.5 if sig else 1.5,
                           arrowcolor=INK if sig else NEUTRAL)
        fig.add_annotation(x=sx + (ex - sx) * at + offset[0], y=sy + (ey - sy) * at + offset[1], text=text, showarrow=False,
                           font=dict(size=12, color=INK if sig else MUTED), bgcolor="rgba(255,255,255,0.85)")

    r0 = meds[0]
    arrow("x", "m", r0.a, f"a = {fmt_ci(r0.a, lang, 2)}", (-0.1, 0.03))
    for i, r in enumerate(meds):
        arrow("m", f"y{i}", r.b, f"b = {fmt_ci(r.b, lang, 2)}", (0.1, 0.0), at=0.45 if i == 0 else 0.55)
        arrow("x", f"y{i}", r.direct, f"c′ = {fmt_ci(r.direct, lang, 1)}", (0.0, -0.045 if i else 0.045), at=0.4)
    notes = [i18n.t("chain_path_indirect", lang, outcome=_mid(outcome_label(r.outcome, lang)),
                    ci=fmt_ci(r.indirect, lang, 2)) for r in meds]
    fig.add_annotation(x=0.0, y=-0.1, xref="paper", yref="paper", xanchor="left", yanchor="top", align="left",
                       showarrow=False, text="<br>".join(notes + [i18n.t("chain_path_note", lang)]),
                       font=dict(size=12, color=MUTED))
    fig.update_layout(title=title or i18n.t("chain_path_title", lang), height=520, margin=dict(l=20, r=20, t=80, b=110),
                      xaxis=dict(visible=False, range=[0, 1]), yaxis=dict(visible=False, range=[-0.02, 1.0]),
                      showlegend=False,
                      meta={"sc_min_width": 700})  # words at fixed places: a phone scrolls it (notebook.figure_html)
    return fig


def importance_figure(results: Sequence[KeyDriverResult], lang: str = "en", title: str | None = None):
    """Grouped horizontal bars: each driver's share of the explained R² per outcome (descriptive), with how often
    its rank held over the bootstrap in the hover and in :func:`rank_table` (share CIs are not drawn)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for r in results:
        ds = list(r.drivers)
        est = [r.share[d].estimate for d in ds]
        held = [i18n.t("chain_rank_held", lang, rank=r.rank[d], pct=i18n.fmt_pct(r.rank_stability[d], lang, 0))
                if r.rank and not math.isnan(r.rank_stability.get(d, float("nan"))) else "" for d in ds]
        fig.add_trace(go.Bar(
            y=[driver_label(d, lang) for d in ds], x=est, orientation="h", customdata=held,
            name=f"{outcome_label(r.outcome, lang)} (R² {i18n.fmt_number(r.r2.estimate, lang, 2)})",
            hovertemplate="%{y}: %{x:.0%}<br>%{customdata}<extra>" + outcome_label(r.outcome, lang) + "</extra>"))
    fig.update_layout(title=title or i18n.t("chain_importance_title_plain", lang), barmode="group",
                      xaxis=dict(title=i18n.t("chain_share_of_r2", lang), tickformat=".0%", rangemode="tozero"),
                      yaxis=dict(autorange="reversed"), height=140 + 70 * len(results[0].drivers) if results else 400)
    return fig


def rank_table(results: Sequence[KeyDriverResult], lang: str = "en") -> pl.DataFrame:
    """Per outcome and driver: share of the explained R², its rank, and how often resamples gave that rank."""
    return pl.DataFrame([
        {i18n.t("chain_col_outcome", lang): outcome_label(r.outcome, lang), i18n.t("chain_col_driver", lang): driver_label(d, lang),
         i18n.t("chain_col_r2_share", lang): i18n.fmt_pct(r.share[d].estimate, lang, 0),
         i18n.t("chain_col_rank", lang): r.rank.get(d),
         i18n.t("chain_col_rank_held", lang): (i18n.fmt_pct(r.rank_stability[d], lang, 0)
                                               if not math.isnan(r.rank_stability.get(d, float("nan"))) else i18n.MISSING)}
        for r in results for d in sorted(r.drivers, key=lambda d: r.rank.get(d, 99))
    ])


def quadrant_figure(quad: pl.DataFrame, lang: str = "en", title: str | None = None):
    """Importance x current performance: the quadrant says what to fix first."""
    import plotly.graph_objects as go

    from .theme import BAD, GOOD, MUTED, NEUTRAL, ACCENT

    colors = {"fix_first": BAD, "maintain": GOOD, "secondary": NEUTRAL, "monitor": ACCENT}
    fig = go.Figure()
    if quad.height == 0:
        return fig
    icut, pcut = float(quad["importance_cut"][0]), float(quad["performance_cut"][0])
    px_lo, px_hi = float(quad["performance"].min()), float(quad["performance"].max())
    pad = max(0.15, (px_hi - px_lo) * 0.35)
    x0, x1 = min(px_lo, pcut) - pad, max(px_hi, pcut) + pad
    y1 = max(float(quad["importance"].max()) * 1.25, icut * 1.8)
    # a name goes below its dot when a higher dot's name sits close above it (they overlapped on a phone,
    # where a name is about a third of the plot's width)
    place: dict[str, str] = {}
    ranked = quad.sort("importance", descending=True).select("driver", "performance", "importance").rows()
    # a dot in the outer quarter of the width has its name run inwards: centred, a long name (about half the
    # plot's width on a phone) was cut by the plot's edge and ran over the y-axis ticks
    w = 0.45 * (x1 - x0)  # a name's width on a phone

    def side_of(x: float) -> str:
        frac = (x - x0) / (x1 - x0)
        return "right" if frac < 0.25 else "left" if frac > 0.75 else "center"

    def span(x: float) -> tuple[float, float]:
        return {"right": (x, x + w), "left": (x - w, x), "center": (x - w / 2, x + w / 2)}[side_of(x)]

    for i, (d, x, y) in enumerate(ranked):
        lo, hi = span(x)
        near = any(place[d2].startswith("top") and min(hi, span(x2)[1]) > max(lo, span(x2)[0])
                   and abs(y - y2) < 0.1 * y1 for d2, x2, y2 in ranked[:i])
        place[d] = ("bottom " if near else "top ") + side_of(x)
    for qd in QUADRANTS:
        sub = quad.filter(pl.col("quadrant") == qd)
        if sub.height == 0:
            continue
        fig.add_trace(go.Scatter(
            x=sub["performance"].to_list(), y=sub["importance"].to_list(), mode="markers+text",
            text=[driver_label(d, lang) for d in sub["driver"]], textposition=[place[d] for d in sub["driver"]],
            marker=dict(size=14, color=colors[qd]), name=i18n.t(f"chain_q_{qd}", lang),
            hovertemplate="%{text}: " + i18n.t("chain_importance_short", lang) + " %{y:.0%}, "
                          + i18n.t("chain_current_score", lang) + " %{x:.2f}<extra></extra>"))
    fig.add_shape(type="line", x0=pcut, x1=pcut, y0=0, y1=y1, line=dict(color=MUTED, dash="dot", width=1))
    fig.add_shape(type="line", x0=x0, x1=x1, y0=icut, y1=icut, line=dict(color=MUTED, dash="dot", width=1))
    corners = {"fix_first": (x0, y1, "left", "top"), "maintain": (x1, y1, "right", "top"),
               "secondary": (x0, 0, "left", "bottom"), "monitor": (x1, 0, "right", "bottom")}
    for qd, (cx, cy, xa, ya) in corners.items():
        fig.add_annotation(x=cx, y=cy, text=f"<b>{i18n.t(f'chain_q_{qd}', lang)}</b>", showarrow=False, xanchor=xa,
                           yanchor=ya, font=dict(size=13, color=colors[qd]))
    fig.update_layout(title=title or i18n.t("chain_quadrant_title_plain", lang), height=520, showlegend=False,
                      xaxis=dict(title=i18n.t("chain_current_score_axis", lang), range=[x0, x1]),
                      yaxis=dict(title=i18n.t("chain_importance_axis", lang), tickformat=".0%", range=[0, y1]))
    return fig


def heatmap_figure(cells: pl.DataFrame, lang: str = "en", threshold: int = 5, by: str = "region",
                   title: str | None = None, rows: Sequence[str] | None = None):
    """Heat map of mean answers (rows = regions or units, columns = drivers); hidden cells stay blank.

    ``cells`` is a frame from :func:`driver_heatmap_cells` (already suppressed);
    ``rows`` optionally restricts/orders the rows shown.
    """
    import plotly.graph_objects as go

    from .theme import MUTED, SEQUENTIAL

    key = "unit" if by == "unit" else "region"
    present = set(cells["driver"].to_list())
    drivers = [d for d in SURVEY_DRIVERS if d in present] + sorted(present - set(SURVEY_DRIVERS))
    row_keys = list(rows) if rows is not None else list(dict.fromkeys(cells[key].to_list()))
    wide = cells.filter(pl.col(key).is_in(row_keys))
    lookup = {(r[key], r["driver"]): r for r in wide.iter_rows(named=True)}
    supp_text = i18n.t("chain_suppressed", lang, threshold=threshold)
    z, text, hover = [], [], []
    for rk in row_keys:
        zr, tr, hr = [], [], []
        for d in drivers:
            c = lookup.get((rk, d))
            if c is None or c["mean"] is None:
                zr.append(None)
                tr.append("")
                hr.append(f"{rk} · {driver_label(d, lang)}: {supp_text}")
            else:
                zr.append(round(float(c["mean"]), 2))
                tr.append(i18n.fmt_number(c["mean"], lang, 1))
                hr.append(f"{rk} · {driver_label(d, lang)}: {i18n.fmt_number(c['mean'], lang, 2)} "
                          f"({i18n.t('chain_respondents_n', lang, n=int(c['n']))})")
        z.append(zr)
        text.append(tr)
        hover.append(hr)
    vals = [v for r in z for v in r if v is not None]
    zmin, zmax = (min(vals), max(vals)) if vals else (1, 5)
    fig = go.Figure(go.Heatmap(
        z=z, x=[driver_label(d, lang) for d in drivers], y=row_keys, text=text, texttemplate="%{text}",
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>", hoverongaps=True, colorscale=SEQUENTIAL,
        zmin=zmin, zmax=zmax, xgap=2, ygap=2, colorbar=dict(title=i18n.t("chain_mean_answer", lang), thickness=12)))
    plot_h = 30 * len(row_keys)
    if any(v is None for r in z for v in r):
        # wrapped and right-aligned under the grid: from the plot's left edge (after the row names) one line ran
        # 760 px off a 390 px phone
        note = "<br>".join(textwrap.wrap(i18n.t("chain_blank_cells", lang, threshold=threshold), 38))
        fig.add_annotation(x=1, y=0, yshift=-10, xref="paper", yref="paper", yanchor="top", xanchor="right",
                           align="right", showarrow=False, text=note, font=dict(size=12, color=MUTED))
    fig.update_layout(title=title, height=max(300, 190 + plot_h), plot_bgcolor="white",
                      xaxis=dict(side="top", showgrid=False, title=""), yaxis=dict(autorange="reversed", showgrid=False, title=""),
                      margin=dict(t=110, b=80))
    return fig


# ------------------------------------------------------------------------------------------ the whole report


@dataclass
class ChainReport:
    """Everything notebook 03 shows, computed from the data known at the end of ``quarter``."""

    quarter: str
    threshold: int
    mediation: dict[str, dict[str, MediationResult]]  # mediator -> outcome -> result
    importance: dict[str, KeyDriverResult]  # outcome -> result
    performance: dict[str, dict]  # driver -> {mean, n} this quarter
    quadrants: pl.DataFrame
    heat: dict[str, pl.DataFrame]
    problems: dict[str, str] = field(default_factory=dict)  # part -> why it could not be estimated
    region_gap: tuple[str, Estimate] | None = None  # the lowest region and its gap to the others

    def priorities(self) -> list[dict]:
        """Drivers to fix first (important, scored below the others), most important first."""
        return [r for r in self.quadrants.iter_rows(named=True) if r["quadrant"] == "fix_first"]

    def results(self) -> dict:
        """The machine-readable results (``save_results("chain", ...)``): numbers, no unit rows."""
        perf = {d: v["mean"] for d, v in self.performance.items()}
        hidden = self.heat["unit"]["suppressed"].is_not_null().sum() if "unit" in self.heat else 0
        return {
            "quarter": self.quarter,
            "mediation": {m: {o: r.to_dict() for o, r in d.items()} for m, d in self.mediation.items()},
            "importance": {o: r.rows(perf) for o, r in self.importance.items()},
            "importance_models": {o: {k: v for k, v in r.to_dict().items() if k != "importance"}
                                  for o, r in self.importance.items()},
            "priorities": [{"driver": r["driver"], "importance": r["importance"], "performance": r["performance"]}
                           for r in self.priorities()],
            "quadrants": [{k: r[k] for k in ("driver", "importance", "performance", "quadrant")}
                          for r in self.quadrants.iter_rows(named=True)],
            "performance": self.performance,
            "heatmap": {"threshold": self.threshold, "unit_cells": self.heat["unit"].height if "unit" in self.heat else 0,
                        "unit_cells_hidden": int(hidden)},
            "problems": self.problems,
            "region_gap": ({"region": self.region_gap[0], **self.region_gap[1].to_dict()}
                           if self.region_gap else None),
        }


def analyse(tables: Mapping[str, Frame], quarter: str, *, threshold: int = 5, seed: int = 7,
            mediation_reps: int = 500, importance_reps: int = 200, uq: pl.DataFrame | None = None) -> ChainReport:
    """Run every part of the chain on ``tables`` (pass ``features.as_of(tables, quarter)``).

    ``uq``: the unit-quarter panel ``features.unit_quarters`` of the same tables, when
    the caller has already built it (it is rebuilt otherwise). A part that lacks data
    is recorded in ``problems`` instead of failing the report.
    """
    from .features import unit_quarters

    uq = (unit_quarters(tables) if uq is None else uq).filter(pl.col("qi") <= Q.parse(quarter))
    problems: dict[str, str] = {}
    mediation: dict[str, dict[str, MediationResult]] = {}
    for med in MEDIATORS:
        for out in ("nps", "customer_retention_pct"):
            try:
                mediation.setdefault(med, {})[out] = fit_mediation(uq, med, out, reps=mediation_reps, seed=seed)
            except ValueError as e:
                problems[f"mediation.{med}.{out}"] = str(e)
        if not mediation.get(med):
            mediation.pop(med, None)
    importance: dict[str, KeyDriverResult] = {}
    for out in ("nps", "customer_retention_pct", "voluntary_turnover_pct"):
        try:
            rows, used = unit_driver_rows(uq, out)
            importance[out] = key_drivers(rows, out, used, reps=importance_reps, seed=seed,
                                          timing="unit mean answers in q-1, outcome in q")
        except ValueError as e:
            problems[f"importance.{out}"] = str(e)
    try:
        rows, used = person_engagement_rows(tables)
        importance["engagement"] = key_drivers(rows, "engagement", used, level="person", reps=importance_reps,
                                               seed=seed, timing="the person's other answers in the same survey")
    except ValueError as e:
        problems["importance.engagement"] = str(e)
    performance = driver_performance(tables, quarter)
    unit_results = [r for o, r in importance.items() if r.level == "unit"]
    if unit_results:
        quad = priority_quadrants(unit_results, {d: v["mean"] for d, v in performance.items()})
    else:
        quad = pl.DataFrame(schema={"driver": pl.String, "importance": pl.Float64, "performance": pl.Float64,
                                    "quadrant": pl.String})
    heat = driver_heatmap_cells(tables, quarter, threshold=threshold)
    return ChainReport(quarter, threshold, mediation, importance, performance, quad, heat, problems,
                       region_gap(tables, quarter, threshold=threshold))


def mid_sentence(label: str) -> str:
    """A label inside a sentence: lower-case first letter unless it is an acronym (NPS)."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


join_words = i18n.join_words  # notebooks call chain.join_words


_mid, _join = mid_sentence, join_words  # the module's own short names


def path_headline(meds: Mapping[str, MediationResult], lang: str) -> str:
    """Title of the path diagram: does the indirect (through the mediator) link clearly exist?"""
    pos = [_mid(outcome_label(o, lang)) for o, r in meds.items() if r.indirect.significant and r.indirect.estimate > 0]
    neg = [_mid(outcome_label(o, lang)) for o, r in meds.items() if r.indirect.significant and r.indirect.estimate < 0]
    if pos:
        return i18n.t("chain_title_path_pos", lang, outcomes=_join(pos, lang))
    if neg:
        return i18n.t("chain_title_path_neg", lang, outcomes=_join(neg, lang))
    return i18n.t("chain_title_path_none", lang, outcomes=_join([_mid(outcome_label(o, lang)) for o in meds], lang))


def importance_headline(importance: Mapping[str, KeyDriverResult], lang: str) -> str:
    """Title of the importance chart: the top driver for customer loyalty and for turnover."""
    cust = [r for o, r in importance.items() if o in ("nps", "customer_retention_pct")]
    turn = importance.get("voluntary_turnover_pct")
    if not cust or turn is None:
        return i18n.t("chain_importance_title_plain", lang)
    drivers = [d for d in cust[0].drivers if all(d in r.drivers for r in cust)]
    top = max(drivers, key=lambda d: float(np.mean([r.share[d].estimate for r in cust])))
    top_t = max(turn.drivers, key=lambda d: turn.share[d].estimate)
    return i18n.t("chain_importance_title", lang, driver=driver_label(top, lang), driver_t=_mid(driver_label(top_t, lang)))


def engagement_headline(res: KeyDriverResult, lang: str) -> str:
    top = max(res.drivers, key=lambda d: res.share[d].estimate)
    return i18n.t("chain_eng_title", lang, driver=driver_label(top, lang))


def quadrant_headline(quad: pl.DataFrame, lang: str) -> str:
    fix = quad.filter(pl.col("quadrant") == "fix_first")["driver"].to_list() if quad.height else []
    if not fix:
        return i18n.t("chain_quadrant_title_none", lang)
    words = [driver_label(d, lang) for d in fix]
    return i18n.t("chain_quadrant_title_fix", lang, drivers=_join(words[:1] + [_mid(w) for w in words[1:]], lang))


def region_heat_headline(region_cells: pl.DataFrame, performance: Mapping[str, dict], quarter: str, lang: str,
                         gap: tuple[str, Estimate] | None = None) -> str:
    """Names the lowest region only when its gap to the others (:func:`region_gap`) is larger than its noise."""
    shown = region_cells.filter(pl.col("mean").is_not_null())
    q = i18n.fmt_quarter(quarter, lang)
    if shown.height == 0 or not performance:
        return i18n.t("chain_heat_title_none", lang, quarter=q)
    d_low = _mid(driver_label(min(performance, key=lambda d: performance[d]["mean"]
                                  if performance[d]["mean"] is not None else 99), lang))
    shown_regions = set(shown["region"].to_list())
    if gap is not None and gap[0] in shown_regions and gap[1].ci_high < 0:
        return i18n.t("chain_heat_title_region", lang, region=gap[0], quarter=q, driver_low=d_low,
                      gap=i18n.fmt_number(-gap[1].estimate, lang, 2))
    return i18n.t("chain_heat_title_no_region", lang, quarter=q, driver_low=d_low)


def lowest_units(unit_cells: pl.DataFrame, n: int = 15, min_shown: int = 3) -> list[str]:
    """Units with the lowest mean over their shown cells (at least ``min_shown`` shown), lowest first."""
    return (unit_cells.filter(pl.col("mean").is_not_null()).group_by("unit")
            .agg(pl.col("mean").mean().alias("m"), pl.len().alias("k"))
            .filter(pl.col("k") >= min_shown).sort("m", "unit").head(n)["unit"].to_list())
