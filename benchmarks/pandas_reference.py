"""A straightforward pandas reference for the feature build, to compare speed with the polars panels.

The same definitions as ``servicechain.features`` (see its docstrings):

* ``person_quarters``: one row per employee at risk of a voluntary exit in an
  outcome quarter, drivers from the previous quarter (survey means,
  recognitions received / 3, the manager's team leadership mean), tenure band,
  region;
* ``unit_quarters``: the unit-quarter panel's core columns (headcount,
  voluntary exits and turnover, recognitions per person per month, survey
  means and respondents, NPS, customers, revenue, customers who came back).

Written the way a competent pandas user would: vectorised group-bys and merges
(``np.repeat`` to expand employment spells into quarters), no per-row Python.
Only the benchmark uses it; ``compare`` checks that both give the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

TENURE_BREAKS = (1.0, 2.0, 5.0)
TENURE_LABELS = np.array(["<1", "1-2", "2-5", "5+"], dtype=object)


def _qi(s: pd.Series) -> pd.Series:
    """Dates -> quarter index year*4 + quarter-1 (nullable)."""
    return s.dt.year.astype("Int32") * 4 + (s.dt.month.astype("Int32") - 1) // 3


def _quarter_end(q: str) -> pd.Timestamp:
    y, n = int(q[:4]), int(q[-1])
    first_next = dt.date(y + (n == 4), (n % 4) * 3 + 1, 1)
    return pd.Timestamp(first_next - dt.timedelta(days=1))


def to_pandas(tables: Mapping, quarter: str) -> dict[str, pd.DataFrame]:
    """Polars tables -> pandas, filtered as the data were known at the end of ``quarter`` (features.as_of)."""
    end = _quarter_end(quarter)
    out = {}
    needed = {"recognitions": ["date", "receiver_id"]}  # the giver is not used by either panel
    for name in ("units", "employees", "survey", "recognitions", "customer_feedback", "customer_activity"):
        df = tables[name].select(needed.get(name, tables[name].columns)).to_pandas()
        for c in df.columns:
            if c.endswith("_date") or c == "date":
                df[c] = pd.to_datetime(df[c])
        if name == "employees":
            df = df[df["hire_date"] <= end].copy()
            later = df["exit_date"] > end
            df.loc[later, "exit_date"] = pd.NaT
            df.loc[later, "exit_reason"] = None
        elif name == "survey":
            df = df[df["survey_date"] <= end]
        elif "date" in df.columns:
            df = df[df["date"] <= end]
        out[name] = df
    return out


def _survey_items(sv: pd.DataFrame) -> list[str]:
    return [c for c in sv.columns if c not in ("employee_id", "survey_date")]


def _employment_quarters(employees: pd.DataFrame, lo: int, hi: int, full_quarters_before: int) -> pd.DataFrame:
    """One row per employee and quarter employed at its start (the same rule as features.employment_quarters)."""
    emp = employees.copy()
    emp["hire_qi"] = _qi(emp["hire_date"])
    emp["exit_qi"] = _qi(emp["exit_date"])
    emp["q_from"] = np.maximum(emp["hire_qi"] + 1 + full_quarters_before, lo)
    emp["q_to"] = np.minimum(emp["exit_qi"].fillna(hi), hi)
    emp = emp[emp["q_from"] <= emp["q_to"]]
    n = (emp["q_to"] - emp["q_from"] + 1).to_numpy(dtype=np.int64)
    out = emp.loc[emp.index.repeat(n)].reset_index(drop=True)
    out["qi"] = out["q_from"].to_numpy(dtype=np.int64) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    return out


def person_quarters(t: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    sv = t["survey"].copy()
    sv["qi"] = _qi(sv["survey_date"])
    lo_s, hi = int(sv["qi"].min()), int(sv["qi"].max())
    lo = lo_s + 1
    base = _employment_quarters(t["employees"], lo, hi, full_quarters_before=1)
    base["lag_qi"] = base["qi"] - 1
    leaves = base["exit_qi"].fillna(-1).to_numpy() == base["qi"].to_numpy()
    vol = (base["exit_reason"] == "voluntary").fillna(False).to_numpy()
    base["voluntary_exit"] = (leaves & vol).astype(np.int8)
    base["other_exit"] = (leaves & ~vol).astype(np.int8)
    qi = base["qi"].to_numpy()
    qstart = pd.to_datetime(pd.DataFrame({"year": qi // 4, "month": (qi % 4) * 3 + 1, "day": 1}))
    base["tenure_years"] = (qstart - base["hire_date"]).dt.days / 365.25
    base["tenure_band"] = TENURE_LABELS[np.searchsorted(np.array(TENURE_BREAKS), base["tenure_years"].to_numpy(), side="right")]

    items = _survey_items(sv)
    svq = sv.groupby(["employee_id", "qi"], as_index=False)[items].mean()
    svq = svq.rename(columns={"qi": "lag_qi", "recognition": "recognition_item"})
    panel = base.merge(svq, on=["employee_id", "lag_qi"], how="left")
    rec = t["recognitions"].copy()
    rec["lag_qi"] = _qi(rec["date"])
    rc = rec.groupby(["receiver_id", "lag_qi"]).size().rename("recognitions").reset_index()
    rc = rc.rename(columns={"receiver_id": "employee_id"})
    panel = panel.merge(rc, on=["employee_id", "lag_qi"], how="left")
    panel["recognition_per_month"] = panel["recognitions"].fillna(0.0) / 3.0
    panel = panel.drop(columns="recognitions")
    team = svq.merge(t["employees"][["employee_id", "manager_id"]], on="employee_id")
    team = team[team["manager_id"].notna()]
    team = team.groupby(["manager_id", "lag_qi"], as_index=False).agg(
        leadership_team_mean=("leadership", "mean"), team_respondents=("leadership", "count"))
    panel = panel.merge(team, on=["manager_id", "lag_qi"], how="left")
    panel = panel.merge(t["units"][["unit_id", "region"]], on="unit_id", how="left")
    return panel.drop(columns=["hire_qi", "exit_qi", "q_from", "q_to"])


def unit_quarters(t: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    sv = t["survey"].copy()
    sv["qi"] = _qi(sv["survey_date"])
    lo, hi = int(sv["qi"].min()), int(sv["qi"].max())
    at = _employment_quarters(t["employees"][["employee_id", "unit_id", "hire_date", "exit_date", "exit_reason"]],
                              lo, hi, full_quarters_before=0)
    at["vol"] = (at["exit_qi"].fillna(-1).to_numpy() == at["qi"].to_numpy()) & (at["exit_reason"] == "voluntary").fillna(False).to_numpy()
    rec = t["recognitions"].copy()
    rec["qi"] = _qi(rec["date"])
    rc = rec.groupby(["receiver_id", "qi"]).size().rename("recognitions").reset_index().rename(columns={"receiver_id": "employee_id"})
    at = at.merge(rc, on=["employee_id", "qi"], how="left")
    at["recognitions"] = at["recognitions"].fillna(0.0)
    hc = at.groupby(["unit_id", "qi"], as_index=False).agg(headcount=("vol", "size"), voluntary_exits=("vol", "sum"),
                                                            _rec=("recognitions", "sum"))
    hc["voluntary_turnover_pct"] = 100.0 * hc["voluntary_exits"] / hc["headcount"]
    hc["recognition_per_month"] = hc["_rec"] / hc["headcount"] / 3.0
    hc = hc.drop(columns="_rec")

    items = _survey_items(sv.drop(columns="qi"))
    s = sv.merge(t["employees"][["employee_id", "unit_id"]], on="employee_id", how="inner")
    svq = s.groupby(["unit_id", "qi"]).agg(respondents=("employee_id", "nunique"),
                                           **{("empowerment" if c == "empowerment" else "leadership" if c == "leadership"
                                               else f"{c}_mean"): (c, "mean") for c in items}).reset_index()

    fb = t["customer_feedback"].copy()
    fb["qi"] = _qi(fb["date"])
    fb["pro"] = fb["nps"] >= 9
    fb["det"] = fb["nps"] <= 6
    fbq = fb.groupby(["unit_id", "qi"], as_index=False).agg(nps_responses=("nps", "size"), pro=("pro", "mean"), det=("det", "mean"))
    fbq["nps"] = 100.0 * (fbq["pro"] - fbq["det"])
    fbq = fbq.drop(columns=["pro", "det"])

    act = t["customer_activity"].copy()
    act["qi"] = _qi(act["date"])
    cust = act.groupby(["unit_id", "qi", "customer_id"], as_index=False)["revenue"].sum()
    prev = cust[["unit_id", "qi", "customer_id"]].copy()
    prev["qi"] = prev["qi"] + 1
    back = prev.merge(cust[["unit_id", "qi", "customer_id"]].assign(_is=True), on=["unit_id", "qi", "customer_id"], how="left")
    back["_is"] = back["_is"].fillna(False).astype(bool)
    cb = back.groupby(["unit_id", "qi"], as_index=False).agg(customers_prev=("_is", "size"), customers_returned=("_is", "sum"))
    cb["customer_retention_pct"] = 100.0 * cb["customers_returned"] / cb["customers_prev"]
    cb = cb[cb["qi"] <= hi]
    money = cust.groupby(["unit_id", "qi"], as_index=False).agg(customers=("customer_id", "size"), revenue=("revenue", "sum"))

    grid = t["units"][["unit_id", "unit_name", "region"]].merge(pd.DataFrame({"qi": np.arange(lo, hi + 1)}), how="cross")
    panel = grid
    for part in (hc, svq, fbq, cb, money):
        part = part.astype({"qi": np.int64})
        panel = panel.merge(part, on=["unit_id", "qi"], how="left")
    for c in ("headcount", "voluntary_exits", "respondents", "nps_responses", "customers"):
        panel[c] = panel[c].fillna(0)
    return panel.sort_values(["unit_id", "qi"]).reset_index(drop=True)


PQ_SUMS = ("voluntary_exit", "other_exit", "recognition_per_month", "empowerment", "leadership",
           "leadership_team_mean", "tenure_years")
UQ_SUMS = ("headcount", "voluntary_exits", "recognition_per_month", "respondents", "empowerment", "leadership",
           "nps", "nps_responses", "customers", "customers_returned", "customers_prev", "revenue")


def compare(pq_pd: pd.DataFrame, uq_pd: pd.DataFrame, pq_pl, uq_pl, rtol: float = 1e-9) -> dict[str, str]:
    """Assert the pandas and polars panels agree: row counts and column sums (nulls skipped). Returns the checks."""
    checks: dict[str, str] = {}

    def same(name: str, a: float, b: float) -> None:
        if not np.isclose(a, b, rtol=rtol, atol=1e-9):
            raise AssertionError(f"pandas and polars disagree on {name}: {a!r} vs {b!r}")
        checks[name] = f"{b:.6g}"

    same("person_quarters rows", len(pq_pd), pq_pl.height)
    same("unit_quarters rows", len(uq_pd), uq_pl.height)
    for c in PQ_SUMS:
        same(f"person_quarters sum({c})", float(pq_pd[c].astype(float).sum()), float(pq_pl[c].cast(float).sum()))
        same(f"person_quarters count({c})", float(pq_pd[c].notna().sum()), float(pq_pl[c].is_not_null().sum()))
    for c in UQ_SUMS:
        same(f"unit_quarters sum({c})", float(uq_pd[c].astype(float).sum()), float(uq_pl[c].cast(float).sum()))
    return checks
