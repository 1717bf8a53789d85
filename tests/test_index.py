"""The index page: it leads with the summary's headline finding and top actions (only what the evidence
carries), then the cards, each saying what it counts; the executive summary is the first detailed report."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from test_summary import METRICS, _est

from servicechain import i18n, report, summary


def _no_clear_findings(m: dict) -> dict:
    m = copy.deepcopy(m)
    for part in ("retention", "loyalty"):
        for k in list(m[part]["effects"]):
            m[part]["effects"][k] = _est(0.01, -0.2, 0.2)
    m["loyalty"]["customer_retention"]["effects"] = {}
    m["loyalty"]["moments_of_truth"] = []
    m["chain"]["mediation"], m["chain"]["priorities"] = {}, []
    return m


def test_lead_is_the_first_clear_finding_and_only_actions_worth_something() -> None:
    m = copy.deepcopy(METRICS)
    m["finance"]["scenarios"].append({"name": "loss", "label": "A loss", "value_p10": -9e6, "value_p50": -5e6,
                                      "value_p90": -1e6})
    m["finance"]["scenarios"][0]["value_p50"] = -640000.0  # empowerment now loses money: not "worth most"
    lead = summary.index_lead(m, "en")
    first_clear = next(f for f in summary.findings(m, "en") if f.clear)
    assert lead.finding == first_clear.text
    assert not any("empowerment" in a or "A loss" in a for a in lead.actions)
    assert lead.actions and lead.actions_heading.startswith("If the links found are causal")
    assert "not proof of causation" in lead.caveat


def test_lead_without_clear_findings_says_so_and_bolds_nothing() -> None:
    m = _no_clear_findings(METRICS)
    assert not any(f.clear for f in summary.findings(m, "es"))
    lead = summary.index_lead(m, "es")
    assert lead.finding == i18n.t("idx_lead_none", "es") and "**" not in lead.finding


def test_index_page_lead_cards_and_summary_first(tmp_path: Path) -> None:
    m = copy.deepcopy(METRICS)
    m["overview"].update({"voluntary_leavers": 207, "average_headcount": 2760.0,
                          "voluntary_turnover_rate_annualised": 0.3, "early_leavers": 75, "early_days": 90})
    m["finance"]["baseline"] = {"total_cost": 2.5e6, "replacement_cost": 2.2e6, "lost_customer_cost": 3e5}
    m["finance"]["scenarios"][2]["headline"] = True
    pages = [{"href": f"{n}.html", "title": n, "number": n[:2], "name": n}
             for n in ("00_data_quality", "01_retention", "05_executive_summary")]
    html = report.build_index(tmp_path, tmp_path, "2026Q3", "en", m, pages).read_text(encoding="utf-8")
    lead = html[html.index('class="sc-lead"'):html.index('class="sc-kpis"')]
    assert "<strong>" in lead and "**" not in lead  # the summary's bold, as HTML
    assert "If the links found are causal" in lead and "Weekly recognition for everyone" in lead
    assert html.index('class="sc-lead"') < html.index('class="sc-kpis"')
    links = re.findall(r'<a href="([0-9]{2}_[a-z_]+)\.html"', html)
    assert links[0] == "05_executive_summary"
    assert "207 voluntary leavers / average headcount 2,760. About 30% a year." in html
    assert "Of the 207 voluntary leavers, those who left within 90 days" in html
    assert "replacing voluntary leavers €2.2M; customers who did not come back €300k" in html
    assert 'data-kpi="cost_of_turnover"' in html and 'data-kpi="programme_value"' in html
    assert "If the links found are causal: net value a year of “Weekly recognition for everyone”" in html


def _with_history(nps_now: float, nps_prev: float, se: float) -> dict:
    m = copy.deepcopy(METRICS)
    m["overview"]["nps"], m["overview"]["se"] = nps_now, {"nps": se}
    m["overview"]["history"] = [{"quarter": "2026Q2", "nps": nps_prev, "se": {"nps": se}, "headcount": 2700}]
    return m


def test_a_change_within_its_noise_is_not_coloured_and_says_so(tmp_path: Path) -> None:
    m = _with_history(22.6, 22.1, 1.5)  # +0.5 on a difference with noise 1.96 * sqrt(2) * 1.5 = 4.2
    card = next(c for c in report.kpi_cards(m, report.card_history(m, []), "2026Q3", "en") if c["key"] == "nps")
    assert card["delta_class"] == "" and card["delta"] == "no clear change vs. Q2 2026 (+0.5, within the noise of ±4.2)"
    m = _with_history(30.0, 22.1, 1.5)
    card = next(c for c in report.kpi_cards(m, report.card_history(m, []), "2026Q3", "es") if c["key"] == "nps")
    assert card["delta_class"] == "good" and card["delta"].startswith("+7,9 frente a T2 2026")
    # a change without a known noise (headcount, money) is never coloured
    hc = next(c for c in report.kpi_cards(m, report.card_history(m, []), "2026Q3", "en") if c["key"] == "headcount")
    assert hc["delta_class"] == "" and hc["delta"].startswith("+47 vs. Q2 2026")


def test_first_report_already_has_a_trend_from_the_data(tmp_path: Path) -> None:
    m = _with_history(22.6, 22.1, 1.5)
    html = report.build_index(tmp_path, tmp_path, "2026Q3", "en", m, []).read_text(encoding="utf-8")
    nps = html.split('data-kpi="nps"')[1].split("data-kpi=")[0]
    assert "sc-spark" in nps and "Q2 2026: 22.1" in nps


def test_overview_standard_errors_from_the_raw_tables() -> None:
    import polars as pl

    from servicechain import demo, features

    tables, truth = demo.generate(demo.DemoConfig(seed=2, employees=600, quarters=3))
    q = truth["quarters"][-1]
    ov = features.overview(tables, q)
    fb = tables["customer_feedback"].filter(pl.col("date").dt.year().cast(str) + "Q" +
                                            pl.col("date").dt.quarter().cast(str) == q)["nps"].to_numpy()
    p, d, n = (fb >= 9).mean(), (fb <= 6).mean(), len(fb)
    assert ov["nps"] == pytest.approx(100 * (p - d))
    assert ov["se"]["nps"] == pytest.approx(100 * ((p + d - (p - d) ** 2) / n) ** 0.5)
    r = ov["voluntary_turnover_rate"]
    assert ov["se"]["voluntary_turnover_rate"] == pytest.approx((r * (1 - r) / ov["average_headcount"]) ** 0.5)
    assert [h["quarter"] for h in ov["history"]] == truth["quarters"][:-1]
    assert "history" not in ov["history"][0]


def test_money_headlines_carry_the_causal_condition_and_the_placeholder_flag() -> None:
    m = copy.deepcopy(METRICS)
    assert summary.actions_title(m, "en").startswith("If the links found are causal, weekly recognition for everyone")
    assert summary.actions_title(m, "es").startswith("Si los vínculos hallados son causales, reconocimiento semanal")
    for s in m["finance"]["scenarios"]:
        s["value_p50"] = -abs(s["value_p50"])
    assert summary.actions_title(m, "en") == i18n.t("sum_actions_h", "en")  # a loss is never "worth most"
    m = copy.deepcopy(METRICS)
    m["finance"]["scenarios"][2].update(headline=True, programme_cost_placeholder=True)
    card = next(c for c in report.kpi_cards(m, [], "2026Q3", "en") if c["key"] == "programme_value")
    assert "illustrative programme cost" in card["note"]
    m["finance"]["scenarios"][2]["programme_cost_placeholder"] = False
    card = next(c for c in report.kpi_cards(m, [], "2026Q3", "en") if c["key"] == "programme_value")
    assert "illustrative" not in card["note"]


def test_the_conservative_case_stands_next_to_every_headline_money_figure() -> None:
    m = copy.deepcopy(METRICS)
    m["finance"]["scenarios"][2].update(headline=True, conservative_value_p50=120000.0)
    card = next(c for c in report.kpi_cards(m, [], "2026Q3", "en") if c["key"] == "programme_value")
    assert "Conservative case (every assumption at its cautious end): €120k." in card["note"]
    first = summary.top_actions(m, "es")[0]
    assert first.name == m["finance"]["scenarios"][2]["name"] and first.conservative == 120000.0
    assert "Caso prudente (cada supuesto en su extremo cauto): unos 120\u00a0k€." in summary.actions_text(m, "es")
