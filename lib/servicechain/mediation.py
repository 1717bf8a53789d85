"""A general linear mediation analysis: ACME, ADE, total effect and proportion mediated with cluster-bootstrap CIs.

:func:`mediate` takes any exposure (binary or continuous), mediator and outcome
columns of a polars frame, pre-exposure covariates (in both models), optional
post-exposure confounders of the mediator-outcome path (``outcome_covariates``:
in the outcome model only), and a clustering column. Both models are linear (OLS):

* mediator model  M ~ 1 + X + C                       (a = coefficient of X)
* outcome model   Y ~ 1 + X + M + C + L               (b = coefficient of M)
* total model     Y ~ 1 + X + C                        (total effect)

For the contrast X: a0 -> a1 (width d = a1 - a0), ACME = a*b*d and total = (total
coefficient)*d; ADE = total - ACME. Without L this is the classical product of
coefficients (ADE = c'*d exactly). With L affected by X (a treatment-induced
confounder) a*b*d is the *interventional* indirect effect of VanderWeele, Vansteelandt
and Robins (2014) for linear models without interactions, and ADE collects every
other path (including X -> L -> Y).

CIs: expanded percentile 95% intervals (Hesterberg 2015; :func:`expanded_tail`, which keep
their level with few clusters) from a bootstrap that resamples whole clusters (rows
when ``cluster`` is None). Each replicate is a vector of cluster counts applied to
per-cluster sufficient statistics (cost O(clusters) per replicate). A continuous
exposure without a stated contrast uses mean -/+ 0.5 SD, with the SD recomputed
inside every replicate (the exposure is standardised within the replicate).

Sensitivity (Imai, Keele and Yamamoto 2010, linear case): the ACME is zero when the
correlation rho between the errors of the mediator model and of the outcome model
(without M) equals the observed correlation of their residuals; ``rho_at_zero``
reports it. A hidden confounder of M and Y must produce at least that correlation
to erase the indirect effect.

Association, not causation: the mediated reading needs sequential ignorability.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from .estimates import Estimate, ResultMixin, Summary, bootstrap_estimate, solve_batch

EFFECTS = ("acme", "ade", "total", "prop_mediated")


@dataclass
class Mediation(ResultMixin):
    """Result of :func:`mediate`: effects for the exposure contrast ``contrast`` with 95% CIs."""

    exposure: str
    mediator: str
    outcome: str
    contrast: tuple[float, float]
    contrast_text: str
    acme: Estimate
    ade: Estimate
    total: Estimate
    prop_mediated: Estimate
    a: Estimate  # M on X per unit of the contrast width
    b: Estimate  # Y on M given X, C, L
    direct: Estimate  # c' (Y on X given M, C, L) per unit of the contrast width
    n: int
    n_clusters: int
    n_boot: int
    seed: int
    method: str
    rho_at_zero: float
    exposure_sd: float

    def __repr__(self) -> str:
        return (f"Mediation({self.exposure} -> {self.mediator} -> {self.outcome}; ACME {self.acme.estimate:.4g} "
                f"[{self.acme.ci_low:.4g}, {self.acme.ci_high:.4g}], ADE {self.ade.estimate:.4g}, "
                f"total {self.total.estimate:.4g}; n={self.n}, clusters={self.n_clusters})")

    @property
    def sensitivity_text(self) -> str:
        return (f"The indirect effect would be zero if an unmeasured confounder of {self.mediator} and {self.outcome} "
                f"made the errors of the two models correlate by rho = {self.rho_at_zero:.2f} "
                f"(Imai, Keele and Yamamoto 2010); the smaller |rho|, the more fragile the finding.")

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return [("effect", getattr(self, k)) for k in EFFECTS] + [("path", getattr(self, k)) for k in ("a", "b", "direct")]

    def _info(self) -> list[tuple[str, object]]:
        return [("model", f"{self.exposure} -> {self.mediator} -> {self.outcome}"), ("method", self.method),
                ("contrast", self.contrast_text), ("n", self.n), ("clusters", self.n_clusters),
                ("bootstrap replicates", self.n_boot), ("seed", self.seed), ("rho at zero", self.rho_at_zero)]

    def _notes(self) -> list[str]:
        return [self.sensitivity_text]

    def _summary_table(self) -> pl.DataFrame:
        return ResultMixin.to_frame(self)

    def summary(self) -> Summary:
        """Effects and paths with 95% CIs, n, clusters, method and the sensitivity sentence (``print()`` it)."""
        return Summary(f"Mediation of {self.exposure} -> {self.outcome} through {self.mediator}", self._info(),
                       self._summary_table(), self._notes())

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame([{"effect": k, "estimate": getattr(self, k).estimate, "ci_low": getattr(self, k).ci_low,
                              "ci_high": getattr(self, k).ci_high, "se": getattr(self, k).se,
                              "p_value": getattr(self, k).p_value} for k in EFFECTS])

    def to_dict(self) -> dict:
        out = {k: getattr(self, k) for k in ("exposure", "mediator", "outcome", "contrast_text", "n", "n_clusters",
                                             "n_boot", "seed", "method", "rho_at_zero", "exposure_sd")}
        out["contrast"] = list(self.contrast)
        out["sensitivity"] = self.sensitivity_text
        for k in (*EFFECTS, "a", "b", "direct"):
            out[k] = getattr(self, k).to_dict()
        return out


def expanded_tail(n_clusters: int, level: float = 0.95) -> float:
    """Lower tail probability of the expanded percentile bootstrap (Hesterberg 2015) for ``n_clusters`` clusters.

    Phi(-sqrt(G/(G-1)) t_{G-1, 1-alpha/2}): the percentiles of a bootstrap distribution are too
    narrow with few clusters (the bootstrap variance lacks the G/(G-1) factor and the normal
    quantile ignores the estimated SE); the expanded interval widens them while keeping the
    skewness of the indirect effect's distribution. 1.3% at 15 clusters, 2.35% at 125, -> 2.5%.
    """
    from scipy import stats

    G = max(int(n_clusters), 2)
    return float(stats.norm.cdf(-math.sqrt(G / (G - 1)) * stats.t.ppf(0.5 + level / 2, G - 1)))


def _expanded(e: Estimate, draws: np.ndarray, n_clusters: int) -> Estimate:
    """``e`` with its CI replaced by the expanded percentile interval of ``draws``."""
    d = draws[np.isfinite(draws)]
    if d.size < 10 or not math.isfinite(e.estimate):
        return e
    a = expanded_tail(n_clusters)
    lo, hi = np.quantile(d, [a, 1 - a])
    return Estimate(e.name, e.estimate, e.se, float(lo), float(hi), e.p_value, e.n, e.scale)


def _design(df: pl.DataFrame, cols: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Numeric columns as they are; string/categorical/boolean columns as indicators (first level dropped)."""
    parts, names = [], []
    for c in cols:
        s = df[c]
        if s.dtype.is_numeric():
            parts.append(s.cast(pl.Float64).to_numpy()[:, None])
            names.append(c)
        else:
            d = s.cast(pl.String).to_frame().to_dummies()
            d = d.select(sorted(d.columns)[1:])
            parts.append(d.to_numpy().astype(float))
            names += d.columns
    return (np.column_stack(parts) if parts else np.zeros((df.height, 0))), names


def mediate(df: pl.DataFrame, exposure: str, mediator: str, outcome: str, covariates: Sequence[str] = (),
            cluster: str | None = None, contrast: tuple[float, float] | None = None, n_boot: int = 1000,
            seed: int = 7, method: str = "bootstrap", outcome_covariates: Sequence[str] = (),
            boot_counts: np.ndarray | None = None) -> Mediation:
    """Linear mediation of ``exposure`` -> ``mediator`` -> ``outcome`` (see the module docstring).

    ``contrast``: (a0, a1); None means (0, 1) for a 0/1 exposure and mean -/+ 0.5 SD otherwise
    (SD recomputed in every bootstrap replicate). ``cluster``: resample whole clusters.
    ``boot_counts``: optional (n_boot, clusters) resampling counts in sorted cluster order
    (to share draws between analyses). Rows with a missing value in any used column are dropped.
    """
    if method != "bootstrap":
        raise ValueError("only method='bootstrap' is implemented")
    used = [exposure, mediator, outcome, *covariates, *outcome_covariates] + ([cluster] if cluster else [])
    missing = [c for c in used if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {', '.join(missing)} not in the frame")
    rows = df.drop_nulls(used)
    n = rows.height
    x = rows[exposure].cast(pl.Float64).to_numpy()
    binary = set(np.unique(x).tolist()) <= {0.0, 1.0}
    C, _ = _design(rows, covariates)
    L, _ = _design(rows, outcome_covariates)
    m = rows[mediator].cast(pl.Float64).to_numpy()
    y = rows[outcome].cast(pl.Float64).to_numpy()
    one = np.ones(n)
    # V = [1, x, C..., m, L..., y]
    V = np.column_stack([one, x, C, m, L, y])
    kc, kl = C.shape[1], L.shape[1]
    i_m = 2 + kc
    i_y = V.shape[1] - 1
    base = np.arange(2 + kc)                                   # 1, x, C
    i_out = np.array([*base, i_m, *range(i_m + 1, i_m + 1 + kl)])  # 1, x, C, m, L
    if cluster is None:
        g = np.arange(n)
    else:
        g = np.unique(rows[cluster].cast(pl.String).to_numpy(), return_inverse=True)[1]
    G = int(g.max()) + 1 if n else 0
    if n < 10 or G < 3:
        raise ValueError(f"too few rows ({n}) or clusters ({G}) for the mediation")
    cross = np.zeros((G, V.shape[1], V.shape[1]))
    np.add.at(cross, g, V[:, :, None] * V[:, None, :])

    def effects(S: np.ndarray, width: np.ndarray | None) -> dict[str, np.ndarray]:
        ba = solve_batch(S[:, base[:, None], base[None, :]], S[:, base, i_m])
        bo = solve_batch(S[:, i_out[:, None], i_out[None, :]], S[:, i_out, i_y])
        bt = solve_batch(S[:, base[:, None], base[None, :]], S[:, base, i_y])
        if width is None:  # SD of x in each replicate
            nn, sx, sxx = S[:, 0, 0], S[:, 0, 1], S[:, 1, 1]
            width = np.sqrt(np.maximum(sxx - sx**2 / nn, 0) / (nn - 1))
        a, b, c, tot = ba[:, 1] * width, bo[:, 2 + kc], bo[:, 1] * width, bt[:, 1] * width
        acme = a * b
        with np.errstate(divide="ignore", invalid="ignore"):
            prop = acme / tot
        return {"acme": acme, "ade": tot - acme, "total": tot, "prop_mediated": prop, "a": a, "b": b, "direct": c}

    sd = float(x.std(ddof=1))
    if contrast is None:
        if binary:
            contrast, width, text = (0.0, 1.0), np.array([1.0]), f"{exposure} 0 -> 1"
        else:
            mu = float(x.mean())
            contrast, width = (mu - sd / 2, mu + sd / 2), None
            text = f"{exposure} from mean - 0.5 SD to mean + 0.5 SD (1 SD = {sd:.4g}, SD recomputed per replicate)"
    else:
        width = np.array([float(contrast[1] - contrast[0])])
        text = f"{exposure} {contrast[0]:g} -> {contrast[1]:g}"
    if not sd > 0:
        raise ValueError(f"the exposure {exposure} does not vary")
    point = {k: float(v[0]) for k, v in effects(cross.sum(0)[None], width).items()}
    if boot_counts is None:
        rng = np.random.default_rng(seed)
        boot_counts = rng.multinomial(G, np.full(G, 1.0 / G), size=n_boot)
    counts = np.asarray(boot_counts, float)
    iu, ju = np.triu_indices(V.shape[1])
    packed = counts @ cross[:, iu, ju]
    S = np.empty((counts.shape[0], V.shape[1], V.shape[1]))
    S[:, iu, ju] = packed
    S[:, ju, iu] = packed
    draws = effects(S, width) if counts.shape[0] else {k: np.empty(0) for k in point}
    scales = {"acme": "indirect effect of the contrast on the outcome", "ade": "direct effect of the contrast",
              "total": "total effect of the contrast", "prop_mediated": "ACME / total (fraction)",
              "a": "mediator change for the contrast", "b": "outcome per unit of the mediator",
              "direct": "outcome change for the contrast holding the mediator (and L) fixed"}
    ests = {k: _expanded(bootstrap_estimate(k, point[k], draws[k], n, scales[k]), draws[k], G) for k in scales}
    # Imai-Keele-Yamamoto rho: correlation of the mediator-model residuals and the residuals of Y ~ 1 + X + C + L
    D1 = V[:, base]
    D2 = V[:, [*base, *range(i_m + 1, i_m + 1 + kl)]]
    e1 = m - D1 @ np.linalg.lstsq(D1, m, rcond=None)[0]
    e2 = y - D2 @ np.linalg.lstsq(D2, y, rcond=None)[0]
    rho = float(e1 @ e2 / math.sqrt((e1 @ e1) * (e2 @ e2))) if (e1 @ e1) > 0 and (e2 @ e2) > 0 else float("nan")
    how = "cluster bootstrap (clusters resampled)" if cluster else "bootstrap (rows resampled)"
    return Mediation(exposure, mediator, outcome, (float(contrast[0]), float(contrast[1])), text, **ests, n=n,
                     n_clusters=G, n_boot=int(counts.shape[0]), seed=seed,
                     method=f"linear models, product of coefficients, {how}, expanded percentile 95% CI",
                     rho_at_zero=rho, exposure_sd=sd)
