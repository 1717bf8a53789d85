"""Analysis panels built from contract tables with polars lazy queries.

* ``person_quarters``: one row per employee at risk of a voluntary exit in an
  outcome quarter q, with drivers measured in q-1 (never after the outcome).
* ``unit_quarters``: one row per unit and quarter, with employee-experience
  means, voluntary turnover, NPS, customer retention and revenue, plus the
  previous quarter's values as ``*_lag`` columns.

The definitions here are the ones the demo generator uses for its truth, so
keep them in step with ``demo.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from . import quarters as Q
from .demo import TENURE_BREAKS

Frame = pl.DataFrame | pl.LazyFrame
DRIVERS = ("recognition_per_month", "empowerment", "leadership")
UNIT_DRIVERS = ("recognition_per_month", "empowerment", "leadership", "voluntary_turnover_pct")
TENURE_LABELS = ("<1", "1-2", "2-5", "5+")


def _lazy(f: Frame) -> pl.LazyFrame:
    return f.lazy() if isinstance(f, pl.DataFrame) else f


def tenure_band(years: pl.Expr) -> pl.Expr:
    """Tenure bands [0,1) [1,2) [2,5) [5,inf) years, as in the generator."""
    b1, b2, b3 = TENURE_BREAKS
    return (
        pl.when(years < b1).then(pl.lit(TENURE_LABELS[0]))
        .when(years < b2).then(pl.lit(TENURE_LABELS[1]))
        .when(years < b3).then(pl.lit(TENURE_LABELS[2]))
        .otherwise(pl.lit(TENURE_LABELS[3]))
    )


@dataclass(frozen=True)
class PanelInfo:
    """What a panel was built from, for the notebooks' method notes."""

    recognition_source: str  # "events" | "survey_item"
    first_quarter: str
    last_quarter: str


def data_quarters(tables: Mapping[str, Frame]) -> list[str]:
    """Quarters covered by the survey (the drivers' source), as labels."""
    s = _lazy(tables["survey"]).select(
        Q.index_expr("survey_date").min().alias("lo"), Q.index_expr("survey_date").max().alias("hi")
    ).collect()
    lo, hi = s.row(0)
    if lo is None:
        return []
    return [Q.label(i) for i in range(lo, hi + 1)]


def survey_by_quarter(tables: Mapping[str, Frame], items: tuple[str, ...] | None = None) -> pl.LazyFrame:
    """Mean answer per employee and quarter (several responses in a quarter are averaged)."""
    sv = _lazy(tables["survey"])
    names = sv.collect_schema().names()
    items = items or tuple(c for c in names if c not in ("employee_id", "survey_date"))
    return (
        sv.with_columns(Q.index_expr("survey_date").alias("qi"))
        .group_by("employee_id", "qi")
        .agg([pl.col(c).cast(pl.Float64).mean().alias(c) for c in items])
    )


def recognitions_by_quarter(tables: Mapping[str, Frame]) -> pl.LazyFrame:
    """Recognition events received per employee and quarter."""
    return (
        _lazy(tables["recognitions"])
        .with_columns(Q.index_expr("date").alias("qi"))
        .group_by(pl.col("receiver_id").alias("employee_id"), "qi")
        .agg(pl.len().cast(pl.Float64).alias("recognitions"))
    )


def employment_quarters(emp: pl.LazyFrame, lo: int, hi: int, full_quarters_before: int) -> pl.LazyFrame:
    """One row per employee and quarter index ``qi`` in [lo, hi] in which they were employed at its start.

    ``full_quarters_before=1`` also requires the whole previous quarter on the payroll (the hazard
    model's risk set: drivers measured in q-1); 0 gives the start-of-quarter headcount. The exit
    quarter is included (people leave during it). Adds ``hire_qi``, ``exit_qi``, ``q_from``, ``q_to``.
    """
    return (
        emp.with_columns(Q.index_expr("hire_date").alias("hire_qi"), Q.index_expr("exit_date").alias("exit_qi"))
        .with_columns(
            pl.max_horizontal(pl.col("hire_qi") + 1 + full_quarters_before, pl.lit(lo)).alias("q_from"),
            pl.min_horizontal(pl.col("exit_qi").fill_null(hi), pl.lit(hi)).alias("q_to"),
        )
        .filter(pl.col("q_from") <= pl.col("q_to"))
        .with_columns(pl.int_ranges("q_from", pl.col("q_to") + 1, dtype=pl.Int32).alias("qi"))
        .explode("qi")
    )


def person_quarters(tables: Mapping[str, Frame], first: str | None = None, last: str | None = None) -> tuple[pl.DataFrame, PanelInfo]:
    """Employees at risk of voluntary exit in each outcome quarter, with lagged drivers.

    At risk in q: employed for the whole of q-1 (hired before it started) and
    still employed when q starts. Drivers come from q-1: recognitions received
    / 3 (or the survey's recognition item when there is no event table), the
    employee's own empowerment and leadership answers, and the mean leadership
    answer of the employee's team (same manager). Rows without a q-1 survey
    answer keep nulls; the models decide what to drop.
    """
    qs = data_quarters(tables)
    if len(qs) < 2:
        raise ValueError("the survey covers fewer than two quarters: drivers cannot be lagged")
    lo = Q.parse(first or qs[1])
    hi = Q.parse(last or qs[-1])
    lo = max(lo, Q.parse(qs[0]) + 1)
    emp = _lazy(tables["employees"])
    units = _lazy(tables["units"]).select("unit_id", "region")
    base = (
        employment_quarters(emp, lo, hi, full_quarters_before=1)
        .with_columns(
            (pl.col("qi") - 1).alias("lag_qi"),
            ((pl.col("exit_qi") == pl.col("qi")) & (pl.col("exit_reason") == "voluntary")).fill_null(False)
            .cast(pl.Int8).alias("voluntary_exit"),
            ((pl.col("exit_qi") == pl.col("qi")) & (pl.col("exit_reason") != "voluntary")).fill_null(False)
            .cast(pl.Int8).alias("other_exit"),
        )
    )
    qstart = (pl.date(pl.col("qi") // 4, (pl.col("qi") % 4) * 3 + 1, 1))
    base = base.with_columns(
        ((qstart - pl.col("hire_date")).dt.total_days() / 365.25).alias("tenure_years")
    ).with_columns(tenure_band(pl.col("tenure_years")).alias("tenure_band"))

    sv = survey_by_quarter(tables).rename({"qi": "lag_qi"})
    sv_cols = [c for c in sv.collect_schema().names() if c not in ("employee_id", "lag_qi")]
    sv = sv.rename({c: f"{c}_item" if c == "recognition" else c for c in sv_cols})
    has_events = "recognitions" in tables and tables["recognitions"] is not None
    panel = base.join(sv, on=["employee_id", "lag_qi"], how="left")
    if has_events:
        rec = recognitions_by_quarter(tables).rename({"qi": "lag_qi"})
        panel = panel.join(rec, on=["employee_id", "lag_qi"], how="left").with_columns(
            (pl.col("recognitions").fill_null(0.0) / 3.0).alias("recognition_per_month")
        ).drop("recognitions")
        source = "events"
    else:
        panel = panel.with_columns(pl.col("recognition_item").alias("recognition_per_month"))
        source = "survey_item"
    # Leadership as the manager's team mean in q-1 (the "inverted pyramid" seen by the team).
    team = (
        sv.join(emp.select("employee_id", "manager_id"), on="employee_id")
        .filter(pl.col("manager_id").is_not_null())
        .group_by("manager_id", "lag_qi")
        .agg(pl.col("leadership").mean().alias("leadership_team_mean"), pl.col("leadership").count().alias("team_respondents"))
    )
    panel = (
        panel.join(team, on=["manager_id", "lag_qi"], how="left")
        .join(units, on="unit_id", how="left")
        .with_columns(Q.label_expr("qi").alias("quarter"))
        .drop("hire_qi", "exit_qi", "q_from", "q_to")
    )
    out = panel.collect()
    return out, PanelInfo(source, Q.label(lo), Q.label(hi))


def unit_quarters(tables: Mapping[str, Frame]) -> pl.DataFrame:
    """Unit x quarter panel with this quarter's values and last quarter's as ``*_lag``."""
    emp = _lazy(tables["employees"])
    qs = data_quarters(tables)
    if not qs:
        raise ValueError("the survey has no dates: no quarters to build")
    lo, hi = Q.parse(qs[0]), Q.parse(qs[-1])
    grid = pl.LazyFrame({"qi": list(range(lo, hi + 1))}, schema={"qi": pl.Int32})
    # Headcount at the start of each quarter and voluntary exits among them.
    at_start = (
        employment_quarters(emp, lo, hi, full_quarters_before=0)
        .select(
            "employee_id", "unit_id", "qi",
            ((pl.col("exit_qi") == pl.col("qi")) & (pl.col("exit_reason") == "voluntary")).fill_null(False).alias("vol"),
        )
    )
    rec = recognitions_by_quarter(tables) if tables.get("recognitions") is not None else None
    hc = at_start
    if rec is not None:
        hc = hc.join(rec, on=["employee_id", "qi"], how="left")
    else:
        hc = hc.with_columns(pl.lit(None, pl.Float64).alias("recognitions"))
    hc = hc.group_by("unit_id", "qi").agg(
        pl.len().alias("headcount"),
        pl.col("vol").sum().alias("voluntary_exits"),
        (pl.col("recognitions").fill_null(0.0).sum() if rec is not None else pl.lit(None, pl.Float64)).alias("_rec"),
    ).with_columns(
        (100.0 * pl.col("voluntary_exits") / pl.col("headcount")).alias("voluntary_turnover_pct"),
        (pl.col("_rec") / pl.col("headcount") / 3.0).alias("recognition_per_month"),
    ).drop("_rec")

    sv = _lazy(tables["survey"])
    items = [c for c in sv.collect_schema().names() if c not in ("employee_id", "survey_date")]
    svq = (
        sv.with_columns(Q.index_expr("survey_date").alias("qi"))
        .join(emp.select("employee_id", "unit_id"), on="employee_id", how="inner")
        .group_by("unit_id", "qi")
        .agg(
            pl.col("employee_id").n_unique().alias("respondents"),
            *[pl.col(c).cast(pl.Float64).mean().alias(f"{c}_mean") for c in items],
            *[pl.col(c).count().alias(f"{c}_n") for c in items],
        )
    )
    if rec is None:  # fall back to the survey item for the unit's recognition level
        svq = svq.with_columns(pl.col("recognition_mean").alias("recognition_item_level"))
    fb = (
        _lazy(tables["customer_feedback"]).with_columns(Q.index_expr("date").alias("qi"))
        .group_by("unit_id", "qi")
        .agg(
            pl.len().alias("nps_responses"),
            (100.0 * ((pl.col("nps") >= 9).mean() - (pl.col("nps") <= 6).mean())).alias("nps"),
        )
    )
    came_back, money = _customer_parts(tables)

    units = _lazy(tables["units"]).select("unit_id", "unit_name", "region")
    panel = (
        units.join(grid, how="cross")
        .join(hc, on=["unit_id", "qi"], how="left")
        .join(svq.rename({"empowerment_mean": "empowerment", "leadership_mean": "leadership"}), on=["unit_id", "qi"], how="left")
        .join(fb, on=["unit_id", "qi"], how="left")
        .join(came_back.filter(pl.col("qi") <= hi), on=["unit_id", "qi"], how="left")
        .join(money, on=["unit_id", "qi"], how="left")
        .with_columns(pl.col("headcount", "voluntary_exits", "respondents", "nps_responses", "customers").fill_null(0))
        .sort("unit_id", "qi")
    )
    lag_cols = [*UNIT_DRIVERS, "respondents", "headcount", "engagement_mean", "nps", "customer_retention_pct"]
    names = panel.collect_schema().names()
    panel = panel.with_columns(
        [pl.col(c).shift(1).over("unit_id", order_by="qi").alias(f"{c}_lag") for c in lag_cols if c in names]
    ).with_columns(
        # shift() over unit only means "previous quarter" when the grid is complete (it is: cross join).
        Q.label_expr("qi").alias("quarter")
    )
    return panel.collect()


def customer_source(tables: Mapping[str, Frame]) -> pl.LazyFrame:
    """The unit totals of ``customer_quarters`` (with ``qi``): aggregated from raw ``customer_activity`` when the
    data has it (issue 17: one definition, ``aggregate.customer_quarters``), else the ``customer_quarters`` table."""
    from . import aggregate

    if tables.get("customer_activity") is not None:
        return aggregate.totals(aggregate.customer_quarters(tables["customer_activity"]))
    if tables.get("customer_quarters") is not None:
        return aggregate.totals(tables["customer_quarters"])
    raise KeyError("customer_activity or customer_quarters")


def _customer_parts(tables: Mapping[str, Frame]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Customer retention (customers of q-1 active again in q) and money per unit-quarter, from the aggregate."""
    cq = customer_source(tables).collect(engine="streaming").lazy()  # small (units x quarters): computed once
    idx = pl.get_index_type()
    came_back = (
        cq.select("unit_id", (pl.col("qi") + 1).alias("qi"), pl.col("customers").cast(idx).alias("customers_prev"))
        .join(cq.select("unit_id", "qi", pl.col("returning_customers").cast(idx).alias("customers_returned")),
              on=["unit_id", "qi"], how="left")
        .with_columns(pl.col("customers_returned").fill_null(0))
        .with_columns((100.0 * pl.col("customers_returned") / pl.col("customers_prev")).alias("customer_retention_pct"))
    )
    money = cq.select("unit_id", "qi", pl.col("customers").cast(idx), "revenue").with_columns(
        (pl.col("revenue") / pl.col("customers")).alias("revenue_per_customer"))
    return came_back, money


def touchpoint_quarters(tables: Mapping[str, Frame]) -> pl.DataFrame | None:
    """NPS per unit, quarter and touchpoint (the moments of truth); None without a touchpoint column."""
    fb = _lazy(tables["customer_feedback"])
    if "touchpoint" not in fb.collect_schema().names():
        return None
    return (
        fb.filter(pl.col("touchpoint").is_not_null())
        .with_columns(Q.index_expr("date").alias("qi"))
        .group_by("unit_id", "qi", "touchpoint")
        .agg(
            pl.len().alias("responses"),
            (100.0 * ((pl.col("nps") >= 9).mean() - (pl.col("nps") <= 6).mean())).alias("nps"),
        )
        .with_columns(Q.label_expr("qi").alias("quarter"))
        .sort("unit_id", "qi", "touchpoint")
        .collect()
    )


def read_folder(path) -> dict[str, pl.DataFrame]:
    """Read a demo folder's parquet tables as they are (no validation; tests and benchmarks only)."""
    from pathlib import Path

    return {p.stem: pl.read_parquet(p) for p in sorted(Path(path).glob("*.parquet"))}


def as_of(tables: Mapping[str, Frame], quarter: str) -> dict[str, pl.LazyFrame]:
    """The data as it was known at the end of ``quarter``: later rows dropped, later exits not yet happened.

    A report for 2026Q2 re-run after 2026Q3 data arrived must give the 2026Q2
    answer, so every notebook filters through this first.
    """
    end = Q.end(quarter)
    out: dict[str, pl.LazyFrame] = {}
    for name, f in tables.items():
        if f is None:
            continue
        lf = _lazy(f)
        cols = lf.collect_schema().names()
        if name == "employees":
            later = pl.col("exit_date") > end
            lf = lf.filter(pl.col("hire_date") <= end).with_columns(
                pl.when(later).then(None).otherwise(pl.col("exit_date")).alias("exit_date"),
                pl.when(later).then(None).otherwise(pl.col("exit_reason")).alias("exit_reason"),
            )
        elif name == "survey":
            lf = lf.filter(pl.col("survey_date") <= end)
        elif name in ("internal_service", "customer_quarters"):
            lf = lf.filter(pl.col("quarter") <= quarter)
        elif "date" in cols:
            lf = lf.filter(pl.col("date") <= end)
        out[name] = lf
    return out


EARLY_DAYS = 90  # early attrition: left within this many days of hire, or in the quarter they joined


@dataclass(frozen=True)
class Turnover:
    """The quarter's voluntary turnover by the one definition every page uses.

    ``rate`` = voluntary leavers dated in the quarter / average headcount
    ((start + end) / 2), as HR reporting does; ``annualised`` = 4 x rate.
    Leavers split into those employed at the start of the quarter and those
    who joined and left within it; ``early`` counts leavers within
    ``EARLY_DAYS`` of hire or in their first quarter (a figure of its own).
    """

    quarter: str
    headcount_start: int
    headcount_end: int
    leavers: int
    leavers_from_start: int
    joined_and_left: int
    early: int
    hires: int

    @property
    def average_headcount(self) -> float:
        return (self.headcount_start + self.headcount_end) / 2

    @property
    def rate(self) -> float | None:
        return self.leavers / self.average_headcount if self.average_headcount else None

    @property
    def annualised(self) -> float | None:
        return None if self.rate is None else 4 * self.rate

    def to_dict(self) -> dict:
        return {"quarter": self.quarter, "headcount_start": self.headcount_start, "headcount_end": self.headcount_end,
                "average_headcount": self.average_headcount, "voluntary_leavers": self.leavers,
                "voluntary_leavers_from_start": self.leavers_from_start,
                "voluntary_joined_and_left": self.joined_and_left, "early_leavers": self.early, "early_days": EARLY_DAYS, "hires": self.hires,
                "voluntary_turnover_rate": self.rate, "voluntary_turnover_rate_annualised": self.annualised}

    def __repr__(self) -> str:
        r = "n/a" if self.rate is None else f"{self.rate:.2%}"
        return f"Turnover({self.quarter}: {self.leavers} voluntary leavers / {self.average_headcount:g} avg headcount = {r})"


def turnover(tables: Mapping[str, Frame], quarter: str) -> Turnover:
    """Voluntary turnover of ``quarter`` from the employees table (as known at its end)."""
    qi = Q.parse(quarter)
    emp = _lazy(as_of(tables, quarter)["employees"]).select(
        Q.index_expr("hire_date").alias("hq"), Q.index_expr("exit_date").alias("xq"),
        (pl.col("exit_reason") == "voluntary").fill_null(False).alias("vol"),
        (pl.col("exit_date") - pl.col("hire_date")).dt.total_days().alias("days"),
    )
    left = (pl.col("xq") == qi) & pl.col("vol")
    row = emp.select(
        ((pl.col("hq") < qi) & (pl.col("xq").is_null() | (pl.col("xq") >= qi))).sum().alias("start"),
        ((pl.col("hq") <= qi) & (pl.col("xq").is_null() | (pl.col("xq") > qi))).sum().alias("end"),
        left.sum().alias("leavers"),
        (left & (pl.col("hq") < qi)).sum().alias("from_start"),
        (left & (pl.col("hq") == qi)).sum().alias("joined_and_left"),
        (left & ((pl.col("hq") == qi) | (pl.col("days") < EARLY_DAYS))).sum().alias("early"),
        (pl.col("hq") == qi).sum().alias("hires"),
    ).collect().row(0, named=True)
    return Turnover(quarter, int(row["start"]), int(row["end"]), int(row["leavers"]), int(row["from_start"]),
                    int(row["joined_and_left"]), int(row["early"]), int(row["hires"]))


def risk_set(panel: pl.DataFrame, quarter: str) -> dict[str, int]:
    """People in the hazard model's risk set for ``quarter`` (on the payroll all of q-1) and their voluntary exits."""
    row = panel.filter(pl.col("quarter") == quarter).select(
        pl.len().alias("people"), pl.col("voluntary_exit").sum().alias("voluntary_exits")).row(0, named=True)
    return {k: int(v or 0) for k, v in row.items()}


def overview(tables: Mapping[str, Frame], quarter: str, history: bool = True) -> dict:
    """The quarter at a glance for index.html: headcount, voluntary turnover, NPS, customer retention.

    ``se`` holds each rate's sampling standard error (binomial for the rates, the multinomial one for NPS,
    Poisson for the early-leaver count), so a change against another quarter is called a change only when
    it is larger than its noise; ``history`` holds the same figures for every earlier quarter in the data
    (each as known at its own end), so the first report already shows a trend.
    """
    uq = unit_quarters(as_of(tables, quarter)).filter(pl.col("quarter") == quarter)
    if uq.height == 0:
        return {"quarter": quarter}
    tot = uq.select(
        pl.col("headcount").sum(), pl.col("voluntary_exits").sum(), pl.col("customers_prev").sum(),
        pl.col("customers_returned").sum(), pl.col("customers").sum(), pl.col("revenue").sum(),
    ).row(0, named=True)
    fb = _lazy(tables["customer_feedback"]).filter(Q.index_expr("date") == Q.parse(quarter)).select(
        pl.len().alias("n"), (pl.col("nps") >= 9).mean().alias("prom"), (pl.col("nps") <= 6).mean().alias("det"),
    ).collect().row(0, named=True)
    to = turnover(tables, quarter)
    n_fb, prev = int(fb["n"]), int(tot["customers_prev"] or 0)
    nps = None if not n_fb else 100.0 * (fb["prom"] - fb["det"])
    cr = (tot["customers_returned"] / prev) if prev else None
    se = {
        "voluntary_turnover_rate": (to.rate * (1 - to.rate) / to.average_headcount) ** 0.5 if to.rate is not None else None,
        "early_leavers": float(to.early) ** 0.5,
        "nps": (100.0 * ((fb["prom"] + fb["det"] - (fb["prom"] - fb["det"]) ** 2) / n_fb) ** 0.5) if n_fb else None,
        "customer_retention_rate": (cr * (1 - cr) / prev) ** 0.5 if cr is not None else None,
    }
    out = {
        **to.to_dict(),
        "headcount": to.headcount_start,  # employed when the quarter started (the money page's headcount too)
        "voluntary_exits": to.leavers,
        "nps": nps,
        "nps_responses": n_fb,
        "customers": int(tot["customers"] or 0),
        "customers_prev": prev,
        "customer_retention_rate": cr,
        "revenue": float(tot["revenue"] or 0.0),
        "se": se,
    }
    if history:
        earlier = [q for q in data_quarters(tables) if Q.parse(q) < Q.parse(quarter)]
        out["history"] = [h for h in (overview(tables, q, history=False) for q in earlier) if len(h) > 1]
    return out


# --------------------------------------------------------------------------- panels built once (issue 17)

PANEL_NAMES = ("person_quarters", "unit_quarters", "touchpoint_quarters")
PANELS_MANIFEST = "panels.json"
BUILD_LOG_ENV = "SERVICECHAIN_PANEL_BUILD_LOG"  # tests: every build_panels call appends a line to this file


def build_panels(tables: Mapping[str, Frame], quarter: str, dest, *, key: str = "") -> "Panels":
    """Build every panel of the data as known at the end of ``quarter`` once and write it to ``dest`` as parquet.

    ``tables``: the contract tables (they are filtered with :func:`as_of` here). ``dest`` gets
    ``person_quarters.parquet``, ``unit_quarters.parquet``, ``touchpoint_quarters.parquet`` (when the
    feedback has touchpoints) and ``panels.json`` (the quarter, the PanelInfo, ``key``: what the panels were
    built from, and the seconds each took), written last so a half-written folder is never read.
    The runner calls it once per run after validation; :func:`servicechain.notebook.panels` reads it.
    """
    import json
    import os
    import time
    from pathlib import Path

    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / PANELS_MANIFEST).unlink(missing_ok=True)
    tabs = as_of(tables, quarter)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    pq, info = person_quarters(tabs)
    pq.write_parquet(dest / "person_quarters.parquet")
    seconds["person_quarters"], t0 = time.perf_counter() - t0, time.perf_counter()
    unit_quarters(tabs).write_parquet(dest / "unit_quarters.parquet")
    seconds["unit_quarters"], t0 = time.perf_counter() - t0, time.perf_counter()
    tp = touchpoint_quarters(tabs) if "customer_feedback" in tabs else None
    if tp is not None:
        tp.write_parquet(dest / "touchpoint_quarters.parquet")
    seconds["touchpoint_quarters"] = time.perf_counter() - t0
    manifest = {"quarter": quarter, "key": key, "info": info.__dict__, "touchpoints": tp is not None,
                "seconds": {k: round(v, 3) for k, v in seconds.items()}}
    (dest / PANELS_MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if os.environ.get(BUILD_LOG_ENV):
        with open(os.environ[BUILD_LOG_ENV], "a", encoding="utf-8") as f:
            f.write(json.dumps({"pid": os.getpid(), "quarter": quarter, "dest": str(dest)}) + "\n")
    return Panels(dest)


class Panels:
    """The prebuilt panels of one data folder and quarter (a folder :func:`build_panels` wrote), read on first use.

    ``person_quarters``, ``unit_quarters`` (DataFrames), ``touchpoint_quarters`` (None without touchpoints),
    ``info`` (the :class:`PanelInfo`), ``quarter``. They hold pseudonymised, individual-level rows: the
    folder is the run's private work folder or the user's private cache, never a report.
    """

    def __init__(self, folder) -> None:
        import json
        from pathlib import Path

        self.folder = Path(folder)
        self.manifest: dict = json.loads((self.folder / PANELS_MANIFEST).read_text(encoding="utf-8"))
        self.quarter: str = self.manifest["quarter"]
        self.info = PanelInfo(**self.manifest["info"])
        self._cache: dict[str, pl.DataFrame | None] = {}

    @staticmethod
    def exists(folder) -> bool:
        from pathlib import Path

        return (Path(folder) / PANELS_MANIFEST).is_file()

    def _read(self, name: str) -> pl.DataFrame | None:
        if name not in self._cache:
            p = self.folder / f"{name}.parquet"
            self._cache[name] = pl.read_parquet(p) if p.is_file() else None
        return self._cache[name]

    @property
    def person_quarters(self) -> pl.DataFrame:
        return self._read("person_quarters")

    @property
    def unit_quarters(self) -> pl.DataFrame:
        return self._read("unit_quarters")

    @property
    def touchpoint_quarters(self) -> pl.DataFrame | None:
        return self._read("touchpoint_quarters")

    def __repr__(self) -> str:
        return f"Panels({self.quarter}, {self.folder})"


class LazyPanels:
    """The panels built on first use, each on its own, from the tables as of ``quarter``: what a notebook uses
    when the data are too thin to build them all at once (one survey quarter has no person panel, yet page 03's
    unit panel and page 00 can still be made); a panel that cannot be built raises when it is asked for."""

    def __init__(self, tables: Mapping[str, Frame], quarter: str) -> None:
        self.quarter = quarter
        self._tables = as_of(tables, quarter)
        self._cache: dict[str, Any] = {}

    def _get(self, name: str) -> Any:
        if name not in self._cache:
            if name in ("person_quarters", "info"):
                self._cache["person_quarters"], self._cache["info"] = person_quarters(self._tables)
            elif name == "unit_quarters":
                self._cache[name] = unit_quarters(self._tables)
            else:
                self._cache[name] = touchpoint_quarters(self._tables) if "customer_feedback" in self._tables else None
        return self._cache[name]

    person_quarters = property(lambda self: self._get("person_quarters"))
    unit_quarters = property(lambda self: self._get("unit_quarters"))
    touchpoint_quarters = property(lambda self: self._get("touchpoint_quarters"))
    info = property(lambda self: self._get("info"))

    def __repr__(self) -> str:
        return f"LazyPanels({self.quarter})"
