"""The Spanish words (issue 13): the glossary (docs/glosario.md) holds across catalogs/es.yml, the assumption
sources have Spanish text, and no Spanish page of a demo run shows English words (toolbar tooltips included).

The page tests read conftest.es_demo_run, the Spanish demo run tests/test_end_to_end.py also reads (same
"papermill" xdist group, so the suite runs once per test session).
"""

from __future__ import annotations

import html as _html
import json
import re
from pathlib import Path

import pytest

from servicechain import assumptions, i18n

ROOT = Path(__file__).resolve().parents[1]
ES_YML = ROOT / "lib" / "servicechain" / "catalogs" / "es.yml"

# ------------------------------------------------------------------------------------ the glossary in es.yml

# docs/glosario.md's "no usar" column, as patterns over a Spanish value (case-insensitive). Each says why.
BANNED = {
    r"\bpersona-trimestres\b": "plural of persona-trimestre is personas-trimestre",
    r"\bpersonas-trimestres\b": "personas-trimestre: only the first noun takes the plural",
    r"\btrimestres?-persona": "persona-trimestre, not trimestre-persona",
    r"\bunidad-trimestres\b": "plural of unidad-trimestre is unidades-trimestre",
    r"\bunidades-trimestres\b": "unidades-trimestre: only the first noun takes the plural",
    r"\btrimestres?-unidad": "unidad-trimestre, not trimestre-unidad",
    r"punto-de-contacto-trimestre": "combinaciones de punto de contacto y trimestre",
    r"\b(?:los|las|unas|unos|de|\d+|\})\s+(?:persona|unidad)-trimestre\b": "a plural count needs the plural compound",
    r"\bmomios\b": "razón de posibilidades / posibilidades (glossary: momios is Mexican only)",
    r"\b(?:cociente|razón) de probabilidades\b": "an odds ratio is not a ratio of probabilities: razón de posibilidades",
    r"\bodds\b": "razón de posibilidades",
    r"\bcostes?\b": "costo (used in all of Latin America; the RAE accepts both)",
    r"\bbajas? (?:voluntarias?|tempranas?)\b": "salidas voluntarias / salidas tempranas",
    r"\bplantilla\b": "el personal (rotación de personal)",
    r"(?<![\w-])EX(?![\w-])": "experiencia del empleado, never a bare EX",
    r"\bmomentos? de la verdad\b": "momentos de verdad",
    r"\bcosto de reemplazo\b|\bproporciones? de reemplazo\b": "costo de sustitución",
    r"\bdoss?ier\b": "informe para la alta dirección",
    r"\bDesliza\b|\bpulsa\b|\belige\b|\babre\b": "usted, never tú",
    r"\ben\s+\{(?:quarter|q|q0|q1|test_q)(?::quarter)?\}": "a quarter takes the article: en el {quarter}",
    r"\bde\s+\{q0(?::quarter)?\}\s+a\s+\{q1": "del {q0} al {q1}",
}

# English words that must not be left in a Spanish value (placeholders, `code` and command lines removed first)
ENGLISH_IN_CATALOG = [r"\bthe\b", r"\band\b", r"\bof\b", r"\bwith\b", r"\bquarter\b", r"\bcustomers?\b",
                      r"\bturnover\b", r"\bleavers?\b", r"\bdrivers?\b", r"\bodds ratio\b", r"\bper point\b",
                      r"\bheadline\b", r"\bscore\b", r"\bsnapshot\b", r"\bwarning\b", r"\bboard\b", r"\bpack\b"]


def es_values() -> dict[str, str]:
    return dict(i18n.WORDS["es"])


def _prose(value: str) -> str:
    """A catalog value without its placeholders, `code`, command-line options and HTML tags."""
    s = re.sub(r"\{[^{}]*\}", " ", value)
    s = re.sub(r"`[^`]*`", " ", s)
    s = re.sub(r"--[\w-]+(?:\s+\S+)?|servicechain \w+", " ", s)
    return re.sub(r"<[^>]+>", " ", s)


def test_es_catalog_follows_the_glossary() -> None:
    bad = [f"{key}: {m.group(0)!r} ({why})"
           for key, value in es_values().items()
           for pat, why in BANNED.items()
           for m in [re.search(pat, value, flags=re.I if not pat.startswith("(?<![") else 0)] if m]
    assert not bad, "es.yml breaks docs/glosario.md:\n" + "\n".join(bad)


def test_es_catalog_has_no_english_words_left() -> None:
    bad = [f"{key}: {m.group(0)!r} in {value[:80]!r}"
           for key, value in es_values().items()
           for pat in ENGLISH_IN_CATALOG
           for m in [re.search(pat, _prose(value), flags=re.I)] if m]
    assert not bad, "\n".join(bad)


def glossary_no_usar() -> list[str]:
    """The "no usar" column of docs/glosario.md's tables, one variant per item (remarks in parentheses left out)."""
    doc = (ROOT / "docs" / "glosario.md").read_text(encoding="utf-8")
    out = []
    for line in doc.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        last = re.sub(r"\([^)]*\)", "", line.strip().strip("|").split("|")[-1]).strip()
        if last == "no usar":
            continue
        out += [v.strip().removesuffix(" sola").strip() for v in re.split(r",| / ", last) if v.strip()]
    return out


def test_es_catalog_uses_none_of_the_glossarys_no_usar_variants() -> None:
    """The glossary's own table is enforced, so the document and the catalog cannot drift apart."""
    variants = glossary_no_usar()
    assert {"persona-trimestres", "unidad-trimestres", "momios", "cociente de probabilidades", "coste", "plantilla",
            "momentos de la verdad", "pp", "EX"} <= set(variants)
    bad = [f"{key}: {v!r}" for key, value in es_values().items() for v in variants
           if re.search(r"(?<![\w-])" + re.escape(v) + r"(?![\w-])", _prose(value), 0 if v.isupper() else re.I)]
    assert not bad, "es.yml uses what docs/glosario.md says not to use:\n" + "\n".join(bad)


def test_banned_patterns_catch_what_they_ban() -> None:
    """The glossary check can fail: each rule catches the variant it bans and passes the right form."""
    cases = {  # (wrong, right) per rule
        r"\bpersona-trimestres\b": ("1.000 persona-trimestres", "1.000 personas-trimestre"),
        r"\bunidad-trimestres\b": ("30 unidad-trimestres", "30 unidades-trimestre"),
        r"\b(?:los|las|unas|unos|de|\d+|\})\s+(?:persona|unidad)-trimestre\b": ("{n} unidad-trimestre", "cada unidad-trimestre"),
        r"\bmomios\b": ("Razón de momios", "Razón de posibilidades"),
        r"\bcostes?\b": ("Coste del programa", "Costo del programa"),
        r"(?<![\w-])EX(?![\w-])": ("EX → mediador (a)", "Experiencia del empleado → mediador (a), IBEX"),
        r"\ben\s+\{(?:quarter|q|q0|q1|test_q)(?::quarter)?\}": ("costó 3 en {quarter}", "costó 3 en el {quarter}"),
    }
    for pat, (wrong, right) in cases.items():
        flags = 0 if pat.startswith("(?<![") else re.I
        assert re.search(pat, wrong, flags) and not re.search(pat, right, flags), pat


def test_glossary_doc_names_every_banned_rule_and_the_chosen_odds_ratio_term() -> None:
    doc = (ROOT / "docs" / "glosario.md").read_text(encoding="utf-8")
    for word in ("personas-trimestre", "unidades-trimestre", "razón de posibilidades", "cliente interno",
                 "momentos de verdad", "cultura del elogio", "empoderamiento", "liderazgo con el ejemplo",
                 "experiencia del empleado (EX"):
        assert word in doc, word
    es = es_values()
    assert es["odds_ratio_ci"] == "Razón de posibilidades (IC 95 %)"
    assert es["chain_col_a"] == "Experiencia del empleado → mediador (a)"
    assert i18n.t("chain_col_a", "en") == "Employee experience → mediator (a)"


# ------------------------------------------------------------------------------ assumption sources in Spanish

def test_every_default_assumption_has_a_spanish_source() -> None:
    a = assumptions.defaults()
    assert a.missing_source_es() == []
    every = [*a.params.values(), *a.replacement_share.values(),
             *(p for s in a.scenarios for p in s.cost.values() if p.value)]
    assert len(every) >= 14
    for p in every:
        assert p.source_es and p.source_es != p.source, p.key
        assert p.source_in("es") == p.source_es and p.source_in("en") == p.source and p.source_in("es-MX") == p.source_es
    m = a["acquisition_cost_multiple"]
    # citations and titles stay as published; the sentence around them is Spanish
    assert '"The Value of Keeping the Right Customers", Harvard Business Review' in m.source_es
    assert m.source_es.startswith("Regla práctica de nuestros usuarios")
    assert "Boushey" in a.replacement_share["frontline"].source_es and "salario anual" in a.replacement_share["frontline"].source_es


def test_a_users_source_without_spanish_falls_back_with_a_warning() -> None:
    a = assumptions.from_text(
        "margin_share: {value: 0.42, source: 'Finance, FY2025 accounts'}\n"
        "retention_cost_share_of_revenue: {value: 0.04, source: 'Loyalty budget 2025', source_es: 'Presupuesto de fidelización 2025'}\n"
        "acquisition_cost_multiple: 8\n", name="mine.yml")
    assert a.missing_source_es() == ["margin_share"]
    assert a["margin_share"].source_in("es") == "Finance, FY2025 accounts"  # shown as written, in English
    assert a["retention_cost_share_of_revenue"].source_in("es") == "Presupuesto de fidelización 2025"
    assert a["acquisition_cost_multiple"].source_in("es") == "su archivo de supuestos mine.yml"  # no source written
    w = assumptions.source_es_warning(a, "mine.yml")
    assert w is not None and "margin_share" in w and "source_es:" in w and "retention_cost" not in w
    assert assumptions.source_es_warning(assumptions.defaults(), "x.yml") is None
    with pytest.raises(assumptions.AssumptionsError, match="source_es"):
        assumptions.from_text("margin_share: {value: 0.4, source: 'x', source_es: ' '}\n")


def test_run_in_spanish_logs_the_missing_spanish_sources(tmp_path: Path, panel_dir: Path) -> None:
    """``servicechain run --lang es --assumptions FILE`` says which sources will show in English (before any
    notebook: here there are none to run, so the run stops right after)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from servicechain import cli

    mine = tmp_path / "mine.yml"
    mine.write_text("margin_share: {value: 0.42, source: 'Finance, FY2025 accounts'}\n", encoding="utf-8")
    (tmp_path / "no_notebooks").mkdir()
    logs = {}
    for lang in ("es", "en"):
        err = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            cli.main(["run", "--data", str(panel_dir), "--out", str(tmp_path / f"out_{lang}"), "--lang", lang,
                      "--assumptions", str(mine), "--notebooks-dir", str(tmp_path / "no_notebooks")])
        logs[lang] = err.getvalue()
    assert "mine.yml: 1 source(s) have no Spanish text" in logs["es"] and "margin_share" in logs["es"]
    assert "no Spanish text" not in logs["en"]


def test_validate_checks_an_assumptions_file_and_warns_about_missing_spanish_sources(tmp_path: Path, panel_dir: Path,
                                                                                    capsys) -> None:
    from servicechain import cli

    mine = tmp_path / "mine.yml"
    mine.write_text("margin_share: {value: 0.42, source: 'Finance, FY2025 accounts'}\n", encoding="utf-8")
    assert cli.main(["validate", "--data", str(panel_dir), "--assumptions", str(mine)]) == 0
    out = capsys.readouterr().out
    assert "Assumptions mine.yml: OK" in out and "warning  mine.yml: 1 source(s) have no Spanish text" in out
    mine.write_text("margin_share: {value: 0.42, source: 'Finance', source_es: 'Finanzas'}\n", encoding="utf-8")
    assert cli.main(["validate", "--data", str(panel_dir), "--assumptions", str(mine)]) == 0
    out = capsys.readouterr().out
    assert "Assumptions mine.yml: OK" in out and "no Spanish text" not in out
    mine.write_text("margin_share: 7\n", encoding="utf-8")
    assert cli.main(["validate", "--data", str(panel_dir), "--assumptions", str(mine)]) != 0
    assert "margin share must be between 0 and 1" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- the Spanish pages of a run

# English words a Spanish page must not show. Chosen to have no false positives in Spanish: whole words only,
# none of them a Spanish word (no "a", "de", "real", "total", "online"...); plotly's toolbar words included.
ENGLISH_ON_PAGE = [
    r"\bthe\b", r"\band\b", r"\bof\b", r"\bwith\b", r"\bwhich\b", r"\bodds ratio\b", r"\bodds\b",
    r"\bDownload plot\b", r"\bZoom\b", r"\bPan\b", r"\bAutoscale\b", r"\bReset axes\b", r"\bProduced with Plotly\b",
    r"\bBox Select\b", r"\bLasso Select\b", r"\bper point\b", r"\bquarters?\b", r"\bcustomers?\b", r"\bturnover\b",
    r"\bleavers?\b", r"\bdrivers?\b", r"\bemployees?\b", r"\bscenario\b", r"\bheadline\b", r"\bbetween\b",
    r"\bweekly\b", r"\bmonthly\b", r"\bretention\b", r"\bestimate\b", r"\bsnapshot\b", r"\bpeople\b",
]
# Plotly's text attributes a reader sees (titles, axes, legends, labels, hovers)
_TEXT_KEYS = {"text", "title", "name", "hovertemplate", "texttemplate", "ticktext", "hovertext", "label"}


def _visible_text(page: str) -> str:
    """The page's text outside scripts and styles, tags removed, entities decoded."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<!--.*?-->", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", _html.unescape(re.sub(r"<[^>]+>", " ", text)).replace("\u00a0", " "))


def _figure_words(page: str) -> list[str]:
    """Every reader-facing string of every plotly figure on the page (Plotly.newPlot(id, data, layout, ...))."""
    dec = json.JSONDecoder()
    out: list[str] = []

    def walk(v, key=None, inside=()):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k, (*inside, key))
        elif isinstance(v, list):
            for x in v:
                walk(x, key, inside)
        elif isinstance(v, str) and key in _TEXT_KEYS:
            if key == "name" and {"updatemenus", "sliders"} & set(inside):
                return  # a menu's or slider's name is an id for templates, never drawn
            out.append(re.sub(r"%\{[^}]*\}|<[^>]+>", " ", v))

    for m in re.finditer(r"Plotly\.newPlot\(\s*\"[^\"]+\",\s*", page):
        data, end = dec.raw_decode(page, m.end())
        layout, _ = dec.raw_decode(page, re.compile(r"\s*,\s*").match(page, end).end())
        walk(data)
        walk(layout)
    return out


def _english(text: str) -> list[str]:
    """The English words of ``text``, leaving out what stays as published: the titles of cited works (in double
    quotes: "The Value of Keeping the Right Customers"; Spanish quotes are «»), and file names (employees.parquet)."""
    text = re.sub(r'"[^"]{3,200}"|“[^”]{3,200}”', " ", text)
    text = re.sub(r"[\w.-]+\.(?:parquet|csv|xlsx|yml|json|html|pdf)\b", " ", text)
    return sorted({m.group(0) for pat in ENGLISH_ON_PAGE for m in re.finditer(pat, text)})


def test_the_english_word_list_has_no_false_positives_on_spanish_and_catches_english() -> None:
    spanish = ("Las salidas voluntarias y los tres factores: de 2,3 a 4,1 p. p.; Total; real; Panel de RR. HH.; "
               "Zoomorfo; Pantalla; empleados, clientes, rotación, escenario, personas-trimestre, panorama, "
               "Descargar el gráfico como PNG, Acercar, Desplazar, Autoescalar, Restablecer los ejes")
    assert _english(spanish) == []
    assert _english('Gallo (2014), "The Value of Keeping the Right Customers"; employees.parquet') == []
    assert _english("«the customers»") == ["customers", "the"]  # Spanish quotes are not a cited title
    for word in ("Download plot as a png", "Zoom in", "Pan", "Autoscale", "Reset axes", "odds ratio",
                 "the customers", "2 per point", "Produced with Plotly"):
        assert _english(word), word
    page = ('<p>Hola</p><script>var s = "the customers";</script><style>.zoom{}</style>'
            '<script>Plotly.newPlot("f1", [{"name": "Voluntary turnover", "x": [1]}], {"title": {"text": "Hola"}, '
            '"updatemenus": [{"name": "scenario", "buttons": [{"label": "Escenario"}]}]}, {})</script>')
    assert _english(_visible_text(page)) == []  # scripts are not visible text ...
    assert _english(" ".join(_figure_words(page))) == ["turnover"]  # ... but a chart's words are read from its JSON


def _pages(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("*.html"))


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_no_spanish_page_of_a_demo_run_shows_english_words(es_demo_run) -> None:
    pages = _pages(es_demo_run["dir"])
    assert len(pages) >= 7  # index, six notebooks, the one-file pack
    found = {}
    for path in pages:
        page = path.read_text(encoding="utf-8")
        words = _english(_visible_text(page)) + [f"chart: {w}" for w in _english(" ".join(_figure_words(page)))]
        if words:
            found[path.name] = words
    assert not found, f"English words on Spanish pages: {found}"


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_spanish_money_page_shows_the_assumption_sources_in_spanish(es_demo_run) -> None:
    money = _visible_text((es_demo_run["dir"] / "04_financial_impact.html").read_text(encoding="utf-8"))
    assert "Regla práctica de nuestros usuarios" in money and "Practitioner heuristic" not in money
    assert "Estimación central (punto medio)" in money and "Central estimate" not in money
    assert "Derivado:" in money and "Derived:" not in money  # the 'auto' values say how, in Spanish


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_spanish_pages_register_plotlys_spanish_locale_for_the_toolbar(es_demo_run) -> None:
    """Toolbar tooltips live in plotly.js: a Spanish page registers plotly's Spanish locale and makes it the default."""
    for path in _pages(es_demo_run["dir"]):
        page = path.read_text(encoding="utf-8")
        if "Plotly.newPlot" not in page:
            continue
        scripts = page + "".join((path.parent / src).read_text(encoding="utf-8")
                                 for src in re.findall(r'<script[^>]+src="([^":]+)"', page) if (path.parent / src).is_file())
        assert 'moduleType:"locale",name:"es"' in scripts, path.name
        assert '"Download plot as a png":"Descargar gráfico como png"' in scripts or "Descargar" in scripts, path.name
        assert re.search(r'setPlotConfig\(\{\s*"locale":\s*"es"\s*\}\)|"locale":\s*"es"', scripts), path.name
