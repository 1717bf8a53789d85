"""Shared chart builders: aggregate frames in, plotly figures out, words in the report language.

Every function takes a small polars frame of *aggregates* (estimates, curve
points, bins), never person rows, and ``lang`` (positional or keyword; default: the
notebook's language after ``nb.setup()``, else English); labels found in the i18n word
table are translated, numbers are formatted for the language, and the title is
the caller's (a finding, not a description). Colours come from :mod:`theme`.

* :func:`forest`: estimates with 95% CIs (one row per label, optional groups side by side)
* :func:`coef_side_by_side`: the same estimates under two specifications
* :func:`calibration`: predicted vs observed rates by bin
* :func:`km_curves`: Kaplan-Meier retention curves with confidence bands
* :func:`binned_means`: mean outcome by group of a driver, with CIs

Helpers for the words and table cells around the charts: :func:`driver_word` (a
driver's name inside a sentence), :func:`word_col` and :func:`ci_col` (polars
expressions that turn word keys and estimate/low/high columns into report text).
"""

from __future__ import annotations

import textwrap

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
import polars as pl

from . import i18n, theme
from .mapping import item_label


def word(key: object, lang: str, labels: Mapping[str, str] | None = None) -> str:
    """``labels[key]`` if given, else the user's name for an item in ``lang`` (a mapping's ``label:``, see
    :func:`servicechain.mapping.item_label`), else the i18n word for ``key`` if there is one, else ``str(key)``
    (``job_involvement`` -> ``Job involvement``). Every item or column name shown on a page goes through here."""
    k = str(key)
    if labels and k in labels:
        return labels[k]
    if (own := item_label(k, lang)) is not None:
        return own
    if i18n.has(k):
        return i18n.t(k, lang)
    return k.replace("_", " ").capitalize() if "_" in k else k


# A driver's short name inside a sentence ("recognition", not "Recognition (per month)").
SENTENCE_WORDS = {"recognition_per_month": "recognition"}


def driver_word(driver: str, lang: str) -> str:
    """A driver's name for the middle of a sentence, lower case: ``driver_word("recognition_per_month", "es")``
    -> ``"reconocimiento"``."""
    return word(SENTENCE_WORDS.get(driver, driver), lang).lower()


def word_col(col: str, lang: str, labels: Mapping[str, str] | None = None) -> pl.Expr:
    """Column ``col`` with each value replaced by :func:`word` (a table cell in the report language)."""
    return pl.col(col).map_elements(lambda v: word(v, lang, labels), return_dtype=pl.String)


def ci_col(est: str, low: str, high: str, lang: str, decimals: int = 2, pct: bool = False,
           name: str | None = None) -> pl.Expr:
    """:func:`ci_text` of three columns (estimate, CI low, CI high) as one text column named ``name`` (default ``est``)."""
    return pl.struct(est, low, high).map_elements(
        lambda r: ci_text(r[est], r[low], r[high], lang, decimals, pct=pct), return_dtype=pl.String
    ).alias(name or est)


def wrap(text: str, width: int = 72) -> str:
    """Break a long title into lines of at most ``width`` characters (plotly does not wrap titles).

    textwrap breaks only at ASCII whitespace, so a non-breaking space ("75\u00a0%", "2,4\u00a0M€")
    keeps a number and its unit together.
    """
    return "<br>".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)) or text


def finding_title(fig: go.Figure, title: str, legend: bool = False, width: int = 72) -> go.Figure:
    """Set a wrapped title and make room above the plot for it (and for a top legend)."""
    t = wrap(title, width)
    n = t.count("<br>") + 1
    top = 40 + 26 * n + (34 if legend else 0)
    fig.update_layout(title=dict(text=t, y=1.0, yref="container", yanchor="top", pad=dict(t=14)),
                      margin=dict(t=top), legend=dict(y=1.0, yanchor="bottom"))
    return fig


def localize(fig: go.Figure, lang: str) -> go.Figure:
    """Decimal and thousands separators of the language on every axis, and the ``servicechain`` template (so a
    chart looks the same in an analyst's kernel that never called ``nb.setup()``)."""
    fig.update_layout(separators=i18n.plotly_separators(lang), template=theme.template())
    return fig


def _lang(lang: str | None) -> str:
    """``lang``, else the notebook's (``nb.setup(lang=...)``), else English."""
    if lang:
        return lang
    from . import notebook

    ctx = notebook.current()
    return ctx.lang if ctx is not None else "en"


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _colour(i: int) -> str:
    return theme.COLORWAY[i % len(theme.COLORWAY)]


def _fmt(x: float | None, lang: str, decimals: int, pct: bool = False) -> str:
    if pct:
        return i18n.fmt_pct(x, lang, decimals)
    return i18n.fmt_number(x, lang, decimals)


def ci_text(est: float, lo: float, hi: float, lang: str, decimals: int = 2, pct: bool = False) -> str:
    """``-0.14 (-0.22 to -0.06)`` in the language's number format; the estimate alone when there is no interval
    (an export of means only: the page said ``3,30 (– a –)``)."""
    if all(v is None or (isinstance(v, float) and v != v) for v in (lo, hi)):
        return _fmt(est, lang, decimals, pct)
    to = "a" if i18n.base(lang) == "es" else "to"
    return f"{_fmt(est, lang, decimals, pct)} ({_fmt(lo, lang, decimals, pct)} {to} {_fmt(hi, lang, decimals, pct)})"


def log_ticks(lo: float, hi: float) -> dict:
    """Tick settings for a log axis from ``lo`` to ``hi``: plotly's 1-2-5 labels (``dtick="D2"``) when at least 3 of
    them fall in the range, else up to 6 round values inside it (0.6, 0.7, 0.8, 0.9, 1), else plotly's own.
    (An axis range padded beyond lo..hi by plotly may show one more label of the same kind.)"""
    import math

    if not (lo > 0 and hi > lo):
        return {"dtick": "D2"}
    decades = range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
    d2 = [v for k in decades for m in (1, 2, 5) if lo <= (v := round(m * 10.0 ** k, 10)) <= hi]
    if len(d2) >= 3:
        return {"dtick": "D2"}
    fine = sorted({round(m * 10.0 ** k, 10) for k in decades for m in (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9)})
    vals = [v for v in fine if lo <= v <= hi]
    while len(vals) > 6:
        vals = vals[::2]
    if len(vals) < 3:
        return {}
    return {"tickmode": "array", "tickvals": vals}  # labelled by plotly, with the page's separators


def forest(
    df: pl.DataFrame,
    lang: str | None = None,
    *,
    title: str,
    x_title: str,
    label_col: str = "name",
    estimate_col: str = "estimate",
    low_col: str = "ci_low",
    high_col: str = "ci_high",
    ref: float | None = 0.0,
    log_x: bool = False,
    group_col: str | None = None,
    labels: Mapping[str, str] | None = None,
    decimals: int = 2,
    show_values: bool = True,
    height: int | None = None,
) -> go.Figure:
    """Estimates as dots with 95% CI whiskers, one row per label (first row on top).

    ``ref`` draws the "no effect" line (0 for differences, 1 for odds ratios; None
    for none). With ``group_col`` the groups (e.g. specifications) sit side by side
    in each row, in order of appearance; group values are translated like labels.
    """
    lang = _lang(lang)
    if df.height == 0:
        raise ValueError("forest(): nothing to plot")
    order = list(dict.fromkeys(df[label_col].to_list()))
    cats = [word(v, lang, labels) for v in order]
    pos = {v: len(order) - 1 - i for i, v in enumerate(order)}  # first label on top
    groups = list(dict.fromkeys(df[group_col].to_list())) if group_col else [None]
    many = len(groups) > 1
    step = 0.7 / len(groups)
    fig = go.Figure()
    for gi, g in enumerate(groups):
        sub = df if g is None else df.filter(pl.col(group_col) == g)
        est, lo, hi = (sub[c].to_list() for c in (estimate_col, low_col, high_col))
        ys = [pos[v] + (((len(groups) - 1) / 2 - gi) * step if many else 0.0) for v in sub[label_col].to_list()]
        names = [word(v, lang, labels) for v in sub[label_col].to_list()]
        gname = word(g, lang, labels) if g is not None else ""
        text = [ci_text(e, a, b, lang, decimals) for e, a, b in zip(est, lo, hi)]
        hover = [f"{nm}{' · ' + gname if gname else ''}: {tx}" for nm, tx in zip(names, text)]
        fig.add_trace(go.Scatter(
            x=est, y=ys, mode="markers+text" if (show_values and not many) else "markers",
            name=gname, showlegend=many,
            marker=dict(size=11, color=_colour(gi), symbol="circle" if gi == 0 else "diamond"),
            error_x=dict(type="data", symmetric=False, array=[b - e for e, b in zip(est, hi)],
                         arrayminus=[e - a for e, a in zip(est, lo)], thickness=2, width=6, color=_colour(gi)),
            text=text if not many else None, hovertext=hover, textposition="top center",
            textfont=dict(size=12, color=theme.MUTED), hovertemplate="%{hovertext}<extra></extra>",
        ))
    if ref is not None:
        fig.add_vline(x=ref, line=dict(color=theme.NEUTRAL, dash="dash", width=1.5))
    n = len(cats)
    fig.update_layout(
        height=height or max(280, 170 + n * (70 if not many else 90)),
        xaxis=dict(title=x_title, type="log" if log_x else "linear", showgrid=True, gridcolor=theme.GRID,
                   # a log axis labels 1, 2 and 5 of each decade, not every digit (they overlap on a phone),
                   # unless that leaves fewer than 3 labels (odds ratios between 0.6 and 1: only "1")
                   **(log_ticks(min([*df[low_col].to_list(), *([ref] if ref else [])]),
                                max([*df[high_col].to_list(), *([ref] if ref else [])])) if log_x else {})),
        yaxis=dict(tickmode="array", tickvals=[pos[v] for v in order], ticktext=cats, range=[-0.6, n - 0.35],
                   showgrid=False, zeroline=False, title=None),
        margin=dict(l=24, r=24, b=72),
    )
    finding_title(fig, title, legend=len(groups) > 1)
    return localize(fig, lang)


def coef_side_by_side(
    df: pl.DataFrame,
    lang: str | None = None,
    *,
    title: str,
    x_title: str,
    label_col: str = "driver",
    group_col: str = "spec",
    labels: Mapping[str, str] | None = None,
    decimals: int = 1,
    ref: float | None = 0.0,
) -> go.Figure:
    """Coefficients of two (or more) specifications of one model, side by side per driver."""
    return forest(df, lang, title=title, x_title=x_title, label_col=label_col, group_col=group_col,
                  labels=labels, decimals=decimals, ref=ref)


def calibration(
    df: pl.DataFrame,
    lang: str | None = None,
    *,
    title: str,
    x_title: str,
    y_title: str,
    pred_col: str = "mean_predicted",
    obs_col: str = "observed_rate",
    n_col: str = "n",
    diagonal_label: str | None = None,
    decimals: int = 1,
) -> go.Figure:
    """Observed vs predicted rate per bin, with the perfect-calibration diagonal (rates as shares 0..1)."""
    lang = _lang(lang)
    if df.height == 0:
        raise ValueError("calibration(): nothing to plot")
    x, y, n = df[pred_col].to_list(), df[obs_col].to_list(), df[n_col].to_list()
    top = max(max(x), max(y)) * 1.1
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, top], y=[0, top], mode="lines", name=diagonal_label or "",
                             showlegend=diagonal_label is not None, hoverinfo="skip",
                             line=dict(color=theme.NEUTRAL, dash="dash", width=1.5)))
    hover = [f"{x_title}: {_fmt(a, lang, decimals, True)}<br>{y_title}: {_fmt(b, lang, decimals, True)}"
             f"<br>{i18n.t('n', lang)} = {i18n.fmt_number(k, lang)}" for a, b, k in zip(x, y, n)]
    fig.add_trace(go.Scatter(x=x, y=y, mode="markers+lines", showlegend=False, text=hover,
                             hovertemplate="%{text}<extra></extra>",
                             marker=dict(size=10, color=theme.ACCENT), line=dict(width=1.5, color=theme.ACCENT)))
    finding_title(fig, title, legend=diagonal_label is not None)
    fig.update_layout(height=460,
                      xaxis=dict(title=x_title, tickformat=".0%", range=[0, top], showgrid=True, gridcolor=theme.GRID),
                      yaxis=dict(title=y_title, tickformat=".0%", range=[0, top]))
    return localize(fig, lang)


def km_curves(
    df: pl.DataFrame,
    lang: str | None = None,
    *,
    title: str,
    x_title: str,
    y_title: str,
    group_col: str = "band",
    x_col: str = "tenure_years",
    y_col: str = "retained",
    low_col: str = "ci_low",
    high_col: str = "ci_high",
    order: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    colours: Sequence[str] | None = None,
) -> go.Figure:
    """Step curves of the share still employed over time, one per group, with shaded 95% bands."""
    lang = _lang(lang)
    if df.height == 0:
        raise ValueError("km_curves(): nothing to plot")
    groups = [g for g in (order or list(dict.fromkeys(df[group_col].to_list()))) if g in set(df[group_col].to_list())]
    fig = go.Figure()
    for i, g in enumerate(groups):
        sub = df.filter(pl.col(group_col) == g).sort(x_col)
        c = (colours[i] if colours and i < len(colours) else _colour(i))
        x = sub[x_col].to_list()
        name = word(g, lang, labels)
        fig.add_trace(go.Scatter(x=x, y=sub[high_col].to_list(), mode="lines", line=dict(width=0, shape="hv", color=c),
                                 showlegend=False, hoverinfo="skip", legendgroup=name))
        fig.add_trace(go.Scatter(x=x, y=sub[low_col].to_list(), mode="lines", line=dict(width=0, shape="hv", color=c),
                                 fill="tonexty", fillcolor=_rgba(c, 0.15), showlegend=False, hoverinfo="skip",
                                 legendgroup=name))
        hover = [f"{name}<br>{x_title}: {i18n.fmt_number(a, lang, 2)}<br>{y_title}: {i18n.fmt_pct(b, lang, 1)}"
                 for a, b in zip(x, sub[y_col].to_list())]
        fig.add_trace(go.Scatter(x=x, y=sub[y_col].to_list(), mode="lines", name=name, legendgroup=name,
                                 line=dict(shape="hv", color=c, width=2.5), text=hover,
                                 hovertemplate="%{text}<extra></extra>"))
    finding_title(fig, title, legend=True)
    fig.update_layout(height=500, xaxis=dict(title=x_title, showgrid=True, gridcolor=theme.GRID),
                      yaxis=dict(title=y_title, tickformat=".0%", range=[0, 1.02]))
    return localize(fig, lang)


def binned_means(
    df: pl.DataFrame,
    lang: str | None = None,
    *,
    title: str,
    x_title: str,
    y_title: str,
    x_col: str = "driver_mean",
    mean_col: str = "mean",
    low_col: str = "ci_low",
    high_col: str = "ci_high",
    n_col: str = "n",
    decimals: int = 1,
) -> go.Figure:
    """Mean outcome (with 95% CI) at the average driver level of each group: a descriptive dose-response."""
    lang = _lang(lang)
    if df.height == 0:
        raise ValueError("binned_means(): nothing to plot")
    x, m, lo, hi, n = (df[c].to_list() for c in (x_col, mean_col, low_col, high_col, n_col))
    hover = [f"{x_title}: {i18n.fmt_number(a, lang, 2)}<br>{y_title}: {ci_text(b, c, d, lang, decimals)}"
             f"<br>{i18n.t('n', lang)} = {i18n.fmt_number(k, lang)}" for a, b, c, d, k in zip(x, m, lo, hi, n)]
    fig = go.Figure(go.Scatter(
        x=x, y=m, mode="markers+lines", text=hover, hovertemplate="%{text}<extra></extra>", showlegend=False,
        marker=dict(size=11, color=theme.ACCENT), line=dict(width=1.5, color=theme.ACCENT),
        error_y=dict(type="data", symmetric=False, array=[b - a for a, b in zip(m, hi)],
                     arrayminus=[a - b for a, b in zip(m, lo)], thickness=2, width=6, color=theme.ACCENT),
    ))
    finding_title(fig, title)
    fig.update_layout(height=440, xaxis=dict(title=x_title, showgrid=True, gridcolor=theme.GRID),
                      yaxis=dict(title=y_title))
    return localize(fig, lang)
