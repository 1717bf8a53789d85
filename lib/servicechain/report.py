"""Offline executive HTML: notebook pages (nbconvert), ``index.html``, ``metrics.json``.

Every page stands alone and never asks the network for anything: no code, no prompts,
no stderr/warnings, no require.js, no MathJax, no web fonts; the stylesheet and
plotly.js (once per page, only when the page has a chart) are inlined; a
Content-Security-Policy forbids any fetch.
"""

from __future__ import annotations

import datetime as dt
import html as _html
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets.config import Config

from servicechain import i18n, quarters, summary, theme

TEMPLATES_DIR = theme.TEMPLATES_DIR
NB_TEMPLATE = "servicechain"
PLOTLY_PLACEHOLDER = "/*SC_PLOTLY_JS*/"
DISPLAY_PRIORITY = [
    "text/html",  # first: show() puts the chart div there (the plotly mimetype has no HTML export)
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/plain",
]
_QUARTER_DIR = re.compile(r"^\d{4}Q[1-4]$")


# ------------------------------------------------------------------------------- metrics.json


SIGNIFICANT_DIGITS = 8


def _stable(x: Any) -> Any:
    """Floats to 8 significant digits, -0.0 -> 0.0, NaN/inf -> None.

    The models' results carry last-digit noise between identical runs (~1e-12 relative with
    single-threaded BLAS, ~1e-10 with threaded BLAS: summation order); 8 significant digits
    round it away, so identical inputs give a byte-identical metrics.json (a value sitting
    exactly on a rounding boundary could still flip; rare)."""
    if isinstance(x, dict):
        return {str(k): _stable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_stable(v) for v in x]
    if isinstance(x, bool) or x is None or isinstance(x, (int, str)):
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            return None
        v = float(f"{x:.{SIGNIFICANT_DIGITS}g}")
        return 0.0 if v == 0 else v
    return x


def dumps_stable(obj: Any) -> str:
    """Byte-stable JSON: sorted keys, fixed float precision, UTF-8, trailing newline."""
    return json.dumps(_stable(obj), sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def merge_results(results_dir: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """``<results_dir>/<name>.json`` -> ``{name: results}`` (plus ``extra`` at the top)."""
    merged: dict[str, Any] = dict(extra or {})
    if results_dir.is_dir():
        for p in sorted(results_dir.glob("*.json")):
            merged[p.stem] = json.loads(p.read_text(encoding="utf-8"))
    return merged


# ------------------------------------------------------------------------------- notebook pages


class StripForReaders(Preprocessor):
    """Drop what readers must not see: stderr (warnings), errors, cells tagged ``remove-cell``,
    outputs of cells tagged ``remove-output``, papermill's error banner, inputs."""

    remove_tags = {"remove-cell", "remove_cell", "hide", "papermill-error-cell-tag"}

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not (set(c.get("metadata", {}).get("tags", [])) & self.remove_tags)]
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            tags = set(cell.get("metadata", {}).get("tags", []))
            if "remove-output" in tags or "remove_output" in tags:
                cell.outputs = []
                continue
            cell.outputs = [
                o
                for o in cell.get("outputs", [])
                if not (o.get("output_type") == "stream" and o.get("name") != "stdout")
                and o.get("output_type") != "error"
                # a bare repr left by a cell's last expression (``<Figure>``, ``PosixPath(...)``)
                and not (o.get("output_type") == "execute_result" and set(o.get("data", {})) <= {"text/plain"})
            ]
            cell.source = ""
        return nb, resources


def _exporter() -> HTMLExporter:
    c = Config()
    c.NbConvertBase.display_data_priority = DISPLAY_PRIORITY
    c.HTMLExporter.exclude_input = True
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.exclude_output_stdin = True
    c.HTMLExporter.exclude_raw = True
    c.HTMLExporter.exclude_unknown = True
    c.HTMLExporter.exclude_anchor_links = True
    c.HTMLExporter.embed_images = True
    ex = HTMLExporter(config=c, template_name=NB_TEMPLATE, extra_template_basedirs=[str(TEMPLATES_DIR)])
    ex.register_preprocessor(StripForReaders(), enabled=True)
    return ex


def notebook_title(nb: Any, number: str | None, lang: str, fallback: str) -> str:
    """The page title: the translated name of a known notebook number, else its first heading."""
    key = f"nb_{number}" if number is not None else None
    if key and i18n.has(key):
        return i18n.t(key, lang)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _has_h1(nb: Any) -> bool:
    h1 = re.compile(r"^# \S", re.M)
    for c in nb.cells:
        if set(c.get("metadata", {}).get("tags", [])) & StripForReaders.remove_tags:
            continue  # an analyst's note removed from the page is not the page's heading
        if c.cell_type == "markdown" and h1.search(c.source):
            return True
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            data = o.get("data", {})
            if h1.search(str(data.get("text/markdown", ""))) or "<h1" in str(data.get("text/html", "")):
                return True
    return False


_CHART_SCRIPT = re.compile(r'(<script(?: type="text/javascript")?>)(\s*window\.PLOTLYENV\b.*?)(</script>)', re.S)


def defer_chart_scripts(page: str) -> str:
    """Each chart's inline ``Plotly.newPlot`` script is queued (``window.__scCharts``) instead of run, so that
    plotly.js can come after the content and run after the first paint; the page template's loader runs
    plotly.js, then the queue in page order. The figure JSON inside never holds ``</script>`` (plotly
    escapes ``<`` and ``/``)."""
    return _CHART_SCRIPT.sub(
        lambda m: f"{m.group(1)}(window.__scCharts = window.__scCharts || []).push(function () {{{m.group(2)}}});"
                  f"{m.group(3)}", page)


def figure_titles(nb: Any) -> list[str]:
    """The titles of a notebook's charts as plain text, in page order (from the plotly JSON outputs;
    ``<br>`` and tags removed). Charts without a title are left out."""
    titles = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            fig = o.get("data", {}).get("application/vnd.plotly.v1+json")
            if not isinstance(fig, dict) or "plotly-graph-div" not in str(o.get("data", {}).get("text/html", "")):
                continue
            title = ((fig.get("layout") or {}).get("title") or {})
            text = title.get("text") if isinstance(title, dict) else title
            if text:
                one = re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " ", str(text), flags=re.I))
                titles.append(" ".join(_html.unescape(one).split()))
    return titles


FALLBACK_MAX_CELLS = 400  # a chart with more data than this gets no table for readers without scripts


def _plain(text: Any) -> str:
    """One line of plain text from plotly's label markup (``<br>``, ``<b>``)."""
    one = re.sub(r"<[^>]+>", "", re.sub(r"<br\s*/?>", " ", str(text), flags=re.I))
    return " ".join(_html.unescape(one).split())


def _values(v: Any) -> list:
    """A plotly data array as a list: plain JSON lists, or plotly.py's typed arrays (``{"dtype", "bdata"}``)."""
    if isinstance(v, dict) and "bdata" in v:
        import base64

        import numpy as np

        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v.get("dtype", "f8"))
        shape = v.get("shape")
        if shape:
            arr = arr.reshape([int(n) for n in str(shape).split(",")] if isinstance(shape, str) else shape)
        return arr.tolist()
    return list(v) if isinstance(v, (list, tuple)) else []


def _cell(v: Any, lang: str) -> str:
    if v is None or isinstance(v, bool):
        return "" if v is None else str(v)
    if isinstance(v, (int, float)):
        if not math.isfinite(v):
            return ""
        a = abs(v)
        return i18n.fmt_number(v, lang, 0 if a >= 100 or float(v).is_integer() else 1 if a >= 10 else 2)
    return _plain(v)


def _axis_title(layout: dict, axis: str, fallback: str) -> str:
    t = (layout.get(axis) or {}).get("title")
    t = t.get("text") if isinstance(t, dict) else t
    return _plain(t) if t else fallback


def figure_table(fig: dict, lang: str, max_cells: int = FALLBACK_MAX_CELLS) -> str:
    """A chart's data as a small HTML table, for readers whose viewer blocks scripts (the page puts it in a
    ``<noscript>`` after the chart): bars, lines and points as one row per (series, x, y); a heat map as its
    grid. The same aggregates the chart carries, nothing more. ``""`` for a chart with more than
    ``max_cells`` values or none."""
    layout = fig.get("layout") or {}
    series, x_label, y_label = i18n.t("fallback_series", lang), _axis_title(layout, "xaxis", "x"), \
        _axis_title(layout, "yaxis", "y")
    rows: list[tuple[str, str, str]] = []
    for tr in fig.get("data") or []:
        if tr.get("type") == "heatmap":
            z, xs, ys = _values(tr.get("z")), _values(tr.get("x")), _values(tr.get("y"))
            if not z or sum(len(r) for r in z) > max_cells:
                return ""
            xs = xs or list(range(len(z[0])))
            ys = ys or list(range(len(z)))
            head = "".join(f"<th>{_html.escape(_cell(x, lang))}</th>" for x in xs)
            body = "".join(f"<tr><th>{_html.escape(_cell(y, lang))}</th>"
                           + "".join(f"<td>{_html.escape(_cell(v, lang))}</td>" for v in row) + "</tr>"
                           for y, row in zip(ys, z))
            return f'<table class="sc-fallback"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'
        xs, ys = _values(tr.get("x")), _values(tr.get("y"))
        if not xs or not ys:
            continue
        name = _plain(tr.get("name") or "")
        rows += [(name, _cell(a, lang), _cell(b, lang)) for a, b in zip(xs, ys)]
    if not rows or 3 * len(rows) > max_cells:
        return ""
    show_series = any(r[0] for r in rows)
    head = (f"<th>{_html.escape(series)}</th>" if show_series else "") + \
        f"<th>{_html.escape(x_label)}</th><th>{_html.escape(y_label)}</th>"
    body = "".join("<tr>" + (f"<td>{_html.escape(n)}</td>" if show_series else "")
                   + f"<td>{_html.escape(a)}</td><td>{_html.escape(b)}</td></tr>" for n, a, b in rows)
    return f'<table class="sc-fallback"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def add_fallback_tables(nb: Any, lang: str) -> int:
    """After each chart of ``nb``'s outputs, a ``<noscript>`` with its :func:`figure_table` (in place; the
    executed notebook on disk is not changed). Returns how many charts got one."""
    n = 0
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            data = o.get("data", {})
            fig, page = data.get("application/vnd.plotly.v1+json"), str(data.get("text/html", ""))
            if not isinstance(fig, dict) or "plotly-graph-div" not in page:
                continue
            table = figure_table(fig, lang)
            if table:
                data["text/html"] = page + f"<noscript>{table}</noscript>"
                n += 1
    return n


def export_html(
    executed: Path,
    out_html: Path,
    *,
    lang: str = "en",
    quarter: str = "",
    title: str | None = None,
    number: str | None = None,
    generated: dt.date | None = None,
    threshold: int | None = None,
    label: str | None = None,
) -> str:
    """Executed notebook -> one standalone offline HTML page. Returns the page title. ``label``: what the page's
    top bar says the report is about (default: the quarter; a snapshot's: :func:`period_label`)."""
    nb = nbformat.read(str(executed), as_version=4)
    title = title or notebook_title(nb, number, lang, executed.stem)
    has_chart = any(
        "plotly-graph-div" in str(o.get("data", {}).get("text/html", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    footer = i18n.t("privacy_note", lang, threshold=threshold) if threshold is not None else ""
    has_h1 = _has_h1(nb)
    resources = {
        "sc": {
            "lang": lang,
            "title": title,
            "app_name": i18n.t("app_name", lang),
            "back_label": i18n.t("back_to_index", lang),
            "quarter_label": label or i18n.fmt_quarter(quarter, lang),
            "generated_label": i18n.t("generated", lang),
            "generated": i18n.fmt_date(generated or dt.date.today(), lang),
            "css": theme.stylesheet(),
            "plotly_js": PLOTLY_PLACEHOLDER if has_chart else "",
            "footer": footer,
            "page_h1": "" if has_h1 else title,  # a notebook without its own "# Title" gets one
            "noscript": i18n.t("noscript_charts", lang, titles="; ".join(figure_titles(nb)) or "—")
            if has_chart else "",
        },
        "metadata": {"name": title},
    }
    if has_chart:
        add_fallback_tables(nb, lang)
    body, _ = _exporter().from_notebook_node(nb, resources=resources)
    if has_chart:
        body = defer_chart_scripts(body).replace(PLOTLY_PLACEHOLDER, theme.plotly_js(lang), 1)
    out_html.write_text(body, encoding="utf-8")
    return title


def period_label(quarter: str, lang: str, kind: str | None = None, as_of: str | dt.date | None = None) -> str:
    """What a report is about: the quarter ("T3 2026"), or for a snapshot its date ("HR snapshot of 30 June 2026":
    the run's ``--as-of``), never a quarter taken from the run date."""
    if kind == "snapshot" and as_of:
        d = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
        return i18n.t("snap_report_label", lang, date=i18n.fmt_date(d, lang))
    return i18n.fmt_quarter(quarter, lang)


def find_identifiers(text: str, ids: set[str]) -> list[str]:
    """Which of ``ids`` appear as a token in ``text`` (privacy check of a finished page)."""
    if not ids:
        return []
    tokens = set(re.findall(r"[A-Za-z0-9_\-]{4,}", text))
    return sorted(tokens & ids)


# ------------------------------------------------------------------------------- local paths

PUBLISHED_TEXT_SUFFIXES = (".html", ".ipynb", ".json", ".log")


def public_path(path: str | Path, root: Path) -> str:
    """A path as published: relative to the project ``root`` when inside it (``data/demo``), else
    the folder or file name only. Never absolute, never a user name or a temporary folder."""
    p = Path(path)
    for base in (root, root.resolve()):
        for cand in (p, p.resolve()):
            try:
                rel = cand.relative_to(base).as_posix()
            except ValueError:
                continue
            return rel or "."
    return p.name


def local_path_replacements(root: Path, data_dir: Path | None = None, report_dir: Path | None = None,
                            work: Path | None = None, results_dir: Path | None = None,
                            others: tuple[Path, ...] = ()) -> list[tuple[str, str]]:
    """(absolute path, published form) pairs for :func:`scrub_local_paths`, most specific first.

    ``report_dir``: where the report is being built (paths below it become relative to the
    report), ``data_dir``: the user's data folder (:func:`public_path`), ``results_dir``: the
    run's results folder (a parameter of the executed notebooks: published as ``""``, its
    interactive value), ``work``: the run's private folder, ``others`` (e.g. the reports
    folder): as :func:`public_path`; then the project root, the
    Python installation, the home folder and the temporary folder. The placeholders ("[tmp]", "~")
    hold no character that HTML, JSON or Markdown would read as markup."""
    import sys
    import tempfile

    pairs: list[tuple[str, str]] = []

    def add(p: Path | str | None, new: str, *, slash: bool = True) -> None:
        if p is None or str(p) in ("", "/", "."):
            return
        for v in {str(p), str(Path(p).resolve())}:
            if slash:
                pairs.append((v.rstrip("/") + "/", new + "/" if new else ""))
            pairs.append((v.rstrip("/"), new or "."))

    if results_dir is not None:
        for v in {str(results_dir), str(Path(results_dir).resolve())}:
            pairs += [(f'\\"{v}\\"', '\\"\\"'), (f'"{v}"', '""')]
    add(report_dir, "")
    add(work, "[run work folder]")
    for p in (data_dir, *others):
        if p is not None:
            add(p, public_path(p, root))
    add(root, "")
    add(sys.prefix, "[python]")
    add(Path.home(), "~")
    add(tempfile.gettempdir(), "[tmp]")
    seen: set[str] = set()
    out = []
    for old, new in sorted(pairs, key=lambda x: -len(x[0])):  # longest first: specific before general
        if old not in seen and old.strip("/"):
            seen.add(old)
            out.append((old, new))
    return out


def scrub_local_paths(folder: Path, replacements: list[tuple[str, str]]) -> list[str]:
    """Replace local absolute paths in every published text file under ``folder`` (html, ipynb,
    json, log): papermill's parameters and input/output paths, tracebacks, log lines. Returns
    the names of the files changed. Plain text replacement keeps JSON valid (the replacements
    hold no quote or backslash that was not already there)."""
    # a path that does not end in "/" or a quote must end there: /work/main, not /work/main2
    rx = [(re.compile(re.escape(old) + ("" if old[-1] in "/\"" else r"(?![\w\-])")), rep.replace("\\", "\\\\"))
          for old, rep in replacements]
    changed = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.suffix not in PUBLISHED_TEXT_SUFFIXES:
            continue
        text = p.read_text(encoding="utf-8")
        new = text
        for (old, _), (pattern, rep) in zip(replacements, rx):
            if old in new:
                new = pattern.sub(rep, new)
        if new != text:
            p.write_text(new, encoding="utf-8")
            changed.append(p.relative_to(folder).as_posix())
    return changed


# ------------------------------------------------------------------------------- index.html

# (word key, metrics getter, value format, delta format, which direction is good)
def _overview(key: str):
    return lambda m: (m.get("overview") or {}).get(key)


def _headline_scenario(m: dict) -> tuple[dict, str]:
    """The money scenario the index shows: the one flagged ``headline``, else the first."""
    fin = m.get("finance") or {}
    currency = fin.get("currency") or "EUR"
    sc = fin.get("scenarios") or []
    if not isinstance(sc, list) or not sc:
        return {}, currency
    head = next((s for s in sc if isinstance(s, dict) and s.get("headline")), sc[0])
    return (head if isinstance(head, dict) else {}), currency


def _money_at_stake(m: dict, lang: str = "en") -> tuple[Any, str | None, str]:
    head, currency = _headline_scenario(m)
    name = head.get("label") or head.get("name")  # finance writes the label in the run's language
    if isinstance(name, dict):  # or one per language
        name = name.get(i18n.base(lang)) or next(iter(name.values()), None)
    return head.get("value_p50"), (str(name) if name else None), currency


def _baseline(key: str):
    return lambda m: ((m.get("finance") or {}).get("baseline") or {}).get(key)


def _se(key: str):
    return lambda m: ((m.get("overview") or {}).get("se") or {}).get(key)


_NO_SE = lambda m: None  # noqa: E731  (no sampling error known: a change is never coloured)

# (word key, metrics getter, value format, delta format, which direction is good, standard error getter)
KPIS = [
    ("headcount", _overview("headcount"), "int", "signed0", 0, _NO_SE),
    ("voluntary_turnover", _overview("voluntary_turnover_rate"), "pct", "points", -1, _se("voluntary_turnover_rate")),
    ("early_leavers", _overview("early_leavers"), "int", "signed0", -1, _se("early_leavers")),
    ("nps", _overview("nps"), "num1", "signed1", +1, _se("nps")),
    ("customer_retention", _overview("customer_retention_rate"), "pct", "points", +1, _se("customer_retention_rate")),
    ("cost_of_turnover", _baseline("total_cost"), "money_compact", "money_signed", -1, _NO_SE),
    ("programme_value", lambda m: _money_at_stake(m)[0], "money_compact", "money_signed", 0, _NO_SE),
]


def card_history(metrics: dict, reports: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """Earlier quarters for the cards: the data's own history (``overview.history``, today's definitions) merged
    with earlier reports' metrics (money figures exist only there), oldest first."""
    merged: dict[str, dict] = {q: dict(m) for q, m in reports}
    for h in (metrics.get("overview") or {}).get("history") or []:
        if isinstance(h, dict) and isinstance(h.get("quarter"), str) and _QUARTER_DIR.match(h["quarter"]):
            merged.setdefault(h["quarter"], {})["overview"] = h
    return sorted(merged.items(), key=lambda x: quarters.parse(x[0]))


def _card_note(key: str, m: dict, lang: str, currency: str) -> str:
    """The sentence under a card that says what the figure counts (its period and population)."""
    ov, base = m.get("overview") or {}, (m.get("finance") or {}).get("baseline") or {}
    n = lambda v, d=0: i18n.fmt_number(v, lang, d)  # noqa: E731
    money = lambda v: i18n.fmt_money(v, currency, lang, compact=True)  # noqa: E731
    leavers, avg, annual = _num(ov.get("voluntary_leavers")), _num(ov.get("average_headcount")), \
        _num(ov.get("voluntary_turnover_rate_annualised"))
    if key == "headcount":
        return i18n.t("kpi_note_headcount", lang)
    if key == "voluntary_turnover" and None not in (leavers, avg, annual):
        return i18n.t("kpi_note_turnover", lang, leavers=n(leavers), avg=n(avg), annual=i18n.fmt_pct(annual, lang, 0))
    if key == "early_leavers" and None not in (leavers, ov.get("early_days")):
        return i18n.t("kpi_note_early", lang, leavers=n(leavers), days=ov["early_days"])
    if key == "nps" and _num(ov.get("nps_responses")) is not None:
        return i18n.t("kpi_note_nps", lang, responses=n(ov["nps_responses"]))
    if key == "customer_retention":
        return i18n.t("kpi_note_retention", lang)
    rep, cust = _num(base.get("replacement_cost")), _num(base.get("lost_customer_cost"))
    if key == "cost_of_turnover" and None not in (rep, cust):
        return i18n.t("kpi_note_cost", lang, rep=money(rep), cust=money(cust))
    return ""


_num = i18n.as_number


def earlier_reports(out_dir: Path, quarter: str) -> list[tuple[str, dict]]:
    """``(quarter, metrics)`` of every good report under ``out_dir`` before ``quarter``, oldest first."""
    found = []
    if not out_dir.is_dir():
        return found
    qi = quarters.parse(quarter) if _QUARTER_DIR.match(quarter) else None
    for d in out_dir.iterdir():
        if not (d.is_dir() and _QUARTER_DIR.match(d.name)):
            continue
        if qi is None or quarters.parse(d.name) >= qi:
            continue
        mp = d / "metrics.json"
        try:
            found.append((d.name, json.loads(mp.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda x: quarters.parse(x[0]))


def _fmt_delta(delta: float, kind: str, lang: str, currency: str) -> str:
    if kind == "points":
        return i18n.fmt_points(delta, lang)
    if kind == "signed0":
        return i18n.fmt_signed(delta, lang, 0)
    if kind == "signed1":
        return i18n.fmt_signed(delta, lang, 1)
    if kind == "money_signed":
        s = i18n.fmt_money(abs(delta), currency, lang, compact=True)
        return ("+" if delta > 0 else "−" if delta < 0 else "") + s
    return i18n.fmt_number(delta, lang, 1)


def sparkline(points: list[tuple[str, float]], lang: str, kind: str, currency: str = "EUR",
              width: int = 180, height: int = 36) -> str:
    """An inline SVG sparkline (no script, prints fine). Needs two points or more."""
    pts = [(q, v) for q, v in points if v is not None]
    if len(pts) < 2:
        return ""
    vals = [v for _, v in pts]
    lo, hi = min(vals), max(vals)
    span = (hi - lo) or 1.0
    pad = 4
    xs = [pad + i * (width - 2 * pad) / (len(pts) - 1) for i in range(len(pts))]
    ys = [height - pad - (v - lo) / span * (height - 2 * pad) for v in vals]
    poly = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    label = "; ".join(f"{i18n.fmt_quarter(q, lang)}: {i18n.fmt_value(v, kind, lang, currency)}" for q, v in pts)
    return (
        f'<svg class="sc-spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{_html.escape(i18n.t("trend", lang))}"><title>{_html.escape(label)}</title>'
        f'<polyline points="{poly}"/><circle cx="{xs[-1]:.1f}" cy="{ys[-1]:.1f}" r="3"/></svg>'
    )


def kpi_cards(metrics: dict, history: list[tuple[str, dict]], quarter: str, lang: str) -> list[dict]:
    """The index's cards: value, change against the latest earlier report, trend."""
    _, scenario, currency = _money_at_stake(metrics, lang)
    prev_q, prev = history[-1] if history else (None, None)
    cards = []
    for key, get, kind, dkind, good, se_of in KPIS:
        value = _num(get(metrics))
        card = {"key": key, "label": i18n.t(key, lang), "available": value is not None,
                "value": i18n.fmt_value(value, kind, lang, currency) if value is not None else i18n.t("not_available", lang),
                "delta": "", "delta_class": "", "spark": "", "note": ""}
        if value is not None:
            pv = _num(get(prev)) if prev is not None else None
            if pv is not None:
                d = value - pv
                vs = i18n.t('vs_quarter', lang, q=i18n.fmt_quarter(prev_q, lang))
                s1, s2 = _num(se_of(metrics)), _num(se_of(prev))
                noise = 1.96 * math.hypot(s1, s2) if s1 is not None and s2 is not None else None
                if noise is not None and abs(d) <= noise:  # within the noise: not a change to colour
                    card["delta"] = i18n.t("no_clear_change", lang, vs=vs, delta=_fmt_delta(d, dkind, lang, currency),
                                           noise=_fmt_delta(noise, dkind, lang, currency).lstrip("+"))
                else:
                    card["delta"] = f"{_fmt_delta(d, dkind, lang, currency)} {vs}"
                    if good and noise is not None and abs(d) > 1e-12:
                        card["delta_class"] = "good" if d * good > 0 else "bad"
            elif prev_q is None:
                card["delta"] = i18n.t("no_previous_quarter", lang)
            series = [(q, _num(get(m))) for q, m in history] + [(quarter, value)]
            card["spark"] = sparkline(series, lang, kind, currency)
            card["note"] = _card_note(key, metrics, lang, currency)
            if key == "programme_value" and scenario:
                card["note"] = i18n.t("kpi_note_programme", lang, scenario=i18n.t(scenario, lang))
                cons = _num(_headline_scenario(metrics)[0].get("conservative_value_p50"))
                if cons is not None:
                    card["note"] += " " + i18n.t("kpi_note_conservative", lang,
                                                 value=i18n.fmt_money(cons, currency, lang, compact=True))
                if _headline_scenario(metrics)[0].get("programme_cost_placeholder"):
                    card["note"] += " " + i18n.t("kpi_note_placeholder", lang)
                head, _ = _headline_scenario(metrics)
                lo, hi = _num(head.get("value_p10")), _num(head.get("value_p90"))
                if lo is not None and hi is not None:
                    card["note"] += " " + i18n.t("money_range", lang,
                                                 lo=i18n.fmt_money(lo, currency, lang, compact=True),
                                                 hi=i18n.fmt_money(hi, currency, lang, compact=True))
        cards.append(card)
    return cards


def _inline_md(text: str) -> Markup:
    """Escaped text with the summary's **bold** as <strong> (the only markdown its sentences use)."""
    return Markup(re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", _html.escape(text)))


def _file_links(text: str, names: tuple[str, ...]) -> Markup:
    """Escaped text in which each of the file ``names`` is a link to that file (in the same folder)."""
    out = _html.escape(text)
    for n in names:
        out = out.replace(n, f'<a href="{n}">{n}</a>')
    return Markup(out)


def _jinja() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]),
                       trim_blocks=True, lstrip_blocks=True)


def build_index(
    out_dir: Path,
    report_dir: Path,
    quarter: str,
    lang: str,
    metrics: dict,
    pages: list[dict],
    *,
    kind: str | None = None,
    threshold: int | None = None,
    generated: dt.date | None = None,
    incomplete: bool = False,
    pack: bool = False,
    pdf: bool = False,
) -> Path:
    """Write ``report_dir/index.html``. ``pages``: ``[{"href", "title", "number"}]``; ``incomplete``: the quarter
    was published with ``--allow-incomplete`` (the index says so first); ``pack``/``pdf``: the folder also has
    :data:`PACK_HTML` / :data:`PACK_PDF` (the footer names the pack as the file to forward).

    ``out_dir`` is where earlier quarters' reports live (``<out>/<quarter>/metrics.json``).
    """
    history = card_history(metrics, earlier_reports(out_dir, quarter))
    cards = kpi_cards(metrics, history, quarter, lang)
    lead = summary.index_lead(metrics, lang)
    pages = sorted(pages, key=lambda p: p.get("name") != "05_executive_summary")  # the summary first
    ctx = {
        "lang": lang,
        "t": lambda k, **v: i18n.t(k, lang, **v),
        "quarter_label": i18n.fmt_quarter(quarter, lang),
        "generated": i18n.fmt_date(generated or dt.date.today(), lang),
        "css": theme.stylesheet(),
        "cards": cards,
        "incomplete_note": i18n.t("idx_incomplete", lang, quarter=i18n.fmt_quarter(quarter, lang)) if incomplete else "",
        "lead": {"finding": _inline_md(lead.finding), "actions": [_inline_md(a) for a in lead.actions],
                 "actions_heading": lead.actions_heading, "caveat": lead.caveat,
                 "notes": [_inline_md(n) for n in lead.notes]},  # page 06's headlines (issue 15)
        "pages": pages,
        "kind_label": i18n.t(f"data_kind_{kind}", lang) if kind in ("panel", "snapshot") else "",
        "privacy_note": i18n.t("privacy_note", lang, threshold=threshold) if threshold is not None else "",
        "pack_note": _file_links(" ".join(
            ([i18n.t("pack_forward", lang, pack=PACK_HTML)] if pack else [])
            + ([i18n.t("pack_pdf_note", lang, pdf=PACK_PDF)] if pdf else [])), (PACK_HTML, PACK_PDF)),
    }
    if kind == "snapshot":  # its own index: the snapshot's date (not a quarter), the export's cards and summary
        from . import snapshot as snapshot_index

        snap = snapshot_index.index_context(metrics, lang, generated or dt.date.today())
        snap["lead"] = {k: ([_inline_md(a) for a in v] if k == "actions" else _inline_md(v) if k == "finding" else v)
                        for k, v in snap["lead"].items()}
        ctx.update(snap, incomplete_note="")
    html = _jinja().get_template("index.html.j2").render(**ctx)
    p = report_dir / "index.html"
    p.write_text(html, encoding="utf-8")
    return p


# ------------------------------------------------------------------------------- the board pack

PACK_HTML = "pack.html"
PACK_PDF = "pack.pdf"
# the pages the printed board pack carries after the index's headline: the summary, then the money
PDF_PAGES = ("05_executive_summary", "04_financial_impact")
_PAGE_HREF = re.compile(r'href="(?:\./)?(\d\d_[A-Za-z0-9_]+)\.html(?:#[^"]*)?"')
_PACK_CSS = """
.sc-pack-section + .sc-pack-section { margin-top: 3rem; }
@media print { .sc-pack-section + .sc-pack-section { break-before: page; margin-top: 0; } }
"""


def _between(text: str, start: str, end: str, *, last: bool = False) -> str:
    """The text between the first ``start`` and the first (or ``last``) ``end`` after it, or ``""``."""
    i = text.find(start)
    if i < 0:
        return ""
    i += len(start)
    j = text.rfind(end) if last else text.find(end, i)
    return text[i:j] if j >= i else ""


def _pack_links(fragment: str, names: set[str]) -> str:
    """Links between the report's pages -> links between the pack's sections (``#05_executive_summary``,
    ``#index``); a link to a page the pack does not carry is left as it is."""
    fragment = _PAGE_HREF.sub(lambda m: f'href="#{m.group(1)}"' if m.group(1) in names else m.group(0), fragment)
    return fragment.replace('href="index.html"', 'href="#index"')


def pack_html(report_dir: Path, pages: list[dict], lang: str, quarter: str, *,
              generated: dt.date | None = None, board: bool = False, label: str | None = None) -> str:
    """One self-contained HTML of the published pages: the index, then each page in ``pages`` order
    (``[{"name", "href"}]``) as a section, one copy of the stylesheet and of plotly.js, links between pages
    turned into links between sections. Chart ids get the page's number (``sc-fig-04-2``) so that charts
    of different pages never share one. ``board=True``: the short printed board pack: the index's headline
    and cards only (:func:`board_index`), each page without what :data:`BOARD_LEAVE_OUT` and
    :func:`board_article` leave out, and the board's print style."""
    index = (report_dir / "index.html").read_text(encoding="utf-8")
    names = {p["name"] for p in pages}
    head = _between(index, "<main class=\"sc-page\">", "</main>", last=True)
    head = re.sub(r'<p class="sc-pack-note">.*?</p>', "", head, flags=re.S)  # "forward the pack": we are in it
    if board:
        head = board_index(head, lang)
    sections = [f'<section class="sc-pack-section" id="index">{_pack_links(head, names)}</section>']
    tail = ""
    js = theme.plotly_js()
    for p in pages:
        text = (report_dir / p["href"]).read_text(encoding="utf-8")
        article = _between(text, '<article class="sc-sheet">', "</article>", last=True)
        if board:
            article = board_article(article, p["name"], lang)
        num = p["name"][:2]
        article = re.sub(r"\bsc-fig-(\d+)", rf"sc-fig-{num}-\1", article)
        sections.append(f'<section class="sc-pack-section" id="{p["name"]}"><article class="sc-sheet">'
                        f"{_pack_links(article, names)}</article></section>")
        if not tail and js in text:  # the scripts after a chart page's content: plotly.js, print, tables
            tail = _between(text, "</article></main>", "</body>", last=True)
    # what the report is about: the quarter, or a snapshot's date (:func:`period_label`), as on every page
    title = f"{i18n.t('pack_title', lang)} · {label or i18n.fmt_quarter(quarter, lang)}"
    csp = ("default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
           "img-src data: blob:; font-src data:; connect-src 'none'")
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n<meta name="generator" content="servicechain">\n'
        f"<title>{_html.escape(title)}</title>\n<style>\n{theme.stylesheet()}\n{_PACK_CSS}"
        f"{_BOARD_CSS if board else ''}</style>\n"
        + ("<noscript><style>.plotly-graph-div { display: none !important; }</style></noscript>\n" if tail else "")
        + "</head>\n<body>\n<header class=\"sc-topbar\">"
        f'<a class="sc-brand" href="#index">{_html.escape(i18n.t("app_name", lang))}</a>'
        f'<span class="sc-meta">{_html.escape(title)} · {_html.escape(i18n.t("generated", lang))} '
        f"{_html.escape(i18n.fmt_date(generated or dt.date.today(), lang))}</span></header>\n"
        f'<main class="sc-page">\n' + "\n".join(sections) + "\n</main>" + tail + "</body>\n</html>\n"
    )


# What the printed board pack leaves out of the pages it carries, by catalog key (so in every language):
# ``sections``: headings whose section goes (to the next heading of the same or a higher level); ``notes``:
# paragraphs that explain a table. Every table goes too: the board reads the charts and the sentences; the
# tables, the interactive what-if and the assumptions with their sources stay in pack.html and on the pages.
BOARD_LEAVE_OUT: dict[str, dict[str, tuple[str, ...]]] = {
    # the index's cards above it say the same as the glance; the methods are for analysts (on the page)
    "05_executive_summary": {"sections": ("quarter_at_a_glance", "sum_methods_h")},
    "04_financial_impact": {"sections": ("fin_h_components", "fin_h_whatif", "fin_h_assumptions"),
                            "notes": ("fin_baseline_note", "fin_scenarios_note", "fin_reach_note",
                                      "fin_reach_note_none", "fin_break_even_text")},  # a list, per scenario
}
# Words the printed pack changes, by page: (catalog key of the words as the page has them, catalog key of the pack's
# words; ``{pack}`` is the one-file pack). The money intro points to *Assumptions* below, which the pack leaves out.
BOARD_REWRITE: dict[str, tuple[tuple[str, str], ...]] = {
    "04_financial_impact": (("rvw_fin_see_assumptions", "rvw_fin_see_assumptions_board"),),
}
_BLOCK = re.compile(r'(?=<div class="sc-output)')
_BLOCK_HEADING = re.compile(r'^<div class="sc-output[^"]*">\s*<h([1-6])\b[^>]*>(.*?)</h\1>', re.S)
_BOARD_CSS = """
/* the printed board pack: short, text that flows from page to page, charts whole */
.sc-board-note { color: var(--muted); font-size: 0.9rem; }
@media print {
  html { font-size: 10pt; }
  .sc-topbar { padding-bottom: 2mm; }
  h1 { font-size: 1.6rem; margin-bottom: 0.4rem; }
  h2 { font-size: 1.25rem; margin: 1.1rem 0 0.4rem; padding-top: 0.4rem; }
  .sc-output { margin: 0.4rem 0; overflow: visible; }
  .sc-output.sc-md { break-inside: auto; page-break-inside: auto; }
  .sc-figure { margin: 0.5rem 0 0.7rem; }
  p, li { orphans: 3; widows: 3; max-width: none; }
  .sc-lead { margin: 0.5rem 0 0.8rem; padding: 0.3rem 0.9rem 0.4rem; }
  .sc-kpis { grid-template-columns: repeat(4, 1fr); gap: 0.5rem; margin: 0.5rem 0 0.8rem; }
  .sc-kpi { padding: 0.5rem 0.6rem 0.4rem; }
  .sc-kpi[data-kpi="programme_value"] { grid-column: span 2; }  /* its note is the longest */
  .sc-kpi .sc-value { font-size: 1.45rem; }
  .sc-kpi .sc-spark { height: 30px; }
  .sc-output .plotly-graph-div { min-height: 0; }
  h1, h2, h3, .sc-chart-title { break-inside: avoid; page-break-inside: avoid; }
  /* the headline is the cover page; the summary and the money then follow each other without a blank */
  .sc-pack-section + .sc-pack-section + .sc-pack-section { break-before: auto; page-break-before: auto;
    margin-top: 1.5rem; }
}
"""


def _plain_text(fragment: str) -> str:
    """An HTML fragment's words on one line (tags removed, entities decoded)."""
    return " ".join(_html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _catalog_start(key: str, lang: str, chars: int = 60) -> str:
    """How a catalog entry's text begins once rendered: its first ``chars`` characters before its first
    placeholder, markdown marks removed."""
    raw = i18n.t(key, lang).split("{", 1)[0]
    return " ".join(re.sub(r"[*`]", "", raw).split())[:chars]


def board_article(article: str, name: str, lang: str) -> str:
    """A page's article as the printed board pack carries it: without its tables, the sections and table notes
    :data:`BOARD_LEAVE_OUT` names for the page ``name``, and the page's ``<noscript>`` note (print has scripts).
    The page's blocks (one ``<div class="sc-output">`` per output) are otherwise kept as they are, in order."""
    rules = BOARD_LEAVE_OUT.get(name, {})
    drop_heads = {" ".join(i18n.t(k, lang).split()) for k in rules.get("sections", ())}
    drop_notes = tuple(s for s in (_catalog_start(k, lang) for k in rules.get("notes", ())) if len(s) >= 12)
    blocks = _BLOCK.split(article)
    kept, skip_level = [re.sub(r'<noscript><p class="sc-noscript">.*?</p></noscript>', "", blocks[0], flags=re.S)], 0
    for b in blocks[1:]:
        m = _BLOCK_HEADING.match(b)
        if m:
            level = int(m.group(1))
            if skip_level and level <= skip_level:
                skip_level = 0
            if not skip_level and _plain_text(m.group(2)) in drop_heads:
                skip_level = level
        if skip_level:
            continue
        if 'class="sc-scroll"' in b and "plotly-graph-div" not in b:  # a table (a diagram in a scroll box stays)
            continue
        if drop_notes and not m and _plain_text(b).startswith(drop_notes):
            continue
        kept.append(b)
    out = "".join(kept)
    for page_key, board_key in BOARD_REWRITE.get(name, ()):
        out = out.replace(_em(i18n.t(page_key, lang)), _em(i18n.t(board_key, lang, pack=PACK_HTML)))
    return out


def _em(text: str) -> str:
    """A short catalog phrase as the page's markdown renders it (``*word*`` in italics, HTML escaped)."""
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", _html.escape(text, quote=False))


def board_index(head: str, lang: str) -> str:
    """The index's content as the board pack opens: its title, warning and headline finding with its caveat
    (the top actions are the executive summary's next), the quarter at a glance, and one line saying what the
    printed pack leaves out and where it is. The list of pages goes (they are not in it)."""
    head = re.sub(r"<h2>[^<]*</h2>\s*<ul class=\"sc-reports\">.*?</ul>", "", head, flags=re.S)
    head = re.sub(r'<p class="sc-lead-actions-h">.*?</p>\s*<ol class="sc-lead-actions">.*?</ol>', "", head, flags=re.S)
    note = f'<p class="sc-board-note">{_html.escape(i18n.t("board_leaves_out", lang, pack=PACK_HTML))}</p>'
    i = head.find('<footer class="sc-footer">')
    return head[:i] + note + head[i:] if i >= 0 else head + note


def write_pack(report_dir: Path, pages: list[dict], lang: str, quarter: str, *,
               generated: dt.date | None = None, label: str | None = None) -> Path:
    """``report_dir/pack.html``: every page in one file to forward (:func:`pack_html`), the summary first."""
    pages = sorted(pages, key=lambda p: p.get("name") != "05_executive_summary")
    out = report_dir / PACK_HTML
    out.write_text(pack_html(report_dir, pages, lang, quarter, generated=generated, label=label), encoding="utf-8")
    return out


def chromium_path() -> str:
    """Debian's Chromium for printing the board pack, or a :class:`servicechain.cli.UserError` that says how
    to get it."""
    import shutil

    from servicechain.cli import UserError

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise UserError("--pdf prints with Chromium, which is not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise UserError("--pdf prints with Playwright, which is not installed (pip install playwright)") from None
    return path


PDF_MARGIN = {"top": "12mm", "bottom": "12mm", "left": "12mm", "right": "12mm"}
MM = 96 / 25.4  # CSS px per millimetre
# the board pack is printed at 90 %: ten-point text reads as nine, and a chart and its words take less of a page
PDF_SCALE = 0.9
# the A4 page's printable box in CSS px at that scale (210 x 297 mm less the margins): 781 x 1147
PRINT_BOX = ((210 - 24) * MM / PDF_SCALE, (297 - 24) * MM / PDF_SCALE)
BOARD_MAX_PAGES = 8  # what a board reads; the test holds the demo's pack to it
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
_PDF_FOOTER = ('<div style="font-size:7pt;color:#616e7c;width:100%;padding:0 12mm;display:flex;'
               'justify-content:space-between;font-family:system-ui,sans-serif"><span class="title"></span>'
               '<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')
_CHART_BOXES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(d => {
  const r = d.getBoundingClientRect();
  const svgs = Array.from(d.querySelectorAll('svg.main-svg')).map(s => s.getBoundingClientRect());
  const u = svgs.length ? {left: Math.min(...svgs.map(s => s.left)), right: Math.max(...svgs.map(s => s.right)),
                           top: Math.min(...svgs.map(s => s.top)), bottom: Math.max(...svgs.map(s => s.bottom))} : null;
  return {id: d.id, left: Math.min(r.left, u ? u.left : r.left), right: Math.max(r.right, u ? u.right : r.right),
          top: Math.min(r.top, u ? u.top : r.top), bottom: Math.max(r.bottom, u ? u.bottom : r.bottom), drawn: !!u};
})"""


def pdf_page_count(data: bytes) -> int:
    """The number of pages of a PDF (its ``/Type /Page`` objects; Chromium writes them uncompressed)."""
    return len(_PDF_PAGE.findall(data))


@dataclass(frozen=True)
class ChartBox:
    """Where a chart's drawing (its box and every SVG layer of it) lies in the printed layout, in CSS px from
    the left edge of the page's printable box and from the top of the document."""

    id: str
    left: float
    right: float
    top: float
    bottom: float
    drawn: bool

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class PrintedPack:
    """The printed board pack: the file, its number of A4 pages, and where each chart's drawing lies."""

    path: Path
    pages: int
    charts: tuple[ChartBox, ...]
    box: tuple[float, float] = PRINT_BOX

    def charts_outside(self) -> list[str]:
        """The charts whose drawing does not lie inside the printable box: wider than it, out of it at the left
        or right, taller than a page (so it would be split), or not drawn. ``[]`` when all is well."""
        width, height = self.box
        bad = []
        for c in self.charts:
            if not c.drawn:
                bad.append(f"{c.id}: not drawn")
            elif c.left < -0.5 or c.right > width + 0.5:
                bad.append(f"{c.id}: {c.left:.0f}-{c.right:.0f} px, outside the page's {width:.0f} px")
            elif c.height > height:
                bad.append(f"{c.id}: {c.height:.0f} px high, more than a page ({height:.0f} px)")
        return bad


def write_board_pdf(report_dir: Path, pages: list[dict], lang: str, quarter: str, *,
                    generated: dt.date | None = None, timeout_ms: int = 60_000, out: Path | None = None,
                    label: str | None = None) -> PrintedPack:
    """``report_dir/pack.pdf`` (or ``out``): the short board pack (:func:`pack_html` with ``board=True``: the
    index's headline and cards, the executive summary, the money page, without tables) printed on A4 by
    headless Chromium with every request outside the file blocked. The page is opened at the printable width
    (so the screen layout is the printed one), every chart is drawn and laid out for print (the pages'
    ``beforeprint``), and each chart's box is measured in the print layout before printing; page numbers in
    the footer."""
    from playwright.sync_api import sync_playwright

    chosen = [p for name in PDF_PAGES for p in pages if p.get("name") == name]
    board = report_dir / ".board.html"  # printed from inside the folder, then removed
    board.write_text(pack_html(report_dir, chosen, lang, quarter, generated=generated, board=True, label=label),
                     encoding="utf-8")
    out = out or report_dir / PACK_PDF
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"]
    width, height = PRINT_BOX
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(), args=args)
            try:
                page = browser.new_page(viewport={"width": int(width), "height": int(height)})
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:"))
                           else r.abort())
                page.goto(board.as_uri(), timeout=timeout_ms)
                page.wait_for_load_state("load", timeout=timeout_ms)
                page.wait_for_function(
                    "Array.from(document.querySelectorAll('.plotly-graph-div')).every(d => d.querySelector('.main-svg'))",
                    timeout=timeout_ms)
                page.emulate_media(media="print")
                page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
                charts = tuple(ChartBox(**c) for c in page.evaluate(_CHART_BOXES))
                pdf = page.pdf(format="A4", margin=PDF_MARGIN, scale=PDF_SCALE, print_background=True,
                               display_header_footer=True,
                               header_template="<span></span>", footer_template=_PDF_FOOTER)
                out.write_bytes(pdf)
            finally:
                browser.close()
    finally:
        board.unlink(missing_ok=True)
    return PrintedPack(out, pdf_page_count(pdf), charts)
