"""Locales (issue 13): ``--lang`` is a locale (es = es-ES, es-MX, es-PE, es-AR, es-CO, en = en-GB, en-US).
Words come from the base language's catalog; numbers, percentages, money and dates from CLDR through Babel;
charts use the same separators and, on Spanish pages, plotly.js's own Spanish locale."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest

from servicechain import assumptions as A
from servicechain import cli, demo, i18n, notebook, report, theme

from conftest import CHROMIUM, LAUNCH_ARGS, run_demo_suite

NBSP = "\u00a0"

# ------------------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize("lang, s", [
    ("es", "1.234,5"), ("es-ES", "1.234,5"), ("es-AR", "1.234,5"), ("es-CO", "1.234,5"),
    ("es-MX", "1,234.5"), ("es-PE", "1,234.5"), ("en", "1,234.5"), ("en-GB", "1,234.5"), ("en-US", "1,234.5"),
])
def test_numbers_as_each_locale_writes_them(lang, s):
    assert i18n.fmt_number(1234.5, lang, 1) == s
    assert i18n.fmt_number(-1234.5, lang, 1) == "−" + s  # the typographic minus, as before
    assert i18n.fmt_number(-0.001, lang, 1) in ("0,0", "0.0")  # no "−0,0"
    assert i18n.fmt_number(None, lang) == i18n.MISSING


def test_rounding_is_pythons_as_before():
    # the digits are those of f"{x:.{d}f}" (binary float, half to even), whatever the locale writes around them
    for x in (2.675, 0.125, 1e15 + 0.5, 1234567.891):
        assert i18n.fmt_number(x, "es-MX", 2) == f"{x:,.2f}"
        assert i18n.fmt_number(x, "es", 2) == f"{x:,.2f}".translate(str.maketrans(",.", ".,"))


@pytest.mark.parametrize("lang, s", [
    ("es", f"12,3{NBSP}%"), ("es-ES", f"12,3{NBSP}%"), ("es-AR", "12,3%"), ("es-CO", "12,3%"),
    ("es-MX", "12.3%"), ("es-PE", "12.3%"), ("en-GB", "12.3%"), ("en-US", "12.3%"),
])
def test_percentages(lang, s):
    assert i18n.fmt_pct(0.1234, lang) == s
    assert i18n.fmt_pct(0.1234, lang) == i18n.fmt_number(12.34, lang, 1) + i18n.percent_suffix(lang)
    assert i18n.fmt_pct(-0.5, lang, 0).startswith("−50")


@pytest.mark.parametrize("lang, d", [
    ("es", "3 de septiembre de 2026"), ("es-MX", "3 de septiembre de 2026"), ("es-AR", "3 de septiembre de 2026"),
    ("es-PE", "3 de setiembre de 2026"),  # Peru's own spelling, as CLDR has it
    ("en", "3 September 2026"), ("en-GB", "3 September 2026"), ("en-US", "September 3, 2026"),
])
def test_dates(lang, d):
    assert i18n.fmt_date(dt.date(2026, 9, 3), lang) == d
    assert i18n.fmt_date("2026-09-03T10:00:00", lang) == d


def test_a_percentage_in_the_catalogs_words_is_written_as_the_locale_writes_one():
    assert "IC 95\u00a0%" in i18n.t("odds_ratio_ci", "es").replace(" %", "\u00a0%")
    for lang in ("es-MX", "es-PE", "es-AR", "es-CO"):
        assert "IC 95%" in i18n.t("odds_ratio_ci", lang)
    assert i18n.t("odds_ratio_ci", "es-ES") == i18n.t("odds_ratio_ci", "es")  # Spain's own typography is kept


def test_words_come_from_the_base_language():
    for lang in ("es-MX", "es-PE", "es-AR", "es-CO", "es-ES"):
        assert i18n.t("headcount", lang) == i18n.t("headcount", "es") == "Personal"
        assert i18n.fmt_quarter("2026Q3", lang) == "T3 2026"
        assert i18n.base(lang) == "es"
    for lang in ("en-GB", "en-US"):
        assert i18n.t("headcount", lang) == "Headcount" and i18n.fmt_quarter("2026Q3", lang) == "Q3 2026"
        assert i18n.base(lang) == "en"
    assert i18n.fmt_points(0.012, "es-MX") == f"+1.2{NBSP}p. p." and i18n.fmt_points(0.012, "es-AR") == f"+1,2{NBSP}p. p."


# ------------------------------------------------------------------------------------------ money


@pytest.mark.parametrize("currency, lang, s", [
    ("EUR", "es", f"1.234.567{NBSP}€"), ("EUR", "en", "€1,234,567"),
    ("ARS", "es-AR", "$1.234.567"),  # Argentina: peso sign before, Spanish separators
    ("PEN", "es-PE", f"S/{NBSP}1,234,567"),  # Peru: the sol's S/
    ("MXN", "es-MX", "$1,234,567"), ("COP", "es-CO", "$1.234.567"),
    ("USD", "es-AR", "US$1.234.567"), ("USD", "en-US", "$1,234,567"), ("USD", "en-GB", "US$1,234,567"),
    ("GBP", "en-GB", "£1,234,567"), ("PEN", "es", f"1.234.567{NBSP}PEN"),
    ("CLP", "es-CO", f"CLP{NBSP}1.234.567"),  # an ISO code before the digits gets CLDR's no-break space
    ("EUR", "es-MX", f"EUR{NBSP}1,234,567"),
])
def test_money_symbol_and_position_as_the_locale_writes_them(currency, lang, s):
    assert i18n.fmt_money(1234567, currency, lang) == s
    assert i18n.fmt_money(-1234567, currency, lang) == "−" + s


@pytest.mark.parametrize("currency, lang, millions, thousands", [
    ("EUR", "es", f"2,4{NBSP}M€", f"96{NBSP}k€"),
    ("EUR", "en", "€2.4M", "€96k"),
    ("EUR", "en-US", "€2.4M", "€96K"),
    ("MXN", "es-MX", f"2.4{NBSP}M$", f"96{NBSP}k$"),
    ("PEN", "es-PE", f"S/{NBSP}2.4{NBSP}M", f"S/{NBSP}96{NBSP}K"),
    ("ARS", "es-AR", f"$2,4{NBSP}M", f"$96{NBSP}K"),
    ("COP", "es-CO", f"$2,4{NBSP}M", f"$96{NBSP}K"),
    ("USD", "es", f"2,4{NBSP}M{NBSP}US$", f"96{NBSP}k{NBSP}US$"),  # never "MUS$"
])
def test_compact_money(currency, lang, millions, thousands):
    assert i18n.fmt_money(2_400_000, currency, lang, compact=True) == millions
    assert i18n.fmt_money(96_000, currency, lang, compact=True) == thousands
    assert i18n.fmt_money(-96_000, currency, lang, compact=True) == "−" + thousands
    # small amounts are written in full
    assert i18n.fmt_money(1234, currency, lang, compact=True) == i18n.fmt_money(1234, currency, lang)


def test_currency_symbols_and_unknown_codes():
    assert i18n.currency_symbol("PEN", "es-PE") == "S/" and i18n.currency_symbol("PEN", "es") == "PEN"
    assert i18n.currency_symbol("MXN", "es-MX") == "$" and i18n.currency_symbol("MXN", "en") == "MX$"
    assert i18n.currency_symbol("ARS", "es-AR") == "$" and i18n.currency_symbol("EUR", "es-CO") == "EUR"
    assert i18n.check_currency(" pen ") == "PEN" and i18n.is_currency("clp")
    for bad in ("XYZ", "euros", "", None):
        assert not i18n.is_currency(bad)
    with pytest.raises(ValueError, match=r"unknown currency code 'XYZ': expected an ISO 4217 code"):
        i18n.fmt_money(1, "XYZ", "es")
    with pytest.raises(ValueError, match="ISO 4217"):
        i18n.currency_symbol("ABC", "es-MX")


def test_an_assumptions_file_with_an_unknown_currency_is_a_clear_error(tmp_path):
    f = tmp_path / "assumptions.yml"
    f.write_text("currency: XYZ\n", encoding="utf-8")
    with pytest.raises(A.AssumptionsError, match=r"key 'currency': unknown currency code 'XYZ': expected an ISO 4217"):
        A.load(f)
    f.write_text("currency: pen\n", encoding="utf-8")
    assert A.load(f).currency == "PEN"


# ------------------------------------------------------------------------------------------ locales


def test_locale_names_are_normalised_and_unknown_ones_listed():
    assert i18n.check_lang("es_mx") == "es-MX" and i18n.check_lang("EN-gb") == "en-GB" and i18n.check_lang("es") == "es"
    assert set(i18n.LOCALES) >= {"es", "es-ES", "es-MX", "es-PE", "es-AR", "es-CO", "en", "en-US", "en-GB"}
    for bad in ("fr", "es-XX", "", "pt-BR", None):
        with pytest.raises(ValueError, match=r"choose one of es, es-ES, es-MX, es-PE, es-AR, es-CO, en, en-US, en-GB"):
            i18n.check_lang(bad)
    with pytest.raises(ValueError, match="choose one of"):
        i18n.fmt_number(1, "fr")  # a format never guesses a locale
    assert i18n.t("headcount", "fr") == "Headcount"  # the word lookup still falls back to English


def test_cli_rejects_an_unknown_locale_with_exit_2_and_the_list(capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "--data", str(tmp_path), "--lang", "es-XX"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --lang" in err and "'es-XX'" in err and "es-MX, es-PE, es-AR, es-CO" in err
    args = cli.build_parser().parse_args(["run", "--data", str(tmp_path), "--lang", "es_pe"])
    assert args.lang == "es-PE"


@pytest.mark.parametrize("lang, seps", [
    ("es", ",."), ("es-ES", ",."), ("es-AR", ",."), ("es-CO", ",."),
    ("es-MX", ".,"), ("es-PE", ".,"), ("en", ".,"), ("en-GB", ".,"), ("en-US", ".,"),
])
def test_chart_separators_are_the_texts(lang, seps):
    assert i18n.plotly_separators(lang) == notebook.separators(lang) == seps
    assert i18n.fmt_number(1234567.25, lang, 2) == f"1{seps[1]}234{seps[1]}567{seps[0]}25"


# ------------------------------------------------------------------------------------------ plotly's locale


def test_vendored_plotly_locale_is_the_bundles_version():
    loc = theme.PLOTLY_LOCALES["es"]
    text = loc.read_text(encoding="utf-8")
    assert 'name:"es"' in text and "Plotly.register(locale)" in text and "Descargar gr" in text
    readme = (theme.VENDOR_DIR / "README.md").read_text(encoding="utf-8")
    m = re.search(r"`plotly-locale-es\.js`.*?plotly\.js (\d+\.\d+\.\d+).*?sha256\s+`([0-9a-f]{64})`", readme, re.S)
    assert m, "vendor/README.md names the locale file's plotly.js version and sha256"
    assert m.group(1) == theme.plotly_js_version(), "update plotly-locale-es.js with the bundle (vendor/README.md)"
    assert hashlib.sha256(loc.read_bytes()).hexdigest() == m.group(2)


def test_spanish_pages_carry_plotlys_spanish_locale_and_english_pages_do_not():
    en = theme.plotly_js("en")
    for lang in ("es", "es-MX", "es-PE"):
        js = theme.plotly_js(lang)
        assert js.startswith(en)  # one page's scripts are found in another's (the pack)
        tail = js[len(en):]
        assert theme.PLOTLY_LOCALES["es"].read_text(encoding="utf-8").strip() in tail
        assert tail.rstrip().endswith('Plotly.setPlotConfig({"locale": "es"});')
        assert theme.page_config(lang)["locale"] == "es"
    for lang in ("en", "en-US", "en-GB"):
        assert "plotly-locale" not in theme.plotly_js(lang) and 'name:"es"' not in theme.plotly_js(lang)
        assert "locale" not in theme.page_config(lang)
    assert theme.page_config("es", {"displaylogo": True}) == {"displaylogo": True, "locale": "es"}


def _shown_page(monkeypatch, tmp_path: Path, lang: str) -> Path:
    """One chart through notebook.show in ``lang`` (a real setup() context), exported as a report page."""
    import IPython.display

    out: list[dict] = []
    monkeypatch.setattr(IPython.display, "display", lambda b, raw=False: out.append(b))
    notebook.setup(data_dir="", quarter="2026Q3", lang=lang, load=False)
    fig = go.Figure(go.Bar(x=[1234.5, 2.25], y=["a", "b"], orientation="h", hovertemplate="%{x:.2f}<extra></extra>"),
                    layout={"title": {"text": "Dos barras"}, "xaxis": {"tickformat": ",.1f"}})
    notebook.show(fig)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Una página"),
                nbformat.v4.new_code_cell("show(fig)", outputs=[nbformat.v4.new_output("display_data", data=out[0])])]
    src = tmp_path / f"01_{lang}.ipynb"
    nbformat.write(nb, str(src))
    page = tmp_path / f"01_{lang}.html"
    report.export_html(src, page, lang=lang, quarter="2026Q3", number="01", threshold=5)
    return page


def _newplot_args(html: str) -> tuple[dict, dict]:
    m = re.search(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", html)
    dec = json.JSONDecoder()
    _, end = dec.raw_decode(html, m.end())  # data
    layout, end = dec.raw_decode(html, re.search(r",\s*", html[end:]).end() + end)
    config, _ = dec.raw_decode(html, re.search(r",\s*", html[end:]).end() + end)
    return layout, config


@pytest.mark.parametrize("lang, seps", [("es-MX", ".,"), ("es", ",."), ("en-US", ".,")])
def test_a_page_registers_the_locale_and_sets_it_with_the_separators(monkeypatch, tmp_path, lang, seps):
    html = _shown_page(monkeypatch, tmp_path, lang).read_text(encoding="utf-8")
    layout, config = _newplot_args(html)
    assert layout["separators"] == seps
    assert f'<html lang="{lang}">' in html
    if i18n.base(lang) == "es":
        assert config["locale"] == "es"
        assert html.count('moduleType:"locale",name:"es"') == 1 and "Plotly.register(locale)" in html
        # the locale registers after plotly.js itself
        assert html.index("plotly.js (cartesian - minified) v") < html.index('moduleType:"locale",name:"es"')
    else:
        assert "locale" not in config and 'moduleType:"locale",name:"es"' not in html


@pytest.mark.browser
def test_in_chromium_the_toolbar_is_spanish_and_the_axis_mexican(monkeypatch, tmp_path):
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium")
    sync = pytest.importorskip("playwright.sync_api")
    pages = {lang: _shown_page(monkeypatch, tmp_path, lang) for lang in ("es-MX", "es-AR", "en-GB")}
    with sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            seen = {}
            for lang, page_file in pages.items():
                page = browser.new_page(viewport={"width": 1000, "height": 800})
                page.route("http*://**", lambda route: route.abort())
                page.goto(page_file.as_uri())
                page.wait_for_selector(".plotly-graph-div .xtick text", state="attached", timeout=20_000)
                titles = page.eval_on_selector_all(".modebar-btn", "bs => bs.map(b => b.getAttribute('data-title'))")
                ticks = page.eval_on_selector_all(".xtick text", "ts => ts.map(t => t.textContent)")
                seen[lang] = (titles, ticks)
                page.close()
        finally:
            browser.close()
    es_titles, mx_ticks = seen["es-MX"]
    assert "Descargar gráfica como PNG" in es_titles and not any("Download" in t for t in es_titles), es_titles
    assert any(re.fullmatch(r"1,\d00\.0", t) for t in mx_ticks), mx_ticks  # "1,200.0": Mexican separators
    ar_ticks = seen["es-AR"][1]
    assert any(re.fullmatch(r"1\.\d00,0", t) for t in ar_ticks), ar_ticks  # "1.200,0"
    assert "Download plot as a PNG" in seen["en-GB"][0] and "Descargar gráfica como PNG" not in seen["en-GB"][0]


# ------------------------------------------------------------------------------------------ a real run


@pytest.fixture(scope="module")
def mx_run(tmp_path_factory):
    return run_demo_suite(tmp_path_factory.mktemp("mx"), demo.DemoConfig(seed=5, employees=600, quarters=4),
                          "--lang", "es-MX")


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_a_mexican_run_writes_mexican_numbers(mx_run):
    index = (mx_run / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", " ", index.split("<main", 1)[1])
    assert '<html lang="es-MX">' in index and "Personal" in text  # Spanish words
    pcts = re.findall(r"\d+(?:[.,]\d+)?\s?%", text)
    assert pcts and all(re.fullmatch(r"\d+(\.\d+)?%", p) for p in pcts), pcts  # 12.3%, never "12,3 %"
    assert not re.search(r"\d,\d\s?%", text)
    assert re.search(r"\d\xa0[kM]\xa0EUR", text), "compact money as es-MX writes a euro amount (96 k EUR)"
    assert "k€" not in text and "M€" not in text
    manifest = json.loads((mx_run / "manifest.json").read_text(encoding="utf-8"))
    assert json.dumps(manifest).count('"es-MX"') >= 1
    page = (mx_run / "04_financial_impact.html").read_text(encoding="utf-8")
    layout, config = _newplot_args(page)
    assert layout["separators"] == ".," and config["locale"] == "es"
    assert 'moduleType:"locale",name:"es"' in page
