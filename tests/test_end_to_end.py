"""The whole quarterly suite on a small demo organisation, as the scheduler and an executive meet it.

One real run (all notebooks, Spanish) is shared by the tests below:
- every page opens in headless Chromium with the network blocked: every chart renders, no console
  errors, no requests, no code;
- no employee id of the input — raw or pseudonymised — appears in any HTML;
- a unit whose survey has only 3 respondents in the quarter never shows a value in any chart;
- metrics.json carries the contract keys with effects on the truth.json scale.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import CHROMIUM, E2E_KEY as KEY, LAUNCH_ARGS

from servicechain import privacy
from servicechain import quarters as Q

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("papermill")]

ARTIFACTS = Path(__file__).with_name("artifacts") / "end_to_end"


@pytest.fixture(scope="module")
def suite_run(es_demo_run):
    """The Spanish demo run of conftest.es_demo_run (shared with tests/test_spanish_words.py: one suite run)."""
    return es_demo_run


def _pages(d: Path) -> list[Path]:
    return sorted(d.glob("*.html"))


def test_all_notebooks_published_with_metrics_contract(suite_run):
    d = suite_run["dir"]
    names = {p.stem for p in _pages(d)}
    assert {"index", "00_data_quality", "01_retention", "02_customer_loyalty", "03_service_profit_chain",
            "04_financial_impact", "05_executive_summary"} <= names
    m = json.loads((d / "metrics.json").read_text())
    assert m["quarter"] == suite_run["quarter"]
    for drv in ("recognition_per_month", "empowerment", "leadership"):
        e = m["retention"]["effects"][drv]
        assert {"estimate", "ci_low", "ci_high", "scale"} <= set(e)
        assert e["ci_low"] < e["estimate"] < e["ci_high"]
    assert isinstance(m["retention"]["auc_out_of_time"], float)
    assert set(suite_run["truth"]["loyalty"]) - {"scale"} <= set(m["loyalty"]["effects"])
    assert m["chain"] and m["finance"]["acquisition_cost_multiple"] == 6.5
    assert all({"name", "value_p10", "value_p50", "value_p90"} <= set(s) for s in m["finance"]["scenarios"])


def test_no_employee_identifier_in_any_html(suite_run):
    emp = suite_run["tables"]["employees"]
    raw = set(emp["employee_id"].to_list())
    pseudo = set(privacy.pseudonymise_ids(emp["employee_id"], KEY.encode()).to_list())
    pattern = re.compile(r"\b(E\d{7}|E[0-9a-f]{16})\b")
    for page in _pages(suite_run["dir"]):
        found = set(pattern.findall(page.read_text(encoding="utf-8")))
        assert not (found & raw), f"{page.name} shows raw employee ids: {sorted(found & raw)[:5]}"
        assert not (found & pseudo), f"{page.name} shows pseudonymised ids: {sorted(found & pseudo)[:5]}"
    for nbfile in (suite_run["dir"] / "notebooks").glob("*.ipynb"):
        text = nbfile.read_text(encoding="utf-8")
        assert not (set(pattern.findall(text)) & raw), f"{nbfile.name} carries raw ids"


def test_executed_notebooks_keep_the_users_data_folder(suite_run):
    """Analysts can re-run the executed notebooks: their data_dir is the user's folder, not the run's copy,
    published without a local path (relative to the project, or the folder's name when outside it)."""
    import nbformat

    for path in sorted((suite_run["dir"] / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        injected = [c.source for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        data_line = next(ln for ln in injected[0].splitlines() if ln.startswith("data_dir"))
        assert data_line == f'data_dir = "{suite_run["data"].name}"', path.name
        assert str(suite_run["data"]) not in path.read_text(encoding="utf-8"), path.name


def _figures(html: str) -> list[dict]:
    """The data of every plotly figure embedded in a page (Plotly.newPlot(id, data, layout, ...))."""
    dec = json.JSONDecoder()
    figs = []
    for m in re.finditer(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", html):
        data, end = dec.raw_decode(html, m.end())
        figs.append({"data": data})
    return figs


def test_unit_with_three_respondents_never_shows_a_value(suite_run):
    name = suite_run["unit_name"]
    for page in _pages(suite_run["dir"]):
        for fig in _figures(page.read_text(encoding="utf-8")):
            for trace in fig["data"]:
                ys = trace.get("y") or []
                xs = trace.get("x") or []
                if trace.get("type") == "heatmap":
                    for i, label in enumerate(ys):
                        if isinstance(label, str) and name in label:
                            row = trace["z"][i]
                            assert all(v is None for v in row), f"{page.name}: {name} shows {row}"
                else:
                    labels = [v for v in [*xs, *ys] if isinstance(v, str)]
                    assert not any(name in v for v in labels), f"{page.name}: a chart shows {name}"
    # The unit heat map lists only some units; the cells behind it must hide this unit whatever is listed.
    from servicechain import chain, features

    cells = chain.driver_heatmap_cells(features.as_of(suite_run["tables"], suite_run["quarter"]),
                                       suite_run["quarter"], threshold=5)["unit"].filter(pl.col("unit") == name)
    assert cells.height > 0 and cells["suppressed"].is_not_null().all() and cells["mean"].is_null().all()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_every_page_renders_offline_in_chromium(suite_run):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            for page_file in _pages(suite_run["dir"]):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                requests, errors = [], []
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.on("requestfailed", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)

                def block(route):
                    if route.request.url.startswith(("file:", "data:", "blob:", "about:")):
                        return route.continue_()
                    requests.append(route.request.url)
                    return route.abort()

                page.route("**/*", block)
                page.goto(page_file.as_uri())
                page.wait_for_load_state("load")
                charts = page.locator(".plotly-graph-div")
                n = charts.count()
                if page_file.stem != "index":
                    assert n > 0, f"{page_file.name}: no chart"
                for i in range(n):
                    charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=15000)
                text = page.inner_text("body")
                assert "import " not in text and "nb.setup" not in text, f"{page_file.name} shows code"
                assert page.locator(".jp-InputArea, .input_area, .jp-CodeCell .jp-InputArea").count() == 0
                assert "Traceback" not in text
                page.screenshot(path=str(ARTIFACTS / f"{page_file.stem}.png"), full_page=True)
                assert not errors, f"{page_file.name}: console errors {errors[:3]}"
                assert not requests, f"{page_file.name}: network requests {requests[:3]}"
                page.close()
        finally:
            browser.close()


def _page_text(path: Path) -> str:
    """A page's visible text: tags removed, whitespace and non-breaking spaces collapsed."""
    import html as _html

    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", path.read_text(encoding="utf-8"), flags=re.S)
    return re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\u00a0", " "))


def test_headline_turnover_is_one_figure_from_the_raw_tables(suite_run):
    """The quarter's voluntary leavers, by the documented definition computed here from the raw employees table
    (dates, not the library's quarter indices), are the same figure in metrics.json, the index, the summary,
    the retention page and the money page, and the splits reconcile."""
    from servicechain import i18n

    q = suite_run["quarter"]
    start, end = Q.start(q), Q.end(q)
    emp = suite_run["tables"]["employees"]
    hire, exit_ = pl.col("hire_date"), pl.col("exit_date")
    left = (pl.col("exit_reason") == "voluntary") & exit_.is_between(start, end)
    raw = emp.select(
        left.sum().alias("leavers"),
        (left & (hire < start)).sum().alias("from_start"),
        (left & (hire >= start)).sum().alias("joined"),
        (left & ((hire >= start) | ((exit_ - hire).dt.total_days() < 90))).sum().alias("early"),
        ((hire < start) & (exit_.is_null() | (exit_ >= start))).sum().alias("hc_start"),
        ((hire <= end) & (exit_.is_null() | (exit_ > end))).sum().alias("hc_end"),
    ).row(0, named=True)
    assert raw["leavers"] > raw["from_start"] > 0 and raw["joined"] > 0  # the demo has both kinds
    avg = (raw["hc_start"] + raw["hc_end"]) / 2
    rate = raw["leavers"] / avg

    m = json.loads((suite_run["dir"] / "metrics.json").read_text())
    ov, base = m["overview"], m["finance"]["baseline"]
    assert (ov["voluntary_leavers"], ov["voluntary_exits"], base["voluntary_exits"]) == (raw["leavers"],) * 3
    assert (ov["voluntary_leavers_from_start"], ov["voluntary_joined_and_left"]) == (raw["from_start"], raw["joined"])
    assert (base["voluntary_leavers_from_start"], base["voluntary_joined_and_left"]) == (raw["from_start"], raw["joined"])
    assert ov["early_leavers"] == raw["early"] and ov["headcount"] == raw["hc_start"] == base["headcount"]
    assert ov["voluntary_turnover_rate"] == pytest.approx(rate, rel=1e-7)  # metrics.json keeps 8 digits
    assert ov["voluntary_turnover_rate_annualised"] == pytest.approx(4 * rate, rel=1e-7)

    n = lambda v: i18n.fmt_number(v, "es")  # noqa: E731  (the suite ran in Spanish)
    index = _page_text(suite_run["dir"] / "index.html")
    assert f"{n(raw['leavers'])} salidas voluntarias / personal medio de {i18n.fmt_number(avg, 'es')}" in index
    assert i18n.fmt_pct(rate, "es").replace("\u00a0", " ") in index
    summary = _page_text(suite_run["dir"] / "05_executive_summary.html")
    assert (f"{n(raw['leavers'])} personas se fueron por decisión propia ({n(raw['from_start'])} que ya estaban al "
            f"empezar el trimestre y {n(raw['joined'])} que entraron") in summary
    money = _page_text(suite_run["dir"] / "04_financial_impact.html")
    assert (f"{n(raw['leavers'])} empleados se fueron voluntariamente ({n(raw['from_start'])} que ya estaban") in money
    ret = _page_text(suite_run["dir"] / "01_retention.html")
    assert (f"cuenta las {n(raw['leavers'])} salidas voluntarias: {n(raw['from_start'])} de quienes ya estaban al "
            f"empezar el trimestre y {n(raw['joined'])} de quienes entraron") in ret


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_printing_from_a_wide_window_keeps_every_chart_inside_a4(suite_run):
    """From a 1440 px window, the print layout gets every chart redrawn within the A4 text width (703 CSS px)
    before it is taken (plotly's own resize runs 100 ms too late), the PDF prints without a request, and the
    screen size comes back afterwards."""
    sync_api = pytest.importorskip("playwright.sync_api")
    widths = "Array.from(document.querySelectorAll('.js-plotly-plot .main-svg')).map(s => s.getBoundingClientRect().width)"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            requests: list[str] = []
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:", "about:"))
                       else (requests.append(r.request.url), r.abort()))
            for name in ("05_executive_summary", "04_financial_impact", "03_service_profit_chain"):
                page.goto((suite_run["dir"] / f"{name}.html").as_uri())
                page.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached", timeout=15000)
                screen = page.evaluate(widths)
                assert screen and max(screen) > 900, (name, screen)  # the wide window really is wide
                # measured in the same task as the event: nothing may be left to a timer
                printed = page.evaluate(f"(() => {{ window.dispatchEvent(new Event('beforeprint')); return {widths}; }})()")
                assert max(printed) <= 703, (name, printed)
                page.evaluate("window.dispatchEvent(new Event('afterprint'))")
                page.wait_for_timeout(200)
                assert page.evaluate(widths) == pytest.approx(screen, abs=2), name
                pdf = page.pdf(format="A4", margin={"top": "14mm", "bottom": "14mm", "left": "12mm", "right": "12mm"})
                assert pdf[:4] == b"%PDF" and len(pdf) > 10_000, name
                (ARTIFACTS / f"{name}.print.pdf").write_bytes(pdf)
        finally:
            browser.close()
    assert not requests, requests[:3]
