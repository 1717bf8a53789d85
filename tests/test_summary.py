"""Executive summary (servicechain.summary and notebooks/05_executive_summary.ipynb).

* the text functions on a hand-made metrics dict, in en and es: numbers formatted per language,
  top-3 actions by P50 (combinations left out), findings with their 95% CI in words, the
  causation sentence exactly once;
* graceful degradation: finance, loyalty or chain missing, snapshot data, garbage values, nothing at all;
* reading the results: a run's results folder, or the latest published metrics.json interactively;
* the notebook under papermill with a results folder of fixture JSONs.
"""

from __future__ import annotations

import copy
import json
import math
import re
from pathlib import Path

from conftest import execute_notebook
import pytest

from servicechain import i18n, summary

NB = Path(__file__).resolve().parents[1] / "notebooks" / "05_executive_summary.ipynb"
NBSP = "\u00a0"
# log-odds per recognition a month such that weekly (52/12 a month) halves the exit odds
B_REC = math.log(0.5) / (52 / 12)


def _est(e: float, lo: float, hi: float, n: int = 12000) -> dict:
    return {"estimate": e, "ci_low": lo, "ci_high": hi, "n": n, "se": (hi - lo) / 3.92, "p_value": 0.01, "scale": "x"}


METRICS: dict = {
    "quarter": "2026Q3",
    "overview": {"quarter": "2026Q3", "headcount": 2747, "voluntary_exits": 138, "voluntary_turnover_rate": 0.0502,
                 "nps": 22.59, "nps_responses": 2997, "customers": 4977, "customer_retention_rate": 0.7088},
    "data_quality": {"kind": "panel", "warnings": 2, "quarters": ["2024Q4", "2026Q3"],
                     "tables": {"survey": {"rows": 9000, "rejected": 3}, "employees": {"rows": 3000, "rejected": 0}},
                     "response_rate": {"2026Q2": 0.65, "2026Q3": 0.712}},
    "retention": {
        "kind": "panel", "recognition_source": "events",
        "effects": {"recognition_per_month": _est(B_REC, B_REC - 0.05, B_REC + 0.05),
                    "empowerment": _est(-0.30, -0.40, -0.21), "leadership": _est(-0.35, -0.45, -0.24)},
        "n_obs": 12821, "n_events": 650, "n_people": 3352, "n_clusters": 125, "auc_out_of_time": 0.655,
    },
    "loyalty": {
        "effects": {"recognition_per_month": _est(4.0, 1.8, 6.2, 671), "empowerment": _est(4.5, -0.4, 9.5, 671),
                    "leadership": _est(5.3, 0.6, 10.1, 671), "voluntary_turnover_pct": _est(-0.3, -0.66, 0.02, 671)},
        "customer_retention": {"effects": {"leadership": _est(2.0, 0.5, 3.5, 650),
                                           "voluntary_turnover_pct": _est(-0.2, -0.35, -0.05, 650)}},
        "moments_of_truth": [
            {"touchpoint": "counter", "estimate": 0.18, "ci_low": -0.13, "ci_high": 0.5, "n_obs": 531},
            {"touchpoint": "complaint", "estimate": 1.5, "ci_low": 0.9, "ci_high": 2.1, "n_obs": 151},
        ],
        "n_obs": 671, "n_units": 99,
    },
    "chain": {
        "mediation": {"voluntary_turnover_pct": {"customer_retention_pct": {
            "total": _est(2.0, 1.0, 3.0), "share_mediated": _est(0.25, 0.10, 0.40), "n_obs": 600}}},
        "importance": {}, "priorities": [{"driver": "leadership", "importance": 0.4, "performance": 3.1}],
    },
    "finance": {
        "currency": "EUR", "acquisition_cost_multiple": 6.5, "draws": 2000,
        "assumptions": {"scenarios": [{"name": "all_three", "includes": ["recognition_weekly", "empowerment_plus_half"]},
                                      {"name": "recognition_weekly", "includes": []}]},
        "scenarios": [  # deliberately not in P50 order
            {"name": "empowerment_plus_half", "label": "+0.5 empowerment", "value_p10": 300000.0,
             "value_p50": 640000.0, "value_p90": 1100000.0, "exits_avoided_p50": 40.2},
            {"name": "all_three", "label": "All three together", "value_p10": 900000.0, "value_p50": 2000000.0,
             "value_p90": 3100000.0},
            {"name": "recognition_weekly", "label": {"en": "Weekly recognition for everyone",
                                                     "es": "Reconocimiento semanal para todos"},
             "value_p10": 420000.0, "value_p50": 910000.0, "value_p90": 1500000.0,
             "exits_avoided_p10": 30.0, "exits_avoided_p50": 61.4, "exits_avoided_p90": 90.0,
             "customers_retained_p50": 1830.0},
            {"name": "leadership_plus_half", "label": "+0.5 leadership", "value_p10": -50000.0,
             "value_p50": 700000.0, "value_p90": 1300000.0},
            {"name": "cheap_thing", "label": "Something small", "value_p10": 1000.0, "value_p50": 5000.0, "value_p90": 9000.0},
        ],
    },
}
CAUSATION = {"en": "not proof of causation", "es": "no prueba de causalidad"}


def _without(*parts: str) -> dict:
    m = copy.deepcopy(METRICS)
    for p in parts:
        m.pop(p, None)
    return m


# ------------------------------------------------------------------------------------- text


def test_glance_numbers_per_language() -> None:
    en, es = summary.glance(METRICS, "en"), summary.glance(METRICS, "es")
    assert "Q3 2026" in en and "2,747 employees" in en and "5.0%" in en and "22.6" in en and "70.9%" in en
    assert "T3 2026" in es and "2.747 empleados" in es and f"5,0{NBSP}%" in es and "22,6" in es and f"70,9{NBSP}%" in es
    assert "2,747" not in es and "5.0%" not in es


def test_top_actions_by_p50_without_combinations() -> None:
    acts = summary.top_actions(METRICS, "es")
    assert [a.name for a in acts] == ["recognition_weekly", "leadership_plus_half", "empowerment_plus_half"]
    assert [a.p50 for a in acts] == sorted((a.p50 for a in acts), reverse=True)
    assert acts[0].label == "Reconocimiento semanal para todos" and acts[0].exits_avoided == 61.4
    # the combination is mentioned separately, never as one of the three
    assert "all_three" in [a.name for a in summary.scenarios(METRICS, "en") if a.combined]


def test_actions_text_ranges_currency_people() -> None:
    en = summary.actions_text(METRICS, "en")
    es = summary.actions_text(METRICS, "es")
    assert "**€910k**" in en and "between €420k and €1.5M" in en and "−€50k" in en
    assert f"**910{NBSP}k€**" in es and f"entre 420{NBSP}k€ y 1,5{NBSP}M€" in es
    assert "61 fewer voluntary exits and 1,830 more customers who come back" in en
    assert "61 salidas voluntarias menos y 1.830 clientes más que vuelven" in es
    assert "6.5 times" in en and "6,5 veces" in es
    assert en.index("Weekly recognition") < en.index("+0.5 leadership") < en.index("+0.5 empowerment")
    assert "Something small" not in en
    assert "All three together" in en  # as the combination line


def test_fewer_than_three_actions_said() -> None:
    m = copy.deepcopy(METRICS)
    m["finance"]["scenarios"] = [m["finance"]["scenarios"][0]]
    text = summary.actions_text(m, "en")
    assert text.startswith("1. **+0.5 empowerment**") and i18n.t("sum_actions_fewer", "en") in text


def test_findings_in_words_with_ci() -> None:
    en = summary.findings_text(METRICS, "en")
    es = summary.findings_text(METRICS, "es")
    assert "Employees recognised weekly leave about half as often as" in en
    assert "con reconocimiento semanal se van aproximadamente la mitad que" in es
    # the recognition CI in words: exp((B_REC -/+ 0.05) * 52/12) -> fewer exits
    lo, hi = 1 - math.exp((B_REC + 0.05) * 52 / 12), 1 - math.exp((B_REC - 0.05) * 52 / 12)
    assert f"95% confidence range: {round(lo * 100)}% to {round(hi * 100)}% fewer exits" in en
    assert f"entre un {round(lo * 100)}{NBSP}% y un {round(hi * 100)}{NBSP}% menos de salidas" in es
    assert "26% fewer voluntary exits" in en  # empowerment: 1 - exp(-0.30)
    assert "one more recognition a month each score about 4.0 NPS points higher" in en  # per unit, no extrapolation
    assert "un reconocimiento más al mes obtienen unos 4,0 puntos más de NPS" in es
    assert "complaint handling" in en.lower() and "gestión de reclamaciones" in es
    assert "About 25% of the link between employee experience and customers who come back" in en
    assert "**Act first on leadership:**" in en and "**Actuar primero en el liderazgo:**" in es
    # what a confidence interval means, once
    assert en.count("95 of 100") == 1 and es.count("95 de cada 100") == 1


def test_unclear_findings_say_so() -> None:
    m = copy.deepcopy(METRICS)
    m["loyalty"]["moments_of_truth"] = [{"touchpoint": "web", "estimate": 0.2, "ci_low": -0.1, "ci_high": 0.5}]
    fs = summary.loyalty_findings(m, "en")
    mot = [f for f in fs if f.key.startswith("moments_of_truth")][0]
    assert not mot.clear and "compatible with no difference" in mot.text and "estimate is for the website" in mot.text
    clear = [f for f in summary.retention_findings(METRICS, "en")]
    assert all(f.clear and "no difference" not in f.text for f in clear)


def test_no_mediation_share_when_the_total_link_is_unclear() -> None:
    m = copy.deepcopy(METRICS)
    m["chain"]["mediation"]["voluntary_turnover_pct"]["customer_retention_pct"]["total"] = _est(0.5, -0.5, 1.5)
    assert not any(f.key.startswith("chain.mediation") for f in summary.chain_findings(m, "en"))


@pytest.mark.parametrize("lang", ["en", "es"])
@pytest.mark.parametrize("drop", [(), ("finance",), ("loyalty",), ("finance", "loyalty", "chain"), ("overview",)])
def test_causation_sentence_exactly_once(lang: str, drop: tuple[str, ...]) -> None:
    text = summary.build(_without(*drop), lang, threshold=5).markdown()
    assert text.count(CAUSATION[lang]) == 1
    assert len(re.findall("causation" if lang == "en" else "causalidad", text)) == 1


@pytest.mark.parametrize("lang", ["en", "es"])
def test_full_summary_sections_and_no_missing(lang: str) -> None:
    s = summary.build(METRICS, lang, threshold=7)
    assert [x.key for x in s.sections] == ["glance", "actions", "findings", "causation", "methods"]
    assert s.missing == []
    assert s.sections[1].title.startswith("If the links found are causal, weekly recognition" if lang == "en"
                                          else "Si los vínculos hallados son causales, reconocimiento semanal")
    methods = s.section("methods").body
    assert ("12,821" if lang == "en" else "12.821") in methods and ("0.66" if lang == "en" else "0,66") in methods
    assert ("71%" if lang == "en" else f"71{NBSP}%") in methods  # response rate of the report quarter
    assert " 7 " in methods  # the suppression rule with the run's threshold
    assert s.to_results() == {"top_actions": ["recognition_weekly", "leadership_plus_half", "empowerment_plus_half"],
                              "findings": [f.key for f in s.findings], "missing": []}


@pytest.mark.parametrize("lang", ["en", "es"])
def test_degrades_without_finance(lang: str) -> None:
    s = summary.build(_without("finance"), lang)
    assert s.section("actions") is None and s.figure is None and s.actions == []
    assert [m.part for m in s.missing] == ["finance"]
    assert i18n.t("nb_04", lang) in s.missing[0].why
    assert "€" not in s.markdown()
    assert s.section("findings") is not None


@pytest.mark.parametrize("lang", ["en", "es"])
def test_degrades_without_loyalty(lang: str) -> None:
    s = summary.build(_without("loyalty"), lang)
    assert [m.part for m in s.missing] == ["loyalty"]
    assert not any(f.key.startswith(("nps.", "cr.", "moments_of_truth")) for f in s.findings)
    assert any(f.key.startswith("retention.") for f in s.findings) and s.section("actions") is not None


def test_loyalty_ran_but_could_not_fit_is_said_differently() -> None:
    m = copy.deepcopy(METRICS)
    m["loyalty"] = {"effects": {}, "moments_of_truth": []}
    s = summary.build(m, "en")
    why = next(x.why for x in s.missing if x.part == "loyalty")
    assert "ran, but" in why


@pytest.mark.parametrize("lang", ["en", "es"])
def test_snapshot_only_00_and_01(lang: str) -> None:
    m = {"quarter": "2026Q3",
         "data_quality": {"kind": "snapshot", "warnings": 0, "tables": {"snapshot": {"rows": 500, "rejected": 0}},
                          "quarters": [], "response_rate": {}},
         "retention": {"kind": "snapshot", "effects": {"satisfaction": _est(-0.4, -0.6, -0.2, 500)}, "n": 500}}
    s = summary.build(m, lang, threshold=5)
    text = s.markdown()
    assert {x.part for x in s.missing} == {"overview", "loyalty", "chain", "finance"}
    assert all(x.why == i18n.t("sum_why_snapshot", lang) for x in s.missing if x.part != "overview")
    assert text.count(CAUSATION[lang]) == 1
    assert i18n.t("sum_timing_snapshot", lang) in text and i18n.t("sum_timing_lagged", lang) not in text
    assert i18n.t("sum_glance_none", lang) in text
    assert ("33% fewer" if lang == "en" else f"un 33{NBSP}% menos de") in text  # 1 - exp(-0.4)


@pytest.mark.parametrize("metrics", [
    {},
    {"quarter": "2026Q3"},
    {"finance": "oops", "retention": [], "loyalty": None, "overview": {"headcount": "many"}},
    {"finance": {"scenarios": [None, {"value_p50": "x"}, {"name": "nan", "value_p50": float("nan")}]},
     "retention": {"effects": {"leadership": {"estimate": None}}},
     "loyalty": {"effects": {"x": "y"}, "customer_retention": [], "moments_of_truth": [{"touchpoint": None}]},
     "chain": {"priorities": [None], "mediation": {"voluntary_turnover_pct": "z"}},
     "data_quality": {"response_rate": {"2026Q1": None}, "tables": {"a": None}, "warnings": "two"}},
])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_never_crashes_on_missing_or_garbage(metrics: dict, lang: str) -> None:
    s = summary.build(metrics, lang)
    text = s.markdown()
    assert text.count(CAUSATION[lang]) == 1
    assert {m.part for m in s.missing} == {"overview", "retention", "loyalty", "chain", "finance"}
    assert s.figure is None and "None" not in text and "nan" not in text.lower().replace("financ", "")


def test_figure_three_actions_aggregates_only() -> None:
    fig = summary.actions_figure(METRICS, "es")
    (bar,) = fig.data
    assert list(bar.y) == ["+0.5 empowerment", "+0.5 leadership", "Reconocimiento semanal para todos"]
    assert list(bar.x) == [640000.0, 700000.0, 910000.0]  # drawn bottom-up: the largest on top
    assert list(bar.error_x.array) == [460000.0, 600000.0, 590000.0]
    assert list(bar.error_x.arrayminus) == [340000.0, 750000.0, 490000.0]
    assert fig.layout.title.text == f"Incluso en el extremo bajo de su rango (P10), «Reconocimiento semanal para todos» vale 420{NBSP}k€ al año"
    m = copy.deepcopy(METRICS)
    m["finance"]["scenarios"][2]["value_p10"] = -1.0
    assert "da pérdidas" in summary.actions_figure(m, "es").layout.title.text
    assert fig.layout.separators == ",."
    assert "employee_id" not in fig.to_json()
    assert summary.actions_figure(_without("finance"), "es") is None


def test_every_summary_word_in_both_languages() -> None:
    keys = [k for k in i18n.WORDS["en"] if k.startswith("sum_")]
    assert len(keys) > 60
    for k in keys:
        assert k in i18n.WORDS["es"], k
        assert re.findall(r"{(\w+)}", i18n.WORDS["en"][k]) == re.findall(r"{(\w+)}", i18n.WORDS["es"][k]) or \
            set(re.findall(r"{(\w+)}", i18n.WORDS["en"][k])) == set(re.findall(r"{(\w+)}", i18n.WORDS["es"][k])), k


# ------------------------------------------------------------------------------------- reading the results


def test_load_metrics_from_a_run(tmp_path: Path) -> None:
    for name in ("overview", "retention", "summary"):
        (tmp_path / f"{name}.json").write_text(json.dumps(METRICS.get(name, {"old": 1})), encoding="utf-8")
    (tmp_path / "finance.json").write_text("{not json", encoding="utf-8")
    got = summary.load_metrics(tmp_path, "2026Q3")
    assert got.source == "run" and set(got.metrics) == {"overview", "retention", "quarter"}
    assert got.metrics["quarter"] == "2026Q3"


def test_load_metrics_interactive_latest_report(tmp_path: Path) -> None:
    for q, hc in (("2026Q2", 1), ("2026Q3", 2)):
        (tmp_path / q).mkdir()
        (tmp_path / q / "metrics.json").write_text(json.dumps({"overview": {"headcount": hc}}), encoding="utf-8")
    (tmp_path / "2026Q4").mkdir()  # no metrics.json: not a report
    got = summary.load_metrics("", "latest", tmp_path)
    assert (got.source, got.quarter, got.metrics["overview"]["headcount"]) == ("report", "2026Q3", 2)
    assert summary.load_metrics(None, "2026Q2", tmp_path).metrics["overview"]["headcount"] == 1
    none = summary.load_metrics("", "2025Q1", tmp_path)
    assert none.source == "none" and none.metrics == {}
    assert "servicechain run" in summary.no_results_text("2025Q1", "es") and "T1 2025" in summary.no_results_text("2025Q1", "es")


# ------------------------------------------------------------------------------------- the notebook


def _outputs(path: Path) -> tuple[str, str]:
    """(all markdown shown, all html shown) of an executed notebook."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    md, html = [], []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            assert o.get("output_type") != "error", o
            md.append(o.get("data", {}).get("text/markdown", ""))
            html.append(o.get("data", {}).get("text/html", ""))
    return "\n".join(md), "\n".join(html)


def test_notebook_stored_clean() -> None:
    import nbformat

    stored = nbformat.read(str(NB), as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in stored.cells if c.cell_type == "code")
    (params,) = [c for c in stored.cells if "parameters" in c.metadata.get("tags", [])]
    names = [line.split("=")[0].strip() for line in params.source.splitlines() if "=" in line]
    assert names == ["data_dir", "quarter", "lang", "anonymity_threshold", "seed", "mapping", "assumptions", "results_dir"]
    visible_md = [c for c in stored.cells if c.cell_type == "markdown" and "remove-cell" not in c.metadata.get("tags", [])]
    assert visible_md == []  # every visible word comes from i18n


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_notebook_under_papermill(tmp_path: Path) -> None:
    full, part = tmp_path / "full", tmp_path / "partial"
    for folder, names in ((full, ("overview", "data_quality", "retention", "loyalty", "chain", "finance")),
                          (part, ("data_quality", "retention"))):
        folder.mkdir()
        for n in names:
            (folder / f"{n}.json").write_text(json.dumps(METRICS[n]), encoding="utf-8")
    for folder, lang in ((full, "es"), (part, "en")):
        out = tmp_path / f"05_{lang}.ipynb"
        execute_notebook("05_executive_summary", out, data_dir=str(tmp_path / "no-data"), quarter="2026Q3", lang=lang,
                         results_dir=str(folder), anonymity_threshold=5)
        md, html = _outputs(out)
        assert md.count(CAUSATION[lang]) == 1
        saved = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        if lang == "es":
            assert "# Resumen ejecutivo" in md and "## El trimestre de un vistazo" in md and "2.747 empleados" in md
            assert "plotly-graph-div" in html and "sc-fig-1" in html  # the one chart
            assert saved["top_actions"] == ["recognition_weekly", "leadership_plus_half", "empowerment_plus_half"]
            assert saved["missing"] == []
        else:
            assert "plotly-graph-div" not in html
            assert "## Not available in this report" in md and "Money estimates" in md
            assert set(saved["missing"]) == {"overview", "loyalty", "chain", "finance"}


def test_retention_findings_in_driver_order_whatever_the_json_order() -> None:
    m = copy.deepcopy(METRICS)
    m["retention"]["effects"] = dict(sorted(m["retention"]["effects"].items()))  # metrics.json sorts keys
    keys = [f.key for f in summary.retention_findings(m, "en")]
    assert keys == ["retention.recognition_per_month", "retention.empowerment", "retention.leadership"]


# ------------------------------------------------------------------------------------- words no stronger than the CI


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_null_result_is_never_bold(lang: str) -> None:
    """Every finding whose 95% CI includes no effect is printed without bold, in both languages."""
    m = copy.deepcopy(METRICS)
    m["loyalty"]["effects"] = {"empowerment": _est(4.5, -0.4, 9.5, 671)}
    m["loyalty"]["customer_retention"]["effects"] = {"leadership": _est(0.3, -0.5, 1.1, 650)}
    m["chain"]["mediation"]["voluntary_turnover_pct"]["customer_retention_pct"]["share_mediated"] = _est(0.1, -0.1, 0.3)
    fs = summary.retention_findings(m, lang) + summary.loyalty_findings(m, lang) + summary.chain_findings(m, lang)
    unclear = [f for f in fs if f.ci_low <= (1.0 if f.key.startswith("retention.") else 0.0) <= f.ci_high]
    assert len(unclear) >= 3
    for f in unclear:
        assert not f.clear and "**" not in f.text, f.key
    text = summary.findings_text(m, lang)
    for f in unclear:
        assert f.text in text


def test_moment_of_truth_named_only_when_it_clears_the_runner_up() -> None:
    m = copy.deepcopy(METRICS)
    # the largest touchpoint excludes zero but overlaps the second: no touchpoint is named as *the* moment of truth
    m["loyalty"]["moments_of_truth"] = [
        {"touchpoint": "complaint", "estimate": 1.5, "ci_low": 0.2, "ci_high": 2.8, "n_obs": 151},
        {"touchpoint": "counter", "estimate": 1.0, "ci_low": 0.4, "ci_high": 1.6, "n_obs": 531}]
    mot = [f for f in summary.loyalty_findings(m, "en") if f.key.startswith("moments_of_truth")][0]
    assert not mot.clear and mot.text.startswith("No moment of truth stands out") and "**" not in mot.text
    # clear of zero and of the runner-up: named, in bold
    m["loyalty"]["moments_of_truth"][1].update(estimate=0.1, ci_low=-0.2, ci_high=0.15)
    mot = [f for f in summary.loyalty_findings(m, "en") if f.key.startswith("moments_of_truth")][0]
    assert mot.clear and mot.text.startswith("**Complaint handling is the moment of truth")


@pytest.mark.parametrize("share, words", [((0.25, 0.10, 0.40), "About 25% of the link"),
                                          ((-0.12, -0.20, -0.04), "does not carry the link"),
                                          ((0.05, -0.10, 0.20), "We cannot tell whether")])
def test_mediation_sentence_follows_sign_and_ci(share: tuple, words: str) -> None:
    m = copy.deepcopy(METRICS)
    m["chain"]["mediation"]["voluntary_turnover_pct"]["customer_retention_pct"]["share_mediated"] = _est(*share)
    f = [f for f in summary.chain_findings(m, "en") if f.key.startswith("chain.mediation")][0]
    assert words in f.text
    assert ("tend to keep more customers" in f.text) == (share[1] > 0)


def test_fix_first_names_a_driver_only_from_a_clear_effect() -> None:
    """Importance shares are descriptive: the sentence names the quadrant's drivers and the lowest rated, and a
    driver to act on only when its own hazard or loyalty estimate excludes no effect."""
    m = copy.deepcopy(METRICS)
    m["chain"]["priorities"] = [{"driver": "engagement", "importance": 0.47, "performance": 2.8},
                                {"driver": "recognition", "importance": 0.25, "performance": 2.3}]
    pick = lambda mm, lang="en": next(f for f in summary.findings(mm, lang) if f.key.startswith("chain.priority"))  # noqa: E731
    f = pick(m)
    assert f.clear and f.key == "chain.priority.recognition"
    assert f.text.startswith("**Act first on recognition:**") and "engagement and recognition" in f.text
    assert "recognition is rated lowest, 2.3 of 5" in f.text
    assert "2,3 de 5" in pick(m, "es").text
    m["retention"]["effects"]["recognition_per_month"] = _est(-0.01, -0.1, 0.08)
    m["loyalty"]["effects"]["recognition_per_month"] = _est(1.0, -1.0, 3.0)
    f = pick(m)
    assert not f.clear and "**" not in f.text
    assert f.text.startswith("Engagement and recognition weigh most") and "none has an estimated link" in f.text
