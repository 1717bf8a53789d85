"""The exported pages in a real browser: headless Debian chromium through Playwright.

Every non-file request is aborted and recorded: the pages must not need the network.
Screenshots go to tests/artifacts/ (look at them).
"""

from __future__ import annotations

import io
import json
import shutil
import types
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from servicechain import cli, report, run

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("servicechain_browser")]

CHROMIUM = shutil.which("chromium")
ARTIFACTS = Path(__file__).with_name("artifacts")
NOTEBOOKS = Path(__file__).with_name("notebooks")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def fake_dataset(data_dir, mapping=None, **_):
    return types.SimpleNamespace(kind="panel", quarters=["2026Q1", "2026Q2", "2026Q3"],
                                 latest_complete_quarter="2026Q3", tables={})


@pytest.fixture(scope="session")
def report_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    (root / "data").mkdir()
    (root / "data" / "x.csv").write_text("a\n1\n")
    out = root / "reports"
    # earlier quarters' reports, so the index shows changes and trends
    for q, h, r in (("2026Q1", 1180, 0.14), ("2026Q2", 1210, 0.12)):
        (out / q).mkdir(parents=True)
        (out / q / "metrics.json").write_text(json.dumps({
            "quarter": q, "overview": {"headcount": h, "voluntary_turnover_rate": r, "nps": 28.0,
                                       "customer_retention_rate": 0.79},
            "finance": {"currency": "EUR", "scenarios": [{"name": "base", "value_p50": 1.1e6}]}}))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(run, "load_dataset", fake_dataset)
        mp.delenv("SC_TEST_FAIL", raising=False)
        e = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(e):
            rc = cli.main(["run", "--data", str(root / "data"), "--quarter", "latest", "--lang", "es",
                           "--out", str(out), "--jobs", "3", "--notebooks-dir", str(NOTEBOOKS)])
    assert rc == 0, e.getvalue()
    return out / "2026Q3"


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_pages_render_offline(report_dir):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    pages = sorted(report_dir.glob("*.html"))
    assert len(pages) == 5  # index, 3 pages and pack.html (every page in one file)
    blocked: list[str] = []
    failed: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1366, "height": 900}, device_scale_factor=1)
            ctx.route("**/*", route)
            page = ctx.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
            page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
            page.on("requestfailed", lambda r: failed.append(r.url))
            for html in pages:
                page.goto(html.as_uri(), wait_until="load")
                n = page.locator(".plotly-graph-div").count()
                if html.name != "index.html":
                    assert n >= 1, html.name
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.plotly-graph-div')]"
                    ".every(d => d.querySelector('svg.main-svg'))", timeout=20_000)
                assert page.locator(".plotly-graph-div svg.main-svg").count() >= n
                # no code anywhere
                assert page.locator(".jp-InputArea, .jp-InputPrompt, .input_area, .highlight").count() == 0
                for pre in page.locator("pre").all_inner_texts():
                    assert not any(w in pre for w in ("import ", "def ", "nb.", "= ")), (html.name, pre)
                body = page.inner_text("body")
                assert "Traceback" not in body and "SECRET" not in body
                assert page.evaluate("document.documentElement.lang") == "es"
                page.screenshot(path=str(ARTIFACTS / f"{html.stem}.png"), full_page=True)
            # the index: cards with values, changes and sparklines, links that open
            page.goto((report_dir / "index.html").as_uri())
            assert page.locator(".sc-kpi").count() == len(report.KPIS)
            assert page.locator(".sc-kpi svg.sc-spark").count() >= 4
            assert "Personal" in page.inner_text("body")
            page.locator(".sc-reports a").first.click()
            page.wait_for_load_state("load")
            assert page.url.endswith("00_overview.html")
            # print layout renders too
            page.emulate_media(media="print")
            page.wait_for_timeout(800)  # plotly resizes asynchronously
            page.screenshot(path=str(ARTIFACTS / "00_overview.print.png"), full_page=True)
        finally:
            browser.close()
    assert blocked == [], blocked
    assert failed == [], failed
    assert errors == [], errors
