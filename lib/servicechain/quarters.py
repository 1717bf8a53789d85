"""Quarters are written ``2026Q3`` everywhere; arithmetic uses an integer index."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

_RX = re.compile(r"^(\d{4})Q([1-4])$")


def parse(q: str) -> int:
    """``"2026Q3"`` -> integer index (year*4 + quarter-1), so that q-1 is the previous quarter."""
    m = _RX.match(str(q).strip())
    if not m:
        raise ValueError(f"quarter must look like 2026Q3, got {q!r}")
    return int(m.group(1)) * 4 + int(m.group(2)) - 1


def label(idx: int) -> str:
    return f"{idx // 4}Q{idx % 4 + 1}"


def shift(q: str, n: int) -> str:
    return label(parse(q) + n)


def start(q: str) -> dt.date:
    i = parse(q)
    return dt.date(i // 4, (i % 4) * 3 + 1, 1)


def end(q: str) -> dt.date:
    """Last day of the quarter (inclusive)."""
    return start(shift(q, 1)) - dt.timedelta(days=1)


def of_date(d: dt.date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def index_expr(col: str | pl.Expr) -> pl.Expr:
    """Polars expression: a date column -> quarter index (int32)."""
    e = pl.col(col) if isinstance(col, str) else col
    return (e.dt.year().cast(pl.Int32) * 4 + (e.dt.month().cast(pl.Int32) - 1) // 3)


def label_expr(idx: str | pl.Expr) -> pl.Expr:
    """Polars expression: quarter index -> ``2026Q3`` string."""
    e = pl.col(idx) if isinstance(idx, str) else idx
    return pl.format("{}Q{}", e // 4, e % 4 + 1)


def span(first: str, last: str) -> list[str]:
    return [label(i) for i in range(parse(first), parse(last) + 1)]
