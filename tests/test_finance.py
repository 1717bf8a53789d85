"""Money: accounting identities by hand, properties of the scenarios, assumption files, the 04 notebook."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from conftest import execute_notebook
import polars as pl
import pytest

from servicechain import assumptions as A
from servicechain import demo, finance, loading
from servicechain.cli import UserError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "04_financial_impact.ipynb"


# ------------------------------------------------------------------------------ identities by hand


def test_replacement_cost_by_hand():
    # 2 frontline leavers on 25k and 30k (55k of salary) at 40%, one manager on 60k at 200%, one support on 40k at 80%
    salaries = {"frontline": 55_000.0, "support": 40_000.0, "manager": 60_000.0}
    shares = {"frontline": 0.40, "support": 0.80, "manager": 2.00}
    assert finance.replacement_cost(salaries, shares) == pytest.approx(22_000 + 32_000 + 120_000)
    # arrays: one row per draw, roles in ROLES order
    arr = np.array([[55_000.0, 40_000.0, 60_000.0], [0.0, 0.0, 10_000.0]])
    assert finance.replacement_cost(arr, shares).tolist() == pytest.approx([174_000.0, 20_000.0])
    assert finance.replacement_cost(salaries, {"frontline": 0.21, "support": 0.21, "manager": 0.21}) == pytest.approx(
        0.21 * 155_000)


def test_lost_customer_cost_by_hand():
    # 100 customers, retention costs 20 a year, acquisition 6.5x that = 130 each; revenue 300 a year at 30% margin,
    # 12 months of margin lost = 90 each
    v = finance.customer_value(100, 6.5, 20.0, 300.0, 0.30, 12)
    assert v.acquisition == pytest.approx(13_000.0)
    assert v.margin == pytest.approx(9_000.0)
    assert v.total == pytest.approx(22_000.0)
    # six months of margin: half the margin, same acquisition spend
    assert finance.customer_value(100, 6.5, 20.0, 300.0, 0.30, 6).margin == pytest.approx(4_500.0)


def test_net_value_payback_and_break_even_by_hand():
    assert finance.net_value(120_000.0, 50_000.0) == 70_000.0
    assert finance.payback_months(50_000.0, 120_000.0) == pytest.approx(5.0)
    assert finance.payback_months(50_000.0, 0.0) is None  # never pays back
    assert finance.payback_months(0.0, 10.0) == 0.0
    # net(m) = F + m K - C: 20k + m 10k - 90k = 0 at m = 7
    assert finance.break_even_multiple(20_000.0, 10_000.0, 90_000.0) == pytest.approx(7.0)
    assert finance.break_even_multiple(100_000.0, 10_000.0, 90_000.0) == "always"
    assert finance.break_even_multiple(0.0, 0.0, 90_000.0) == "never"
    # the numeric search agrees with the closed form
    assert finance.break_even(lambda m: 20_000 + m * 10_000 - 90_000) == pytest.approx(7.0, abs=1e-3)
    assert finance.break_even(lambda m: 1.0) == "always"
    assert finance.break_even(lambda m: -1.0) == "never"


def test_programme_cost_by_hand():
    s = A.Scenario("x", {}, (), {"per_employee": A.Param("e", 60.0), "per_manager": A.Param("m", 3000.0, 1500.0, 8000.0),
                                 "fixed": A.Param("f", 1000.0)})
    assert finance.programme_cost([s], headcount=100, managers=10) == pytest.approx(6_000 + 30_000 + 1_000)
    assert finance.programme_cost([s], 100, 10, "high") == pytest.approx(6_000 + 80_000 + 1_000)


def test_apply_changes_caps_and_targets():
    drivers = ("recognition_per_month", "empowerment", "leadership")
    x = np.array([[0.5, 4.8, 3.0], [6.0, 2.0, 4.9]])
    weekly = finance.apply_changes(x, (A.Change("recognition_per_month", "at_least", 52 / 12),), drivers)
    assert weekly[:, 0].tolist() == pytest.approx([52 / 12, 6.0])  # only those below weekly are raised
    more = finance.apply_changes(x, (A.Change("empowerment", "add", 0.5), A.Change("leadership", "add", 0.5)), drivers)
    assert more[:, 1].tolist() == pytest.approx([5.0, 2.5])  # capped at 5
    assert more[:, 2].tolist() == pytest.approx([3.5, 5.0])


# ------------------------------------------------------------------------------ the demo organisation


@pytest.fixture(scope="module")
def demo_tables(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_fin")
    tables, truth = demo.generate(demo.DemoConfig(seed=7))
    demo.write(tables, truth, out)
    ds = loading.load(out, None)
    return ds.tables, ds.latest_complete_quarter


@pytest.fixture(scope="module")
def demo_result(demo_tables):
    tables, quarter = demo_tables
    return finance.analyse(tables, quarter, None, seed=7)


def test_default_run_on_demo_data(demo_result):
    out = demo_result.to_results("en", 5)
    assert out["currency"] == "EUR"
    assert out["acquisition_cost_multiple"] == 6.5
    names = [s["name"] for s in out["scenarios"]]
    assert names[:4] == ["recognition_weekly", "empowerment_plus_half", "leadership_plus_half", "all_three"]
    rec = out["scenarios"][0]
    assert rec["value_p50"] > 0
    assert rec["value_p10"] <= rec["value_p50"] <= rec["value_p90"]
    for s in out["scenarios"]:
        for k in ("name", "label", "value_p10", "value_p50", "value_p90", "exits_avoided_p50", "customers_retained_p50",
                  "programme_cost", "payback_months_p50", "break_even_multiple"):
            assert k in s, k
        assert s["programme_cost"] > 0
        assert s["exits_avoided_p50"] > 0  # every default scenario improves a driver with a protective effect
    b = out["baseline"]
    assert b["replacement_cost"] > 0 and b["lost_customer_cost"] > 0
    assert b["total_cost"] == pytest.approx(b["replacement_cost"] + b["lost_customer_cost"])
    assert b["lost_customer_cost"] == pytest.approx(b["lost_margin"] + b["reacquisition_cost"])
    assert sum(r["voluntary_exits"] for r in b["regions"]) == b["voluntary_exits"]
    assert out["draws"] >= 1000
    json.dumps(out)  # plain JSON


def test_all_three_is_worth_more_gross_than_each(demo_result):
    g = {s.name: s.q("gross_value")[1] for s in demo_result.scenarios}
    assert g["all_three"] > max(g["recognition_weekly"], g["empowerment_plus_half"], g["leadership_plus_half"])


def test_zero_effect_scenario_is_worth_zero(demo_result):
    res = demo_result
    pop, econ = res.population, res.econ
    # a change that changes nobody: recognition "at least 0"
    bh = np.tile(np.arange(1.0, 2.0), (3, 1))  # never used when nothing changes
    eff = finance.simulate(pop, ("recognition_per_month", "empowerment", "leadership"),
                           (A.Change("recognition_per_month", "at_least", 0.0),), bh, bh)
    money = econ.value(eff, cost=0.0)
    assert np.all(money["gross_value"] == 0.0)
    # a real change with all driver coefficients set to zero: no exits avoided, no customers kept
    hz_params = np.zeros((2, pop.X0.shape[1]))
    hz_params[:, 0] = -3.0
    unit = np.zeros((2, 12))
    eff = finance.simulate(pop, ("recognition_per_month", "empowerment", "leadership"),
                           (A.Change("empowerment", "add", 0.5),), hz_params, unit)
    assert np.allclose(econ.value(eff, 0.0)["gross_value"], 0.0)


def _simulate_per_person(pop, drivers, changes, beta_h, beta_u):
    """The person-by-person computation the cell version replaced (reference for the tests)."""
    from servicechain.features import UNIT_DRIVERS

    x1 = finance.apply_changes(pop.drivers0, changes, drivers, pop.unit_idx)
    X1 = pop.X0.copy()
    for j, col in enumerate(pop.driver_cols):
        X1[:, col] = x1[:, j]
    h0 = 1 / (1 + np.exp(-(pop.X0 @ beta_h.T)))
    h1 = 1 / (1 + np.exp(-(X1 @ beta_h.T)))
    avoided = (1 - h1) ** 4 - (1 - h0) ** 4
    sal = np.column_stack([np.where(pop.role_idx == r, pop.salary, 0.0) @ avoided for r in range(3)])
    U = pop.units.height
    dh_unit = np.zeros((U, beta_h.shape[0]))
    np.add.at(dh_unit, pop.unit_idx, h1 - h0)
    at_risk = pop.units["at_risk"].to_numpy().astype(float)
    head = pop.units["headcount"].to_numpy()
    sums = np.zeros((U, 3))
    np.add.at(sums, pop.unit_idx, x1 - pop.drivers0)
    dmean = np.divide(sums, at_risk[:, None], out=np.zeros_like(sums), where=at_risk[:, None] > 0)
    dturn = np.divide(100.0 * dh_unit, head[:, None], out=np.zeros_like(dh_unit), where=head[:, None] > 0)
    dpp = dturn * beta_u[:, 1 + UNIT_DRIVERS.index("voluntary_turnover_pct")][None, :]
    for j, d in enumerate(drivers):
        dpp += dmean[:, [j]] * beta_u[:, 1 + UNIT_DRIVERS.index(d)][None, :]
    base = pop.units["customers_base"].to_numpy()
    kept = np.minimum(4 * (base[:, None] * dpp / 100).sum(0), 4 * pop.units["customers_lost"].sum())  # counted once
    return avoided.sum(0), sal, kept, (base[:, None] * dpp).sum(0) / base.sum()


def test_cells_give_the_person_level_answer(demo_result):
    """Grouping people into covariate cells and summing weights is exact, not an approximation."""
    res = demo_result
    pop, drivers = res.population, ("recognition_per_month", "empowerment", "leadership")
    cells = finance.covariate_cells(pop)
    assert not cells.sampled and cells.weights[:, 0].sum() == pop.n and cells.X.shape[0] < pop.n
    rng = np.random.default_rng(3)

    k = pop.X0.shape[1]
    bh = np.array([[-3.0, -0.3, -0.2, -0.25, *np.zeros(k - 4)]]) + rng.normal(0, 0.05, (40, k))
    bu = rng.normal(0, 1, (40, 12))
    for sc in res.assumptions.scenarios:
        changes, _ = finance.expand(res.assumptions, sc)
        eff = finance.simulate(pop, drivers, changes, bh, bu, chunk=97)
        exits, sal, kept, pp = _simulate_per_person(pop, drivers, changes, bh, bu)
        np.testing.assert_allclose(eff.exits_avoided, exits, rtol=1e-9)
        np.testing.assert_allclose(eff.salary_of_exits_avoided, sal, rtol=1e-9)
        np.testing.assert_allclose(eff.customers_retained, kept, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(eff.retention_pp, pp, rtol=1e-9, atol=1e-12)


def test_sampled_cells_estimate_the_sums(demo_result):
    """Above the cell cap a seeded stratified sample stands for the small cells: close to exact, reproducible."""
    res = demo_result
    pop, drivers = res.population, ("recognition_per_month", "empowerment", "leadership")
    exact = finance.covariate_cells(pop)
    cap = exact.X.shape[0] // 4
    sampled = finance.covariate_cells(pop, max_cells=cap)
    assert sampled.sampled and sampled.X.shape[0] == cap and sampled.n_cells == exact.X.shape[0]
    assert sampled.weights[:, 0].sum() == pytest.approx(pop.n, rel=0.1)  # the sample stands for everyone
    bh, bu = finance.draw_coefficients(
        type("H", (), {"params": np.array([-3.0, -0.3, -0.2, -0.25, *np.zeros(pop.X0.shape[1] - 4)]),
                       "cov": np.eye(pop.X0.shape[1]) * 1e-4})(),
        type("U", (), {"params": np.r_[50.0, 1.0, 2.0, 2.0, -0.5, np.zeros(7)], "cov": np.eye(12) * 1e-2})(), 200, 7)
    for name in ("recognition_weekly", "empowerment_plus_half"):
        changes, _ = finance.expand(res.assumptions, res.assumptions.scenario(name))
        full = finance.simulate(pop, drivers, changes, bh, bu)
        est = finance.simulate(pop, drivers, changes, bh, bu, max_cells=cap)
        again = finance.simulate(pop, drivers, changes, bh, bu, max_cells=cap)
        assert np.array_equal(est.exits_avoided, again.exits_avoided)  # seeded
        assert not np.allclose(est.exits_avoided, full.exits_avoided, rtol=1e-9)  # really a sample
        assert np.median(est.exits_avoided) == pytest.approx(np.median(full.exits_avoided), rel=0.08), name
        assert np.median(est.customers_retained) == pytest.approx(np.median(full.customers_retained), rel=0.08), name


def test_higher_multiple_never_lowers_value(demo_result):
    res = demo_result
    for r in res.scenarios:
        if r.effects.customers_retained[0] < 0:
            continue
        central = [res.econ.but(multiple=m).value(r.effects, r.cost)["net_value"][0] for m in (1, 5, 6, 6.5, 7, 25)]
        assert all(b >= a for a, b in zip(central, central[1:])), r.name
    # the identity itself, for any non-negative number of customers
    rng = np.random.default_rng(7)
    for _ in range(50):
        c, rc, rev, mg, h = rng.uniform(0, 1000), rng.uniform(0, 100), rng.uniform(0, 1000), rng.uniform(0, 1), 12
        m1, m2 = sorted(rng.uniform(1, 25, 2))
        assert finance.customer_value(c, m2, rc, rev, mg, h).total >= finance.customer_value(c, m1, rc, rev, mg, h).total


def test_value_scales_linearly_with_customer_base(demo_tables, demo_result):
    """Doubling every unit's customer base doubles customers retained and the customer side of the value."""
    import polars as pl

    from servicechain import features, loyalty, retention

    tables, quarter = demo_tables
    tabs = features.as_of(tables, quarter)
    pq, _ = features.person_quarters(tabs)
    uq = features.unit_quarters(tabs)
    hz = retention.fit_hazard(pq, draws=50, missing="indicator")  # the money's rule for missing answers
    um = loyalty.fit_unit_model(uq, "customer_retention_pct")
    bh, bu = finance.draw_coefficients(hz, um, 1000, 7)
    change = (A.Change("recognition_per_month", "at_least", 52 / 12),)
    effs, moneys = [], []
    for n in (100, 200):
        a = A.from_text(f"customers_per_unit: {n}")
        pop = finance.population(pq, uq, quarter, hz, a, tabs)
        assert pop.units.filter(pl.col("customers_base") > 0)["customers_base"].unique().to_list() == [float(n)]
        a = finance.resolve(a.with_params(revenue_per_customer_per_year=demo_result.assumptions["revenue_per_customer_per_year"]), pop)
        eff = finance.simulate(pop, tuple(hz.drivers), change, bh, bu)
        effs.append(eff)
        moneys.append(finance.Economics.from_assumptions(a).value(eff, 0.0))
    assert np.allclose(effs[1].customers_retained, 2 * effs[0].customers_retained)
    assert np.allclose(effs[1].exits_avoided, effs[0].exits_avoided)  # the employee side does not move
    for k in ("acquisition_spend_avoided", "margin_kept"):
        assert np.allclose(moneys[1][k], 2 * moneys[0][k])
    assert np.allclose(moneys[1]["replacement_cost_avoided"], moneys[0]["replacement_cost_avoided"])


def test_seeded_and_deterministic(demo_tables, demo_result):
    tables, quarter = demo_tables
    again = finance.analyse(tables, quarter, None, seed=7)
    a, b = demo_result.to_results("en"), again.to_results("en")
    for x, y in zip(a["scenarios"], b["scenarios"]):  # equal up to floating-point summation order
        for k, v in x.items():
            assert y[k] == (pytest.approx(v, rel=1e-9) if isinstance(v, (float, dict)) else v), k
    other = finance.analyse(tables, quarter, None, seed=8).to_results("en")
    assert other["scenarios"][0]["value_p50"] != a["scenarios"][0]["value_p50"]


def test_sensitivity_and_whatif(demo_result):
    res = demo_result
    sens = finance.sensitivity(res, "recognition_weekly")
    keys = sens["assumption"].to_list()
    assert {"multiple_band", "multiple_stress", "replacement_cost_share", "margin_share", "programme_cost"} <= set(keys)
    row = sens.filter(sens["assumption"] == "multiple_stress").row(0, named=True)
    assert (row["low"], row["high"]) == (5.0, 25.0)
    assert row["value_low"] <= row["p50"] <= row["value_high"]
    floor = sens.filter(sens["assumption"] == "replacement_cost_share").row(0, named=True)
    assert floor["value_low"] < floor["p50"]  # the 21% floor is below the Gallup shares
    grid = finance.whatif_grid(res)
    assert set(grid["scenario"].unique().to_list()) == {s.name for s in res.scenarios}
    assert 6.5 in grid["multiple"].to_list() and 25.0 in grid["multiple"].to_list()
    fig = finance.fig_whatif(res, "es")
    assert len(fig.layout.updatemenus[0].buttons) == len(res.scenarios)
    assert len(fig.layout.sliders[0].steps) == grid["multiple"].n_unique()
    assert "€" in finance.fig_scenarios(res, "en").layout.title.text


def test_user_scenario_and_overrides(demo_tables, tmp_path):
    tables, quarter = demo_tables
    f = tmp_path / "mine.yml"
    f.write_text(
        "acquisition_cost_multiple: 8\n"
        "currency: usd\n"
        "scenarios:\n"
        "  - name: nothing\n"
        "    label: {en: Nothing, es: Nada}\n"
        "    changes: {recognition_per_month: {at_least: 0}}\n"
        "  - name: all_three\n"
        "    enabled: false\n", encoding="utf-8")
    res = finance.analyse(tables, quarter, f, seed=7)
    out = res.to_results("es")
    assert out["acquisition_cost_multiple"] == 8.0 and out["currency"] == "USD"
    names = [s["name"] for s in out["scenarios"]]
    assert "all_three" not in names and names[-1] == "nothing"
    nothing = out["scenarios"][-1]
    assert nothing["label"] == "Nada"
    assert nothing["value_p50"] == 0.0 and nothing["gross_value_p90"] == 0.0 and nothing["programme_cost"] == 0.0
    m = out["assumptions"]["acquisition_cost_multiple"]
    assert (m["low"], m["high"]) == (6.0, 8.0) and "mine.yml" in m["source"]
    # disabling a scenario another one includes is an error that says so
    with pytest.raises(A.AssumptionsError, match="includes"):
        A.from_text("scenarios:\n  - name: empowerment_plus_half\n    enabled: false\n")


# ------------------------------------------------------------------------------ bad assumption files


@pytest.mark.parametrize("text, key, words", [
    ("acquisiton_cost_multiple: 6.5\n", "acquisiton_cost_multiple", "unknown key"),
    ("margin_share: {value: 0.3, sauce: x}\n", "margin_share.sauce", "unknown key"),
    ("replacement_cost_share: {cashier: 0.3}\n", "replacement_cost_share.cashier", "unknown key"),
    ("scenarios:\n  - name: x\n    changes: {leadership: {add: 0.2}}\n    programme_cost: {per_employee: -5}\n",
     "scenarios.x.programme_cost.per_employee", "negative"),
    ("retention_cost_per_customer_per_year: -1\n", "retention_cost_per_customer_per_year", "negative"),
    ("acquisition_cost_multiple: 0.8\n", "acquisition_cost_multiple", "at least 1"),
    ("acquisition_cost_multiple: {value: 6.5, stress_low: 0.5}\n", "acquisition_cost_multiple.stress_low", "at least 1"),
    ("replacement_cost_share: {manager: 12}\n", "replacement_cost_share.manager", "between 0 and 10"),
    ("margin_share: 1.5\n", "margin_share", "between 0 and 1"),
    ("margin_share: lots\n", "margin_share", "expected a number"),
    ("scenarios:\n  - name: x\n    changes: {happiness: {add: 1}}\n", "scenarios.x.changes.happiness", "unknown key"),
    ("scenarios:\n  - name: x\n    changes: {empowerment: {add: 7}}\n", "scenarios.x.changes.empowerment.add", "1-5"),
    ("draws: 10\n", "draws", "between 1000"),
    ("currency: euros\n", "currency", "three-letter"),
])
def test_bad_assumption_files_name_file_and_key(tmp_path, text, key, words):
    f = tmp_path / "bad_assumptions.yml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(A.AssumptionsError) as exc:
        A.load(f)
    msg = str(exc.value)
    assert str(f) in msg and f"'{key}'" in msg and words in msg, msg
    assert isinstance(exc.value, UserError)


def test_malformed_yaml_and_missing_file(tmp_path):
    f = tmp_path / "broken.yml"
    f.write_text("acquisition_cost_multiple: [6.5\nmargin_share: 0.3\n", encoding="utf-8")
    with pytest.raises(A.AssumptionsError, match=r"broken\.yml: not valid YAML at line \d+"):
        A.load(f)
    f.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(A.AssumptionsError, match="top level must be a mapping"):
        A.load(f)
    with pytest.raises(A.AssumptionsError, match="does not exist"):
        A.load(tmp_path / "nope.yml")


def test_defaults_have_sources_and_ranges():
    a = A.load("")
    assert a.currency == "EUR" and a.draws >= 1000
    m = a["acquisition_cost_multiple"]
    assert (m.value, m.low, m.high, m.stress_low, m.stress_high) == (6.5, 6.0, 7.0, 5.0, 25.0)
    assert "heuristic" in m.source and "Gallo" in m.source
    assert {r: p.value for r, p in a.replacement_share.items()} == {"frontline": 0.3, "support": 0.5, "manager": 1.1}
    # defaults are central estimates, strictly inside their documented ranges (not at the top)
    for p in [*a.replacement_share.values(), a["margin_share"], a["margin_horizon_months"], m]:
        assert p.low < p.value < p.high, p.key
    assert all(p.low == 0.21 and "Boushey" in p.source for p in a.replacement_share.values())
    for p in a.params.values():
        assert p.source.strip(), p.key
    for s in a.scenarios:
        for p in s.cost.values():
            assert p.value == 0 or ("Illustrative" in p.source and p.low <= p.value <= p.high), (s.name, p)
    # the shipped YAML is package data next to the module
    assert (Path(A.__file__).parent / A.DEFAULT_FILE).is_file()


# ------------------------------------------------------------------------------ the notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    work = tmp_path_factory.mktemp("nb04")
    data = work / "data"
    tables, truth = demo.generate(demo.DemoConfig(seed=7, employees=500, quarters=6))
    demo.write(tables, truth, data)
    results = work / "results"
    out = work / "04_financial_impact.ipynb"
    execute_notebook("04_financial_impact", out, cwd=ROOT, data_dir=str(data), lang="es", results_dir=str(results), seed=7)
    return out, results


@pytest.mark.slow
@pytest.mark.xdist_group("papermill")
def test_notebook_runs_and_saves_results(executed):
    out, results = executed
    res = json.loads((results / "finance.json").read_text(encoding="utf-8"))
    for k in ("currency", "acquisition_cost_multiple", "baseline", "scenarios", "assumptions"):
        assert k in res
    assert res["currency"] == "EUR" and res["acquisition_cost_multiple"] == 6.5
    assert res["scenarios"][0]["label"] == "Reconocimiento semanal para todos"
    for s in res["scenarios"]:
        assert {"name", "label", "value_p10", "value_p50", "value_p90", "exits_avoided_p50", "customers_retained_p50",
                "programme_cost", "payback_months_p50", "break_even_multiple"} <= s.keys()
    text = out.read_text(encoding="utf-8")
    assert "employee_id" not in text and "Traceback" not in text


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb["cells"] if c["cell_type"] == "code")
    params = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    src = "".join(params["source"])
    for name in ("data_dir", "quarter", "lang", "anonymity_threshold", "seed", "mapping", "assumptions", "results_dir"):
        assert f"{name} =" in src


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group("papermill")
def test_whatif_works_offline_in_chromium(executed, tmp_path):
    """The exported page: charts draw with the network blocked, and the scenario dropdown switches the bars."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("needs Debian's chromium")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from servicechain import report

    out, _ = executed
    html = tmp_path / "04.html"
    report.export_html(out, html, lang="es", quarter="2026Q3", number="04", threshold=5)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        outside: list[str] = []
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:")
                   else (outside.append(r.request.url), r.abort()))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(html.as_uri())
        page.wait_for_timeout(800)
        gd_id = page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                              ".find(g => (g.layout.updatemenus || []).length).id")
        visible = f"() => document.getElementById('{gd_id}').data.map(t => t.visible === true)"
        before = page.evaluate(visible)
        gd = page.locator(f"#{gd_id}")
        gd.scroll_into_view_if_needed()
        gd.locator(".updatemenu-header-group").click()
        gd.locator(".updatemenu-dropdown-button", has_text="+0,5 de liderazgo").first.click()
        page.wait_for_timeout(300)
        after = page.evaluate(visible)
        browser.close()
    n = len(before) // 2
    assert before[0] and not before[2]
    assert after[2] and after[2 + n] and sum(after) == 2  # the bars and their labels of the chosen scenario
    assert errors == [] and outside == []


# ------------------------------------------------------------------------------ ranges: what is drawn


def _point(p):
    from dataclasses import replace
    return replace(p, low=p.value, high=p.value) if p.value is not None else p


def test_ranges_draw_assumptions_and_narrow_to_coefficients_only(demo_tables, demo_result):
    """The headline P10-P90 holds assumption uncertainty; every range at a point leaves the coefficient-only range."""
    from dataclasses import replace
    tables, quarter = demo_tables
    a = demo_result.assumptions
    shares = {r: _point(p) for r, p in a.replacement_share.items()}
    scen = [replace(s, cost={k: _point(p) for k, p in s.cost.items()}) for s in a.scenarios]
    narrow = replace(a.with_params(**{k: _point(p) for k, p in a.params.items()}), replacement_share=shares, scenarios=scen)
    point = finance.analyse(tables, quarter, narrow, seed=7)
    for wide, nar in zip(demo_result.scenarios, point.scenarios):
        sw, sn = wide.summary("en"), nar.summary("en")
        assert sn["value_p90"] - sn["value_p10"] < sw["value_p90"] - sw["value_p10"], wide.name
        # with every assumption at a point, the joint range is the coefficient-only range
        assert sn["value_p10"] == pytest.approx(sn["coefficient_only_value_p10"], rel=1e-9)
        assert sn["value_p90"] == pytest.approx(sn["coefficient_only_value_p90"], rel=1e-9)
        # and the wide run's coefficient-only range equals the narrow run's (same coefficient draws)
        assert sw["coefficient_only_value_p50"] == pytest.approx(sn["value_p50"], rel=1e-9)
        assert sw["range_basis"] == finance.RANGE_BASIS == "coefficients_drawn_jointly_and_assumptions"


def test_components_add_up_and_conservative_case_is_lower(demo_result):
    for r in demo_result.scenarios:
        m = r.money
        np.testing.assert_allclose(m["replacement_cost_avoided"] + m["acquisition_spend_avoided"] + m["margin_kept"],
                                   m["gross_value"], rtol=1e-12)
        s = r.summary("en")
        assert set(s["components"]) == set(finance.COMPONENTS)
        assert s["conservative_value_p50"] < s["coefficient_only_value_p50"], r.name
        assert s["conservative_value_p50"] < s["value_p50"], r.name


def test_method_words_match_what_was_drawn(demo_result):
    """The summary and money page describe the ranges as drawing coefficients and assumptions: true of the result."""
    from servicechain.i18n import t
    out = demo_result.to_results("en")
    assert out["range_basis"] == "coefficients_drawn_jointly_and_assumptions"
    assert out["coefficient_draws"]["joint"] and out["coefficient_draws"]["bootstrap"]["replicates"] == 200
    for lang in ("en", "es"):
        words = t("sum_m_finance", lang) + t("fin12_limits_text", lang, imputed="x")
        assert ("jointly" in words) if lang == "en" else ("conjunta" in words)
        method = finance.method_text(demo_result, lang)  # the page's method words say what was drawn
        assert ("bootstrap" in method and str(200) in method)
        assert ("assumptions" in words) if lang == "en" else ("supuestos" in words)
        assert "only the models' coefficient uncertainty" not in words
        assert "solo recogen la incertidumbre de los coeficientes" not in words


# ------------------------------------------------------------------------------ each customer counted once


def test_customer_value_caps_margin_at_the_customers_remaining_life():
    assert finance.remaining_life_months(1000, 250) == pytest.approx(12.0)  # 25% a quarter: 4 quarters on average
    assert finance.remaining_life_months(1000, 500) == pytest.approx(6.0)
    assert finance.remaining_life_months(1000, 0) == float("inf")
    # 12 months of margin asked, but a customer who stays 6 months on average brings 6 months: half the margin
    v = finance.customer_value(100, 6.5, 20.0, 300.0, 0.30, 12, remaining_months=6.0)
    assert v.margin == pytest.approx(4_500.0)
    assert v.acquisition == pytest.approx(13_000.0)  # the replacement's acquisition cost is unchanged


def test_a_scenario_is_never_worth_more_than_the_customers_it_could_keep(demo_result):
    """A scenario whose unit-model effect would keep every customer (and more) is capped at the customers the units
    lose in a year, each valued once: acquisition of the replacement + margin until replaced, never more margin than
    the whole base brings in a year."""
    from servicechain.features import UNIT_DRIVERS

    res = demo_result
    pop, econ = res.population, res.econ
    drivers = ("recognition_per_month", "empowerment", "leadership")
    bh = np.zeros((2, pop.X0.shape[1]))
    bu = np.zeros((2, 1 + len(UNIT_DRIVERS)))
    bu[:, 1:4] = [[100.0] * 3, [200.0] * 3]  # +100 / +200 pp of customer retention per point: beyond 100% retention
    eff = finance.simulate(pop, drivers, (A.Change("empowerment", "add", 1.0),), bh, bu)
    base = float(pop.units["customers_base"].sum())
    lost = float(pop.units["customers_lost"].sum())
    uncapped = 4 * eff.retention_pp * base / 100.0
    assert np.all(uncapped > 4 * lost)  # the model alone would "keep" more customers than are ever lost
    assert eff.customers_retained == pytest.approx(np.full(2, 4 * lost))  # capped: each lost customer once
    money = econ.value(eff, 0.0)
    margin_year = econ.revenue_per_customer * econ.margin_share  # a customer's margin for a year
    acq = econ.multiple * econ.retention_cost
    bound = 4 * lost * acq + min(4 * lost, base) * margin_year
    customer_money = money["acquisition_spend_avoided"] + money["margin_kept"]
    assert np.all(customer_money <= bound * (1 + 1e-12))
    assert np.all(money["margin_kept"] <= base * margin_year * (1 + 1e-12))  # never more than the base's whole margin
    # the old way (12 months of margin for every quarterly gain) would break the bound on the same effect
    old = uncapped * (acq + margin_year * econ.horizon_months / 12)
    assert np.all(old > bound)


# ------------------------------------------------------------------------------ acquisition vs retention cost


def test_user_states_acquisition_or_retention_cost_and_the_rule_derives_the_other(demo_result):
    pop = demo_result.population
    # neither given: retention = 5% of revenue, acquisition = multiple x retention
    a0 = finance.resolve(A.defaults(), pop)
    assert a0.customer_cost_given == "revenue_share"
    rev = a0.value("revenue_per_customer_per_year")
    assert a0.value("retention_cost_per_customer_per_year") == pytest.approx(0.05 * rev)
    assert a0.value("acquisition_cost_per_customer") == pytest.approx(6.5 * 0.05 * rev)
    # acquisition given: retention derived by the rule, and the multiple no longer moves the acquisition cost
    a1 = finance.resolve(A.from_text("acquisition_cost_per_customer: {value: 130, low: 100, high: 160}"), pop)
    assert a1.customer_cost_given == "acquisition"
    assert a1.value("retention_cost_per_customer_per_year") == pytest.approx(130 / 6.5)
    e1 = finance.Economics.from_assumptions(a1)
    assert e1.acquisition_cost == pytest.approx(130.0)
    assert e1.but(multiple=7.0).acquisition_cost == pytest.approx(130.0)
    assert e1.but(multiple=7.0).retention_cost == pytest.approx(130 / 7)
    d = finance.draw_economics(a1, 500, seed=3)
    acq = d.multiple * d.retention_cost
    assert acq[0] == pytest.approx(130.0) and acq[1:].min() >= 100 - 1e-9 and acq[1:].max() <= 160 + 1e-9
    assert finance.conservative_economics(a1).acquisition_cost == pytest.approx(100.0)
    # retention given: acquisition derived, the multiple moves it
    a2 = finance.resolve(A.from_text("retention_cost_per_customer_per_year: 20"), pop)
    assert a2.customer_cost_given == "retention"
    assert a2.value("acquisition_cost_per_customer") == pytest.approx(130.0)
    e2 = finance.Economics.from_assumptions(a2)
    assert e2.but(multiple=7.0).acquisition_cost == pytest.approx(140.0)
    # the page says which was given and which derived
    from dataclasses import replace
    for a, given in ((a0, "revenue_share"), (a1, "acquisition"), (a2, "retention")):
        res = replace(demo_result, assumptions=a, econ=finance.Economics.from_assumptions(a))
        assert res.to_results("en")["customer_cost"]["given"] == given
        text = res.customer_cost_text("en")
        assert ("You gave the cost of winning" in text) == (given == "acquisition"), text
        assert ("You gave the cost of keeping" in text) == (given == "retention"), text
        assert "derived" in text and "se deriva" in res.customer_cost_text("es")
        rows = finance.assumptions_table(res, "en").to_dicts()
        used = {r["fin_col_assumption"]: r["fin_col_value_used"] for r in rows}
        assert used["Acquisition cost per customer"].endswith("(given)" if given == "acquisition" else "(derived)")


def test_acquisition_and_retention_cost_together_is_an_error():
    with pytest.raises(UserError, match="acquisition_cost_per_customer.*not both"):
        A.from_text("acquisition_cost_per_customer: 130\nretention_cost_per_customer_per_year: 20", "mine.yml")
    with pytest.raises(UserError, match="mine.yml"):
        A.from_text("acquisition_cost_per_customer: -5", "mine.yml")


def test_a_given_acquisition_cost_makes_the_multiple_irrelevant(demo_result):
    """The money of a scenario with a stated acquisition cost is the same at 6x and 7x (only retention is derived)."""
    from dataclasses import replace
    a1 = finance.resolve(A.from_text("acquisition_cost_per_customer: 130"), demo_result.population)
    e = finance.Economics.from_assumptions(a1)
    r = demo_result.scenario("recognition_weekly")
    v6, v7 = e.but(multiple=6.0).value(r.effects, r.cost), e.but(multiple=7.0).value(r.effects, r.cost)
    np.testing.assert_allclose(v6["net_value"], v7["net_value"])
    # without it, the multiple does move the value
    e0 = demo_result.econ
    assert np.median(e0.but(multiple=7.0).value(r.effects, r.cost)["net_value"]) > np.median(
        e0.but(multiple=6.0).value(r.effects, r.cost)["net_value"])


# ------------------------------------------------------------------------------ decomposition and placeholders


def test_components_add_up_to_the_total_for_every_scenario(demo_result):
    out = demo_result.to_results("en")
    for s in out["scenarios"]:
        c = s["components"]
        assert set(c) == set(finance.COMPONENTS)
        assert sum(c.values()) == pytest.approx(s["gross_value_mean"], rel=1e-9), s["name"]
        assert s["gross_value_mean"] - s["programme_cost_mean"] == pytest.approx(s["net_value_mean"], rel=1e-9)
        assert s["components_basis"] == "mean_over_draws"
        # the users' rule moves the headline: at 7x it is worth more than at 6x when customers are kept
        at = s["value_p50_at_multiple"]
        assert set(at) == {"6", "7"}
        if s["customers_retained_p50"] > 0:
            assert at["7"] > at["6"], s["name"]
    text = finance.multiple_effect_text(demo_result, "en")
    head = demo_result.headline.value_at_multiple
    for v in head.values():
        assert finance.money(v, demo_result, "en") in text
    assert "6×" in text and "7×" in text
    rows = finance.components_table(demo_result, "es").to_dicts()
    assert len(rows) == len(demo_result.scenarios) and "fin_net_value_mean" in rows[0]


def test_programme_costs_are_flagged_until_the_user_replaces_them(demo_result):
    a = A.defaults()
    for sc in a.scenarios:
        assert finance.cost_is_placeholder(finance.expand(a, sc)[1]), sc.name
    mine = A.from_text("scenarios:\n  - name: recognition_weekly\n    programme_cost: {per_employee: 45}\n", "mine.yml")
    flags = {sc.name: finance.cost_is_placeholder(finance.expand(mine, sc)[1]) for sc in mine.scenarios}
    assert flags["recognition_weekly"] is False
    assert flags["empowerment_plus_half"] is True
    assert flags["all_three"] is True  # still carries two illustrative costs
    assert mine.scenario("recognition_weekly").cost["per_employee"].origin == "user"
    assert a.scenario("recognition_weekly").cost["per_employee"].origin == "default"
    # the page marks every net figure and says why; metrics carry the flag
    assert all(s["programme_cost_placeholder"] for s in demo_result.to_results()["scenarios"])
    row = finance.scenario_table(demo_result, "en").to_dicts()[0]
    assert row["fin_comp_net_value"].endswith("†") and row["fin_conservative_case"].endswith("†")
    assert "illustrative" in row["fin_comp_programme_cost"]
    assert finance.headline_title(demo_result.headline, demo_result, "en").endswith("†")
    assert "replace it with your quote" in finance.placeholder_note(demo_result, "en")
    assert "presupuesto" in finance.placeholder_note(demo_result, "es")


def test_summary_action_lines_carry_parts_and_placeholder(demo_result):
    from servicechain import summary
    out = demo_result.to_results("en")
    metrics = {"finance": out}
    acts = summary.top_actions(metrics, "en")
    assert acts and all(a.components and a.placeholder for a in acts)
    line = summary._action_line(acts[0], "en")
    assert "customer acquisition spend avoided" in line and "Programme cost illustrative" in line
    # a user-priced programme is not flagged
    for s in out["scenarios"]:
        s["programme_cost_placeholder"] = False
    line = summary._action_line(summary.top_actions(metrics, "es")[0], "es")
    assert "ilustrativo" not in line and "gasto de captación" in line


# ------------------------------------------------------------------------------ scenarios the data can support


def test_unit_quantile_raises_the_units_below_it_by_hand():
    drivers = ("recognition_per_month", "empowerment", "leadership")
    # three units with mean empowerment 2, 3 and 4 (two people each); the median unit mean is 3
    x = np.array([[1.0, 1.5, 3], [1.0, 2.5, 3], [1.0, 3.0, 3], [1.0, 3.0, 3], [1.0, 4.0, 3], [1.0, 4.0, 3]])
    u = np.array([0, 0, 1, 1, 2, 2])
    out = finance.apply_changes(x, (A.Change("empowerment", "unit_quantile", 0.5),), drivers, u)
    assert out[:, 1].tolist() == pytest.approx([2.5, 3.5, 3.0, 3.0, 4.0, 4.0])  # unit 0 up by its gap of 1
    with pytest.raises(ValueError, match="unit"):
        finance.apply_changes(x, (A.Change("empowerment", "unit_quantile", 0.5),), drivers)
    with pytest.raises(UserError, match="unit_quantile"):
        A.from_text("scenarios:\n  - name: q\n    changes: {empowerment: {unit_quantile: 75}}\n", "mine.yml")
    # reach: every unit to the median: the average unit asks for (3 + 3 + 4) / 3 = 3.33, one unit of three has it
    rc = finance.reach(x, out, u, drivers)
    assert rc.driver == "empowerment" and rc.units == pytest.approx(1 / 3) and rc.people == pytest.approx(2 / 6)
    assert not rc.extrapolates
    far = finance.reach(x, x + np.array([0.0, 3.0, 0.0]), u, drivers)
    assert far.units == 0.0 and far.extrapolates


def test_scenarios_state_their_reach_and_the_headline_stays_within_the_data(demo_result):
    out = demo_result.to_results("en")
    by = {s["name"]: s for s in out["scenarios"]}
    for d in ("recognition", "empowerment", "leadership"):
        s = by[f"{d}_top_quartile"]
        assert s["extrapolates"] is False and 0.10 <= s["reach_units"] < 0.5, s
        assert s["exits_avoided_p50"] > 0
    # weekly recognition for everyone is far past what the units reach today
    assert by["recognition_weekly"]["extrapolates"] is True and by["recognition_weekly"]["reach_units"] < 0.10
    heads = [s for s in out["scenarios"] if s["headline"]]
    assert len(heads) == 1
    within = [s for s in out["scenarios"] if not s["extrapolates"]]
    assert heads[0]["name"] == max(within, key=lambda s: s["value_p50"])["name"]
    assert heads[0]["extrapolates"] is False
    # the page labels them
    rows = {r["scenario"]: r for r in finance.scenario_table(demo_result, "en").to_dicts()}
    assert rows["Weekly recognition for everyone"]["fin_col_reach"].endswith("beyond the data")
    assert rows["Every unit to today's top-quartile recognition"]["fin_col_reach"].endswith("within the data")
    assert demo_result.headline.scenario.label_in("es") in finance.reach_note(demo_result, "es")
    fig = finance.fig_scenarios(demo_result, "en")
    assert any("beyond the data" in y for y in fig.data[0].y)
    pale = [o < 1 for o in fig.data[0].marker.opacity]
    assert pale == [r.reach.extrapolates for r in demo_result.scenarios] and any(pale) and not all(pale)
    # the summary's action lines say so
    from servicechain import summary
    acts = {a.name: a for a in summary.scenarios({"finance": out}, "en")}
    assert "Beyond the data" in summary._action_line(acts["recognition_weekly"], "en")
    assert summary.top_actions({"finance": out}, "en")[0].name == demo_result.headline.name  # within the data first
    assert "Beyond the data" not in summary._action_line(acts["recognition_top_quartile"], "en")


def test_headline_falls_back_to_the_most_valuable_when_all_extrapolate(demo_result):
    from dataclasses import replace
    rs = [replace(r, reach=finance.Reach(0.0, 0.0, "x"), headline=False) for r in demo_result.scenarios]
    best = max(rs, key=lambda r: r.q("net_value")[1])
    assert finance.pick_headline(rs) is best


def test_baseline_lost_margin_is_counted_once(demo_result):
    b, e, pop = demo_result.baseline.total, demo_result.econ, demo_result.population
    life = finance.remaining_life_months(float(pop.units["customers_base"].sum()), float(pop.units["customers_lost"].sum()))
    assert b["margin_months"] == pytest.approx(min(e.horizon_months, life))
    assert b["lost_margin"] == pytest.approx(b["customers_lost"] * e.revenue_per_customer * e.margin_share
                                             * b["margin_months"] / 12)


def test_summary_method_line_says_customers_are_counted_once(demo_result):
    from servicechain import summary
    metrics = {"finance": demo_result.to_results("en")}
    assert "counted once" in summary.methods_text(metrics, "en")
    assert "cuenta una vez" in summary.methods_text(metrics, "es")
    assert "counted once" not in summary.methods_text({"finance": {"draws": 2000}}, "en")


def test_summary_combined_line_is_flagged_too(demo_result):
    from servicechain import summary
    text = summary.actions_text({"finance": demo_result.to_results("en")}, "en")
    combined = [ln for ln in text.split("\n\n") if ln.startswith("Combining actions")]
    assert combined and "Programme cost illustrative" in combined[0] and "Beyond the data" in combined[0]


def test_whatif_moves_the_replacement_share_and_the_multiple_together(demo_result):
    """The second what-if: three share buttons only switch which precomputed bars show, and every multiple step
    restyles all three sets, so the controls compose offline; its default bars equal the first what-if's P50s;
    a higher replacement share raises only the replacement row (and the net value by as much)."""
    res = demo_result
    head = res.headline
    g = finance.whatif_share_grid(res)
    assert g["scenario"].unique().to_list() == [head.name]
    at = lambda lvl, comp, m=res.econ.multiple: g.filter(  # noqa: E731
        (pl.col("level") == lvl) & (pl.col("component") == comp) & (pl.col("multiple") == m))["p50"].item()
    first = finance.whatif_grid(res).filter((pl.col("scenario") == head.name) & (pl.col("multiple") == res.econ.multiple))
    for comp in ("replacement_cost_avoided", "acquisition_spend_avoided", "margin_kept", "net_value"):
        assert at("default", comp) == pytest.approx(first.filter(pl.col("component") == comp)["p50"].item())
    lo, hi = at("low", "replacement_cost_avoided"), at("high", "replacement_cost_avoided")
    assert lo < at("default", "replacement_cost_avoided") < hi
    assert at("high", "acquisition_spend_avoided") == pytest.approx(at("low", "acquisition_spend_avoided"))
    assert at("high", "net_value") - at("low", "net_value") == pytest.approx(hi - lo, rel=0.05)
    assert at("default", "acquisition_spend_avoided", 7.0) > at("default", "acquisition_spend_avoided", 6.0)
    fig = finance.fig_whatif_share(res, "es")
    buttons, steps = fig.layout.updatemenus[0].buttons, fig.layout.sliders[0].steps
    assert [b.args[0]["visible"] for b in buttons] == [[True, False, False], [False, True, False], [False, False, True]]
    assert all(len(st.args[0]["x"]) == 3 for st in steps)  # every step sets all three share sets
    assert len(steps) == g["multiple"].n_unique() and fig.layout.separators == ",."
    assert set(fig.layout.meta["share_levels"]) == {"low", "default", "high"}
