"""Early attrition (issue 12): the demo's new hires, the early-attrition view and its landmark logit."""
from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from servicechain import demo, features, privacy, retention
from servicechain import quarters as Q


@pytest.fixture(scope="module")
def org() -> tuple[dict, dict]:
    return demo.generate(demo.DemoConfig(seed=3, employees=3000))


@pytest.fixture(scope="module")
def big() -> tuple[dict, dict]:
    """Large enough (about 350 early exits in the model) for the planted effects to be told from zero."""
    return demo.generate(demo.DemoConfig(seed=5, employees=9000))


def _fit(tables, truth, **kw):
    q = truth["quarters"][-1]
    return retention.fit_early_attrition(features.as_of(tables, q), q, **kw)


def test_one_early_window_everywhere():
    assert demo.EARLY_WINDOW_DAYS == features.EARLY_DAYS
    assert demo.EARLY_LANDMARK_DAYS == retention.EARLY_LANDMARK_DAYS


def test_new_hires_no_longer_leave_in_their_hire_quarter_en_masse(org):
    tables, truth = org
    emp = tables["employees"].filter(pl.col("hire_date") >= Q.start(truth["quarters"][0]))
    hq, xq = Q.index_expr("hire_date"), Q.index_expr("exit_date")
    vol = pl.col("exit_reason") == "voluntary"
    share_hire_q = emp.select(((hq == xq) & vol).fill_null(False).mean()).item()
    assert share_hire_q < 0.12, share_hire_q  # was 0.30 with uninitialised drivers
    days = (pl.col("exit_date") - pl.col("hire_date")).dt.total_days()
    early = emp.select((vol & (days < 90)).fill_null(False).mean()).item()
    assert 0.07 < early < 0.25, early
    # every voluntary exit before day 90 or in the hire quarter is one the index counts as early, and the
    # index's early count for a quarter equals the hires-level count of those exits dated in it
    q = truth["quarters"][-2]
    to = features.turnover(tables, q)
    h = retention.new_hires(features.as_of(tables, q), q)
    n_early_in_q = h.filter(pl.col("early") == 1).join(
        tables["employees"].select("employee_id", Q.index_expr("exit_date").alias("xq")), on="employee_id"
    ).filter(pl.col("xq") == Q.parse(q)).height
    assert to.early == n_early_in_q
    assert 0 < to.early < to.leavers


def test_onboarding_and_welcome_recognition_fall_in_the_first_30_days_only(org):
    tables, _ = org
    emp = tables["employees"].select("employee_id", "hire_date")
    tr = tables["trainings"].join(emp, on="employee_id").with_columns(
        (pl.col("date") - pl.col("hire_date")).dt.total_days().alias("d"))
    assert tr.filter(pl.col("program") == demo.ONBOARDING_PROGRAM)["d"].max() < 14
    assert tr.filter(pl.col("d") < 30)["program"].unique().to_list() == [demo.ONBOARDING_PROGRAM]


def test_view_counts_match_the_hires_and_hide_small_units(org):
    tables, truth = org
    ea = _fit(tables, truth, threshold=5)
    h = retention.new_hires(features.as_of(tables, truth["quarters"][-1]), truth["quarters"][-1])
    fol = h.filter(pl.col("followed_early"))
    assert ea.hires_followed == fol.height and ea.early_leavers == int(fol["early"].sum())
    # the model's rows: followed and still employed on day 30
    assert ea.n_obs == fol.filter(pl.col("at_day30")).height
    shown = ea.by_unit.filter(pl.col("suppressed").is_null())
    assert shown["hires"].min() >= 5
    small = ea.by_unit.filter(pl.col("suppressed") == privacy.REASON_SMALL)
    assert small.height > 0 and small["early_rate"].null_count() == small.height
    # by-driver cells add up to the followed hires for each driver (none hidden on this demo)
    for d, g in ea.by_driver.group_by("driver"):
        assert g["hires"].sum() == ea.hires_followed, d
    out = ea.to_dict()
    assert out["definition_days"] == features.EARLY_DAYS and out["early_leavers"] == ea.early_leavers
    assert set(out["effects"]) == set(retention.EARLY_DRIVERS)
    assert all("employee_id" not in r for r in out["by_unit"])


def test_model_recovers_the_planted_early_effects(big):
    tables, truth = big
    ea = _fit(tables, truth)
    t = truth["early_attrition"]
    for d in ("onboarding_training", "recognition_30d"):
        e = ea.effects[d]
        assert e.covers(t[d]), (d, e, t[d])
        assert e.ci_high < 0, (d, e)  # the planted effect is found, not just "not excluded"
    assert ea.effects["leadership_team_mean"].covers(0.0)


def test_no_planted_effect_gives_an_interval_around_zero(big):
    cfg = demo.DemoConfig(seed=5, employees=9000)
    cfg.set_effect("early_attrition.recognition_30d=0")
    tables, truth = demo.generate(cfg)
    ea = _fit(tables, truth)
    assert ea.effects["recognition_30d"].covers(0.0)
    assert ea.effects["onboarding_training"].covers(truth["early_attrition"]["onboarding_training"])


def test_too_few_hires_is_a_clear_error(org):
    tables, truth = org
    q = truth["quarters"][1]  # only one complete hire quarter so far
    with pytest.raises(ValueError, match="too little data for the early-attrition model"):
        retention.fit_early_attrition(features.as_of(tables, q), q, min_events=10_000)


# ------------------------------------------------------------------------------------------ missing-answer indicator


@pytest.fixture(scope="module")
def panel(org) -> pl.DataFrame:
    pq, _ = features.person_quarters(org[0])
    return pq.filter(pl.col("role").is_not_null())


def test_fit_and_prediction_fill_missing_answers_by_the_same_rule(panel):
    nr = retention.nonresponse_check(panel)
    p = nr.predict(panel)
    y = panel["voluntary_exit"].to_numpy().astype(float)
    no_answer = panel.select(pl.any_horizontal([pl.col(d).is_null() for d in features.DRIVERS])).to_series().to_numpy()
    # the logit's score equations hold only for the design it was fitted on: overall and among non-respondents
    assert p.sum() == pytest.approx(y.sum(), rel=1e-6)
    assert p[no_answer].sum() == pytest.approx(y[no_answer].sum(), rel=1e-6)
    # predicting non-respondents with their unit's means (another rule) breaks the second equation
    unit_mean = panel.with_columns([pl.col(d).fill_null(pl.col(d).mean().over("unit_id")) for d in features.DRIVERS])
    other = nr.predict(unit_mean)
    assert abs(other[no_answer].sum() - y[no_answer].sum()) > 1e-3 * y[no_answer].sum()
    cc = panel.drop_nulls(list(features.DRIVERS))  # the constants are the complete cases' means
    assert nr.fill == {d: pytest.approx(cc[d].mean()) for d in features.DRIVERS}
    assert 0.1 < nr.share_missing < 0.5


def test_the_indicator_finds_informative_non_response_and_not_random_non_response(panel):
    rng = np.random.default_rng(4)
    answered = panel.drop_nulls(list(features.DRIVERS)).sort("employee_id", "qi")  # joins do not keep row order
    y = answered["voluntary_exit"].to_numpy()
    u = rng.random(answered.height)

    def drop(mask: np.ndarray) -> pl.DataFrame:
        m = pl.Series(mask)
        return answered.with_columns([pl.when(m).then(None).otherwise(pl.col(d)).alias(d)
                                      for d in ("empowerment", "leadership")])

    random_nr = retention.nonresponse_check(drop(u < 0.3)).indicator
    assert random_nr.covers(0.0), random_nr
    informative = retention.nonresponse_check(drop(u < np.where(y == 1, 0.6, 0.3))).indicator
    assert informative.ci_low > 0, informative  # leavers answered less often: non-respondents leave more


def test_results_do_not_depend_on_the_row_order(org, panel):
    """metrics.json must not change with the pseudonymisation key, which reorders rows sorted by id."""
    tables, truth = org
    q = truth["quarters"][-1]
    shuffled = {**tables, "employees": tables["employees"].sample(fraction=1.0, shuffle=True, seed=1)}
    a = retention.fit_early_attrition(features.as_of(tables, q), q).to_dict()
    b = retention.fit_early_attrition(features.as_of(shuffled, q), q).to_dict()
    assert a == b
    n1 = retention.nonresponse_check(panel).to_dict()
    n2 = retention.nonresponse_check(panel.sample(fraction=1.0, shuffle=True, seed=2)).to_dict()
    assert n1 == n2


def test_a_driver_without_variation_is_left_out(org):
    tables, truth = org
    q = truth["quarters"][-1]
    no_training = {**tables, "trainings": tables["trainings"].filter(pl.col("program") != demo.ONBOARDING_PROGRAM)}
    ea = retention.fit_early_attrition(features.as_of(no_training, q), q)
    assert "onboarding_training" not in ea.effects and set(ea.effects) == {"recognition_30d", "leadership_team_mean"}
    assert all(np.isfinite(e.ci_high) for e in ea.effects.values())
    without = {k: v for k, v in tables.items() if k != "trainings"}
    assert "onboarding_training" not in retention.fit_early_attrition(features.as_of(without, q), q).effects
