"""A realistic, messy one-sheet HR snapshot export (seeded): the shape of the common 1,470-employee attrition export.

One row per employee, **no id column**, 31 columns, text labels ("Bad"/"Good"/"Better"/"Best", "Low".."Very High",
"Yes"/"No"), monthly income, years at company. Planted: the leaver share by WorkLifeBalance answer is exactly
:data:`WLB_RATES` (a threshold at "Bad", not a slope); leaving is also more likely with low job and environment
satisfaction and short tenure (through which employees of each answer level leave). Every value is made up.

Used by tests/test_snapshot.py; written to a folder by :func:`write_snapshot` (CSV, xlsx, or both).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

N = 1470
SEED = 14
WLB = ["Bad", "Good", "Better", "Best"]
WLB_COUNTS = {"Bad": 80, "Good": 344, "Better": 893, "Best": 153}
WLB_RATES = {"Bad": 0.31, "Good": 0.17, "Better": 0.14, "Best": 0.18}  # leaver share by answer, as planted
SAT = ["Low", "Medium", "High", "Very High"]
ROLES = {  # department -> (role, weight); "Legal" is a department of 3 people (below the anonymity threshold)
    "Research & Development": [("Research Scientist", 292), ("Laboratory Technician", 259), ("Manufacturing Director", 145),
                               ("Healthcare Representative", 131), ("Research Director", 80), ("Manager", 54)],
    "Sales": [("Sales Executive", 326), ("Sales Representative", 83), ("Manager", 37)],
    "Human Resources": [("Human Resources", 52), ("Manager", 8)],
    "Legal": [("Legal Counsel", 3)],
}
MAPPING = """\
# the HR export as a snapshot: no id column (row numbers become the ids), text answers on their own 1-4 scale
kind: snapshot
tables:
  snapshot:
    file: {file}
    columns:
      Attrition: {{column: left, labels: {{"Yes": 1, "No": 0}}}}
      YearsAtCompany: tenure_years
      Department: department
      JobRole: role
      MonthlyIncome: {{column: annual_salary, multiply: 12}}
      WorkLifeBalance: {{column: work_life_balance, labels: {{Bad: 1, Good: 2, Better: 3, Best: 4}}, scale: [1, 4]}}
      JobSatisfaction: {{column: job_satisfaction, labels: {{Low: 1, Medium: 2, High: 3, "Very High": 4}}, scale: [1, 4]}}
      EnvironmentSatisfaction:
        column: environment_satisfaction
        labels: {{Low: 1, Medium: 2, High: 3, "Very High": 4}}
        scale: [1, 4]
"""


def hr_snapshot(seed: int = SEED) -> pl.DataFrame:
    """The export as its HR system writes it (all 31 columns, text labels, no id column)."""
    rng = np.random.default_rng(seed)
    wlb = np.repeat(np.arange(4), [WLB_COUNTS[w] for w in WLB])
    rng.shuffle(wlb)
    n = wlb.size
    assert n == N
    pairs = [(d, r, w) for d, rs in ROLES.items() for r, w in rs]
    weights = np.array([w for _, _, w in pairs], dtype=float)
    counts = np.floor(weights / weights.sum() * n).astype(int)
    counts[0] += n - counts.sum()
    who = np.repeat(np.arange(len(pairs)), counts)
    rng.shuffle(who)
    dept = np.array([pairs[i][0] for i in who])
    role = np.array([pairs[i][1] for i in who])
    level = np.clip(rng.poisson(1.1, n) + 1 + np.isin(role, ["Manager", "Research Director"]) * 2, 1, 5)
    income = np.round(np.exp(rng.normal(7.6 + 0.38 * level, 0.25))).astype(int).clip(1009, 19999)
    years = np.clip(np.round(rng.gamma(1.6, 4.4, n)), 0, 40).astype(int)
    job = rng.choice(4, n, p=[0.2, 0.19, 0.3, 0.31])
    env = rng.choice(4, n, p=[0.19, 0.2, 0.31, 0.3])
    rel = rng.choice(4, n, p=[0.19, 0.21, 0.31, 0.29])
    # who leaves within each WorkLifeBalance answer: the highest latent risk (low satisfaction, short tenure)
    risk = -0.35 * job - 0.3 * env - 0.5 * np.log1p(years) - 0.15 * (level - 1) + rng.logistic(0, 1, n)
    left = np.zeros(n, dtype=bool)
    for k, w in enumerate(WLB):
        idx = np.flatnonzero(wlb == k)
        m = round(WLB_RATES[w] * idx.size)
        left[idx[np.argsort(-risk[idx])[:m]]] = True
    age = np.clip(np.round(18 + years + rng.gamma(3, 4, n)), 18, 60).astype(int)
    total = years + rng.poisson(3, n)
    return pl.DataFrame({
        "Age": age,
        "Attrition": np.where(left, "Yes", "No"),
        "BusinessTravel": rng.choice(["Travel_Rarely", "Travel_Frequently", "Non-Travel"], n, p=[0.71, 0.19, 0.1]),
        "DailyRate": rng.integers(102, 1500, n),
        "Department": dept,
        "DistanceFromHome": rng.integers(1, 30, n),
        "Education": rng.choice(["Below College", "College", "Bachelor", "Master", "Doctor"], n, p=[0.12, 0.19, 0.39, 0.27, 0.03]),
        "EducationField": rng.choice(["Life Sciences", "Medical", "Marketing", "Technical Degree", "Other", "Human Resources"], n),
        "EmployeeCount": np.ones(n, dtype=int),
        "EnvironmentSatisfaction": np.array(SAT)[env],
        "Gender": rng.choice(["Male", "Female"], n, p=[0.6, 0.4]),
        "HourlyRate": rng.integers(30, 100, n),
        "JobInvolvement": np.array(SAT)[rng.choice(4, n, p=[0.06, 0.26, 0.59, 0.09])],
        "JobLevel": level,
        "JobRole": role,
        "JobSatisfaction": np.array(SAT)[job],
        "MaritalStatus": rng.choice(["Married", "Single", "Divorced"], n, p=[0.46, 0.32, 0.22]),
        "MonthlyIncome": income,
        "MonthlyRate": rng.integers(2094, 26999, n),
        "NumCompaniesWorked": rng.integers(0, 9, n),
        "Over18": np.full(n, "Y"),
        "OverTime": rng.choice(["Yes", "No"], n, p=[0.28, 0.72]),
        "PercentSalaryHike": rng.integers(11, 25, n),
        "PerformanceRating": rng.choice(["Excellent", "Outstanding"], n, p=[0.85, 0.15]),
        "RelationshipSatisfaction": np.array(SAT)[rel],
        "StandardHours": np.full(n, 80),
        "StockOptionLevel": rng.choice(4, n, p=[0.43, 0.41, 0.11, 0.05]),
        "TotalWorkingYears": total,
        "TrainingTimesLastYear": rng.integers(0, 6, n),
        "WorkLifeBalance": np.array(WLB)[wlb],
        "YearsAtCompany": years,
    })


def write_snapshot(folder: Path, fmt: str = "csv", seed: int = SEED) -> Path:
    """``folder/hr_export.<fmt>`` (``csv`` or ``xlsx``, one sheet) and ``folder/mapping.yml``; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    df = hr_snapshot(seed)
    name = f"hr_export.{fmt}"
    if fmt == "xlsx":  # openpyxl (what the loader reads xlsx with), write-only: one sheet, ~1 s
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Employees")
        ws.append(df.columns)
        for row in df.iter_rows():
            ws.append(list(row))
        wb.save(folder / name)
    else:
        df.write_csv(folder / name)
    (folder / "mapping.yml").write_text(MAPPING.format(file=name), encoding="utf-8")
    return folder
