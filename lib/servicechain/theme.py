"""One look for every chart and page: the ``servicechain`` plotly template and the stylesheet.

``use()`` registers the template and makes it the default; ``notebook.setup()`` calls it.
Colours are readable on screen and in print and distinguishable with the common
colour-vision deficiencies (Okabe-Ito based). Titles that state the finding are the
notebooks' job; the template only makes them look the same.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATES_DIR = Path(__file__).with_name("templates")
STYLESHEET = TEMPLATES_DIR / "servicechain" / "static" / "style.css"

FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"

# Categorical colours (Okabe-Ito, reordered: the first two carry most charts).
COLORWAY = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# Meaningful colours.
GOOD = "#009E73"
BAD = "#D55E00"
NEUTRAL = "#8a94a6"
ACCENT = "#0072B2"
DRIVER_COLORS = {"recognition": "#0072B2", "empowerment": "#E69F00", "leadership": "#009E73"}
SEQUENTIAL = [[0.0, "#f0f6fb"], [0.5, "#6baed6"], [1.0, "#08306b"]]
DIVERGING = [[0.0, BAD], [0.5, "#f7f7f7"], [1.0, ACCENT]]

# Toolbar buttons that upload a chart or link out of the page. Names as the bundled plotly.js
# (4.x, in plotly 7.1) spells them: "sendChartToCloud" is the "Share chart..." button, which
# uploads the figure (unit scores, regional costs) to Plotly's cloud. The 2.x name
# "sendDataToCloud" is no longer a button (removing it did nothing); 4.x has no "Edit in Chart
# Studio" button and no showLink/showEditInChartStudio options (plotly.py warns on them, so they
# are not set). tests/test_toolbar_browser.py clicks every remaining button offline.
UPLOAD_BUTTONS = ("sendChartToCloud",)

# The config every exported figure gets: no plotly logo (a link to plotly.com), no upload button,
# no server URL (plotly.py drops plotlyServerURL from the page when showSendToCloud is off).
PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": ["lasso2d", "select2d", *UPLOAD_BUTTONS],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

# The page-wide plotly.js defaults (``Plotly.setPlotConfig``), run right after plotly.js itself.
PAGE_CONFIG_JS = 'Plotly.setPlotConfig({"showSendToCloud": false, "plotlyServerURL": "", "displaylogo": false});'


def page_config(lang: str, config: dict | None = None) -> dict:
    """The plotly config of a chart on a page in ``lang``: ``config`` (default :data:`PLOTLY_CONFIG`) with
    ``locale: "es"`` on Spanish pages, so toolbar tooltips and date axes are Spanish (plotly.js's own locale
    file, inlined after plotly.js by :func:`plotly_js`)."""
    from servicechain import i18n

    cfg = dict(PLOTLY_CONFIG if config is None else config)
    loc = i18n.plotly_locale(lang)
    if loc:
        cfg["locale"] = loc
    return cfg

NAME = "servicechain"


def template() -> go.layout.Template:
    t = go.layout.Template()
    t.layout = go.Layout(
        font=dict(family=FONT, size=14, color=INK),
        title=dict(font=dict(size=18, color=INK), x=0.0, xanchor="left", y=0.97, yanchor="top", pad=dict(b=8)),
        colorway=COLORWAY,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=64, r=24, t=72, b=56),
        hoverlabel=dict(font=dict(family=FONT, size=13)),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0.0, title_text="",
                    font=dict(size=13)),
        xaxis=dict(showgrid=False, linecolor="#9aa5b1", ticks="outside", tickcolor="#9aa5b1",
                   title=dict(font=dict(size=13, color=MUTED)), automargin=True, zeroline=False),
        # a standoff places the y title beside the tick labels, and automargin then makes room for both: without
        # one plotly.js puts the title at a fixed spot of the margin, over long labels (px.bar(orientation="h"))
        yaxis=dict(showgrid=True, gridcolor=GRID, zeroline=False, linecolor="#9aa5b1",
                   title=dict(font=dict(size=13, color=MUTED), standoff=12), automargin=True),
        colorscale=dict(sequential=SEQUENTIAL, diverging=DIVERGING),
        bargap=0.25,
    )
    t.data.bar = [go.Bar(marker=dict(line=dict(width=0)))]
    t.data.scatter = [go.Scatter(line=dict(width=2.5), marker=dict(size=8))]
    t.data.heatmap = [go.Heatmap(colorscale=DIVERGING)]
    return t


def use() -> None:
    """Register the ``servicechain`` plotly template and make it the default."""
    pio.templates[NAME] = template()
    pio.templates.default = NAME


@lru_cache(maxsize=1)
def stylesheet() -> str:
    """The one stylesheet of every page (inlined into each HTML)."""
    return STYLESHEET.read_text(encoding="utf-8")


VENDOR_DIR = Path(__file__).with_name("vendor")
# plotly.js's official cartesian partial bundle (npm plotly.js-cartesian-dist-min, MIT), the same
# plotly.js version as the plotly python package bundles: bar, scatter, heatmap (what the pages draw)
# and a few more in 1.5 MB instead of 4.8 MB. See vendor/README.md; tests/test_page_weight.py.
PLOTLY_BUNDLE = VENDOR_DIR / "plotly-cartesian.min.js"
# plotly.js's own Spanish locale (npm plotly.js, dist/plotly-locale-es.js, same version and licence as the bundle):
# toolbar tooltips ("Descargar gráfica como PNG"), month and day names of date axes. It registers itself with
# Plotly.register when it runs after plotly.js.
PLOTLY_LOCALES = {"es": VENDOR_DIR / "plotly-locale-es.js"}
_VERSION_RE = re.compile(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)")
_TRACE_RE = re.compile(r'moduleType:"trace",name:"([a-z0-9]+)"')


def _js_version(text: str) -> str:
    m = _VERSION_RE.search(text[:500])
    if not m:
        raise ValueError("no plotly.js version in the file's header")
    return m.group(1)


def plotly_js_version() -> str:
    """The plotly.js version of the vendored bundle (from its header, e.g. ``4.1.1``)."""
    return _js_version(PLOTLY_BUNDLE.read_text(encoding="utf-8"))


def python_plotly_js_version() -> str:
    """The plotly.js version the installed plotly python package bundles (its ``plotly.min.js`` header)."""
    from plotly.offline import get_plotlyjs

    return _js_version(get_plotlyjs())


def bundled_trace_types() -> frozenset[str]:
    """The trace types the vendored bundle registers (``bar``, ``scatter``, ``heatmap``, ...)."""
    return frozenset(_TRACE_RE.findall(PLOTLY_BUNDLE.read_text(encoding="utf-8")))


@lru_cache(maxsize=None)
def plotly_js(lang: str = "en") -> str:
    """plotly.js (the vendored cartesian bundle), to inline once per page: the pages never ask the
    network for anything.

    Followed by :data:`PAGE_CONFIG_JS`, so that on our pages even a chart drawn without
    :data:`PLOTLY_CONFIG` has no upload button and no server URL to upload to; on a Spanish page
    (``lang`` ``es``, ``es-MX``...) then by plotly.js's Spanish locale, registered with plotly and made the
    page's default (``locale: "es"``, as :func:`page_config` gives every chart). The English text is the
    start of every language's, so one page's scripts can be found in another's.
    """
    from servicechain import i18n

    js = PLOTLY_BUNDLE.read_text(encoding="utf-8") + "\n" + PAGE_CONFIG_JS
    loc = i18n.plotly_locale(lang)
    if loc:
        # inside a function: the file's ``var locale`` stays out of the page's globals
        js += ("\n(function () {\n" + PLOTLY_LOCALES[loc].read_text(encoding="utf-8").strip() + "\n})();\n"
               f'Plotly.setPlotConfig({{"locale": "{loc}"}});')
    return js
