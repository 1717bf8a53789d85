"""How a chart and a table reach a report page (issue 13, phone): titles as HTML headings above the chart,
the page language's number separators on every chart, wide tables in their own scrolling box with a hint."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import polars as pl
import pytest

from servicechain import chain, charts, i18n, notebook, theme


def _forest(lang: str) -> go.Figure:
    df = pl.DataFrame({"name": ["recognition_per_month", "empowerment"], "estimate": [-0.14, 0.05],
                       "ci_low": [-0.22, -0.01], "ci_high": [-0.06, 0.11]})
    title = ("Cada reconocimiento mensual más se asocia a menos bajas voluntarias en el trimestre siguiente, "
             "con un intervalo que no cruza el cero" if lang == "es" else
             "Each extra monthly recognition goes with fewer voluntary exits the next quarter, and its interval "
             "stays below zero")
    return charts.forest(df, lang, title=title, x_title="log-odds")


def test_separators_follow_the_number_format() -> None:
    assert notebook.separators("en") == ".,"
    assert notebook.separators("es") == ",."
    for lang in i18n.LANGS:  # the mark plotly writes is the one the page's text writes
        dec = notebook.separators(lang)[0]
        assert i18n.fmt_number(2.3, lang, 2) == f"2{dec}30"


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_page_figure_moves_the_title_out_and_gives_its_room_back(lang: str) -> None:
    fig = _forest(lang)
    wrapped = fig.layout.title.text
    assert "<br>" in wrapped  # charts.wrap hard-wrapped it for plotly
    page, title = notebook.page_figure(fig, lang)
    assert title == wrapped.replace("<br>", " ")  # every word, one line
    assert not page.layout.title.text
    assert page.layout.margin.t < fig.layout.margin.t - 26 * (wrapped.count("<br>") + 1) + 1
    assert page.layout.separators == notebook.separators(lang)
    assert fig.layout.title.text == wrapped  # the caller's figure is untouched


def test_title_text_is_plain_text() -> None:
    fig = go.Figure(layout=dict(title=dict(text="<b>2,4\u00a0M€</b> a year<br>for <i>A &amp; B</i>")))
    assert notebook.title_text(fig) == "2,4\u00a0M€ a year for A & B"
    assert notebook.title_text(go.Figure()) == ""


def test_figure_html_heading_before_the_chart_escaped() -> None:
    fig = go.Figure(go.Bar(x=[1, 2], y=["a", "b"], orientation="h"))
    h = notebook.figure_html(fig, "sc-fig-3", "Sales < costs & more", config=theme.PLOTLY_CONFIG, height=400)
    assert h.startswith('<figure class="sc-chart" aria-labelledby="sc-fig-3-title">')
    head = h.index('id="sc-fig-3-title"')
    assert head < h.index('id="sc-fig-3"') and "Sales &lt; costs &amp; more</p>" in h
    assert 'role="heading"' in h and "plotly-graph-div" in h  # the page template's sc-figure test still holds
    untitled = notebook.figure_html(fig, "sc-fig-4", "", config=theme.PLOTLY_CONFIG, height=400)
    assert "sc-chart-title" not in untitled and "aria-labelledby" not in untitled


def _shown(monkeypatch, fig: go.Figure, lang: str) -> dict:
    import IPython.display

    out: list[dict] = []
    monkeypatch.setattr(IPython.display, "display", lambda b, raw=False: out.append(b))
    monkeypatch.setattr(notebook, "_CURRENT", type("C", (), {"lang": lang})())
    notebook.show(fig)
    return out[0]


def _newplot_layout(html: str) -> dict:
    m = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", html)
    dec = json.JSONDecoder()
    _, end = dec.raw_decode(html, m.end())
    layout, _ = dec.raw_decode(html, re.search(r",\s*", html[end:]).end() + end)
    return layout


def test_show_puts_the_title_in_the_page_and_not_in_the_chart(monkeypatch) -> None:
    fig = _forest("es")
    bundle = _shown(monkeypatch, fig, "es")
    page = bundle["text/html"]
    layout = _newplot_layout(page)
    assert not (layout.get("title") or {}).get("text")
    assert layout["separators"] == ",."
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("plotly-graph-div")[0]))
    assert notebook.title_text(fig) in text
    lab = bundle[notebook.MIME_PLOTLY]["layout"]  # JupyterLab keeps the title in the chart
    assert lab["title"]["text"] == fig.layout.title.text and lab["separators"] == ",."


def test_page_03_chart_hovers_use_the_page_separators(monkeypatch) -> None:
    """chain's charts set no separators themselves; on the page their '%{x:.2f}' hovers follow the layout's."""
    quad = pl.DataFrame({"driver": ["recognition", "empowerment"], "performance": [3.2, 3.9],
                         "importance": [0.4, 0.2], "quadrant": ["fix_first", "maintain"],
                         "importance_cut": [0.3, 0.3], "performance_cut": [3.5, 3.5]})
    fig = chain.quadrant_figure(quad, "es")
    assert "%{x:.2f}" in fig.data[0].hovertemplate and fig.layout.separators is None
    assert _newplot_layout(_shown(monkeypatch, fig, "es")["text/html"])["separators"] == ",."


def test_table_html_scrolls_in_its_own_box_with_a_hint_in_the_language() -> None:
    df = pl.DataFrame({"role": ["frontline"], "n": [640]})
    for lang in i18n.LANGS:
        h = notebook.table_html(df, lang)
        assert h.startswith('<div class="sc-scroll" tabindex="0"><table class="sc-table">')
        assert h.endswith(f'<p class="sc-scroll-hint" aria-hidden="true">{i18n.t("table_scroll_hint", lang)}</p>')
    assert i18n.t("table_scroll_hint", "es") != i18n.t("table_scroll_hint", "en")


def test_long_text_columns_keep_a_readable_width_instead_of_tall_rows() -> None:
    """The money page's 'already at that level today' column was squeezed to one word per line on a phone."""
    df = pl.DataFrame({"scenario": ["+0,5 de liderazgo"], "n": [3],
                       "reach": ["2 % de las unidades, 7 % de las personas: más allá de los datos"]})
    h = notebook.table_html(df, "es")
    assert h.count('class="sc-wide"') == 2 and re.search(r'<td class="sc-wide">2 % de las', h)
    assert "<td>+0,5 de liderazgo</td>" in h and '<td class="num">3</td>' in h
    assert re.search(r"td\.sc-wide, th\.sc-wide \{ min-width: \d+em; \}", theme.STYLESHEET.read_text(encoding="utf-8"))


def test_stylesheet_hides_the_toolbar_on_touch_screens_and_shows_the_hint_only_on_overflow() -> None:
    css = theme.STYLESHEET.read_text(encoding="utf-8")
    touch = re.search(r"@media \(hover: none\) \{(.*?)\n\}", css, re.S)
    assert touch and ".modebar-container" in touch.group(1) and "display: none" in touch.group(1)
    assert re.search(r"\.sc-scroll-hint \{[^}]*display: none", css)
    assert ".sc-scroll.sc-overflows + .sc-scroll-hint { display: block; }" in css


def test_long_category_labels_wrap_and_numbers_keep_their_unit() -> None:
    assert notebook._wrap_label("+0,5 de liderazgo  96 k€") == "+0,5 de liderazgo<br>96 k€"
    w = notebook._wrap_label("Cada unidad al reconocimiento del cuartil superior <i>(más allá de los datos)</i>")
    assert all(len(re.sub(r"<[^>]+>", "", ln)) <= notebook.TICK_WRAP for ln in w.split("<br>"))
    assert re.sub(r"<[^>]+>", "", w.replace("<br>", " ")) == "Cada unidad al reconocimiento del cuartil superior (más allá de los datos)"
    assert "<i>(más" in w  # a tag is never split
    assert notebook._wrap_label("Andes 03") == "Andes 03"


def test_page_figure_wraps_horizontal_bar_and_forest_labels_only_when_long() -> None:
    long = ["Cada unidad al reconocimiento del cuartil superior actual", "+0,5 de liderazgo"]
    bars = go.Figure(go.Bar(x=[1, 2], y=long, orientation="h"), layout=dict(height=400))
    page, _ = notebook.page_figure(bars, "es")
    assert list(page.layout.yaxis.tickvals) == long  # the categories themselves (and the hovers) are unchanged
    assert page.layout.yaxis.ticktext[0].count("<br>") >= 2 and page.layout.yaxis.ticktext[1] == long[1]
    assert page.data[0].y == tuple(long) and bars.layout.yaxis.ticktext is None
    forest = _forest("es")
    forest.update_layout(yaxis_ticktext=["Reconocimiento (por mes) en los primeros 30 días", "Empoderamiento"])
    page, _ = notebook.page_figure(forest, "es")
    assert "<br>" in page.layout.yaxis.ticktext[0] and page.layout.yaxis.ticktext[1] == "Empoderamiento"
    short = go.Figure(go.Bar(x=[1], y=["Norte"], orientation="h"))
    assert notebook.page_figure(short, "es")[0].layout.yaxis.ticktext is None
    tight = go.Figure(go.Heatmap(z=[[1]] * 15, y=[f"Unidad {i} de la región de los Andes" for i in range(15)]),
                      layout=dict(height=300))
    assert notebook.page_figure(tight, "es")[0].layout.yaxis.tickfont.size == 11  # rows too close for 2 lines at 14 px


def test_log_axes_label_1_2_5_not_every_digit() -> None:
    df = pl.DataFrame({"name": ["a"], "estimate": [1.2], "ci_low": [0.4], "ci_high": [3.3]})
    assert charts.forest(df, "en", title="t", x_title="OR", log_x=True, ref=1.0).layout.xaxis.dtick == "D2"
    assert charts.forest(df, "en", title="t", x_title="d").layout.xaxis.dtick is None


def test_quadrant_names_of_close_dots_go_above_and_below() -> None:
    quad = pl.DataFrame({"driver": ["leadership", "internal_service", "empowerment"], "performance": [3.45, 3.2, 2.4],
                         "importance": [0.10, 0.09, 0.40], "quadrant": ["monitor", "monitor", "fix_first"],
                         "importance_cut": [0.2] * 3, "performance_cut": [3.0] * 3})
    fig = chain.quadrant_figure(quad, "es")
    place = {t: p for tr in fig.data for t, p in zip(tr.text, tr.textposition)}
    lead, serv, emp = (chain.driver_label(d, "es") for d in ("leadership", "internal_service", "empowerment"))
    # leadership (3.45) and empowerment (2.4) lie in the outer quarters of the 2.03-3.82 range: their names run inwards
    assert (place[lead], place[serv], place[emp]) == ("top left", "bottom center", "top right")


def test_heatmaps_name_every_column_and_title_their_colour_bar_along_it() -> None:
    cols = ["Reconocimiento", "Empoderamiento", "Liderazgo", "Servicio interno", "Compromiso"]
    fig = go.Figure(go.Heatmap(z=[[1, 2, 3, 4, 5]], x=cols, y=["Norte"], colorbar=dict(title="Media (1–5)")))
    page, _ = notebook.page_figure(fig, "es")
    assert list(page.layout.xaxis.tickvals) == cols and list(page.layout.xaxis.ticktext) == cols
    assert page.data[0].colorbar.title.side == "right" and fig.data[0].colorbar.title.side is None
    bars = go.Figure(go.Bar(x=cols, y=[1, 2, 3, 4, 5]))
    assert notebook.page_figure(bars, "es")[0].layout.xaxis.tickvals is None  # bars keep plotly's own ticks


def test_a_fixed_layout_diagram_scrolls_in_its_own_box_on_a_phone() -> None:
    fig = go.Figure(layout=dict(meta={notebook.MIN_WIDTH_META: 700}))
    h = notebook.figure_html(fig, "sc-fig-2", "Paths", config=theme.PLOTLY_CONFIG, height=520, lang="es")
    assert '<div class="sc-scroll" tabindex="0"><div style="min-width: 700px">' in h
    assert i18n.t("chart_scroll_hint", "es") in h and h.index("sc-chart-title") < h.index("sc-scroll")
    plain = notebook.figure_html(go.Figure(), "sc-fig-3", "Bars", config=theme.PLOTLY_CONFIG, height=400)
    assert "sc-scroll" not in plain


def test_an_estimate_without_an_interval_is_written_alone() -> None:
    """Page 06 on an export of mean scores showed '3,30 (– a –)' in every row."""
    assert charts.ci_text(3.3, None, None, "es") == "3,30" and charts.ci_text(3.3, float("nan"), None, "en") == "3.30"
    assert charts.ci_text(3.3, 3.1, 3.5, "es") == "3,30 (3,10 a 3,50)"
    df = pl.DataFrame({"m": [3.3], "lo": [None], "hi": [None]}, schema={"m": pl.Float64, "lo": pl.Float64, "hi": pl.Float64})
    assert df.select(charts.ci_col("m", "lo", "hi", "es"))["m"].to_list() == ["3,30"]
