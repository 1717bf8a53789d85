"""Pilots (issue 16): stratified randomisation, the stated power, the DiD evaluation, the CLI and its pages."""

from __future__ import annotations

import json
import re

import numpy as np
import polars as pl
import pytest
import yaml

from servicechain import cli, demo, i18n, pilot
from servicechain import quarters as Q


@pytest.fixture(scope="module")
def org():
    tables, truth = demo.generate(demo.DemoConfig(seed=11, employees=1500))
    return tables, truth


@pytest.fixture(scope="module")
def org_pilot():
    tables, truth = demo.generate(demo.DemoConfig(seed=11, employees=1500, pilot=demo.DemoPilot(effect=9.0, units=16)))
    return tables, truth


@pytest.fixture(scope="module")
def org_dir(org, tmp_path_factory):
    data = tmp_path_factory.mktemp("pilot-org") / "data"
    demo.write(*org, data)
    return data


def test_assignment_is_seeded_and_stratified(org):
    tables, _ = org
    panel = pilot.unit_outcomes(tables, "nps")
    a = pilot.design(tables, "weekly recognition", 12, seed=3, panel=panel)
    b = pilot.design(tables, "weekly recognition", 12, seed=3, panel=panel)
    c = pilot.design(tables, "weekly recognition", 12, seed=4, panel=panel)
    assert a.assignment.equals(b.assignment)
    assert not a.assignment.equals(c.assignment)
    assert (a.n_pilot, a.n_comparison) == (12, 12)
    counts = a.assignment.group_by("stratum").agg((pl.col("group") == "pilot").sum().cast(pl.Int64).alias("p"),
                                                    pl.len().cast(pl.Int64).alias("n"))
    assert (counts["p"] * 2 - counts["n"]).abs().max() <= 2  # each stratum split (nearly) half and half
    assert set(a.assignment["unit_id"]) <= set(a.eligible_units)
    assert a.start_quarter == Q.shift(max(panel["quarter"]), 1)
    # the stated MDE and power agree with each other, and more units detect smaller effects
    v = a.variance
    assert pilot.power_for(a.mde, v.change_sd, 12, 12) == pytest.approx(0.80, abs=0.01)
    assert pilot.minimum_detectable_effect(v.change_sd, 24, 24) < a.mde
    assert 0 <= v.icc < 1 and v.change_sd > 0


def test_design_refuses_what_the_data_cannot_do(org):
    tables, _ = org
    panel = pilot.unit_outcomes(tables, "nps")
    with pytest.raises(pilot.PilotError, match="unknown outcome"):
        pilot.design(tables, "x", 5, outcome="engagement")
    with pytest.raises(pilot.PilotError, match="eligible"):
        pilot.design(tables, "x", 200, panel=panel)
    with pytest.raises(pilot.PilotError, match="action"):
        pilot.design(tables, " ", 5, panel=panel)
    with pytest.raises(pilot.PilotError, match="needs at least"):
        pilot.design(tables, "x", 5, pilot_quarters=8, panel=panel)


def test_demo_pilot_recovered(org, org_pilot):
    tables0, truth0 = org
    tables, truth = org_pilot
    assert "pilot" not in truth0  # only when asked, and nothing else moves but the customers' side
    for name in ("units", "employees", "survey", "recognitions", "trainings"):
        assert tables0[name].equals(tables[name])
    tp = truth["pilot"]
    assert tp["effect"] == 9.0 and tp["pilot_units"] == 16 == tp["comparison_units"]
    ev = pilot.evaluate(tables, tp["plan"], draws=499)
    assert ev.effect.covers(tp["effect"]), ev.effect
    assert ev.effect.ci_low > ev.effect.ci_high - 60  # a usable interval
    assert 0 < ev.ri_p_value <= 1 and ev.ri_draws == 499
    assert ev.pre_trend is not None and ev.pre_trend.covers(0.0)
    # the same plan on the data without the pilot: no effect, inside the CI
    ev0 = pilot.evaluate(tables0, tp["plan"], draws=199)
    assert ev0.effect.covers(0.0), ev0.effect
    assert ev.effect.estimate - ev0.effect.estimate == pytest.approx(tp["effect"], abs=3.0)


def test_randomisation_inference_matches_the_design(org_pilot):
    tables, truth = org_pilot
    plan = truth["pilot"]["plan"]
    u = pl.DataFrame(plan["units"])
    A = pilot.redraw(u["stratum"].to_numpy(), u["region"].to_numpy().astype(str), 16, np.random.default_rng(1), 300)
    assert (A.sum(axis=1) == 16).all()
    for s in np.unique(u["stratum"]):  # every draw splits each stratum as the design does
        m = u["stratum"].to_numpy() == s
        assert np.abs(2 * A[:, m].sum(axis=1) - m.sum()).max() <= 2
    assert len({a.tobytes() for a in A}) > 250  # really re-drawn


def _run(argv, capsys):
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_design_and_evaluate(tmp_path, capsys, org_pilot):
    tables, truth = org_pilot
    data = tmp_path / "data"
    demo.write(tables, truth, data)
    assert (data / "pilot_plan.yml").is_file()
    code, out, err = _run(["pilot", "design", "--data", str(data), "--action", "reconocimiento semanal",
                           "--units", "10", "--quarters", "2", "--seed", "5", "--lang", "es",
                           "--out", str(tmp_path / "plan")], capsys)
    assert code == 0, err
    assert re.search(r"Con 10 unidades piloto y 10 de comparación durante 2 trimestres podemos detectar \+[\d,]+ "
                     r"puntos de NPS con una potencia del 80\s?%", out)
    plan = yaml.safe_load((tmp_path / "plan" / "plan.yml").read_text(encoding="utf-8"))
    assert plan["start_quarter"] == "2026Q4" and len(plan["units"]) == 20
    page = (tmp_path / "plan" / "plan.html").read_text(encoding="utf-8")
    assert "Plan del piloto" in page and "<script src" not in page and "http" not in page
    for word in ("pilot units", "comparison", "Approved by"):  # no English on the Spanish page
        assert word not in page
    # privacy: no employee id (raw or pseudonymised) on either page
    emp_ids = set(tables["employees"]["employee_id"].to_list())
    # the demo's own plan, evaluated on its data
    code, out, err = _run(["pilot", "evaluate", "--data", str(data), "--plan", str(data / "pilot_plan.yml"),
                           "--draws", "199", "--out", str(tmp_path / "ev")], capsys)
    assert code == 0, err
    assert "causal estimate because the units were assigned to the pilot at random" in (
        tmp_path / "ev" / "evaluation.html").read_text(encoding="utf-8")
    res = json.loads((tmp_path / "ev" / "evaluation.json").read_text(encoding="utf-8"))
    assert res["effect"]["ci_low"] <= truth["pilot"]["effect"] <= res["effect"]["ci_high"]
    for f in (tmp_path / "plan" / "plan.html", tmp_path / "ev" / "evaluation.html"):
        text = f.read_text(encoding="utf-8")
        assert not any(e in text for e in emp_ids)
        assert not re.search(r"\bE\d{5,}\b", text)
    # a plan that starts after the data cannot be evaluated yet: a clear error, exit 2, no traceback
    code, out, err = _run(["pilot", "evaluate", "--data", str(data), "--plan", str(tmp_path / "plan" / "plan.yml")],
                          capsys)
    assert code == 2 and "does not match the data" in err and "2026Q4" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, message", [
    (["--outcome", "engagement"], "unknown outcome 'engagement'"),
    (["--units", "500"], "only"),
    (["--units", "1"], "at least 2"),
    (["--quarters", "0"], "between 1 and 8"),
    (["--lang", "fr"], "fr"),
])
def test_cli_design_errors(tmp_path, capsys, org_dir, argv, message):
    data = org_dir
    base = ["pilot", "design", "--data", str(data), "--action", "weekly recognition", "--units", "10",
            "--out", str(tmp_path / "o")]
    code, out, err = _run(base + argv, capsys)
    assert code == 2, (out, err)
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "o" / "plan.yml").exists()


def test_cli_evaluate_bad_plan(tmp_path, capsys, org_dir):
    data = org_dir
    bad = tmp_path / "bad.yml"
    bad.write_text("hello: world\n", encoding="utf-8")
    for plan, message in ((bad, "not a pilot plan"), (tmp_path / "none.yml", "not found")):
        code, out, err = _run(["pilot", "evaluate", "--data", str(data), "--plan", str(plan)], capsys)
        assert code == 2 and message in err and "Traceback" not in err
    other = {"format": pilot.PLAN_FORMAT, "outcome": "nps", "seed": 1, "start_quarter": "2026Q2",
             "baseline_quarters": ["2025Q4", "2026Q1"], "pilot_quarters": ["2026Q2", "2026Q3"],
             "units": [{"unit_id": f"X{i}", "region": "Norte", "stratum": 0, "group": "pilot" if i % 2 else "comparison"}
                       for i in range(10)]}
    (tmp_path / "other.yml").write_text(yaml.safe_dump(other), encoding="utf-8")
    code, out, err = _run(["pilot", "evaluate", "--data", str(data), "--plan", str(tmp_path / "other.yml")], capsys)
    assert code == 2 and "does not match the data" in err


def test_pages_words_in_both_catalogs():
    keys = [k for k in i18n.WORDS["en"] if k.startswith("pil_")]
    assert len(keys) > 30 and all(k in i18n.WORDS["es"] for k in keys)
    assert all(i18n.WORDS["es"][k] != i18n.WORDS["en"][k] for k in keys if k not in ("pil_plan_approve",))


@pytest.mark.slow
def test_stated_power_holds_by_simulation():
    """The design's stated 80% power: over organisations and assignment seeds, a true effect equal to the stated
    MDE is detected (CR2 p < 0.05) in 75-85% of pilots. 48 demo organisations x 9 assignments = 432 pilots
    (Monte-Carlo SE about 2 points): the design sees only the quarters before the start, the effect is added to
    the pilot units' unit-quarter NPS in the two pilot quarters."""
    rejections, n = 0, 0
    for org_seed in range(100, 148):
        tables, _ = demo.generate(demo.DemoConfig(seed=org_seed, employees=1200, quarters=8))
        panel = pilot.unit_outcomes(tables, "nps")
        qs = sorted(set(panel["quarter"].to_list()))
        start = qs[-2]
        for s in range(9):
            plan = pilot.design(None, "x", 12, 2, "nps", seed=1000 * org_seed + s, start_quarter=start, panel=panel)
            pil = plan.assignment.filter(pl.col("group") == "pilot")["unit_id"].to_list()
            treated = panel.with_columns(
                (pl.col("y") + plan.mde * (pl.col("unit_id").is_in(pil) & (pl.col("qi") >= Q.parse(start)))).alias("y"))
            ev = pilot.evaluate(None, plan.to_dict(), draws=19, panel=treated)
            rejections += ev.effect.p_value < 0.05
            n += 1
    rate = rejections / n
    assert 0.75 <= rate <= 0.85, rate


@pytest.mark.slow
@pytest.mark.browser
def test_plan_and_evaluation_pages_fit_a_phone(tmp_path, org_pilot):
    """Both pages in headless Chromium at 390 px (Spanish and English): no sideways scroll, nothing cut, no
    script errors, no request leaves the machine (the checks of tests/test_phone_browser.py)."""
    from conftest import CHROMIUM, LAUNCH_ARGS

    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_phone_browser import PHONE, check_phone_page

    tables, truth = org_pilot
    plan = pilot.design(tables, "reconocimiento semanal", 12, seed=2)
    ev = pilot.evaluate(tables, truth["pilot"]["plan"], draws=99)
    files = []
    for lang in ("es", "en"):
        for name, text in (("plan", pilot.plan_html(plan, lang)), ("evaluation", pilot.evaluation_html(ev, lang))):
            f = tmp_path / f"{name}-{lang}.html"
            f.write_text(text, encoding="utf-8")
            files.append(f)
    problems, requests = {}, []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            ctx = browser.new_context(**PHONE)
            ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "about:"))
                      else (requests.append(r.request.url), r.abort()))
            for f in files:
                page = ctx.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(f.as_uri())
                bad = check_phone_page(page, f.stem)
                if errors:
                    bad.append(f"script errors: {errors[:2]}")
                if bad:
                    problems[f.name] = bad
                page.close()
        finally:
            browser.close()
    assert not problems, problems
    assert not requests, requests


def test_spanish_evaluation_page_has_no_english(org_pilot):
    tables, truth = org_pilot
    ev = pilot.evaluate(tables, truth["pilot"]["plan"], draws=99)
    page = pilot.evaluation_html(ev, "es")
    assert "estimación causal porque las unidades se asignaron al piloto al azar" in page
    for word in ("pilot raised", "causal estimate", "Randomisation", "before the start", "Quarter"):
        assert word not in page
    # a range that includes no effect is never bold
    lead = re.search(r'<p class="sc-lead">(.*?)</p>', page).group(1)
    assert ("<strong>" in lead) == (not ev.effect.covers(0.0))


def test_suite_page_only_with_a_finished_plan(tmp_path, org_pilot, org_dir):
    tables, truth = org_pilot
    data = tmp_path / "data"
    demo.write(tables, truth, data)
    rep, res = tmp_path / "rep", tmp_path / "results"
    rep.mkdir()
    res.mkdir()
    assert pilot.suite_page(org_dir, tables, rep, "es", "2026Q3", res) == []  # no plan in the folder
    assert pilot.suite_page(data, tables, rep, "es", "2026Q2", res) == []     # the pilot runs to 2026Q3
    assert not (rep / "07_pilot.html").exists()
    pages = pilot.suite_page(data, tables, rep, "es", "2026Q3", res, draws=99)
    assert [p["href"] for p in pages] == ["07_pilot.html"] and pages[0]["title"].startswith("Resultado del piloto")
    page = (rep / "07_pilot.html").read_text(encoding="utf-8")
    assert '<article class="sc-sheet">' in page  # the pack takes each page's article
    saved = json.loads((res / "pilot.json").read_text(encoding="utf-8"))
    assert saved["effect"]["ci_low"] <= truth["pilot"]["effect"] <= saved["effect"]["ci_high"]
