"""The as-of date and complete quarters (below validation and loading; polars only).

A run knows its data as of one date (``--as-of``, default today). Validation
refuses rows dated after it (``validation._as_of_checks``); :func:`apply_as_of`
leaves out the two HR dates that are allowed after it (future joiners, planned
exits). :func:`incomplete_reason` is the rule for a *complete* quarter, from
:func:`data_through` (the last date of each table) and :func:`survey_quarters`.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from servicechain import quarters

COVER_DAYS = 14  # a complete quarter has customer data in its last 14 days
# continuous activity: must reach a quarter's last days (customer_quarters, the aggregate of customer_activity, counts
# whole quarters: its last quarter is taken as covered to its last day, see data_through)
STREAMS = ("customer_feedback", "customer_activity", "customer_quarters")


def apply_as_of(tables: "dict[str, pl.LazyFrame]", as_of: dt.date) -> "dict[str, pl.LazyFrame]":
    """The data as known on ``as_of``: future joiners left out, planned exits not yet happened.

    Validation already refused every other row dated after ``as_of``; these two
    are warnings there (see ``validation.AS_OF_WARNINGS``). A person hired after
    ``as_of`` is in no table's headcount; an exit dated after it has not happened
    (exit date and reason become empty).
    """
    if "employees" not in tables:
        return tables
    later = pl.col("exit_date") > as_of
    emp = tables["employees"].filter(pl.col("hire_date") <= as_of).with_columns(
        pl.when(later).then(None).otherwise(pl.col("exit_date")).alias("exit_date"),
        pl.when(later).then(None).otherwise(pl.col("exit_reason")).alias("exit_reason"),
    )
    return {**tables, "employees": emp}


def data_through(tables: "dict[str, pl.DataFrame | pl.LazyFrame]") -> dict[str, dt.date | None]:
    """The last date of each dated table (any date column), plus ``"exits"``: the last exit date.

    One small aggregate per table (eager or lazy). ``None``: the table has no dates at all.
    """
    out: dict[str, dt.date | None] = {}
    for name, f in tables.items():
        if name == "customer_quarters":
            last = f.lazy().select(pl.col("quarter").max()).collect().item()
            out[name] = quarters.end(last) if last else None
            continue
        dates = [c for c, t in f.collect_schema().items() if t == pl.Date]
        if not dates:
            continue
        aggs = [pl.max_horizontal(pl.col(dates).max()).alias("last")]
        if name == "employees" and "exit_date" in dates:
            aggs.append(pl.col("exit_date").max().alias("exits"))
        row = f.lazy().select(aggs).collect(engine="streaming").row(0, named=True)
        out[name] = row["last"]
        if "exits" in row:
            out["exits"] = row["exits"]
    return out


def survey_quarters(tables: "dict[str, pl.DataFrame | pl.LazyFrame]") -> set[str]:
    """Quarters with at least one survey answer."""
    if "survey" not in tables:
        return set()
    idx = tables["survey"].lazy().select(quarters.index_expr("survey_date").unique().alias("q")).collect()
    return {quarters.label(int(i)) for i in idx.get_column("q").drop_nulls().to_list()}


def incomplete_reason(
    q: str, as_of: dt.date, through: dict[str, dt.date | None], surveyed: set[str] | None = None
) -> str | None:
    """Why quarter ``q`` is not complete on ``as_of``, or None when it is.

    Complete means: ``q`` ended on or before ``as_of``; the survey (if any) has
    answers in ``q`` (pulse surveys come in waves, not to the last day); each
    customer table present (feedback, activity) has data in the last
    ``COVER_DAYS`` days of ``q`` or later; and, when the HR table records exits
    at all, its last exit is in ``q`` or later (exits are too sparse to ask for
    the last days). ``through`` is :func:`data_through`; ``surveyed`` is
    :func:`survey_quarters` (None: no survey table).
    """
    end = quarters.end(q)
    if end > as_of:
        return f"{q} ends on {end.isoformat()}, after the as-of date {as_of.isoformat()}"
    if surveyed is not None and q not in surveyed:
        return f"the survey has no answers in {q}"
    need = end - dt.timedelta(days=COVER_DAYS - 1)
    for t in STREAMS:
        if t in through and (through[t] is None or through[t] < need):
            last = through[t].isoformat() if through[t] else "no date"
            return f"{t} has data only through {last}; a complete quarter needs data from {need.isoformat()} on"
    exits = through.get("exits")
    if exits is not None and exits < quarters.start(q):
        return f"the last exit in employees is on {exits.isoformat()}, before {q} began (is the HR export older?)"
    return None


def incomplete_quarters(
    qs: list[str], as_of: dt.date, through: dict[str, dt.date | None], surveyed: set[str] | None = None
) -> dict[str, str]:
    """Quarter -> :func:`incomplete_reason`, for each quarter of ``qs`` that is not complete."""
    out = {}
    for q in qs:
        why = incomplete_reason(q, as_of, through, surveyed)
        if why is not None:
            out[q] = why
    return out


def latest_complete(qs: list[str], incomplete: dict[str, str]) -> str | None:
    """The last quarter of ``qs`` (present in the survey/activity) that is complete.

    Only quarters with data count, so a sentinel date (an exit on 2099-12-31) never
    invents a quarter; ``incomplete`` is :func:`incomplete_quarters`.
    """
    done = [q for q in qs if q not in incomplete]
    return done[-1] if done else None
