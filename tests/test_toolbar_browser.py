"""Chart toolbars upload nothing and link nowhere (issue 10: "Share chart..." uploaded to Plotly's cloud).

Fast checks of the config against the plotly.js bundled with plotly, then one real small report
(the whole suite on a small demo organisation) opened in headless Chromium with every non-file
request aborted and counted: EVERY toolbar button of EVERY chart on every page is clicked
(download-png included: the download is accepted and is a PNG), then every page is printed to
PDF. Zero requests allowed, and no button offers sharing or editing elsewhere.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import plotly
import plotly.graph_objects as go
import pytest
from conftest import CHROMIUM, LAUNCH_ARGS, run_demo_suite

from servicechain import demo, theme

ARTIFACTS = Path(__file__).with_name("artifacts") / "toolbar"
BUNDLE = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
FORBIDDEN_TITLES = ("share", "chart studio", "edit in", "cloud", "plotly.com", "produced with")


@pytest.fixture(scope="module")
def bundle() -> str:
    return BUNDLE.read_text(encoding="utf-8")


def test_removed_buttons_are_real_button_names_of_the_bundled_plotlyjs(bundle):
    names = set(re.findall(r'\{name:"([A-Za-z0-9]+)"', bundle))
    assert {"toImage", "zoom2d", "sendChartToCloud"} <= names  # the pattern finds the modebar buttons
    for b in theme.PLOTLY_CONFIG["modeBarButtonsToRemove"]:
        assert b in names, f"{b!r} is not a modebar button of plotly.js in plotly {plotly.__version__}"
    assert "sendChartToCloud" in theme.PLOTLY_CONFIG["modeBarButtonsToRemove"]


def test_config_keys_are_known_to_plotlyjs_and_plotly_py(bundle):
    for key in theme.PLOTLY_CONFIG:
        assert re.search(rf"\b{key}:\{{valType", bundle), f"plotly.js does not know config {key!r}"
    assert theme.PLOTLY_CONFIG["showSendToCloud"] is False and theme.PLOTLY_CONFIG["displaylogo"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # plotly.py warns on config keys it does not know
        html = go.Figure(go.Bar(x=[1], y=[2])).to_html(full_html=False, include_plotlyjs=False,
                                                       config=theme.PLOTLY_CONFIG)
    assert "plotlyServerURL" not in html and "plotly.com" not in html
    assert '"showSendToCloud": false' in html


def test_page_defaults_follow_the_inlined_plotlyjs():
    js = theme.plotly_js()
    assert js.rstrip().endswith(theme.PAGE_CONFIG_JS)
    assert '"showSendToCloud": false' in theme.PAGE_CONFIG_JS and '"plotlyServerURL": ""' in theme.PAGE_CONFIG_JS


# ------------------------------------------------------------------------------------------ browser


@pytest.fixture(scope="session")
def small_report(tmp_path_factory) -> Path:
    """The real suite on a small demo organisation (about 20 s)."""
    return run_demo_suite(tmp_path_factory.mktemp("toolbar"), demo.DemoConfig(seed=5, employees=600, quarters=4),
                          "--lang", "en")


BUTTONS_JS = """(div) => {
  const mb = div._fullLayout && div._fullLayout._modeBar;
  const els = [...div.querySelectorAll('.modebar-btn')];
  return {names: mb ? mb.buttonsNames.slice() : null,
          titles: els.map(b => b.getAttribute('data-title') || ''),
          links: [...div.querySelectorAll('.modebar a')].map(a => a.getAttribute('href') || a.outerHTML),
          serverURL: div._context.plotlyServerURL, sendToCloud: div._context.showSendToCloud};
}"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.xdist_group("servicechain_browser")
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_every_toolbar_button_of_every_chart_works_offline(small_report):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = sorted(small_report.glob("*.html"))
    assert "index.html" in {p.name for p in pages} and len(pages) >= 7, [p.name for p in pages]
    requests: list[str] = []
    errors: list[str] = []
    clicked: dict[str, int] = {}
    downloads = 0

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            requests.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
            ctx.route("**/*", route)
            ctx.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:", "about:"))
                   else requests.append(r.url))
            page = ctx.new_page()
            ctx.on("page", lambda pg: errors.append(f"a click opened a window: {pg.url}"))
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
            page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
            n_charts = 0
            for html in pages:
                page.goto(html.as_uri(), wait_until="load")
                charts = page.locator(".plotly-graph-div")
                n = charts.count()
                if html.name != "index.html":
                    assert n >= 1, html.name
                try:
                    page.wait_for_function("() => [...document.querySelectorAll('.plotly-graph-div')]"
                                           ".every(d => d._fullLayout && d._fullLayout._modeBar)", timeout=60_000)
                except sync_api.TimeoutError:
                    missing = page.evaluate("() => [...document.querySelectorAll('.plotly-graph-div')]"
                                            ".filter(d => !(d._fullLayout && d._fullLayout._modeBar)).map(d => d.id)")
                    raise AssertionError(f"{html.name}: charts without a toolbar after 60 s: {missing}; {errors}")
                for i in range(n):
                    chart = charts.nth(i)
                    info = chart.evaluate(BUTTONS_JS)
                    where = f"{html.name} chart {i + 1}"
                    assert info["names"] and len(info["names"]) == len(info["titles"]), (where, info)
                    assert not set(info["names"]) & set(theme.UPLOAD_BUTTONS), (where, info["names"])
                    assert info["links"] == [], (where, info["links"])  # no logo, no link out
                    assert info["serverURL"] == "" and info["sendToCloud"] is False, (where, info)
                    for title in info["titles"]:
                        assert not any(w in title.lower() for w in FORBIDDEN_TITLES), (where, title)
                    buttons = chart.locator(".modebar-btn")
                    chart.hover()  # shows the toolbar; each click below moves the mouse onto a button
                    for j, name in enumerate(info["names"]):
                        btn = buttons.nth(j)
                        if name == "toImage":
                            with page.expect_download(timeout=20_000) as dl:
                                btn.click()
                            png = Path(dl.value.path()).read_bytes()
                            assert png[:8] == b"\x89PNG\r\n\x1a\n", where
                            downloads += 1
                        else:
                            btn.click()
                        clicked[name] = clicked.get(name, 0) + 1
                    n_charts += 1
                # the print / PDF path
                page.emulate_media(media="print")
                page.wait_for_timeout(300)
                page.pdf(path=str(ARTIFACTS / f"{html.stem}.pdf"))
                page.emulate_media(media="screen")
            page.wait_for_timeout(300)  # anything a late click might still send
        finally:
            browser.close()
    assert n_charts >= 20 and downloads == n_charts, (n_charts, downloads)
    assert {"toImage", "zoom2d", "pan2d", "resetScale2d"} <= set(clicked), clicked
    assert requests == [], requests[:5]
    assert errors == [], errors[:5]
