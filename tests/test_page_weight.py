"""Page weight and the board pack (issue 13).

- the vendored plotly.js is the official cartesian partial bundle of the SAME plotly.js version as the plotly
  python package, with its licence, and it registers every trace type the code draws;
- a page puts plotly.js after its content (run after the first paint, each chart queued until then) and says in a
  ``<noscript>`` which charts need scripts;
- on a real Spanish run with ``--pdf``: every page <= 1.6 MB and renders in Chromium with the network blocked
  (no console error, every chart drawn, only bundled trace types); ``pack.html`` <= 3 MB with one copy of
  plotly.js, every chart drawn and every link landing inside the file; ``pack.pdf`` is a PDF of >= 3 pages;
  ``index.html`` links only to files in its folder and names the pack as the file to forward.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import plotly.graph_objects as go
import pytest
from conftest import CHROMIUM, LAUNCH_ARGS, run_demo_suite

from servicechain import demo, i18n, report, theme
from servicechain.cli import UserError

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).with_name("artifacts") / "page_weight"
MB = 1 << 20  # "1.6 MB" is 1.6 MiB (1,677,722 bytes), "3 MB" 3 MiB
PAGE_LIMIT = int(1.6 * MB)
PACK_LIMIT = 3 * MB
BUNDLE_HEADER = "plotly.js (cartesian - minified) v"
# plotly.graph_objects classes -> trace type (the lower-case name, as plotly.js registers it)
_GO_TRACE = re.compile(r"\bgo\.([A-Z][A-Za-z0-9]*)\(")
_NOT_TRACES = {"Figure", "FigureWidget", "Layout", "Frame"}


# ------------------------------------------------------------------------------------------ fast


def test_vendored_plotly_is_the_python_packages_version_with_its_licence():
    assert theme.PLOTLY_BUNDLE.is_file()
    head = theme.PLOTLY_BUNDLE.read_text(encoding="utf-8")[:300]
    assert BUNDLE_HEADER in head  # the official partial bundle, not a rebuild
    assert theme.plotly_js_version() == theme.python_plotly_js_version()
    licence = (theme.VENDOR_DIR / "plotly-cartesian.LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Plotly" in licence
    assert theme.plotly_js().startswith(theme.PLOTLY_BUNDLE.read_text(encoding="utf-8"))
    assert theme.PAGE_CONFIG_JS in theme.plotly_js()
    assert theme.PLOTLY_BUNDLE.stat().st_size < 1.55e6  # the partial bundle, not the 4.8 MB full one


def test_version_check_can_fail():
    with pytest.raises(ValueError):
        theme._js_version("/* no header */")
    assert theme._js_version("/**\n* plotly.js v9.8.7\n*/") == "9.8.7"
    assert theme._js_version("/**\n* plotly.js (cartesian - minified) v4.1.1\n*/") == "4.1.1"


def _trace_types_in_code() -> set[str]:
    files = sorted((ROOT / "lib" / "servicechain").glob("*.py")) + sorted((ROOT / "notebooks").glob("*.ipynb"))
    found: set[str] = set()
    for f in files:
        found |= {m.lower() for m in _GO_TRACE.findall(f.read_text(encoding="utf-8"))} - {n.lower() for n in _NOT_TRACES}
    return found


def test_every_trace_type_the_code_draws_is_in_the_bundle():
    used = _trace_types_in_code()
    assert {"bar", "scatter"} <= used  # the scan finds what the pages draw
    missing = used - theme.bundled_trace_types()
    assert not missing, f"trace types outside the vendored cartesian bundle: {sorted(missing)} (see vendor/README.md)"
    assert "scattergl" not in theme.bundled_trace_types()  # a type outside the bundle really is reported
    # plotly.express would hide its trace types from the scan
    for f in sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "lib" / "servicechain").glob("*.py")):
        assert "plotly.express" not in f.read_text(encoding="utf-8"), f.name


def _chart_notebook(tmp_path: Path, title: str = "Recognition goes with <b>fewer</b> exits") -> Path:
    fig = go.Figure(go.Bar(x=["a", "b"], y=[1, 2]), layout={"title": {"text": title}})
    chart = fig.to_html(full_html=False, include_plotlyjs=False, div_id="sc-fig-1", config=theme.PLOTLY_CONFIG)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A page\n\nSome text that paints first."),
                nbformat.v4.new_code_cell("show(fig)", outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/html": chart, "text/plain": "<figure sc-fig-1>",
                                          "application/vnd.plotly.v1+json": json.loads(fig.to_json())})])]
    p = tmp_path / "01_page.ipynb"
    nbformat.write(nb, str(p))
    return p


def test_page_puts_plotly_after_its_content_and_has_a_noscript_note(tmp_path):
    out = tmp_path / "01_page.html"
    report.export_html(_chart_notebook(tmp_path), out, lang="es", quarter="2026Q3", number="01", threshold=5)
    html = out.read_text(encoding="utf-8")
    assert html.count(BUNDLE_HEADER) == 1
    js_at = html.index(BUNDLE_HEADER)
    assert html.index("Some text that paints first") < js_at
    assert html.index("</article>") < js_at and "</head>" in html[:js_at]
    # the chart's newPlot is queued (plotly.js is not there yet when it is parsed), plotly.js waits as text
    m = re.search(r"<script[^>]*>([^<]*?)window\.PLOTLYENV", html)
    assert m and "window.__scCharts" in m.group(1)
    src = re.search(r'<script (?=[^>]*id="sc-plotly-src")(?=[^>]*type="text/plain")[^>]*>', html)
    assert src and html.rfind("<script", 0, js_at) == src.start()
    assert html.index("Plotly.newPlot(") < js_at
    note = re.search(r'<noscript><p class="sc-noscript">(.*?)</p></noscript>', html, re.S)
    assert note and "scripts" in note.group(1) and "Recognition goes with fewer exits" in note.group(1)
    assert "<b>" not in note.group(1)
    # each chart's data, as a table for readers without scripts (Spanish numbers)
    table = re.search(r'<noscript><table class="sc-fallback">(.*?)</table></noscript>', html, re.S)
    assert table and "<td>a</td><td>1</td>" in table.group(1) and "<td>b</td><td>2</td>" in table.group(1)
    assert len(html.encode()) < PAGE_LIMIT


def test_figure_table_for_bars_heatmaps_typed_arrays_and_big_charts():
    bars = json.loads(go.Figure([go.Bar(name="NPS", x=[0.25, 1234.4], y=["Recognition", "Leadership"])],
                                layout={"xaxis": {"title": {"text": "Share <b>R²</b>"}}}).to_json())
    t = report.figure_table(bars, "es")
    assert "<th>Serie</th><th>Share R²</th><th>y</th>" in t
    assert "<td>NPS</td><td>0,25</td><td>Recognition</td>" in t and "<td>1.234</td>" in t  # 1.234,4: no decimals from 100 on
    heat = {"data": [{"type": "heatmap", "x": ["R", "E"], "y": ["Andes", "Sur"], "z": [[2.41, None], [3.5, 1.0]]}]}
    t = report.figure_table(heat, "en")
    assert "<tr><th>Andes</th><td>2.41</td><td></td></tr>" in t  # a hidden (suppressed) cell stays empty
    typed = {"data": [{"type": "scatter", "x": [1, 2], "y": {"dtype": "f8", "bdata": "AAAAAAAA+D8AAAAAAAAEQA=="}}]}
    assert "<td>2</td><td>2.50</td>" in report.figure_table(typed, "en")
    big = {"data": [{"type": "scatter", "x": list(range(500)), "y": list(range(500))}]}
    assert report.figure_table(big, "en") == ""
    assert report.figure_table({"data": []}, "en") == ""


def test_defer_chart_scripts_leaves_other_scripts_alone():
    page = ('<script>var a = 1;</script><script type="text/javascript">  window.PLOTLYENV={}; Plotly.newPlot("x")'
            "</script>")
    out = report.defer_chart_scripts(page)
    assert out.startswith("<script>var a = 1;</script>")
    assert out.count("__scCharts") == 2 and out.endswith('Plotly.newPlot("x")});</script>')


def _md(html: str) -> str:
    return f'<div class="sc-output sc-md">\n{html}\n</div>'


def test_board_article_leaves_out_tables_the_named_sections_and_their_notes():
    t = lambda k, **v: i18n.t(k, "es", **v)
    table = '<div class="sc-output">\n<div class="sc-scroll" tabindex="0"><table><tr><td>1</td></tr></table></div></div>'
    chart = '<div class="sc-output sc-figure">\n<figure class="sc-chart"><div class="plotly-graph-div" id="sc-fig-1"></div></figure>\n</div>'
    diagram = ('<div class="sc-output sc-figure">\n<figure class="sc-chart"><div class="sc-scroll"><div class="plotly-graph-div"'
               ' id="sc-fig-9"></div></div></figure>\n</div>')
    article = ('<noscript><p class="sc-noscript">scripts</p></noscript>' + _md("<h1>Dinero</h1>") + _md("<p>Intro.</p>")
               + _md(f"<h2>{t('fin_h_baseline', quarter='T3 2026')}</h2>") + chart + table
               + _md(f"<p>{t('fin_baseline_note', threshold=5)}</p>")
               + _md(f"<h2>{t('fin_h_scenarios')}</h2>") + _md("<p>Texto de escenarios.</p>") + table
               + _md(f"<p><strong>{t('fin_reach_note', min='10 %', scenario='X').split('**')[1]}</strong>"
                     f"{t('fin_reach_note', min='10 %', scenario='X').split('**')[2]}</p>")
               + _md("<p>† Descontado un costo ilustrativo.</p>")
               + _md(f"<h3>{t('fin_h_components')}</h3>") + table + _md("<p>Componentes.</p>")
               + _md(f"<h2>{t('fin_h_dist')}</h2>") + diagram + _md("<p>Dispersión.</p>")
               + _md(f"<h2>{t('fin_h_whatif')}</h2>") + chart.replace("sc-fig-1", "sc-fig-5") + _md("<p>Elija.</p>")
               + _md(f"<h2>{t('fin_h_limits')}</h2>") + _md("<p>Límites.</p>"))
    out = report.board_article(article, "04_financial_impact", "es")
    assert "<table" not in out and "sc-noscript" not in out
    for kept in ("Intro.", "Texto de escenarios.", "† Descontado", "Dispersión.", "Límites.", 'id="sc-fig-1"',
                 'id="sc-fig-9"', t("fin_h_dist"), t("fin_h_limits")):
        assert kept in out, kept
    for gone in ("Por región", "Hasta dónde", "Componentes.", t("fin_h_components"), t("fin_h_whatif"), "Elija.",
                 'id="sc-fig-5"'):
        assert gone not in out, gone
    # another page: only its tables go
    assert report.board_article(article, "02_customer_loyalty", "es").count("Elija.") == 1
    # the cover: headline and cards, not the top actions (the summary's next) nor the list of pages
    head = ('<h1>Informe</h1><section class="sc-lead"><h2>En breve</h2><p class="sc-lead-finding">F</p>'
            '<p class="sc-lead-actions-h">Acciones</p>\n<ol class="sc-lead-actions"><li>A</li></ol></section>'
            '<h2>De un vistazo</h2><section class="sc-kpis"></section><h2>Informes</h2>\n<ul class="sc-reports"><li>x</li></ul>'
            '<footer class="sc-footer">Solo datos agregados.</footer>')
    cover = report.board_index(head, "es")
    assert "sc-lead-actions" not in cover and "sc-reports" not in cover and "sc-kpis" in cover and ">F<" in cover
    assert cover.index("pack.html") < cover.index("Solo datos agregados")


def test_printed_pack_finds_a_chart_outside_the_page():
    w, h = report.PRINT_BOX
    ok = report.ChartBox("a", 0, w - 1, 0, 400, True)
    good = report.PrintedPack(Path("x.pdf"), 7, (ok,))
    assert good.charts_outside() == []
    for bad in (report.ChartBox("wide", 0, w + 40, 0, 400, True), report.ChartBox("left", -30, 500, 0, 400, True),
                report.ChartBox("tall", 0, 500, 0, h + 10, True), report.ChartBox("blank", 0, 500, 0, 400, False)):
        problems = report.PrintedPack(Path("x.pdf"), 7, (ok, bad)).charts_outside()
        assert len(problems) == 1 and problems[0].startswith(bad.id), problems
    assert report.pdf_page_count(b"%PDF-1.4 /Type /Pages /Type /Page /Type/Page /Type /Page\n") == 3


def test_pdf_without_chromium_is_a_clear_user_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="Chromium"):
        report.chromium_path()


PLOTLY_CLOCK = """(() => { let v; Object.defineProperty(window, "Plotly", {configurable: true, get() { return v; },
  set(x) { if (window.__scPlotlyAt === undefined) window.__scPlotlyAt = performance.now(); v = x; }}); })();"""


def _blocked(requests: list[str]):
    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
            return r.continue_()
        requests.append(r.request.url)
        return r.abort()
    return route


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_small_page_draws_and_without_scripts_shows_the_note(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    out = tmp_path / "01_page.html"
    report.export_html(_chart_notebook(tmp_path), out, lang="en", quarter="2026Q3", number="01", threshold=5)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            # when plotly.js defines window.Plotly (its last statement), the text must already be painted
            page.add_init_script(PLOTLY_CLOCK)
            page.goto(out.as_uri())
            page.locator("#sc-fig-1 .main-svg").first.wait_for(state="attached", timeout=15000)
            assert not errors
            fcp, plotly_at = page.evaluate(
                "[(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime, window.__scPlotlyAt]")
            assert fcp is not None and plotly_at is not None and fcp < plotly_at, (fcp, plotly_at)
            assert not page.locator(".sc-noscript").is_visible()
            ctx = browser.new_context(java_script_enabled=False)
            quiet = ctx.new_page()
            quiet.goto(out.as_uri())
            assert quiet.locator(".sc-noscript").is_visible()
            assert "Recognition goes with fewer exits" in quiet.inner_text(".sc-noscript")
            assert not quiet.locator(".plotly-graph-div").is_visible()  # no white box
            assert quiet.locator("table.sc-fallback").is_visible()  # but the chart's data
            ctx.close()
        finally:
            browser.close()


# ------------------------------------------------------------------------------------------ a real run

KEY = "page-weight-test-key-0123456789"


@pytest.fixture(scope="module")
def pdf_run(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium")
    pytest.importorskip("playwright.sync_api")
    return run_demo_suite(tmp_path_factory.mktemp("weight"), demo.DemoConfig(seed=11, employees=700, quarters=5),
                          "--lang", "es", "--pdf", key=KEY)


def _chart_pages(d: Path) -> list[Path]:
    return sorted(p for p in d.glob("[0-9][0-9]_*.html"))


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("papermill")
def test_every_page_weighs_at_most_1_6_mb(pdf_run):
    pages = _chart_pages(pdf_run)
    assert len(pages) >= 5
    weights = {p.name: p.stat().st_size for p in pages}
    assert all(w <= PAGE_LIMIT for w in weights.values()), weights
    for p in pages:
        html = p.read_text(encoding="utf-8")
        if "plotly-graph-div" in html:
            assert html.count(BUNDLE_HEADER) == 1, p.name
            assert html.index("</article>") < html.index(BUNDLE_HEADER), f"{p.name}: plotly.js before the content"


def _open(browser, path: Path, viewport=None):
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", _blocked(requests))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    charts = page.locator(".plotly-graph-div")
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=20000)
    return page, requests, errors


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("papermill")
def test_every_page_draws_every_chart_with_the_partial_bundle(pdf_run):
    from playwright.sync_api import sync_playwright

    bundled = theme.bundled_trace_types()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for path in _chart_pages(pdf_run):
                page, requests, errors = _open(browser, path)
                n = page.locator(".plotly-graph-div").count()
                assert n > 0, f"{path.name}: no chart"
                drawn = page.locator(".plotly-graph-div .main-svg").count()
                assert drawn >= n, (path.name, n, drawn)
                types = set(page.evaluate(
                    "Array.from(document.querySelectorAll('.js-plotly-plot')).flatMap(d => d.data.map(t => t.type || 'scatter'))"))
                assert types <= bundled, (path.name, types - bundled)
                assert not errors, (path.name, errors[:3])
                assert not requests, (path.name, requests[:3])
                page.close()
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("papermill")
def test_one_file_pack_carries_every_page_with_one_plotly(pdf_run):
    from playwright.sync_api import sync_playwright

    pack = pdf_run / report.PACK_HTML
    assert pack.is_file()
    assert pack.stat().st_size <= PACK_LIMIT, pack.stat().st_size
    html = pack.read_text(encoding="utf-8")
    assert html.count(BUNDLE_HEADER) == 1
    pages = _chart_pages(pdf_run)
    n_charts = sum(p.read_text(encoding="utf-8").count('class="plotly-graph-div"') for p in pages)
    assert html.count('class="plotly-graph-div"') == n_charts > 0
    ids = re.findall(r'\bid="([^"]+)"', html.split(BUNDLE_HEADER)[0])
    assert len(ids) == len(set(ids)), "two elements of the pack share an id"
    hrefs = re.findall(r'href="([^"]*)"', html.split(BUNDLE_HEADER)[0])
    assert hrefs and all(h.startswith("#") for h in hrefs), [h for h in hrefs if not h.startswith("#")][:5]
    for h in set(hrefs):
        assert f'id="{h[1:]}"' in html, f"link {h} has no target in the pack"
    for p in pages:  # every page is a section the index links to
        assert f'id="{p.stem}"' in html and f'href="#{p.stem}"' in html, p.stem
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page, requests, errors = _open(browser, pack)
            assert page.locator(".plotly-graph-div .main-svg").count() >= n_charts
            assert not errors, errors[:3]
            assert not requests, requests[:3]
            page.locator('#index a[href="#04_financial_impact"]').first.click()
            assert page.evaluate("location.hash") == "#04_financial_impact"
            top = page.evaluate("document.getElementById('04_financial_impact').getBoundingClientRect().top")
            assert abs(top) < 5, top  # the link scrolled to the money section, inside the file
            # printed, every chart of every section is redrawn within the A4 text width (703 CSS px)
            widths = page.evaluate("(() => { window.dispatchEvent(new Event('beforeprint')); return Array.from("
                                   "document.querySelectorAll('.js-plotly-plot .main-svg')).map(s => "
                                   "s.getBoundingClientRect().width); })()")
            assert widths and max(widths) <= 703, max(widths)
            page.close()
        finally:
            browser.close()


def _run_pages(d: Path) -> tuple[str, list[dict]]:
    man = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    return man["quarter"], [{"name": n["name"], "href": n["html"]} for n in man["notebooks"]]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("papermill")
def test_board_pack_pdf_is_short_and_every_chart_lies_inside_its_page(pdf_run, tmp_path):
    """pack.pdf: at most 8 A4 pages (the headline and cards, the executive summary, the money; no table, no
    what-if); printed again here to measure, in the print layout Chromium printed, that every chart is drawn,
    inside the page's width and less tall than a page (so never split)."""
    pdf = (pdf_run / report.PACK_PDF).read_bytes()
    assert pdf[:5] == b"%PDF-"
    assert 3 <= report.pdf_page_count(pdf) <= report.BOARD_MAX_PAGES, report.pdf_page_count(pdf)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "pack.pdf").write_bytes(pdf)
    assert not (pdf_run / ".board.html").exists()  # the printed page is not left in the folder
    assert {report.PACK_HTML, report.PACK_PDF, "index.html"} <= {p.name for p in pdf_run.iterdir()}
    run_log = (pdf_run / "run.log").read_text(encoding="utf-8")
    assert "A4 pages)" in run_log and "does not fit the page" not in run_log

    quarter, pages = _run_pages(pdf_run)
    printed = report.write_board_pdf(pdf_run, pages, "es", quarter, out=tmp_path / "again.pdf")
    assert printed.pages == report.pdf_page_count((tmp_path / "again.pdf").read_bytes()) <= report.BOARD_MAX_PAGES
    summary = (pdf_run / "05_executive_summary.html").read_text(encoding="utf-8").count('class="plotly-graph-div"')
    money = (pdf_run / "04_financial_impact.html").read_text(encoding="utf-8").count('class="plotly-graph-div"')
    assert len(printed.charts) == summary + money - 2 >= 4  # every chart but the two what-ifs
    assert printed.charts_outside() == [], printed.charts_outside()
    assert not (pdf_run / ".board.html").exists()

    board = report.pack_html(pdf_run, [p for n in report.PDF_PAGES for p in pages if p["name"] == n], "es",
                             quarter, board=True)
    body = board[board.index("<body>"):board.index(BUNDLE_HEADER)]  # the content (not the stylesheet)
    shown = re.sub(r"<noscript>.*?</noscript>", "", body, flags=re.S)
    assert "<table" not in shown and 'class="sc-reports"' not in shown and 'class="sc-lead-actions"' not in shown
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown))
    heads = {" ".join(re.sub(r"<[^>]+>", "", h).split()) for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", shown, re.S)}
    for key in ("fin_h_whatif", "fin_h_assumptions", "fin_h_components", "sum_methods_h"):
        assert i18n.t(key, "es") not in heads, key
    for key in ("fin_h_scenarios", "fin_h_dist", "fin_h_sensitivity", "fin_h_limits", "sum_findings_h"):
        assert i18n.t(key, "es") in heads, key  # the rest of the summary and the money is there
    assert "pack.html" in text and "Medianas con P10" not in text


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_index_links_stay_in_the_folder_and_name_the_pack(pdf_run):
    html = (pdf_run / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs
    for h in hrefs:
        target = h.split("#")[0]
        assert "://" not in h and not h.startswith(("/", "..")), h
        assert target == "" or (pdf_run / target).is_file(), f"index.html links to {h}, not in the folder"
    footer = re.search(r'<p class="sc-pack-note">(.*?)</p>', html, re.S)
    assert footer and f'<a href="{report.PACK_HTML}">' in footer.group(1) and "reenv" in footer.group(1)
    assert f'<a href="{report.PACK_PDF}">' in footer.group(1)


# ------------------------------------------------------------------------------------------ the benchmark


from test_benchmark_smoke import _bench  # noqa: E402  (the benchmark module, loaded one way)


def test_benchmark_reports_page_weight_and_first_paint(tmp_path, monkeypatch):
    bench = _bench()
    (tmp_path / "01_a.html").write_bytes(b"x" * 2_000_000)  # over 1.6 MiB
    (tmp_path / "index.html").write_bytes(b"<p>i</p>")
    (tmp_path / "pack.html").write_bytes(b"y" * 1000)
    (tmp_path / ".board.html").write_bytes(b"z")
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)  # bytes only: no browser
    pages = bench.measure_pages(tmp_path)
    assert set(pages) == {"01_a.html", "index.html", "pack.html"}
    assert pages["01_a.html"] == {"bytes": 2_000_000, "first_paint_ms": None}
    rows = {r[0]: r for r in bench.page_targets([bench.StageResult("run", bench.PAGE_SIZE, extra={"pages": pages})])}
    weight, pack, paint, board = rows.values()
    assert weight[2] == "**not met**" and "01_a.html 1.91 MiB" in weight[1]
    assert pack[2] == "met" and paint[2] == "not measured" and board[2] == "not measured"
    pages["01_a.html"]["bytes"], pages["01_a.html"]["first_paint_ms"] = 1_000_000, 700.0
    pages["index.html"]["first_paint_ms"] = 100.0
    pages["pack.pdf"] = {"bytes": 120_000, "first_paint_ms": None, "pages": 9}
    weight, pack, paint, board = bench.page_targets([bench.StageResult("run", bench.PAGE_SIZE, extra={"pages": pages})])
    assert weight[2] == "met" and paint[2] == "**not met**" and "0.70 s" in paint[1]
    assert board[1] == "9 pages" and board[2] == "**not met**"
    pages["pack.pdf"]["pages"] = 7
    assert bench.page_targets([bench.StageResult("run", bench.PAGE_SIZE, extra={"pages": pages})])[3][2] == "met"
    section = "\n".join(bench.page_weight_section([bench.StageResult("run", bench.PAGE_SIZE, extra={"pages": pages})]))
    assert "## Page weight and first paint" in section and "| 01_a.html | 0.95 MiB (1,000,000 bytes) | 0.70 s |" in section
    assert "| pack.pdf | 0.11 MiB (120,000 bytes) | – (7 A4 pages) |" in section
    assert bench.page_weight_section([]) == [] and bench.page_targets([])[0][2] == "not measured"
    (tmp_path / "pack.pdf").write_bytes(b"%PDF-1.4 /Type /Pages /Type /Page /Type /Page")
    assert bench.measure_pages(tmp_path)["pack.pdf"] == {"bytes": 45, "first_paint_ms": None, "pages": 2}


def test_board_pack_money_intro_does_not_point_to_the_assumptions_it_leaves_out():
    """The money intro says 'see *Assumptions* below'; the printed pack drops that section, so its intro says
    where the assumptions are instead (the page keeps its words)."""
    import mistune

    for lang in ("en", "es"):
        intro = i18n.t("fin_intro", lang, quarter="Q3 2026", multiple="6,5", currency="EUR")
        assert i18n.t("rvw_fin_see_assumptions", lang) in intro  # the phrase the pack rewrites is the page's
        article = _md(mistune.html(intro)) + _md(f"<h2>{i18n.t('fin_h_assumptions', lang)}</h2>") + _md("<p>S.</p>")
        out = report.board_article(article, "04_financial_impact", lang)
        assert i18n.t("fin_h_assumptions", lang) not in out.replace(i18n.t("rvw_fin_see_assumptions_board", lang, pack="x"), "")
        assert report.PACK_HTML in out and ("below" if lang == "en" else "más abajo") not in out
        assert report.board_article(article, "05_executive_summary", lang).count("<em>") == 1  # other pages as they are
