"""Shared fixtures. ``build_panel`` writes a tiny valid panel data folder (seeded, deterministic)."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

TEST_KEY = "test-key-0123456789abcdef"
CHROMIUM = shutil.which("chromium")  # Debian's chromium (.ci/run installs it); browser tests skip without it
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


def run_demo_suite(root: Path, cfg, *options: str, key: str | None = None) -> Path:
    """The real quarterly suite (``servicechain run``) on a generated demo organisation written to
    ``root/data``; asserts it published and returns ``root/reports/<last quarter>``."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from servicechain import cli, demo

    tables, truth = demo.generate(cfg)
    demo.write(tables, truth, root / "data")
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        if key:
            mp.setenv("SERVICECHAIN_PSEUDONYM_KEY", key)
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            rc = cli.main(["run", "--data", str(root / "data"), "--quarter", "latest", "--out", str(root / "reports"),
                           "--jobs", "2", *options])
    assert rc == 0, err.getvalue()
    return root / "reports" / truth["quarters"][-1]


E2E_KEY = "end-to-end-test-key-0123456789"


def _thin_unit_to_three_respondents(tables: dict[str, pl.DataFrame], quarter: str) -> tuple[str, str]:
    """Keep only 3 of one unit's survey respondents in the quarter; returns (unit_id, unit_name)."""
    from servicechain import quarters as Q

    sv = tables["survey"].join(tables["employees"].select("employee_id", "unit_id"), on="employee_id")
    in_q = sv.filter(Q.index_expr("survey_date") == Q.parse(quarter))
    counts = in_q.group_by("unit_id").agg(pl.col("employee_id").n_unique().alias("n")).filter(pl.col("n") >= 8)
    unit = counts.sort("n", "unit_id")["unit_id"][0]
    drop = in_q.filter(pl.col("unit_id") == unit).sort("employee_id")["employee_id"][3:]
    tables["survey"] = tables["survey"].filter(
        ~((Q.index_expr("survey_date") == Q.parse(quarter)) & pl.col("employee_id").is_in(drop.implode())))
    name = tables["units"].filter(pl.col("unit_id") == unit)["unit_name"].item()
    return unit, name


@pytest.fixture(scope="session")
def es_demo_run(tmp_path_factory) -> dict:
    """The whole quarterly suite, in Spanish, on a 900-person demo with one unit thinned to 3 respondents in the
    last quarter: run once per test session and read by tests/test_end_to_end.py and tests/test_spanish_words.py
    (both in the "papermill" xdist group, so one worker runs it once)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from servicechain import cli, demo

    root = tmp_path_factory.mktemp("e2e")
    tables, truth = demo.generate(demo.DemoConfig(seed=5, employees=900, quarters=5))
    quarter = truth["quarters"][-1]
    unit, unit_name = _thin_unit_to_three_respondents(tables, quarter)
    demo.write(tables, truth, root / "data")
    out = root / "reports"
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERVICECHAIN_PSEUDONYM_KEY", E2E_KEY)
        with redirect_stdout(io.StringIO()), redirect_stderr(err):
            rc = cli.main(["run", "--data", str(root / "data"), "--quarter", "latest", "--out", str(out),
                           "--lang", "es", "--jobs", "2"])
    assert rc == 0, err.getvalue()
    return {"dir": out / quarter, "data": (root / "data").resolve(), "quarter": quarter, "tables": tables, "truth": truth,
            "unit": unit, "unit_name": unit_name, "log": err.getvalue()}


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never create or read the checkout's .servicechain-key."""
    monkeypatch.setenv("SERVICECHAIN_PSEUDONYM_KEY", TEST_KEY)


@pytest.fixture(scope="session", autouse=True)
def _pseudonym_key_session() -> Iterator[None]:
    """The same for session- and module-scoped fixtures (they run before the fixture above):
    ``servicechain run`` resolves the key even on a fake dataset, to check it against --out."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SERVICECHAIN_PSEUDONYM_KEY", TEST_KEY)
        yield


def panel_tables(seed: int = 7, n_employees: int = 30) -> dict[str, pl.DataFrame]:
    """A small, valid panel: 3 units, survey 2025Q1-2025Q4, customer data to 2025-12-31 plus early January 2026."""
    rng = random.Random(seed)
    units = pl.DataFrame({"unit_id": ["U1", "U2", "U3"], "unit_name": ["Centro", "Norte", "Sur"], "region": ["Madrid", "Madrid", "Sevilla"]})
    ids = [f"EMP-{i:04d}" for i in range(1, n_employees + 1)]
    hire = [dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 600)) for _ in ids]
    exit_ = [None] * len(ids)
    for i in range(3, n_employees, 7):
        exit_[i] = dt.date(2025, 9, 1) + dt.timedelta(days=rng.randrange(0, 60))
    employees = pl.DataFrame(
        {
            "employee_id": ids,
            "unit_id": [f"U{i % 3 + 1}" for i in range(len(ids))],
            "manager_id": [None if i < 3 else ids[i % 3] for i in range(len(ids))],
            "department": [rng.choice(["Ventas", "Logística", "Atención"]) for _ in ids],
            "role": ["manager" if i < 3 else rng.choice(["frontline", "support"]) for i in range(len(ids))],
            "hire_date": hire,
            "exit_date": exit_,
            "exit_reason": [None if e is None else "voluntary" for e in exit_],
            "annual_salary": [round(rng.uniform(20000, 45000), 2) for _ in ids],
        }
    )
    rows = []
    for q_start in (dt.date(2025, 2, 10), dt.date(2025, 5, 12), dt.date(2025, 8, 11), dt.date(2025, 11, 10)):
        for i, e in enumerate(ids):
            if exit_[i] is not None and exit_[i] < q_start:
                continue
            if rng.random() < 0.8:
                rows.append((e, q_start, rng.randint(1, 5), rng.randint(1, 5), None if rng.random() < 0.1 else rng.randint(1, 5), rng.randint(1, 5)))
    survey = pl.DataFrame(rows, schema=["employee_id", "survey_date", "recognition", "empowerment", "leadership", "engagement"], orient="row")
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=d) for d in range(0, 365, 9)] + [dt.date(2026, 1, 5)]
    activity = pl.DataFrame(
        {
            "customer_id": [f"C{rng.randrange(1, 60)}" for _ in days for _ in range(3)],
            "unit_id": [f"U{k + 1}" for _ in days for k in range(3)],
            "date": [d for d in days for _ in range(3)],
            "revenue": [round(rng.uniform(5, 200), 2) for _ in days for _ in range(3)],
        }
    )
    feedback = pl.DataFrame(
        {
            "unit_id": [f"U{k + 1}" for _ in days[:-1] for k in range(3)],
            "date": [d for d in days[:-1] for _ in range(3)],
            "nps": [rng.randint(0, 10) for _ in days[:-1] for _ in range(3)],
            "touchpoint": [rng.choice(["tienda", "teléfono"]) for _ in days[:-1] for _ in range(3)],
        }
    )
    recognitions = pl.DataFrame(
        {
            "date": [dt.date(2025, 3, 1) + dt.timedelta(days=7 * k) for k in range(20)],
            "receiver_id": [ids[(k * 5) % 20] for k in range(20)],
            "giver_id": [ids[(k * 5 + 1) % 20] for k in range(20)],
        }
    )
    trainings = pl.DataFrame({"employee_id": ids[:10], "date": [dt.date(2025, 4, 1)] * 10, "program": ["onboarding"] * 10})
    internal = pl.DataFrame(
        {"quarter": ["2025Q1", "2025Q2"], "from_department": ["Ventas", "Logística"], "to_department": ["Logística", "Ventas"], "score": [4, 3],
         "n": [12, 9]}  # the pair-mean shape with its respondent count (issue 15)
    )
    return {
        "units": units,
        "employees": employees,
        "survey": survey,
        "recognitions": recognitions,
        "customer_feedback": feedback,
        "customer_activity": activity,
        "trainings": trainings,
        "internal_service": internal,
    }


def build_panel(folder: Path, fmt: str = "csv", seed: int = 7) -> Path:
    """Write the small panel to ``folder`` as csv or parquet; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in panel_tables(seed).items():
        if fmt == "parquet":
            df.write_parquet(folder / f"{name}.parquet")
        else:
            df.write_csv(folder / f"{name}.csv")
    return folder


def set_cells(folder: Path, table: str, column: str, rows: dict[int, str | None]) -> None:
    """Overwrite cells of a CSV table by 1-based data row number (as the validator reports them)."""
    path = folder / f"{table}.csv"
    df = pl.read_csv(path, infer_schema=False)
    idx = {r - 1: v for r, v in rows.items()}
    col = [idx.get(i, v) for i, v in enumerate(df.get_column(column).to_list())]
    df.with_columns(pl.Series(column, col, dtype=pl.String)).write_csv(path)


@pytest.fixture
def panel_dir(tmp_path: Path) -> Path:
    """A fresh copy of the small valid panel as CSV files."""
    return build_panel(tmp_path / "data")


@pytest.fixture
def panel_parquet(tmp_path: Path) -> Path:
    return build_panel(tmp_path / "data_parquet", fmt="parquet")


NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_kernel() -> str:
    """The project kernel when `make setup` registered it in the venv, else the venv's python3."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "servicechain" if "servicechain" in KernelSpecManager().find_kernel_specs() else "python3"


def execute_notebook(name: str, out: Path, cwd: Path | None = None, **parameters) -> Path:
    """Run ``notebooks/<name>.ipynb`` under papermill as the quarterly run does; returns the executed copy."""
    import papermill as pm

    pm.execute_notebook(str(NOTEBOOKS_DIR / f"{name}.ipynb"), str(out), kernel_name=notebook_kernel(),
                        cwd=str(cwd or out.parent), progress_bar=False, parameters=parameters)
    return out
