"""Result objects shared by the models: estimates always carry their CI, n and scale."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl
from scipy import stats


@dataclass(frozen=True)
class Estimate:
    """One coefficient or derived quantity with its 95% CI."""

    name: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    scale: str

    @classmethod
    def from_normal(cls, name: str, est: float, se: float, n: int, scale: str, level: float = 0.95) -> "Estimate":
        z = float(stats.norm.ppf(0.5 + level / 2))
        p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
        return cls(name, float(est), float(se), float(est - z * se), float(est + z * se), p, int(n), scale)

    def covers(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high

    @property
    def significant(self) -> bool:
        return not (self.ci_low <= 0.0 <= self.ci_high)

    def exp(self, name: str | None = None, scale: str = "odds ratio") -> "Estimate":
        """The same estimate on the exp scale (odds ratios); the CI transforms, the SE does not."""
        return Estimate(name or self.name, math.exp(self.estimate), float("nan"), math.exp(self.ci_low),
                        math.exp(self.ci_high), self.p_value, self.n, scale)

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


def estimates_frame(ests: list[Estimate]) -> pl.DataFrame:
    return pl.DataFrame([e.to_dict() for e in ests])


def draws_summary(x: np.ndarray) -> dict[str, float]:
    """P10/P50/P90 and mean of simulation draws."""
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90), "mean": float(np.mean(x))}


def solve_batch(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve A x = b for a batch (r, p, p), (r, p); minimum-norm where a replicate lacks some quarter."""
    try:
        return np.linalg.solve(A, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return np.matmul(np.linalg.pinv(A), b[..., None])[..., 0]


def bootstrap_estimate(name: str, point: float, draws: np.ndarray, n: int, scale: str) -> Estimate:
    """Percentile 95% CI, bootstrap SE and a two-sided bootstrap p-value (share of draws across zero)."""
    d = draws[np.isfinite(draws)]
    if d.size < 10 or not math.isfinite(point):
        return Estimate(name, float(point), float("nan"), float("nan"), float("nan"), float("nan"), n, scale)
    lo, hi = np.percentile(d, [2.5, 97.5])
    p = float(min(1.0, 2 * min((d <= 0).mean(), (d >= 0).mean())))
    return Estimate(name, float(point), float(d.std(ddof=1)), float(lo), float(hi), p, n, scale)
