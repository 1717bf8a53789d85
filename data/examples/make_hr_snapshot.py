"""Generate hr_snapshot.csv: a synthetic one-row-per-employee HR export (fixed seed).

The shape mimics a common HR-system export (EmployeeNumber, Department,
JobRole, YearsAtCompany, Attrition Yes/No, MonthlyIncome, satisfaction items
as text labels). Every value is made up. Run: .venv/bin/python data/examples/make_hr_snapshot.py
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

SEED = 11
N = 300
LABELS = ["Low", "Medium", "High", "Very High"]
ROLES = {
    "Sales": ["Sales Executive", "Sales Representative", "Manager"],
    "Research & Development": ["Research Scientist", "Laboratory Technician", "Manager"],
    "Human Resources": ["Human Resources", "Manager"],
}


def rows(seed: int = SEED, n: int = N) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        dept = rng.choices(list(ROLES), weights=[4, 6, 1])[0]
        role = rng.choice(ROLES[dept])
        sat = {k: rng.choices(range(4), weights=[2, 3, 4, 4])[0] for k in ("job", "env", "rel")}
        years = max(0, int(rng.expovariate(1 / 7)))
        income = round(rng.lognormvariate(8.6, 0.45) * (1.8 if role == "Manager" else 1.0))
        # Leaving is more likely with low satisfaction and short tenure (cross-sectional pattern only).
        logit = -1.2 - 0.45 * (sat["job"] - 1.5) - 0.35 * (sat["env"] - 1.5) - 0.12 * min(years, 10) + 0.6
        left = rng.random() < 1 / (1 + math.exp(-logit))
        out.append(
            {
                "EmployeeNumber": 1001 + 2 * i,
                "Age": rng.randint(19, 62),
                "Department": dept,
                "JobRole": role,
                "YearsAtCompany": years,
                "Attrition": "Yes" if left else "No",
                "MonthlyIncome": income,
                "JobSatisfaction": LABELS[sat["job"]],
                "EnvironmentSatisfaction": LABELS[sat["env"]],
                "RelationshipSatisfaction": LABELS[sat["rel"]] if rng.random() > 0.03 else "",
            }
        )
    return out


def main() -> None:
    data = rows()
    path = Path(__file__).with_name("hr_snapshot.csv")
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(data[0]))
        w.writeheader()
        w.writerows(data)
    print(f"wrote {path} ({len(data)} rows)")


if __name__ == "__main__":
    main()
