"""Result objects shared by the models: estimates always carry their CI, n and scale.

:class:`ResultMixin` gives every model result the same ways to look at it (issue 14): a short
``repr``, a small HTML table in Jupyter (``_repr_html_``), ``summary()`` in the manner of
statsmodels and lifelines (estimates with CIs, n, events, clusters, method, notes) and
``to_frame()`` (a polars frame, one row per estimate).
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

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
        """The same estimate on the exp scale (odds ratios): estimate and CI transform, the p-value stays.

        ``se`` stays the standard error on the log scale (of the log odds ratio), the scale the CI was
        built on: CI = exp(log OR -/+ t * se). An SE of the odds ratio itself would not give its
        (asymmetric) interval."""
        return Estimate(name or self.name, math.exp(self.estimate), self.se, math.exp(self.ci_low),
                        math.exp(self.ci_high), self.p_value, self.n, scale)

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in asdict(self).items()}


FRAME_SCHEMA = {"quantity": pl.String, "name": pl.String, "estimate": pl.Float64, "se": pl.Float64,
                "ci_low": pl.Float64, "ci_high": pl.Float64, "p_value": pl.Float64, "n": pl.Int64, "scale": pl.String}


def estimates_frame(ests: list[Estimate]) -> pl.DataFrame:
    """One row per estimate: name, estimate, se, ci_low, ci_high, p_value, n, scale (NaN -> null).

    For odds ratios (:meth:`Estimate.exp`) ``se`` is the SE of the log odds ratio."""
    return pl.DataFrame([e.to_dict() for e in ests],
                        schema={k: v for k, v in FRAME_SCHEMA.items() if k != "quantity"})


def _g(x: Any) -> str:
    """A number for a summary: 4 significant digits, ``-`` for a missing one."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"
    return str(x)


@dataclass
class Summary:
    """What ``result.summary()`` returns: ``print()`` it for text, or let Jupyter display its HTML table.

    ``info``: (label, value) pairs (model, method, n, events, clusters, ...); ``table``: the estimates
    (a polars frame, the same rows as the result's ``to_frame()`` unless the result says otherwise);
    ``notes``: warnings and what was left out, in words."""

    title: str
    info: list[tuple[str, Any]]
    table: pl.DataFrame
    notes: list[str] = field(default_factory=list)

    _SHOWN = ("quantity", "name", "estimate", "se", "ci_low", "ci_high", "p_value")

    def _cols(self) -> list[str]:
        cols = [c for c in self.table.columns if c not in ("n", "scale")]
        return [c for c in cols if not (c == "quantity" and self.table[c].n_unique() <= 1)]

    def as_text(self) -> str:
        width = 78
        info = [f"{(k + ':').ljust(22)} {_g(v)}" for k, v in self.info]
        cols = self._cols()
        cells = [[_g(v) for v in row] for row in self.table.select(cols).rows()]
        widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(cols)]
        text = [self.table.schema[c] == pl.String for c in cols]  # words left, numbers right
        head = "  ".join(c.ljust(w) if t else c.rjust(w) for c, w, t in zip(cols, widths, text))
        body = ["  ".join(v.ljust(w) if t else v.rjust(w) for v, w, t in zip(r, widths, text)) for r in cells]
        rule = "=" * max(width, len(head))
        out = [self.title.center(len(rule)), rule, *info, "-" * len(rule), head, "-" * len(rule), *body, rule]
        scales = self.table["scale"].unique(maintain_order=True).drop_nulls().to_list() if "scale" in self.table.columns else []
        out += [f"scale: {s}" + (" (se: of the log odds ratio; CI = exp(log OR -/+ t se))" if s == "odds ratio" else "")
                for s in scales]
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)

    def as_html(self) -> str:
        esc = lambda v: html.escape(_g(v))  # noqa: E731
        info = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{esc(v)}</td></tr>"
                       for k, v in self.info)
        cols = self._cols()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                       for row in self.table.select(cols).rows())
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div class='sc-summary'><strong>{html.escape(self.title)}</strong>"
                f"<table>{info}</table><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
                + (f"<ul>{notes}</ul>" if notes else "") + "</div>")

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def __contains__(self, text: str) -> bool:
        return text in self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


class ResultMixin:
    """``__repr__``, ``_repr_html_``, ``summary()`` and ``to_frame()`` for a model result dataclass.

    A result gives :meth:`_estimate_rows` (``(quantity, Estimate)`` pairs: the rows of ``to_frame``
    and of the summary's table), :meth:`_info` (``(label, value)`` pairs: model, method, n, events,
    clusters...) and, if it has them, ``notes`` (a list of sentences) and ``model_result`` (the
    underlying statsmodels result). Declare the dataclass with ``repr=False`` so that this
    ``__repr__`` (a few lines, never a covariance matrix) is the one used.
    """

    _title: ClassVar[str] = ""
    _repr_rows: ClassVar[int] = 3  # estimates shown by repr()

    def _estimate_rows(self) -> list[tuple[str, Estimate]]:
        return []

    def _info(self) -> list[tuple[str, Any]]:
        return []

    def _notes(self) -> list[str]:
        return [str(n) for n in (getattr(self, "notes", None) or [])]

    def to_frame(self) -> pl.DataFrame:
        """The estimates as a polars frame: quantity, name, estimate, se, ci_low, ci_high, p_value, n, scale."""
        return pl.DataFrame([{"quantity": q, **e.to_dict()} for q, e in self._estimate_rows()], schema=FRAME_SCHEMA)

    def _summary_table(self) -> pl.DataFrame:
        return self.to_frame()

    def summary(self) -> Summary:
        """Estimates with 95% CIs, n, events, clusters, method and notes (``print()`` it, or display it)."""
        return Summary(self._title or type(self).__name__, self._info(), self._summary_table(), self._notes())

    def _repr_lines(self) -> list[str]:
        """The estimates under repr()'s first line (the first ``_repr_rows`` of them)."""
        rows = self._estimate_rows()
        lines = [f"  {q + ' ' if q else ''}{e.name}: {_g(e.estimate)} [{_g(e.ci_low)}, {_g(e.ci_high)}]"
                 for q, e in rows[: self._repr_rows]]
        if len(rows) > self._repr_rows:
            lines.append(f"  ... {len(rows) - self._repr_rows} more: .summary(), .to_frame()")
        return lines

    def __repr__(self) -> str:
        info = ", ".join(f"{k}={_g(v)}" for k, v in self._info()
                         if k not in ("model", "method") and len(_g(v)) <= 40)  # long values: summary()
        lines = [f"{type(self).__name__}({info})", *self._repr_lines()]
        notes = self._notes()
        if notes:
            lines.append(f"  {len(notes)} note(s): .summary() lists them")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.summary().as_html()


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
