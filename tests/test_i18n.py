"""Words and number formats (en/es), the notebook helpers' formatting, tables and the privacy guards."""

from __future__ import annotations

import datetime as dt
import json

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
import pytest

from servicechain import i18n, notebook, report, theme


def test_word_tables_have_the_same_keys_and_no_empty_words():
    en, es = i18n.WORDS["en"], i18n.WORDS["es"]
    assert set(en) == set(es), set(en) ^ set(es)
    assert all(v.strip() for v in [*en.values(), *es.values()])


def test_catalogs_are_files_with_matching_placeholders_and_no_key_twice(tmp_path, monkeypatch):
    import re

    for lang in i18n.LANGS:
        assert (theme.TEMPLATES_DIR.parent / "catalogs" / f"{lang}.yml").is_file()
    en, es = i18n.WORDS["en"], i18n.WORDS["es"]
    for k in en:
        assert set(re.findall(r"{(\w+)}", en[k])) == set(re.findall(r"{(\w+)}", es[k])), k
    # a key written twice in a catalog is an error naming it, not a silent overwrite
    fake = tmp_path / "servicechain" / "catalogs"
    fake.mkdir(parents=True)
    (fake / "en.yml").write_text("a: one\nb: two\na: three\n", encoding="utf-8")
    monkeypatch.setattr(i18n.resources, "files", lambda pkg: tmp_path / "servicechain")
    with pytest.raises(ValueError, match="'a' is written twice \\(line 3\\)"):
        i18n._load_catalog("en")


def test_every_ui_word_of_the_templates_exists():
    import re

    used = set()
    for p in theme.TEMPLATES_DIR.rglob("*.j2"):
        used |= set(re.findall(r'(?<![A-Za-z_.])t\("([a-z_0-9]+)"', p.read_text()))  # not createElement("script")
    for key, *_ in report.KPIS:
        used.add(key)
    used |= {"privacy_note", "money_note", "vs_quarter", "no_clear_change", "no_previous_quarter", "not_available", "back_to_index",
             "generated", "app_name", "data_kind_panel", "data_kind_snapshot", "points", "trend"}
    used |= {f"nb_0{i}" for i in range(6)}
    assert used <= set(i18n.WORDS["en"]), used - set(i18n.WORDS["en"])


def test_t():
    assert i18n.t("headcount", "es") == "Personal"
    assert i18n.t("headcount", "en") == "Headcount"
    assert i18n.t("privacy_note", "es", threshold=5).endswith("menos de 5 personas.")
    assert i18n.t("no_such_word", "es") == "no_such_word"
    with pytest.raises(ValueError):
        i18n.check_lang("fr")


@pytest.mark.parametrize(
    "x, lang, d, s",
    [(1234.5, "en", 1, "1,234.5"), (1234.5, "es", 1, "1.234,5"), (1234567, "es", 0, "1.234.567"),
     (0.5, "es", 2, "0,50"), (-1234.5, "en", 0, "−1,234"), (-0.001, "en", 1, "0.0"),
     (None, "en", 1, "–"), (float("nan"), "es", 1, "–")],
)
def test_fmt_number(x, lang, d, s):
    assert i18n.fmt_number(x, lang, d) == s


def test_fmt_pct_money_date_quarter():
    assert i18n.fmt_pct(0.1234, "en") == "12.3%"
    assert i18n.fmt_pct(0.1234, "es") == "12,3\u00a0%"
    assert i18n.fmt_pct(0.5, "en", 0) == "50%"
    assert i18n.fmt_money(1234567, "EUR", "en") == "€1,234,567"
    assert i18n.fmt_money(1234567, "EUR", "es") == "1.234.567\u00a0€"
    assert i18n.fmt_money(2_500_000, "USD", "en-US", compact=True) == "$2.5M"
    assert i18n.fmt_money(2_500_000, "USD", "en", compact=True) == "US$2.5M"  # en is en-GB: "$" alone is not the dollar
    assert i18n.fmt_money(2_500_000, "EUR", "es", compact=True) == "2,5\u00a0M€"
    assert i18n.fmt_money(-45_000, "EUR", "es", compact=True) == "−45\u00a0k€"
    assert i18n.fmt_money(100, "CHF", "en") == "CHF\u00a0100"
    assert i18n.fmt_date(dt.date(2026, 9, 3), "es") == "3 de septiembre de 2026"
    assert i18n.fmt_date("2026-01-31", "en") == "31 January 2026"
    assert i18n.fmt_date(dt.datetime(2026, 12, 1, 10), "es") == "1 de diciembre de 2026"
    assert i18n.fmt_quarter("2026Q3", "es") == "T3 2026" and i18n.fmt_quarter("2026Q3", "en") == "Q3 2026"
    assert i18n.fmt_points(0.012, "es") == "+1,2\u00a0p. p."
    assert i18n.fmt_points(-0.012, "en") == "−1.2\u00a0pp"
    assert i18n.fmt_signed(0, "en") == "0"


def test_md_formatting():
    s = notebook.fmt("Turnover **{r:pct}**, headcount {h:int}, saved {m:money_compact}, {w:t}, {n}", lang="es",
                     r=0.123, h=1234, m=1_500_000, w="frontline", n=2.5)
    assert s == "Turnover **12,3\u00a0%**, headcount 1.234, saved 1,5\u00a0M€, Primera línea, 2,5"
    assert notebook.fmt("no {braces} needed") == "no {braces} needed"  # without values the text is left alone


def test_table_html_localized():
    df = pl.DataFrame({"role": ["frontline", "manager"], "n": [640, 12], "rate": [0.1234, None],
                       "revenue": [1234567.5, 2.0], "region": ["Norte", "Sur"]})
    h = notebook.table_html(df, "es", formats={"rate": "pct", "revenue": "money"})
    assert "<th>Puesto</th>" in h and '<th class="num">Ingresos</th>' in h and "<th>Región</th>" in h
    assert "Primera línea" in h and "Jefatura" in h
    assert "12,3\u00a0%" in h and "1.234.568\u00a0€" in h and "–" in h
    assert '<td class="num">640</td>' in h
    en = notebook.table_html(df.to_pandas(), "en", formats={"rate": "pct"})
    assert "<th>Role</th>" in en and "12.3%" in en and "1,234,567.5" in en


def test_table_refuses_person_identifiers():
    with pytest.raises(ValueError, match="employee_id"):
        notebook.table_html(pl.DataFrame({"employee_id": ["a"], "x": [1]}), "en")


def test_show_guards_privacy():
    with pytest.raises(ValueError, match="aggregates only"):
        notebook._check_figure(go.Figure(go.Scatter(x=list(range(6000)), y=list(range(6000)))), notebook.MAX_POINTS,
                               publish=True)  # a published report (interactively: a warning, test_analyst_api)
    notebook._check_figure(go.Figure(go.Scatter(x=list(range(6000)), y=list(range(6000)))), 10_000)
    fig = go.Figure(go.Bar(x=[1], y=[2], hovertemplate="employee_id=%{x}"))
    with pytest.raises(ValueError, match="employee_id"):
        notebook._check_figure(fig, 100)


def test_show_publishes_html_and_plotly_mimetypes(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    notebook._FIG_COUNTER[0] = 0
    notebook.show(go.Figure(go.Bar(x=["a"], y=[1])))
    bundle, raw = shown[0]
    assert raw is True
    assert set(bundle) >= {"application/vnd.plotly.v1+json", "text/html"}
    html = bundle["text/html"]
    assert 'id="sc-fig-1"' in html and "plotly-graph-div" in html and "Plotly.newPlot" in html
    assert "<script src" not in html and "cdn.plot.ly" not in html  # plotly.js comes with the page
    assert json.dumps(bundle["application/vnd.plotly.v1+json"])  # JSON-safe for JupyterLab


def test_theme_is_registered_and_default():
    theme.use()
    assert pio.templates.default == "servicechain"
    assert "servicechain" in pio.templates
    assert "@media print" in theme.stylesheet()


def test_save_results(tmp_path):
    import numpy as np

    notebook.save_results("x", {"a": np.float64(0.5), "b": [np.int64(3)], "d": dt.date(2026, 9, 30),
                                "n": float("nan")}, results_dir=tmp_path)
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 0.5, "b": [3], "d": "2026-09-30", "n": None}
    assert notebook.save_results("y", {"a": 1}, results_dir="") is None  # interactive use: no-op
    with pytest.raises(ValueError):
        notebook.save_results("../evil", {}, results_dir=tmp_path)


def test_setup_resolves_paths_without_loading(tmp_path, monkeypatch):
    monkeypatch.setenv("SERVICECHAIN_ROOT", str(tmp_path))
    ctx = notebook.setup(data_dir="data/demo", quarter="2026Q2", lang="es", results_dir="out/r", load=False)
    assert ctx.data_dir == tmp_path / "data" / "demo" and ctx.results_dir == tmp_path / "out" / "r"
    assert ctx.mapping is None and ctx.quarter == "2026Q2" and ctx.lang == "es"
    assert ctx.pct(0.5) == "50,0\u00a0%"
    with pytest.raises(ValueError):
        notebook.setup(quarter="latest", load=False)
