"""The demo organisation: deterministic by seed, contract-shaped, and telling the chain's story."""

import json

import polars as pl
import pytest

from servicechain import contract, demo


@pytest.fixture(scope="module")
def small():
    return demo.generate(demo.DemoConfig(seed=3, employees=400, quarters=4))


def test_same_seed_same_data_and_other_seed_differs(small):
    tables, truth = small
    again, truth2 = demo.generate(demo.DemoConfig(seed=3, employees=400, quarters=4))
    other, _ = demo.generate(demo.DemoConfig(seed=4, employees=400, quarters=4))
    assert truth == truth2
    for name, df in tables.items():
        assert df.equals(again[name]), name
    assert not tables["survey"].equals(other["survey"])


def test_tables_follow_the_contract(small):
    tables, _ = small
    for name, spec in contract.TABLES.items():
        if name == "customer_quarters":  # the aggregate users may export instead of customer_activity (issue 17)
            assert name not in tables and "customer_activity" in tables
            continue
        assert name in tables, name
        for col in spec.columns:
            if col.required:
                assert col.name in tables[name].columns, f"{name}.{col.name}"
    emp = tables["employees"]
    assert emp["employee_id"].is_unique().all()
    assert set(emp["role"].unique()) <= set(contract.ROLES)
    assert emp.filter(pl.col("exit_date") < pl.col("hire_date")).height == 0
    sv = tables["survey"]
    for item in ("recognition", "empowerment", "leadership"):
        v = sv[item].drop_nulls()
        assert v.min() >= 1 and v.max() <= 5
        assert sv[item].null_count() > 0, "some answers are left blank"
    nps = tables["customer_feedback"]["nps"]
    assert nps.min() >= 0 and nps.max() <= 10
    known = set(emp["employee_id"])
    assert set(sv["employee_id"]) <= known
    assert set(tables["recognitions"]["receiver_id"]) <= known


def test_realistic_dynamics(small):
    tables, _ = small
    emp = tables["employees"]
    reasons = emp["exit_reason"].value_counts()
    assert reasons.filter(pl.col("exit_reason") == "voluntary")["count"].item() > 20
    assert emp.height > 400, "exits are backfilled by new hires"
    # Survey response below 100%.
    per_q = tables["survey"].group_by(pl.col("survey_date").dt.quarter()).len()["len"]
    assert per_q.max() < 400


def test_truth_layout_and_override(tmp_path):
    cfg = demo.DemoConfig(seed=1, employees=200, quarters=3)
    cfg.set_effect("retention.empowerment=0")
    tables, truth = demo.generate(cfg)
    assert truth["retention"]["empowerment"] == 0.0
    for model in ("retention", "loyalty", "customer_retention"):
        assert "scale" in truth[model]
        assert all(isinstance(v, float) for k, v in truth[model].items() if k != "scale")
    with pytest.raises(ValueError, match="retention.empowerment=0"):
        cfg.set_effect("retention.nonsense=1")
    demo.write(tables, truth, tmp_path)
    assert json.loads((tmp_path / "truth.json").read_text())["retention"]["empowerment"] == 0.0
    assert (tmp_path / "employees.parquet").exists()


def test_cli_writes_a_complete_folder(tmp_path):
    from servicechain.cli import main

    assert main(["demo-data", "--out", str(tmp_path / "d"), "--employees", "120", "--quarters", "3", "--seed", "2"]) == 0
    files = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert "truth.json" in files and "customer_activity.parquet" in files
    assert main(["demo-data", "--out", str(tmp_path / "e"), "--end-quarter", "2026-3"]) == 1
