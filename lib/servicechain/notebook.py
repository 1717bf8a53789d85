"""Helpers every notebook calls: ``setup()``, ``show(fig)``, ``md()``, ``table()``, ``save_results()``.

A notebook starts with the papermill ``parameters`` cell (see docs/ARCHITECTURE.md) and then::

    from servicechain import notebook as nb
    ctx = nb.setup(data_dir=data_dir, quarter=quarter, lang=lang,
                   anonymity_threshold=anonymity_threshold, seed=seed,
                   mapping=mapping, assumptions=assumptions, results_dir=results_dir)
    ds = ctx.ds                       # loaded once, via servicechain.loading.load
    nb.show(fig)                      # plotly figure, exported as a chart (never as code)
    nb.md("Voluntary turnover is **{rate:pct}**.", rate=0.123)   # numbers in ctx.lang
    nb.table(frame)                   # aggregate frame -> localized HTML table
    nb.save_results("retention", {"voluntary_turnover_rate": 0.123})

Privacy: figures and tables get aggregates only. In a published report (:func:`publishing`)
``show()`` refuses a trace with more than ``MAX_POINTS`` points (override per call with
``max_points=``, knowingly); interactively it warns. Any figure or table that carries a person
identifier column (``employee_id``, ...) is always refused.

Warnings: inside ``servicechain run`` (:func:`unattended`) they are silenced, the exported report
is for readers; in an analyst's kernel ``setup()`` leaves them alone (statsmodels' separation and
rank warnings matter there). :func:`quiet` silences warnings around one block only.
"""

from __future__ import annotations

import html
import json
import math
import os
import random
import re
import string
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from servicechain import i18n, theme

MAX_POINTS = 5000
TRANSLATED_COLUMNS = ("role", "exit_reason", "driver", "item", "touchpoint")
PERSON_ID_COLUMNS = ("employee_id", "manager_id", "receiver_id", "giver_id", "customer_id", "rater_id")
MIME_PLOTLY = "application/vnd.plotly.v1+json"

_CURRENT: Context | None = None
_FIG_COUNTER = [0]
# The runner (run.kernel_env) starts every notebook's kernel with PYTHONWARNINGS=ignore: that is how a
# kernel knows it runs unattended, inside ``servicechain run``.
RUN_WARNINGS_ENV = "PYTHONWARNINGS"


def unattended() -> bool:
    """True inside ``servicechain run`` (the runner's kernel environment has ``PYTHONWARNINGS=ignore``)."""
    return os.environ.get(RUN_WARNINGS_ENV, "").strip() == "ignore"


def publishing() -> bool:
    """True when this kernel makes a published report: inside ``servicechain run``, or ``setup()`` was
    given a ``results_dir`` (the run's staging folder)."""
    return unattended() or getattr(_CURRENT, "results_dir", None) is not None


@contextmanager
def quiet(*categories: type[Warning]) -> Iterator[None]:
    """Silence warnings (of ``categories``, default all) inside the ``with`` block only::

        with nb.quiet(RuntimeWarning):
            res = some_noisy_call()

    The kernel's warning filters are restored afterwards (``warnings.catch_warnings``)."""
    with warnings.catch_warnings():
        for c in categories or (Warning,):
            warnings.simplefilter("ignore", c)
        yield


class NotebookStop(ValueError):
    """A stop the analyst should read as one sentence, not a traceback: Jupyter (IPython's
    ``_render_traceback_``) shows only the message; ``except ValueError`` still catches it."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class QuarterNotInData(NotebookStop):
    """The ``quarter`` parameter is not one of the data's quarters; the message gives the usable range."""


def project_root(start: Path | None = None) -> Path:
    """The project root: ``$SERVICECHAIN_ROOT``, else the nearest folder above ``start`` (default:
    the working directory) with a ``pyproject.toml`` naming servicechain, else the package's checkout."""
    env = os.environ.get("SERVICECHAIN_ROOT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for p in (here, *here.parents):
        pp = p / "pyproject.toml"
        if pp.is_file() and 'name = "servicechain"' in pp.read_text(encoding="utf-8", errors="replace"):
            return p
    return Path(__file__).resolve().parents[2]


def resolve_path(p: str | os.PathLike | None, root: Path) -> Path | None:
    """``""``/None -> None; relative paths resolve against the project root."""
    if p is None or str(p) == "":
        return None
    q = Path(p).expanduser()
    return (q if q.is_absolute() else root / q).resolve()


@dataclass
class Context:
    root: Path
    data_dir: Path | None
    quarter: str
    lang: str
    threshold: int
    seed: int
    mapping: Path | None
    assumptions: Path | None
    results_dir: Path | None
    ds: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    # what this notebook cannot show on this data, and why (in ctx.lang): e.g. {"out_of_time": "..."}
    unavailable: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return getattr(self.ds, "kind", None)

    # words and numbers in the report's language
    def t(self, key: str, **values: Any) -> str:
        return i18n.t(key, self.lang, **values)

    def num(self, x: Any, decimals: int = 0) -> str:
        return i18n.fmt_number(x, self.lang, decimals)

    def pct(self, x: Any, decimals: int = 1) -> str:
        return i18n.fmt_pct(x, self.lang, decimals)

    def money(self, x: Any, currency: str = "EUR", compact: bool = False) -> str:
        return i18n.fmt_money(x, currency, self.lang, compact=compact)

    def date(self, d: Any) -> str:
        return i18n.fmt_date(d, self.lang)

    def show(self, fig: Any, **kw: Any) -> None:
        show(fig, **kw)

    def md(self, text: str, **values: Any) -> None:
        md(text, lang=self.lang, **values)

    def table(self, df: Any, **kw: Any) -> None:
        kw.setdefault("lang", self.lang)
        table(df, **kw)

    def save_results(self, name: str, results: dict) -> None:
        save_results(name, results, results_dir=self.results_dir)

    def panels(self) -> Any:
        """The person-quarter, unit-quarter and touchpoint panels as of ``quarter`` (:func:`panels`)."""
        return panels(self)


def _validated_copy(data_dir: Path) -> Path | None:
    """The quarterly run's validated, pseudonymised copy of ``data_dir``, when this kernel runs inside one."""
    src, copy = os.environ.get("SERVICECHAIN_VALIDATED_FOR"), os.environ.get("SERVICECHAIN_VALIDATED_DATA")
    if src and copy and Path(src).resolve() == Path(data_dir).resolve() and Path(copy).is_dir():
        return Path(copy)
    return None


def setup(
    data_dir: str = "data/demo",
    quarter: str = "latest",
    lang: str = "en",
    anonymity_threshold: int = 5,
    seed: int = 7,
    mapping: str = "",
    assumptions: str = "",
    results_dir: str = "",
    *,
    load: bool = True,
    part: str = "",
    **extra: Any,
) -> Context:
    """Prepare a notebook: paths, warnings, plotly template, the dataset, the quarter.

    - relative paths resolve against the project root (so ``jupyter lab`` and papermill agree);
    - warnings are silenced only inside ``servicechain run`` (:func:`unattended`: the exported report
      is for readers, not developers); an analyst's kernel keeps every warning (use :func:`quiet`
      around a call whose warnings you have read);
    - the ``servicechain`` plotly template becomes the default;
    - the dataset is loaded once with ``servicechain.loading.load`` (``load=False`` skips it);
    - ``quarter="latest"`` resolves to the dataset's latest complete quarter; any other quarter must be
      one of the data's (:class:`QuarterNotInData` says the usable range, never a silent fallback);
    - random seeds (``random``, numpy) are set from ``seed``;
    - ``part`` (the notebook's part of the suite, e.g. ``"retention"``): when the data cannot
      support it (:func:`servicechain.preconditions.check`), say why and stop with
      :class:`PartCannotRun` instead of failing later inside a model; when only a piece of it
      cannot run (retention's out-of-time check in the data's second quarter), the notebook runs
      and ``ctx.unavailable`` says which piece and why. Not re-checked inside a ``servicechain run``,
      which skips such a notebook before it starts.
    Unknown keyword parameters are kept in ``ctx.params``.
    """
    global _CURRENT
    lang = i18n.check_lang(lang)  # a locale: "es", "es-MX", "en-GB"... ("es_mx" -> "es-MX"); unknown: ValueError
    root = project_root()
    if unattended():
        warnings.filterwarnings("ignore")
    theme.use()
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass
    ctx = Context(
        root=root,
        data_dir=resolve_path(data_dir, root),
        quarter=str(quarter),
        lang=lang,
        threshold=int(anonymity_threshold),
        seed=int(seed),
        mapping=resolve_path(mapping, root),
        assumptions=resolve_path(assumptions, root),
        results_dir=resolve_path(results_dir, root),
        params=dict(extra),
    )
    from servicechain import mapping as mapping_mod

    # the user's names for their items (a mapping's label:), in the page's language, for charts.word
    mapping_mod.use_item_labels(mapping_mod.load_mapping(ctx.mapping).item_labels() if ctx.mapping else None)
    if load and ctx.data_dir is not None:
        from servicechain import loading

        ctx.ds = loading.load(_validated_copy(ctx.data_dir) or ctx.data_dir, ctx.mapping)
    if ctx.quarter == "latest":
        if ctx.ds is None or getattr(ctx.ds, "latest_complete_quarter", None) is None:
            if ctx.ds is not None and getattr(ctx.ds, "kind", None) == "snapshot":
                ctx.quarter = "snapshot"
            else:
                raise ValueError("quarter='latest' needs the dataset (load=True) to resolve it")
        else:
            ctx.quarter = str(ctx.ds.latest_complete_quarter)
    elif ctx.ds is not None and ctx.kind == "panel":
        check_quarter(ctx.ds, ctx.quarter, lang)
    _FIG_COUNTER[0] = 0
    _CURRENT = ctx
    if part and ctx.ds is not None and _validated_copy(ctx.data_dir) is None:
        _check_part(ctx, part)
    return ctx


def check_quarter(ds: Any, quarter: str, lang: str = "en") -> None:
    """Raise :class:`QuarterNotInData` unless ``quarter`` is one of the panel's quarters (``ds.quarters``);
    the message (in ``lang``) gives the usable range and the latest complete quarter."""
    from servicechain import quarters as Q

    known = list(getattr(ds, "quarters", None) or [])
    try:
        Q.parse(quarter)
    except ValueError:
        raise QuarterNotInData(i18n.t("ana_quarter_label", lang, quarter=quarter)) from None
    if known and quarter.strip() not in known:
        latest = getattr(ds, "latest_complete_quarter", None) or known[-1]
        raise QuarterNotInData(i18n.t("ana_quarter_outside", lang, quarter=quarter, first=known[0], last=known[-1],
                                      latest=latest))


class PartCannotRun(NotebookStop):
    """This notebook's part of the suite cannot run on the data; the message says why."""


# Reasons (preconditions' keys) that stop one piece of a part only: the notebook runs without it.
PARTIAL_REASONS = {"pre_ret_oot_quarters": "out_of_time", "pre_ret_oot_rows": "out_of_time"}


def _check_part(ctx: Context, part: str) -> None:
    from servicechain import preconditions

    p = preconditions.check(ctx.ds.tables, ctx.kind or "panel", ctx.quarter, list(ctx.ds.items)).get(part)
    if p is not None and not p.can_run:
        if p.key in PARTIAL_REASONS:
            ctx.unavailable[PARTIAL_REASONS[p.key]] = p.reason(ctx.lang)
            return
        md(ctx.t("pre_skipped_md", reason=p.reason(ctx.lang)), lang=ctx.lang)
        raise PartCannotRun(p.reason("en"))


def current() -> Context | None:
    return _CURRENT


def _lang(lang: str | None) -> str:
    if lang:
        return lang
    return _CURRENT.lang if _CURRENT else "en"


# ---------------------------------------------------------------------------------------- figures


def _check_figure(fig: Any, max_points: int, publish: bool | None = None) -> None:
    """Refuse a figure that names a person identifier; refuse (``publish``, default :func:`publishing`)
    or warn (interactively) about a trace with more than ``max_points`` points."""
    publish = publishing() if publish is None else publish
    for i, tr in enumerate(fig.data):
        n = 0
        for attr in ("x", "y", "z", "values", "lat", "r"):
            v = getattr(tr, attr, None)
            if v is not None:
                try:
                    n = max(n, len(v))
                except TypeError:
                    pass
        if n > max_points:
            msg = (f"figure trace {i} has {n:,} points (> {max_points:,}): published reports show aggregates "
                   "only. Aggregate first: one point per group (df.group_by('unit_id', 'quarter')"
                   ".agg(pl.col('y').mean(), pl.len().alias('n'))), bin counts drawn as bars (df['x'].hist("
                   "bin_count=20); px.histogram would still carry every row), or binned means with CIs "
                   "(charts.binned_means); pass max_points= if these are not people")
            if publish:
                raise ValueError(msg)
            warnings.warn(msg + " (allowed here: not a published report)", UserWarning, stacklevel=3)
    text = fig.to_json()
    for col in PERSON_ID_COLUMNS:
        if col in text:
            raise ValueError(f"figure mentions {col!r}: person identifiers never go into a report")


def separators(lang: str) -> str:
    """Plotly's ``layout.separators`` for the locale ``lang``: its decimal mark then its thousands mark, from CLDR
    as :func:`i18n.fmt_number` writes them (``".,"`` in English, es-MX and es-PE, ``",."`` in es-ES, es-AR and
    es-CO), so axes, colour bars and ``%{x:.2f}`` in hover templates write numbers as the page's text does."""
    return i18n.plotly_separators(lang)


def title_text(fig: Any) -> str:
    """A figure's title as one line of plain text (plotly's ``<br>`` line breaks and tags removed), or ``""``."""
    t = fig.layout.title.text if fig.layout.title is not None else None
    if not t:
        return ""
    one = re.sub(r"<br\s*/?>", " ", str(t), flags=re.I)
    # ASCII whitespace only: a no-break space keeps a number with its unit ("2,4\u00a0M€")
    return re.sub(r"[ \t\r\n]+", " ", html.unescape(re.sub(r"<[^>]+>", "", one))).strip(" ")


def page_figure(fig: Any, lang: str) -> tuple[Any, str]:
    """The figure as a report page draws it, and its title for an HTML heading above it.

    On a phone a plotly title cannot wrap (it is cut at the chart's edge), so the title leaves the
    chart: a copy of ``fig`` without its title, with the room :func:`charts.finding_title` made for it
    given back (what is left is for a top legend, which plotly's automargin enlarges when needed),
    and with the language's number :func:`separators`. ``fig`` itself is not changed.
    """
    import plotly.graph_objects as go

    out = go.Figure(fig)
    title = title_text(fig)
    if title:
        lines = str(fig.layout.title.text).lower().count("<br") + 1
        top = fig.layout.margin.t if fig.layout.margin.t is not None else 72  # the template's top margin
        out.update_layout(title_text="", margin_t=max(24, int(top) - 26 * lines - 14))
    out.update_layout(separators=separators(lang))
    wrap_category_ticks(out)
    label_every_column(out)
    return out, title


def label_every_column(fig: Any) -> Any:
    """A heat map names every column: plotly skips every other category label when they crowd (a phone), which
    would leave a column of numbers without its driver; its colour bar's title runs along the bar, so the bar
    takes less of a narrow screen's width. Changes ``fig`` in place."""
    for tr in fig.data:
        if tr.type == "heatmap" and tr.colorbar.title.text and tr.colorbar.title.side is None:
            tr.colorbar.title.side = "right"
        xs = getattr(tr, "x", None) if tr.type == "heatmap" else None
        if xs is not None and len(xs) and all(isinstance(v, str) for v in xs):
            key = "xaxis" + (tr.xaxis or "x")[1:]
            if fig.layout[key].tickvals is None:
                fig.update_layout({key: {"tickmode": "array", "tickvals": list(xs), "ticktext": list(xs)}})
    return fig


TICK_WRAP = 22  # characters per line of a category label (about 150 px at 14 px: a phone keeps a plot beside it)
_TAG = re.compile(r"<[^>]*>")


def _wrap_label(text: str, width: int = TICK_WRAP) -> str:
    """``text`` broken with ``<br>`` at spaces into lines of at most ``width`` visible characters (tags such as
    ``<i>`` do not count and are never split; a number keeps the word after it: "96 k€", "21 %")."""
    if "<br" in text.lower() or len(_TAG.sub("", text)) <= width:
        return text
    protected = _TAG.sub(lambda m: m.group(0).replace(" ", "\x00"), text)
    parts = re.split(r"(?<!\d)( +)", protected)  # words and the spaces between them
    words, gaps = parts[0::2], parts[1::2] + [""]
    lines, line, n = [], "", 0
    for w, gap in zip(words, gaps):
        k = len(_TAG.sub("", w.replace("\x00", " ")))
        if line and n + k > width:
            lines.append(line.rstrip(" "))
            line, n = "", 0
        line += w + gap
        n += k + len(gap)
    lines.append(line.rstrip(" "))
    return "<br>".join(lines).replace("\x00", " ")


def wrap_category_ticks(fig: Any, width: int = TICK_WRAP) -> Any:
    """Long category labels on a y axis (horizontal bars, heat-map rows, the forest plots' ``ticktext``) wrap
    onto lines of ``width`` characters, so that on a phone the labels neither run off the screen's left edge
    nor leave the plot a few pixels: plotly's automargin gives up before a 40-character label fits. When the
    rows are too close for the extra lines, the labels get a smaller font. Changes ``fig`` in place."""
    cats: dict[str, list[str]] = {}
    for tr in fig.data:
        horizontal = (tr.type == "bar" and tr.orientation == "h") or tr.type == "heatmap"
        ys = getattr(tr, "y", None) if horizontal else None
        if ys is not None and all(isinstance(v, str) for v in ys):
            axis = "yaxis" + (tr.yaxis or "y")[1:]
            cats.setdefault(axis, [])
            cats[axis] += [v for v in ys if v not in cats[axis]]
    for key in [k for k in fig.layout if k.startswith("yaxis")] + list(cats):
        ax = fig.layout[key]
        if ax.ticktext is not None and ax.tickvals is not None:
            vals, texts = list(ax.tickvals), [str(t) for t in ax.ticktext]
        elif key in cats:
            vals, texts = cats[key], cats[key]
        else:
            continue
        wrapped = [_wrap_label(t, width) for t in texts]
        if wrapped == texts:
            continue
        update: dict[str, Any] = {"tickmode": "array", "tickvals": vals, "ticktext": wrapped}
        lines = max(w.count("<br>") + 1 for w in wrapped)
        m = fig.layout.margin
        plot_h = (fig.layout.height or 460) - (m.t or 72) - (m.b or 56)
        if plot_h / max(len(vals), 1) < 17 * lines:
            update["tickfont"] = {"size": 11}
        fig.update_layout({key: update})
    return fig


MIN_WIDTH_META = "sc_min_width"  # layout.meta key: a diagram that cannot shrink below this many px


def figure_html(fig: Any, div_id: str, title: str, *, config: dict, height: int, lang: str = "en") -> str:
    """``<figure>``: the title as a heading that wraps (in the page's words), then the chart's div and
    ``Plotly.newPlot`` call (no plotly.js: the page inlines it once). The figure is labelled by its title.

    A diagram whose words sit at fixed places (``layout.meta["sc_min_width"]``, the mediation paths) is drawn
    at least that wide inside its own sideways-scrolling box with the :func:`scrollable` hint, instead of
    being squeezed until its boxes cut their words on a phone."""
    chart = fig.to_html(full_html=False, include_plotlyjs=False, config=config, div_id=div_id,
                        default_width="100%", default_height=f"{int(height)}px")
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    if meta.get(MIN_WIDTH_META):
        chart = scrollable(f'<div style="min-width: {int(meta[MIN_WIDTH_META])}px">{chart}</div>', lang,
                           hint="chart_scroll_hint")
    if not title:
        return f'<figure class="sc-chart">{chart}</figure>'
    tid = f"{div_id}-title"
    return (f'<figure class="sc-chart" aria-labelledby="{tid}">'
            f'<p class="sc-chart-title" id="{tid}" role="heading" aria-level="3">{html.escape(title)}</p>'
            f"{chart}</figure>")


def show(fig: Any, *, max_points: int = MAX_POINTS, height: int | None = None, config: dict | None = None) -> None:
    """Display a plotly figure so that JupyterLab AND the exported HTML show a chart.

    Publishes ``application/vnd.plotly.v1+json`` (JupyterLab's renderer; the figure as built, title
    included) and ``text/html`` for the report page (:func:`figure_html` of :func:`page_figure`: the
    title as an HTML heading above a chart without one). Both get the language's number separators.
    The div ids are deterministic (``sc-fig-1``, ...) so reruns give the same HTML.
    """
    from IPython.display import display

    _check_figure(fig, max_points)
    cfg = {**theme.PLOTLY_CONFIG, **(config or {})}
    _FIG_COUNTER[0] += 1
    div_id = f"sc-fig-{_FIG_COUNTER[0]}"
    h = height or fig.layout.height or 460
    lang = _lang(None)
    page_fig, title = page_figure(fig, lang)
    lab = json.loads(fig.to_json())
    lab.setdefault("layout", {})["separators"] = separators(lang)
    bundle = {
        MIME_PLOTLY: {**lab, "config": cfg},
        "text/html": figure_html(page_fig, div_id, title, config=theme.page_config(lang, cfg), height=h, lang=lang),
        "text/plain": f"<figure {div_id}>",
    }
    display(bundle, raw=True)


# ---------------------------------------------------------------------------------------- markdown


class _Formatter(string.Formatter):
    """``{x:pct}``, ``{x:pct0}``, ``{x:num1}``, ``{x:int}``, ``{x:money}``, ``{x:money_compact}``,
    ``{x:date}``, ``{x:quarter}``, ``{x:points}``; plain numbers get ``fmt_number``; ``{key:t}``
    translates a word key."""

    def __init__(self, lang: str, currency: str):
        self.lang, self.currency = lang, currency

    def format_field(self, value: Any, spec: str) -> str:
        if spec == "t":
            return i18n.t(str(value), self.lang)
        if spec:
            try:
                return i18n.fmt_value(value, spec, self.lang, self.currency)
            except ValueError:
                return format(value, spec)
        if isinstance(value, bool) or value is None:
            return str(value)
        if isinstance(value, int):
            return i18n.fmt_number(value, self.lang, 0)
        if isinstance(value, float):
            return i18n.fmt_number(value, self.lang, 0 if float(value).is_integer() else 1)
        return str(value)


def fmt(text: str, lang: str | None = None, currency: str = "EUR", **values: Any) -> str:
    """Format ``text`` with localized numbers (see :class:`_Formatter` for the specs)."""
    return _Formatter(_lang(lang), currency).format(text, **values) if values else text


def md(text: str, *, lang: str | None = None, currency: str = "EUR", **values: Any) -> None:
    """Display markdown; ``{name:spec}`` placeholders are filled with localized numbers."""
    from IPython.display import Markdown, display

    display(Markdown(fmt(text, lang, currency, **values)))


# ---------------------------------------------------------------------------------------- tables


def _to_records(df: Any) -> tuple[list[str], list[list[Any]]]:
    if hasattr(df, "columns") and hasattr(df, "rows"):  # polars
        return list(df.columns), [list(r) for r in df.rows()]
    if hasattr(df, "columns") and hasattr(df, "itertuples"):  # pandas
        return [str(c) for c in df.columns], [list(r) for r in df.itertuples(index=False, name=None)]
    raise TypeError("table() takes a polars or pandas DataFrame")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) or type(v).__name__.startswith(("int", "float"))


def _cell_word(v: str, lang: str) -> str:
    """A translated table cell: a mapping's item label, else the catalog word, else the value as it is."""
    from servicechain.mapping import item_label

    own = item_label(v, lang)
    return own if own is not None else (i18n.t(v, lang) if i18n.has(v) else v)


WIDE_CELL = 30  # characters: a text column with a longer cell gets a minimum width (``sc-wide``)


def table_html(
    df: Any,
    lang: str | None = None,
    *,
    formats: dict[str, str] | None = None,
    decimals: int = 1,
    caption: str | None = None,
    max_rows: int = 200,
    currency: str = "EUR",
    translate: tuple[str, ...] | list[str] = TRANSLATED_COLUMNS,
) -> str:
    """An HTML table of an aggregate frame: headers through ``i18n.t``, numbers localized.

    ``formats`` maps a column to a spec of :func:`i18n.fmt_value` (``pct``, ``money``, ``int``,
    ``num2``, ``date``...); other numeric columns get ``decimals`` (integers none). String cells of
    the columns in ``translate`` (default: role, exit_reason, driver, item, touchpoint) that are word
    keys (``frontline``, ``voluntary``, ``recognition``) are translated; other text is left alone.
    """
    lang = _lang(lang)
    cols, rows = _to_records(df)
    for c in cols:
        if c in PERSON_ID_COLUMNS:
            raise ValueError(f"table has a {c!r} column: person identifiers never go into a report")
    if len(rows) > max_rows:
        raise ValueError(f"table has {len(rows)} rows (> {max_rows}): reports show aggregates only")
    formats = formats or {}
    numeric = {c: all(v is None or _is_num(v) for v in (r[i] for r in rows)) and rows != [] for i, c in enumerate(cols)}
    # a text column with long cells keeps a readable width (squeezed to its longest word on a phone, its
    # cells ran to ten lines and made every row of the table as tall); the table scrolls in its box instead
    wide = {c: not numeric[c] and max((len(str(r[i])) for r in rows if r[i] is not None), default=0) > WIDE_CELL
            for i, c in enumerate(cols)}
    out = ['<table class="sc-table">']
    if caption:
        out.append(f"<caption>{html.escape(caption)}</caption>")
    out.append("<thead><tr>")
    for c in cols:
        cls = ' class="num"' if numeric[c] else ' class="sc-wide"' if wide[c] else ""
        out.append(f"<th{cls}>{html.escape(i18n.t(c, lang))}</th>")
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append("<tr>")
        for c, v in zip(cols, r):
            if c in formats:
                s = i18n.fmt_value(v, formats[c], lang, currency)
            elif v is None or (isinstance(v, float) and not math.isfinite(v)):
                s = i18n.MISSING
            elif _is_num(v):
                is_int = isinstance(v, int) or type(v).__name__.startswith("int")
                s = i18n.fmt_number(v, lang, 0 if is_int else decimals)
            elif hasattr(v, "isoformat") and hasattr(v, "year"):
                s = i18n.fmt_date(v, lang)
            else:
                s = _cell_word(str(v), lang) if c in translate else str(v)
            cls = ' class="num"' if numeric[c] else ' class="sc-wide"' if wide[c] else ""
            out.append(f"<td{cls}>{html.escape(s)}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return scrollable("".join(out), lang)


def scrollable(table: str, lang: str, hint: str = "table_scroll_hint") -> str:
    """A table (or a wide diagram) inside its own sideways-scrolling box, followed by a hint in the page's
    language that the page shows only when the content is wider than the box (a phone): the page itself never
    scrolls sideways."""
    return (f'<div class="sc-scroll" tabindex="0">{table}</div>'
            f'<p class="sc-scroll-hint" aria-hidden="true">{html.escape(i18n.t(hint, lang))}</p>')


def table(df: Any, lang: str | None = None, **kw: Any) -> None:
    """Display :func:`table_html` (HTML only, so the report never shows a dataframe repr).

    In an analyst's kernel (not :func:`publishing`) JupyterLab has no report stylesheet, which hides the
    phone's "scroll sideways" hint unless the table overflows: a one-rule style hides it there."""
    from IPython.display import HTML, display

    h = table_html(df, lang, **kw)
    display(HTML(h if publishing() else "<style>.sc-scroll-hint { display: none; }</style>" + h))


# ---------------------------------------------------------------------------------------- results


def jsonable(x: Any) -> Any:
    """Plain JSON types: numpy/polars scalars -> Python, dates -> ISO strings, NaN/inf -> None."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if hasattr(x, "isoformat"):
        return x.isoformat()
    if hasattr(x, "tolist"):  # numpy arrays and scalars
        return jsonable(x.tolist())
    if hasattr(x, "to_list"):  # polars Series
        return jsonable(x.to_list())
    if hasattr(x, "item"):
        return jsonable(x.item())
    if isinstance(x, os.PathLike):
        raise TypeError("results must not contain paths")
    raise TypeError(f"cannot store {type(x).__name__} in results")


def save_results(name: str, results: dict, results_dir: str | os.PathLike | None = None) -> None:
    """Write ``<results_dir>/<name>.json`` for the runner to merge into ``metrics.json``.

    ``results_dir`` defaults to the one given to ``setup()``; with none (interactive use) this
    is a no-op. Returns None (so a notebook cell ending with it displays nothing). Results are numbers, strings, lists and dicts only: no timings,
    no paths (the runner's ``metrics.json`` must be identical for identical inputs).
    """
    if not name or any(ch in name for ch in "/\\.") :
        raise ValueError(f"results name must be a plain word, got {name!r}")
    if not isinstance(results, dict):
        raise TypeError("results must be a dict")
    rd = results_dir if results_dir not in (None, "") else (_CURRENT.results_dir if _CURRENT else None)
    if rd in (None, ""):
        return
    d = Path(rd)
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{name}.json"
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(jsonable(results), sort_keys=True, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, p)


# --------------------------------------------------------------------------- panels (issue 17)

PANELS_ENV = "SERVICECHAIN_PANELS"  # a run's prebuilt panels (the runner's private work folder)
PANEL_CACHE_ENV = "SERVICECHAIN_PANEL_CACHE"  # "0": interactive use builds the panels every time, no cache
CACHE_DIR_ENV = "SERVICECHAIN_CACHE_DIR"  # the cache folder (default ~/.cache/servicechain)
PANEL_CACHE_KEEP = 6  # cached panel sets kept (oldest removed)


def _file_sha256(p: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def panel_inputs_hash(ctx: Context) -> str:
    """A hash of everything the panels of ``ctx`` depend on: every file of the data folder (content), the mapping,
    the quarter, the as-of date, the pseudonymisation key's fingerprint (the panels carry pseudonyms), and the
    source of ``features.py`` and polars' version (a code change rebuilds them). Any change gives a new hash."""
    import hashlib

    import polars as pl

    from servicechain import features, privacy

    parts: list[str] = [f"quarter={ctx.quarter}", f"as_of={getattr(ctx.ds, 'as_of', None)}", f"polars={pl.__version__}",
                        f"features={_file_sha256(Path(features.__file__))}"]
    d = Path(ctx.data_dir)
    for p in sorted(d.rglob("*")) if d.is_dir() else ():
        rel = p.relative_to(d)
        if p.is_file() and not any(s.startswith(".") for s in rel.parts):
            parts.append(f"data/{rel.as_posix()}={_file_sha256(p)}")
    if ctx.mapping is not None and Path(ctx.mapping).is_file():
        parts.append(f"mapping={_file_sha256(Path(ctx.mapping))}")
    with suppress(Exception):  # no key file yet: the load would have made one
        info = privacy.key_info(None, ctx.root)
        parts.append(f"key={info.fingerprint if info is not None else ''}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def cache_dir() -> Path:
    """The user's private cache folder: ``$SERVICECHAIN_CACHE_DIR`` or ``~/.cache/servicechain`` (never in the checkout)."""
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.home() / ".cache" / "servicechain").expanduser()


def panels(ctx: Context | None = None) -> Any:
    """The panels of the notebook's data as of its quarter (:class:`servicechain.features.Panels`).

    Inside ``servicechain run`` they were built once after validation into the run's private work folder
    (``$SERVICECHAIN_PANELS``) and are only read here. In interactive use (Lab) they are built on first use and
    cached under :func:`cache_dir` by :func:`panel_inputs_hash`, so a changed data file, mapping, quarter or key
    builds them again; ``SERVICECHAIN_PANEL_CACHE=0`` builds them every time without caching.
    """
    from servicechain import features

    ctx = ctx or _CURRENT
    if ctx is None or ctx.ds is None:
        raise ValueError("panels() needs a notebook context with its dataset (nb.setup with load=True)")
    if ctx.kind == "snapshot":
        raise ValueError("a snapshot export has no quarterly panels")
    try:
        return _panels(ctx)
    except ValueError:  # too thin for all of them at once (one survey quarter): each panel on its own, on use
        return features.LazyPanels(ctx.ds.tables, ctx.quarter)


def _panels(ctx: Context) -> Any:
    import shutil
    import tempfile

    from servicechain import features

    pre = os.environ.get(PANELS_ENV)
    if pre and ctx.data_dir is not None and _validated_copy(ctx.data_dir) is not None and features.Panels.exists(pre):
        p = features.Panels(pre)
        if p.quarter == ctx.quarter:
            return p
    if os.environ.get(PANEL_CACHE_ENV, "1") == "0" or (ctx.data_dir is not None and _validated_copy(ctx.data_dir)):
        # no cache (or inside a run without prebuilt panels): build, read into memory, leave nothing on disk
        tmp = Path(tempfile.mkdtemp(prefix="servicechain-panels-"))
        try:
            p = features.build_panels(ctx.ds.tables, ctx.quarter, tmp)
            for name in features.PANEL_NAMES:
                getattr(p, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return p
    key = panel_inputs_hash(ctx)
    root = cache_dir() / "panels"
    dest = root / key
    if features.Panels.exists(dest):
        os.utime(dest)
        return features.Panels(dest)
    old_umask = os.umask(0o077)  # pseudonymised individual rows: the user's eyes only
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
        features.build_panels(ctx.ds.tables, ctx.quarter, tmp, key=key)
    finally:
        os.umask(old_umask)
    try:
        os.replace(tmp, dest)
    except OSError:  # another kernel cached the same inputs meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    entries = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: d.stat().st_mtime, reverse=True)
    for d in entries[PANEL_CACHE_KEEP:]:
        if d != dest:
            shutil.rmtree(d, ignore_errors=True)
    return features.Panels(dest)
