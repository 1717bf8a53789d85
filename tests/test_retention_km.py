"""Kaplan-Meier by recognition band on small organisations (a band can have people but no plotted point)."""
import polars as pl

from servicechain import retention


def _panel() -> pl.DataFrame:
    # 6 people who are never recognised, all entering late (tenure 5+): the band has >= 5 people,
    # but at most 6 - k are at risk at any grid point after some exits, and none at tenure < 5.
    rows = []
    for i in range(6):
        for q in range(2):
            rows.append({"employee_id": f"n{i}", "recognition_per_month": 0.0, "tenure_years": 5.0 + i + q * 0.25,
                         "voluntary_exit": int(q == 1 and i < 3)})
    for i in range(30):  # a monthly band with enough people everywhere
        for q in range(8):
            rows.append({"employee_id": f"m{i}", "recognition_per_month": 1.0, "tenure_years": q * 0.25,
                         "voluntary_exit": int(q == 7 and i < 10)})
    return pl.DataFrame(rows)


def test_band_without_plottable_points_keeps_schema():
    km = retention.km_by_recognition(_panel(), min_group=5)
    assert km.curves.schema["band"] == pl.String
    assert {"band", "tenure_years", "retained", "ci_low", "ci_high", "at_risk"} <= set(km.curves.columns)
    assert set(km.curves["band"].unique()) == {"monthly"}
    assert km.curves["at_risk"].min() >= 5
    assert set(km.bands["band"]) == {"none", "monthly"}
