"""HR snapshot exports: one row per employee, no dates (``kind: snapshot``).

A snapshot says who is still employed and who has left, next to what they answered, but not when: the suite
reports cross-sectional associations between each answer and having left, never effects over time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import statsmodels.api as sm

from .estimates import Estimate


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



def snapshot_overview(df: pl.DataFrame) -> dict:
    """What index.html can say from a snapshot: who is still employed. No rates (there is no period)."""
    left = int(df["left"].fill_null(0).sum())
    return {"headcount": df.height - left, "employees_in_export": df.height, "left": left}


