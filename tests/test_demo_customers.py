"""The demo's customer base is that of a service company: tens of active customers per employee per quarter."""
import polars as pl

from servicechain import demo, features


def test_customers_per_employee_within_the_documented_range():
    tables, truth = demo.generate(demo.DemoConfig())
    lo, hi = demo.CUSTOMERS_PER_EMPLOYEE_RANGE
    assert lo >= 20
    for q in truth["quarters"][-3:]:
        ov = features.overview(tables, q, history=False)
        assert lo <= ov["customers"] / ov["headcount"] <= hi, (q, ov["customers"], ov["headcount"])
    assert truth["customers"]["per_employee_per_quarter"] == demo.CUSTOMERS_PER_EMPLOYEE
    # feedback volume stays that of a CX tool (about 1.2 answers per customer-facing employee), not 60% of customers
    fb = tables["customer_feedback"].filter(pl.col("date") >= features.Q.start(truth["quarters"][-1])).height
    assert fb < 0.1 * ov["customers"]


def test_a_number_overrides_every_unit_type():
    tables, truth = demo.generate(demo.DemoConfig(employees=400, quarters=2, customers_per_employee=5.0))
    ov = features.overview(tables, truth["quarters"][-1], history=False)
    assert ov["customers"] / ov["headcount"] < 6


def test_benchmark_sizes_keep_the_small_customer_volume(monkeypatch):
    monkeypatch.setattr(demo, "LARGE_ORG", 500)  # the rule, at a size a test can afford
    tables, truth = demo.generate(demo.DemoConfig(employees=600, quarters=2))
    assert truth["customers"]["per_employee_per_quarter"]["store"] == demo.LARGE_ORG_CUSTOMERS_PER_EMPLOYEE
