"""Every page of a real Spanish report on a phone (issue 13): 390 px wide in headless Chromium, touch screen.

One small real run (the whole suite on a demo organisation, in Spanish) is shared by the tests below:
- each chart's title is an HTML heading above it (it wraps), never a plotly title: every former title's words
  are in the page's text and no page draws a ``.gtitle``;
- the Spanish pages' charts write Spanish numbers: every layout carries ``separators: ",."`` and no hover or
  label text has an English decimal point;
- at 390 px: no chart wider than the viewport, no chart title cut, no sideways page scroll except inside a
  table's own scroll box (whose "scroll" hint shows exactly when it overflows; the mediation diagram, whose
  words sit at fixed places, scrolls in such a box too), no toolbar, and tick labels and bar value labels that
  do not overlap. Screenshots go to tests/artifacts/phone/.
"""

from __future__ import annotations

import html as _html
import json
import re
from pathlib import Path

import pytest
from conftest import CHROMIUM, LAUNCH_ARGS, run_demo_suite

from servicechain import demo

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("papermill")]

KEY = "phone-browser-test-key-0123456789"
ARTIFACTS = Path(__file__).with_name("artifacts") / "phone"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
# a decimal point between digits, not a Spanish thousands mark (which is followed by three digits)
ENGLISH_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{1,2}(?![\d])")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return run_demo_suite(tmp_path_factory.mktemp("phone"), demo.DemoConfig(seed=5, employees=900, quarters=5),
                          "--lang", "es", key=KEY)


def pages(d: Path) -> list[Path]:
    return sorted(d.glob("*.html"))


def chart_pages(d: Path) -> list[Path]:
    return [p for p in pages(d) if p.stem[:2].isdigit()]  # the notebooks' pages (not the index, nor a pack)


def newplot_layouts(page_html: str) -> list[tuple[list, dict]]:
    """(data, layout) of every ``Plotly.newPlot(id, data, layout, config)`` call of a page."""
    dec = json.JSONDecoder()
    out = []
    for m in re.finditer(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", page_html):
        data, end = dec.raw_decode(page_html, m.end())
        end += re.match(r"\s*,\s*", page_html[end:]).end()
        layout, _ = dec.raw_decode(page_html, end)
        out.append((data, layout))
    return out


def visible_text(page_html: str) -> str:
    """A page's text without scripts and styles; any run of ASCII whitespace as one space."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page_html, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", text)))


def built_titles(d: Path, stem: str) -> list[str]:
    """The titles the notebook's charts were built with (the executed notebook's plotly JSON keeps them)."""
    from servicechain.notebook import title_text

    import plotly.graph_objects as go

    nb = json.loads((d / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    titles = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            fig = out.get("data", {}).get("application/vnd.plotly.v1+json")
            if fig:
                titles.append(title_text(go.Figure(layout=fig.get("layout", {}))))
    return titles


def test_every_chart_title_is_an_html_heading_and_no_plotly_title(report: Path) -> None:
    n = 0
    for page in chart_pages(report):
        h = page.read_text(encoding="utf-8")
        titles = [t for t in built_titles(report, page.stem) if t]
        figs = newplot_layouts(h)
        assert figs and len(titles) == len(figs), (page.name, len(titles), len(figs))
        text = visible_text(h)
        for t in titles:
            assert t in text, (page.name, t)  # no title lost
        heads = re.findall(r"\bid=\"(sc-fig-\d+)-title\"", h)  # (the export may reorder attributes)
        assert len(heads) == len(figs), page.name
        for i, (_, layout) in enumerate(figs):
            assert not (layout.get("title") or {}).get("text"), (page.name, i, layout.get("title"))
            assert h.index(f'id="{heads[i]}-title"') < h.index(f'id="{heads[i]}"')  # the heading comes first
        n += len(figs)
    assert n >= 20  # the suite's charts, not a page or two


def _strings(x) -> list[str]:
    if isinstance(x, str):
        return [x]
    if isinstance(x, list):
        return [s for v in x for s in _strings(v)]
    if isinstance(x, dict):
        return [s for v in x.values() for s in _strings(v)]
    return []


def test_spanish_charts_write_spanish_numbers(report: Path) -> None:
    """Every chart of the Spanish pages: separators ',.' (axes, colour bars and %{x:.2f} in hovers follow it)
    and no text the page wrote itself (hovers, labels, tick texts, annotations) with an English decimal."""
    for page in chart_pages(report):
        for i, (data, layout) in enumerate(newplot_layouts(page.read_text(encoding="utf-8"))):
            assert layout.get("separators") == ",.", (page.name, i)
            texts = []
            for tr in data:
                for key in ("text", "hovertext", "customdata", "hovertemplate", "texttemplate", "name", "x", "y"):
                    texts += _strings(tr.get(key))
            texts += _strings([a.get("text") for a in layout.get("annotations", [])])
            for ax in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
                texts += _strings(layout[ax].get("ticktext"))
            for s in texts:
                # a format spec like %{x:.2f} is rendered with the separators; a literal "2.30" is not
                bare = re.sub(r"%\{[^}]*\}", "", s)
                assert not ENGLISH_DECIMAL.search(bare), (page.name, i, s)


PHONE_JS = r"""() => {
  const vw = document.documentElement.clientWidth;
  const box = e => { const r = e.getBoundingClientRect(); return {l: r.left, r: r.right, t: r.top, b: r.bottom, w: r.width, h: r.height}; };
  const shown = e => getComputedStyle(e).display !== 'none' && e.getClientRects().length > 0;
  const charts = Array.from(document.querySelectorAll('.js-plotly-plot')).map(c => {
    const svg = c.querySelector('.main-svg');
    // rotated labels are left out of the overlap checks: their boxes overlap while the words do not
    const upright = t => !/rotate\(\s*-?[1-9]/.test(t.getAttribute('transform') || '');
    const labels = (sel, all) => Array.from(c.querySelectorAll(sel)).filter(t => (t.textContent || '').trim() &&
                                  (all || upright(t))).map(box).filter(b => b.w > 0);
    return {id: c.id, div: box(c), svg: svg ? box(svg) : null, boxed: !!c.closest('.sc-scroll'),
            xticks: labels('.xtick text'), yticks: labels('.ytick text'), values: labels('.textpoint text'),
            edges: labels('.xtick text, .ytick text', true),
            // the what-if's controls (dropdown, buttons, slider and its value) and the words placed on a chart
            controls: Array.from(c.querySelectorAll('.updatemenu-header-group, .updatemenu-button, .slider-group, ' +
                      '.slider-current-value, .slider-label, .annotation-text')).filter(e => (e.textContent || '').trim() ||
                      e.classList.contains('slider-group')).map(e => Object.assign(box(e), {what: e.getAttribute('class'),
                      text: (e.textContent || '').slice(0, 30)})).filter(b => b.w > 0)};
  });
  const titles = Array.from(document.querySelectorAll('.sc-chart-title')).map(t =>
    ({text: t.textContent, box: box(t), sw: t.scrollWidth, cw: t.clientWidth}));
  const scrolls = Array.from(document.querySelectorAll('.sc-scroll')).map(s => {
    const hint = s.nextElementSibling;
    return {over: s.scrollWidth > s.clientWidth + 1, box: box(s), hint: !!(hint && hint.classList.contains('sc-scroll-hint') && shown(hint))};
  });
  // HTML elements (not the charts' SVG insides, not inside a table's scroll box) that stick out of the viewport
  const out = Array.from(document.querySelectorAll('body *')).filter(e => !(e instanceof SVGElement) &&
      !e.closest('.sc-scroll') && !e.closest('.js-plotly-plot') && shown(e) &&
      (e.getBoundingClientRect().right > vw + 1 || e.getBoundingClientRect().left < -1))
    .map(e => e.tagName.toLowerCase() + '.' + e.className).slice(0, 5);
  return {vw, page: document.scrollingElement.scrollWidth, charts, titles, scrolls, out,
          gtitle: document.querySelectorAll('.gtitle').length,
          toolbars: Array.from(document.querySelectorAll('.modebar-container, .modebar')).filter(shown).length};
}"""


def overlaps(boxes: list[dict], tol: float = 1.0) -> list[tuple[int, int]]:
    """Pairs of boxes that overlap by more than ``tol`` px both ways."""
    return [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j
            and min(a["r"], b["r"]) - max(a["l"], b["l"]) > tol and min(a["b"], b["b"]) - max(a["t"], b["t"]) > tol]


def check_phone_page(page, name: str, shots: Path | None = None) -> list[str]:
    """Everything wrong with the page open in ``page`` at phone width (an empty list when all is well)."""
    page.wait_for_load_state("load")
    charts = page.locator(".js-plotly-plot")
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=15000)
    page.wait_for_timeout(300)  # plotly's responsive resize
    r = page.evaluate(PHONE_JS)
    vw, bad = r["vw"], []
    if shots is not None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    if r["page"] > vw:
        bad.append(f"page scrolls sideways: {r['page']} > {vw} ({r['out']})")
    if r["out"]:
        bad.append(f"elements outside the viewport: {r['out']}")
    if r["gtitle"]:
        bad.append(f"{r['gtitle']} plotly titles")
    if r["toolbars"]:
        bad.append(f"{r['toolbars']} toolbars shown on a touch screen")
    for c in r["charts"]:
        for part in ("div", "svg"):
            b = c[part]
            if b is None or (not c["boxed"] and (b["l"] < -1 or b["r"] > vw + 1)):  # a diagram may scroll in its box
                bad.append(f"{c['id']} {part} outside the viewport: {b}")
        for kind in ("xticks", "yticks", "values"):
            if overlaps(c[kind]):
                bad.append(f"{c['id']} {kind} overlap: {overlaps(c[kind])[:3]}")
        for b in [] if c["boxed"] else c["controls"]:
            if b["l"] < -1 or b["r"] > vw + 1 or (c["svg"] and (b["l"] < c["svg"]["l"] - 1 or b["r"] > c["svg"]["r"] + 1
                                                            or b["t"] < c["svg"]["t"] - 1)):
                bad.append(f"{c['id']} a control or label is cut: {b['what']} {b['text']!r} {b}")
        parts = [b for b in c["controls"] if b["what"] not in ("slider-group", "updatemenu-header-group")]  # (groups)
        if not c["boxed"] and overlaps(parts):
            bad.append(f"{c['id']} controls overlap: {[(parts[i]['text'], parts[j]['text']) for i, j in overlaps(parts)[:3]]}")
        for b in [] if c["boxed"] else c["edges"]:
            if b["l"] < -1 or b["r"] > vw + 1:
                bad.append(f"{c['id']} a tick label is cut at the screen's edge: {b}")
                break
    for t in r["titles"]:
        if t["sw"] > t["cw"] + 1 or t["box"]["l"] < -1 or t["box"]["r"] > vw + 1:
            bad.append(f"title cut: {t['text'][:40]!r} {t['box']} scroll {t['sw']} > {t['cw']}")
    for s in r["scrolls"]:
        if s["box"]["r"] > vw + 1:
            bad.append(f"a table box is wider than the viewport: {s['box']}")
        if s["over"] != s["hint"]:
            bad.append(f"scroll hint {'missing' if s['over'] else 'shown'} for a table that "
                       f"{'overflows' if s['over'] else 'fits'}")
    if name.startswith("03") and not any(c["boxed"] for c in r["charts"]):
        bad.append("the mediation diagram is squeezed into the screen instead of scrolling in its box")
    if name[:2].isdigit() and not r["charts"]:
        bad.append("no chart drew")
    return bad


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_every_page_fits_a_phone(report: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems, titled, controls = {}, 0, 0
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            ctx = browser.new_context(**PHONE)
            ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:", "about:"))
                      else r.abort())
            for f in pages(report):
                page = ctx.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f.as_uri())
                bad = check_phone_page(page, f.stem, ARTIFACTS)
                titled += page.locator(".sc-chart-title").count()
                controls += page.locator(".js-plotly-plot .slider-group").count()
                if errors:
                    bad.append(f"script errors: {errors[:2]}")
                if bad:
                    problems[f.name] = bad
                page.close()
        finally:
            browser.close()
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)
    assert titled >= 20
    assert controls >= 2, "the money page's two what-ifs were not checked"
