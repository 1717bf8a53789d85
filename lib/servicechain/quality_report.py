"""Builders for the data-quality page (notebooks/00_data_quality.ipynb).

Every function takes the :class:`~servicechain.validation.DataQualitySummary`
(aggregates only: row counts per table and quarter, response rates per wave,
blank answers per question) and a report language, and returns a figure whose
title states the finding, a table frame whose headers are i18n keys (the
notebook's ``table`` helper translates them), or the values a sentence needs.
No function sees or draws individual rows.

* :func:`coverage_figure`: rows per table and quarter as a share of the table's usual quarter
* :func:`response_rate_figure`: survey respondents / headcount per wave
* :func:`missingness_figure`: share of blank answers per survey question
* :func:`tables_frame`, :func:`problems_frame`: the tables read and the validator's warnings (counts per check,
  never row numbers)
* :func:`summary_values`, :func:`results`: the opening sentence's numbers; the machine-readable results
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl

from . import charts, i18n, theme
from .validation import DataQualitySummary

LOW_COVERAGE = 0.5  # a quarter with less than half of its table's usual rows is a gap
HIGH_MISSING = 0.10  # more than 10% blank answers is worth a title of its own
STEADY_RESPONSE = 0.10  # response rates within 10 points of each other "held steady"
GAPS_NAMED = 3  # a coverage title names at most this many gaps


def table_word(name: str, lang: str) -> str:
    """A contract table's name in the report language (``"survey"`` -> ``"Encuesta"``); unknown names as given."""
    return i18n.t(f"dq_tbl_{name}", lang) if i18n.has(f"dq_tbl_{name}") else name


def _titled(fig: go.Figure, title: str, lang: str, height: int = 440) -> go.Figure:
    """The finding as a wrapped title (the shared chart helper), the page's height and the language's separators."""
    charts.finding_title(fig, title)
    fig.update_layout(height=height)
    return charts.localize(fig, lang)


# --- coverage -------------------------------------------------------------------------------------------------------

def coverage_grid(dq: DataQualitySummary) -> pl.DataFrame:
    """Every table x quarter with ``rows`` (0 where a quarter has none), ``usual`` (the table's median quarter
    with rows) and ``share`` = rows / usual."""
    cov = dq.coverage
    return (
        cov.select("table").unique().join(cov.select("quarter").unique(), how="cross")
        .join(cov, on=["table", "quarter"], how="left")
        .with_columns(pl.col("rows").fill_null(0))
        .with_columns(usual=pl.col("rows").filter(pl.col("rows") > 0).median().over("table"))
        .with_columns(share=pl.col("rows") / pl.col("usual"))
    )


def coverage_title(grid: pl.DataFrame, lang: str) -> str:
    """The coverage finding: no gaps (and the quarters covered), the one gap, or how many gaps and the worst few."""
    gaps = grid.filter(pl.col("share") < LOW_COVERAGE).sort("share")
    if gaps.height == 0:
        qs = sorted(grid["quarter"].unique())
        return i18n.t("dq_title_cov_ok", lang, q0=i18n.fmt_quarter(qs[0], lang), q1=i18n.fmt_quarter(qs[-1], lang))
    which = [f"{table_word(t, lang)} {i18n.fmt_quarter(q, lang)}"
             for t, q in zip(gaps["table"].head(GAPS_NAMED), gaps["quarter"].head(GAPS_NAMED))]
    if gaps.height == 1:
        return i18n.t("dq_title_cov_gap1", lang, which=which[0])
    return i18n.t("dq_title_cov_gaps", lang, n=gaps.height,
                  which=", ".join(which) + (" …" if gaps.height > GAPS_NAMED else ""))


def coverage_figure(dq: DataQualitySummary, lang: str) -> go.Figure | None:
    """Heat map of rows per table (rows, in the order of ``dq.tables``) and quarter (columns), coloured by the share
    of the table's usual quarter and labelled with the row count; None when there is no dated table."""
    if dq.coverage.height == 0:
        return None
    grid = coverage_grid(dq)
    tabs = [t for t in dq.tables["table"] if t in set(grid["table"])]
    qs = sorted(grid["quarter"].unique())
    cell = {(r["table"], r["quarter"]): r for r in grid.iter_rows(named=True)}  # tables x quarters cells, not people
    t_, q_ = (lambda k: table_word(k, lang)), (lambda k: i18n.fmt_quarter(k, lang))
    fig = go.Figure(go.Heatmap(
        z=[[cell[t, q]["share"] for q in qs] for t in tabs], x=[q_(q) for q in qs], y=[t_(t) for t in tabs],
        zmin=0, zmax=1, colorscale=[[0.0, theme.BAD], [0.5, "#f3c68c"], [1.0, theme.SEQUENTIAL[0][1]]],
        text=[[i18n.fmt_number(cell[t, q]["rows"], lang) for q in qs] for t in tabs], texttemplate="%{text}",
        textfont=dict(color=theme.INK, size=12), xgap=2, ygap=2,
        hovertext=[[i18n.t("dq_cov_hover", lang, table=t_(t), quarter=q_(q),
                           rows=i18n.fmt_number(cell[t, q]["rows"], lang), share=i18n.fmt_pct(cell[t, q]["share"], lang, 0))
                    for q in qs] for t in tabs],
        hovertemplate="%{hovertext}<extra></extra>",
        colorbar=dict(title=dict(text=i18n.t("dq_cov_colorbar", lang), side="right", font=dict(size=12)),
                      tickformat=".0%", thickness=14)))
    fig.update_layout(xaxis_title=i18n.t("quarter", lang),
                      yaxis=dict(autorange="reversed", showgrid=False, ticks="", ticklabelstandoff=6))
    return _titled(fig, coverage_title(grid, lang), lang, height=150 + 44 * len(tabs))


# --- survey response rate -------------------------------------------------------------------------------------------

def response_rate_title(rr: pl.DataFrame, lang: str) -> str:
    """The response-rate finding: one wave's rate, a steady band (within 10 points), or the lowest and highest wave."""
    lo, hi = rr.row(rr["response_rate"].arg_min(), named=True), rr.row(rr["response_rate"].arg_max(), named=True)
    pct = lambda r: i18n.fmt_pct(r["response_rate"], lang, 0)  # noqa: E731
    if rr.height == 1:
        return i18n.t("dq_title_rr_one", lang, rate=pct(lo), q=i18n.fmt_quarter(lo["quarter"], lang))
    if hi["response_rate"] - lo["response_rate"] <= STEADY_RESPONSE:
        return i18n.t("dq_title_rr_steady", lang, lo=pct(lo), hi=pct(hi))
    return i18n.t("dq_title_rr_range", lang, lo=pct(lo), q_lo=i18n.fmt_quarter(lo["quarter"], lang),
                  hi=pct(hi), q_hi=i18n.fmt_quarter(hi["quarter"], lang))


def response_rate_figure(dq: DataQualitySummary, lang: str) -> go.Figure | None:
    """Bars of the survey response rate per wave (respondents / headcount on the quarter's first day);
    None when no wave has a rate."""
    rr = dq.response_rate.drop_nulls("response_rate")
    if rr.height == 0:
        return None
    hover = [i18n.t("dq_rr_hover", lang, q=i18n.fmt_quarter(q, lang), rate=i18n.fmt_pct(r, lang, 1),
                    n=i18n.fmt_number(n, lang), head=i18n.fmt_number(h, lang))
             for q, r, n, h in zip(rr["quarter"], rr["response_rate"], rr["respondents"], rr["headcount"])]
    fig = go.Figure(go.Bar(
        x=[i18n.fmt_quarter(q, lang) for q in rr["quarter"]], y=rr["response_rate"].to_list(),
        marker_color=theme.ACCENT, text=[i18n.fmt_pct(v, lang, 0) for v in rr["response_rate"]],
        textposition="outside", cliponaxis=False, hovertext=hover,
        hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(xaxis_title=i18n.t("quarter", lang),
                      yaxis=dict(title=i18n.t("dq_axis_rr", lang), tickformat=".0%",
                                 range=[0, max(1.0, rr["response_rate"].max() * 1.08)]))
    return _titled(fig, response_rate_title(rr, lang), lang)


# --- blank answers ---------------------------------------------------------------------------------------------------

def missingness_title(miss: pl.DataFrame, lang: str) -> str:
    """The blank-answer finding: none at all, few (at most 10% for the worst question), or the worst question."""
    top = miss.row(miss["missing_share"].arg_max(), named=True)
    name, pct = charts.word(top["item"], lang), i18n.fmt_pct(top["missing_share"], lang, 1)
    if top["missing"] == 0:
        return i18n.t("dq_title_miss_none", lang)
    if top["missing_share"] <= HIGH_MISSING:
        return i18n.t("dq_title_miss_low", lang, pct=pct, item=name.lower())
    return i18n.t("dq_title_miss_high", lang, pct=pct, item=name)


def missingness_figure(dq: DataQualitySummary, lang: str) -> go.Figure | None:
    """Horizontal bars of the share of blank answers per survey question (in ``dq.missingness`` order);
    None when the survey has no questions."""
    miss = dq.missingness
    if miss.height == 0:
        return None
    names = [charts.word(i, lang) for i in miss["item"]]
    hover = [i18n.t("dq_miss_hover", lang, item=n, pct=i18n.fmt_pct(s, lang, 1), n=i18n.fmt_number(m, lang),
                    total=i18n.fmt_number(m + a, lang))
             for n, s, m, a in zip(names, miss["missing_share"], miss["missing"], miss["answered"])]
    fig = go.Figure(go.Bar(
        x=miss["missing_share"].to_list(), y=names, orientation="h", marker_color=theme.ACCENT,
        text=[i18n.fmt_pct(v, lang, 1) for v in miss["missing_share"]], textposition="outside", cliponaxis=False,
        hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"))
    fig.update_layout(xaxis=dict(title=i18n.t("dq_axis_missing", lang), tickformat=".1%", rangemode="tozero",
                                 showgrid=True, gridcolor=theme.GRID),
                      yaxis=dict(autorange="reversed", showgrid=False, ticks="", ticklabelstandoff=8))
    return _titled(fig, missingness_title(miss, lang), lang, height=170 + 40 * miss.height)


# --- tables and sentences --------------------------------------------------------------------------------------------

def tables_frame(dq: DataQualitySummary, lang: str) -> pl.DataFrame:
    """One row per table read: its name in the report language, file, rows kept and rows rejected
    (headers are i18n keys)."""
    return dq.tables.select(
        pl.col("table").replace({t: table_word(t, lang) for t in dq.tables["table"]}).alias("dq_col_table"),
        pl.col("file").alias("dq_col_file"), pl.col("rows").alias("dq_col_rows_kept"),
        pl.col("rejected").alias("dq_col_rows_rejected"))


def problems_frame(dq: DataQualitySummary, lang: str) -> pl.DataFrame:
    """The validator's warnings and errors, one row per check: severity in the report language, file, column,
    message (as the validator wrote it) and how many rows it concerns (headers are i18n keys). Empty when none.

    The page goes to executives, so it never lists the row numbers of individual records: those stay in
    ``servicechain validate``'s output for the analyst."""
    return (
        dq.problems.group_by("severity", "file", "column", "message", maintain_order=True)
        .agg(pl.col("n_rows").sum())
        .select(
            pl.col("severity").replace({s: i18n.t(f"dq_sev_{s}", lang) for s in ("warning", "error")})
            .alias("dq_col_severity"),
            pl.col("file").alias("dq_col_file"), pl.col("column").alias("dq_col_column"),
            pl.col("message").alias("dq_col_what"), pl.col("n_rows").alias("dq_col_n_rows"))
    )


def summary_values(dq: DataQualitySummary, lang: str) -> dict[str, Any]:
    """The values of the opening sentence (``dq_kind``): data kind, latest complete quarter, tables, rows kept
    and rejected."""
    latest = dq.latest_complete_quarter
    return dict(kind=i18n.t(f"data_kind_{dq.kind}", lang), as_of=i18n.fmt_date(getattr(dq, "as_of", None), lang),
                latest=i18n.fmt_quarter(latest, lang) if latest else i18n.t("dq_no_latest", lang),
                n=dq.tables.height, kept=int(dq.tables["rows"].sum()), rejected=int(dq.tables["rejected"].sum()))


def results(dq: DataQualitySummary) -> dict[str, Any]:
    """The page's machine-readable results (``data_quality.json``); independent of the report language."""
    return {
        "kind": dq.kind,
        "tables": {t: {"rows": r, "rejected": x} for t, r, x in zip(dq.tables["table"], dq.tables["rows"],
                                                                     dq.tables["rejected"])},
        "warnings": dq.problems.height,
        "quarters": dq.quarters,
        "latest_complete_quarter": dq.latest_complete_quarter,
        "response_rate": dict(zip(dq.response_rate["quarter"], dq.response_rate["response_rate"])),
        "item_missing_share": dict(zip(dq.missingness["item"], dq.missingness["missing_share"])),
    }
