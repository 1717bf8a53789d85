"""The training cadence (issue 15): months since the latest training, overdue shares with suppression, and the
demo's planted training effect (NPS responds to staff trained in the last 6 months, not to older training)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from servicechain import demo, features, training as TR


def _tiny():
    d = dt.date
    units = pl.DataFrame({"unit_id": ["U1", "U2"], "unit_name": ["A", "B"], "region": ["Norte", "Sur"]})
    emp = pl.DataFrame({
        "employee_id": ["e1", "e2", "e3", "e4", "e5"], "unit_id": ["U1", "U1", "U1", "U2", "U2"],
        "hire_date": [d(2020, 1, 1), d(2020, 1, 1), d(2020, 1, 1), d(2026, 9, 1), d(2020, 1, 1)],
        "exit_date": [None, None, None, None, d(2026, 9, 1)],
    }, schema_overrides={"exit_date": pl.Date})
    tr = pl.DataFrame({"employee_id": ["e1", "e1", "e2", "e3", "e5"],
                       "date": [d(2025, 1, 1), d(2026, 6, 22), d(2025, 12, 1), d(2026, 10, 5), d(2026, 8, 1)],
                       "program": ["x"] * 5})
    return {"units": units, "employees": emp, "trainings": tr}


def test_months_since_the_latest_training_at_the_quarter_end():
    s = TR.since_last(_tiny(), ["2026Q3"]).sort("employee_id")
    # e1: latest 2026-06-22 (100 days before 2026-09-30); e2: 303 days; e3: only a later training -> never;
    # e4: hired in the quarter, never trained; e5: left before the quarter's end -> not counted
    assert s["employee_id"].to_list() == ["e1", "e2", "e3", "e4"]
    assert s["days_since"].to_list() == [100, 303, None, None]
    assert s["band"].to_list() == ["4-6", "7-12", "never", "never"]
    assert s["months_since"][0] == pytest.approx(100 / TR.DAYS_PER_MONTH)
    u = TR.unit_shares(s).sort("unit_id")
    assert u["staff"].to_list() == [3, 1]
    assert u["trained_0_6_pct"][0] == pytest.approx(100 / 3) and u["overdue_pct"][0] == pytest.approx(200 / 3)
    assert u["trained_7_12_pct"][0] == pytest.approx(100 / 3) and u["overdue_pct"][1] == 100.0


def test_cadence_hides_small_units_with_complementary_suppression():
    c = TR.cadence(_tiny(), "2026Q3", threshold=2)
    assert c.staff == 4 and c.overdue.estimate == pytest.approx(0.75) and c.overdue.ci_low < 0.75 < c.overdue.ci_high
    shown = c.by_unit.filter(pl.col("suppressed").is_null())
    assert (shown["staff"] >= 2).all()
    b = c.bands.filter(pl.col("suppressed").is_null())
    assert (b["staff"] >= 2).all() and "4-6" not in b["band"].to_list()  # 1 person in that band: hidden
    assert c.by_region.filter(pl.col("suppressed").is_not_null()).height != 1


@pytest.fixture(scope="module")
def demo_tables():
    tables, truth = demo.generate(demo.DemoConfig())
    return features.as_of(tables, "2026Q3"), truth


def test_truth_recovered_on_the_default_demo(demo_tables):
    tables, truth = demo_tables
    t = truth["training"]
    ut = TR.fit_unit_training(TR.unit_panel(tables), 5)
    nps = ut.effects["nps"]
    assert nps["trained_0_6_pct_lag"].covers(t["nps_trained_0_6"]) and nps["trained_0_6_pct_lag"].ci_low > 0
    assert nps["trained_7_12_pct_lag"].covers(t["nps_trained_7_12"])  # the effect fades after six months
    for k, e in ut.effects["customer_retention_pct"].items():
        assert e.covers(t["customer_retention_trained_0_6"]), k
    assert set(ut.effects_unit_fe) == {"nps", "customer_retention_pct"}
    pq, _ = features.person_quarters(tables)
    hz = TR.fit_training_hazard(TR.hazard_rows(tables, pq), 5)
    for d, band in zip(TR.HAZARD_DRIVERS, TR.BAND_ORDER):
        assert hz.effects[d].covers(t["exit_hazard_by_months_since_training"][band]), band
    assert hz.n_events >= 100 and (hz.band_counts.filter(pl.col("suppressed").is_null())["person_quarters"] >= 5).all()


def test_units_differ_in_their_training_habit(demo_tables):
    """The demo's units train at different rates (what identifies the unit model), shares are percentages."""
    tables, truth = demo_tables
    p = TR.unit_panel(tables)
    assert p["trained_0_6_pct"].drop_nulls().is_between(0, 100).all()
    assert p.filter(pl.col("staff") > 0)["trained_0_6_pct"].std() > 10  # units differ in their training habit


@pytest.mark.slow
def test_ci_coverage_over_seeds():
    """The unit models' 95% intervals cover the planted training effects at about their nominal rate (40 seeds,
    1,500 employees each; 85% is 3 binomial SD below 95%)."""
    keys = ("trained_0_6_pct_lag", "trained_7_12_pct_lag")
    hits, n = {k: 0 for k in keys}, 40
    for seed in range(200, 200 + n):
        tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=1500))
        t = truth["training"]
        ut = TR.fit_unit_training(TR.unit_panel(tables), 5)
        want = {"trained_0_6_pct_lag": t["nps_trained_0_6"], "trained_7_12_pct_lag": t["nps_trained_7_12"]}
        for k in keys:
            hits[k] += ut.effects["nps"][k].covers(want[k])
    rates = {k: h / n for k, h in hits.items()}
    assert all(r >= 0.85 for r in rates.values()), rates


HAZARD_SEEDS, HAZARD_EMPLOYEES = 30, 1500  # about 3 s a seed (the person-quarter logit) on a loaded 2-core machine


def hazard_band_coverage(n_seeds: int = HAZARD_SEEDS, employees: int = HAZARD_EMPLOYEES, first: int = 400
                         ) -> dict[str, tuple[float, int]]:
    """(share of seeds whose 95% CI of the band's exit log-odds covers truth.json's, seeds used) per band of months
    since the latest training (never = reference). The demo's truth is 0 in every band: exits do not respond to
    training (the fading effect is planted on NPS), so this is the size of the band test as much as its coverage;
    a seed with too few exits for the model counts for none."""
    hits = {d: 0 for d in TR.HAZARD_DRIVERS}
    used = 0
    for seed in range(first, first + n_seeds):
        tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=employees))
        tabs = features.as_of(tables, truth["quarters"][-1])
        pq, _ = features.person_quarters(tabs)
        try:
            hz = TR.fit_training_hazard(TR.hazard_rows(tabs, pq), 5)
        except ValueError:
            continue
        used += 1
        want = truth["training"]["exit_hazard_by_months_since_training"]
        for d, band in zip(TR.HAZARD_DRIVERS, TR.BAND_ORDER):
            hits[d] += hz.effects[d].covers(want[band])
    return {d: (h / used if used else float("nan"), used) for d, h in hits.items()}


@pytest.mark.slow
def test_exit_hazard_band_ci_coverage_over_seeds():
    """The exit hazard's band intervals (0-3, 4-6, 7-12, >12 months vs never) cover the demo's truth (0) at 0.95
    within 3 Monte Carlo SE of the seeds used (30 seeds: +/- 0.119, i.e. at least 0.83), on 1,500-employee demos."""
    cov = hazard_band_coverage()
    bad = {d: (c, n) for d, (c, n) in cov.items()
           if not (n >= HAZARD_SEEDS // 2 and abs(c - 0.95) <= 3 * (0.95 * 0.05 / n) ** 0.5)}
    print(cov)
    assert not bad, bad


def test_the_cadence_scenario_is_priced_and_ranked_with_the_others(demo_tables):
    from servicechain import assumptions, summary

    tables, _ = demo_tables
    p = TR.unit_panel(tables)
    ut = TR.fit_unit_training(p, 5)
    sc = TR.cadence_scenario(p, ut, tables, "2026Q3", seed=7)
    d = sc.to_dict()
    c = assumptions.defaults()["cost_per_training"]
    assert d["cost_per_training"]["value"] == c.value and d["cost_per_training"]["source_es"]
    assert 0 < sc.cost["p10"] < sc.cost["p50"] < sc.cost["p90"]
    assert sc.value["p10"] < sc.value["p50"] < sc.value["p90"]
    assert sc.gross["p50"] - sc.cost["p90"] < sc.value["p50"] < sc.gross["p50"] - sc.cost["p10"]
    assert sc.nps_gain.estimate > 0 and sc.staff > 1000 and 0 < sc.sessions_now_per_person < 3
    # a cheaper training moves the cost and nothing else
    cheap = assumptions.from_text("cost_per_training: {value: 10, low: 5, high: 20, source: test, source_es: prueba}")
    sc2 = TR.cadence_scenario(p, ut, tables, "2026Q3", cheap, seed=7)
    assert sc2.cost["p50"] < sc.cost["p50"] / 5 and sc2.gross == sc.gross
    metrics = {"finance": {"currency": "EUR", "scenarios": [
        {"name": "a", "label": {"en": "A"}, "value_p10": 1.0, "value_p50": 2.0, "value_p90": 3.0}]},
        "training": {"scenarios": [{**d, "value_p50": 5.0, "value_p10": 4.0, "value_p90": 6.0}],
                     "headline": {"en": "Overdue: 40%.", "es": "Atrasada: 40 %."}},
        "internal_service": {"headline": {"en": "Weakest link: TI.", "es": "Eslabón: TI."}}}
    assert [a.name for a in summary.scenarios(metrics, "en")] == [TR.SCENARIO, "a"]
    assert summary.scenarios(metrics, "es")[0].label == "Formar a todos cada 4-6 meses"
    assert summary.index_lead(metrics, "es").notes == ["Eslabón: TI.", "Atrasada: 40 %."]
    assert summary.page06_notes({}, "en") == []


def unit_training_coverage(n_seeds: int = 40, employees: int = 1500, first: int = 200) -> dict[str, tuple[float, int]]:
    """(share of seeds whose 95% CI covers truth.json's, seeds used) of the unit training models (NPS and customer
    retention, pooled and unit FE, both exposures), on the slow test's seeds and size; rows of docs/validation.md."""
    hits: dict[str, int] = {}
    used: dict[str, int] = {}
    for seed in range(first, first + n_seeds):
        tables, truth = demo.generate(demo.DemoConfig(seed=seed, employees=employees))
        t = truth["training"]
        want = {"nps": {"trained_0_6_pct_lag": t["nps_trained_0_6"], "trained_7_12_pct_lag": t["nps_trained_7_12"]},
                "customer_retention_pct": dict.fromkeys(TR.UNIT_EXPOSURES, t["customer_retention_trained_0_6"])}
        ut = TR.fit_unit_training(TR.unit_panel(tables), 5)
        for spec, effects in (("pooled", ut.effects), ("unit_fe", ut.effects_unit_fe)):
            for o, w in want.items():
                for k, v in w.items():
                    key = f"training share {k.removesuffix('_pct_lag')} (q-1) -> {o}, {spec}"
                    hits.setdefault(key, 0)
                    used.setdefault(key, 0)
                    if k in effects.get(o, {}):
                        hits[key] += int(effects[o][k].covers(v))
                        used[key] += 1
    return {k: (hits[k] / used[k] if used[k] else float("nan"), used[k]) for k in hits}


if __name__ == "__main__":  # rows of docs/validation.md: python tests/test_training.py [SEEDS [HAZARD_SEEDS]]
    import math
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    nh = int(sys.argv[2]) if len(sys.argv) > 2 else HAZARD_SEEDS
    rows = {**unit_training_coverage(n), **{f"exit hazard, {d} vs never (log-odds)": v
                                            for d, v in (hazard_band_coverage(nh).items() if nh else ())}}
    for k, (c, used) in rows.items():
        tol = 3 * math.sqrt(0.95 * 0.05 / used)
        se = math.sqrt(c * (1 - c) / used)
        units = "~60" if k.startswith("exit hazard") else "~50"  # the hazard's clusters; units with customers
        print(f"| {k} (demo, 1,500 employees) | {units} | {used} | 0.95 | {c:.3f} | {se:.3f} | "
              f"{'yes' if abs(c - 0.95) <= tol else '**no**'} (+/- {tol:.3f}) |", flush=True)
